/**
 * jupyterlab-hpc-submit: "Run on GPU node" in every notebook's toolbar, a
 * hardware picker saved per notebook, and a sidebar of this user's jobs,
 * live. The companion (server/) does the submitting.
 */
import {
  ILayoutRestorer,
  type JupyterFrontEnd,
  type JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette, IToolbarWidgetRegistry, Notification } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { INotebookTracker, type NotebookPanel } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { api } from './api';
import { openOutput, registerCommands } from './commands';
import { JobEventStream } from './eventStream';
import { endedMessage } from './labels';
import { JobsModel } from './model';
import { NotebookRunner } from './runner';
import { DEFAULT_SETTINGS, readSettings, type SubmitSettings } from './settings';
import { JobsSidebar } from './sidebar';
import { ProfilePickerItem, RunButtonItem } from './toolbar';
import {
  CommandIDs,
  PALETTE_CATEGORY,
  PLUGIN_ID,
  SIDEBAR_ID,
  TOOLBAR_PICKER,
  TOOLBAR_RUN
} from './tokens';
import type { Job } from '../contract/wire';

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Run a notebook on a cluster GPU node in one click.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [
    ICommandPalette,
    ILayoutRestorer,
    ISettingRegistry,
    IDocumentManager,
    IDefaultFileBrowser,
    IToolbarWidgetRegistry
  ],
  activate: (
    app: JupyterFrontEnd,
    tracker: INotebookTracker,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    settingRegistry: ISettingRegistry | null,
    docManager: IDocumentManager | null,
    browser: IDefaultFileBrowser | null,
    toolbarRegistry: IToolbarWidgetRegistry | null
  ) => {
    let settings: SubmitSettings = DEFAULT_SETTINGS;
    const model = new JobsModel(api);
    const reveal = () => app.shell.activateById(SIDEBAR_ID);
    const runner = new NotebookRunner(model, () => settings, reveal);
    registerCommands({ app, model, runner, tracker, docManager });

    const run = (id: string) => (job: Job) => void app.commands.execute(id, { id: job.id });
    const sidebar = new JobsSidebar(
      model,
      tracker,
      runner,
      app.serviceManager.kernelspecs,
      {
        openOutput: run(CommandIDs.openOutput),
        showLog: run(CommandIDs.showLog),
        cancel: run(CommandIDs.cancel),
        rerun: run(CommandIDs.rerun),
        forget: run(CommandIDs.forget)
      },
      profile => app.commands.execute(CommandIDs.createKernel, { profile }) as Promise<void>
    );
    app.shell.add(sidebar, 'right', { rank: 600 });
    restorer?.add(sidebar, SIDEBAR_ID);

    if (toolbarRegistry) {
      toolbarRegistry.addFactory<NotebookPanel>(
        'Notebook',
        TOOLBAR_PICKER,
        panel => new ProfilePickerItem(panel, model, runner)
      );
      toolbarRegistry.addFactory<NotebookPanel>(
        'Notebook',
        TOOLBAR_RUN,
        panel => new RunButtonItem(panel, model, runner)
      );
    }

    for (const command of Object.values(CommandIDs)) {
      palette?.addItem({ command, category: PALETTE_CATEGORY });
    }

    model.jobEnded.connect((_, job) => {
      void showOutput(job);
      const actions = [
        { label: 'Open output', callback: () => void openOutput({ docManager, app }, job) }
      ];
      const message = endedMessage(job);
      if (job.state === 'completed') {
        Notification.success(message, { actions, autoClose: 8000 });
        if (settings.openOutputOnCompletion) {
          void openOutput({ docManager, app }, job);
        }
      } else if (job.state === 'cancelled') {
        Notification.info(message, { actions, autoClose: 5000 });
      } else {
        Notification.error(message, { actions, autoClose: false });
      }
    });

    /** The executed notebook is new on disk: show it in the file browser, and in its tab if open and unchanged. */
    async function showOutput(job: Job): Promise<void> {
      await browser?.model.refresh().catch(() => undefined);
      const widget = docManager?.findWidget(job.output);
      const context = widget ? docManager?.contextForWidget(widget) : undefined;
      if (context && !context.model.dirty) {
        await context.revert().catch(() => undefined);
      }
    }

    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(s => {
          const apply = () => {
            settings = readSettings(s.composite as Record<string, unknown>);
            model.changedSettings();
          };
          s.changed.connect(apply);
          apply();
        })
        .catch(e => console.warn('jupyterlab-hpc-submit: settings not loaded', e));
    }

    void model.refreshProfiles();
    void model.refreshJobs();
    void model.refreshHealth();
    new JobEventStream(model).connect();
  }
};

export default plugin;
