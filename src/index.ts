/**
 * jupyterlab-hpc-submit: "Run on GPU node" in every notebook's toolbar, a
 * hardware picker saved per notebook, and a sidebar of this user's jobs,
 * live. The companion (server/) does the submitting.
 */
import { ILayoutRestorer, type JupyterFrontEnd, type JupyterFrontEndPlugin } from '@jupyterlab/application';
import { ICommandPalette, IToolbarWidgetRegistry, Notification } from '@jupyterlab/apputils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import { INotebookTracker, type NotebookPanel } from '@jupyterlab/notebook';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { openOutput, registerCommands } from './commands';
import { dirName, stateLabel, baseName } from './labels';
import { JobsModel } from './model';
import { NotebookRunner } from './runner';
import { DEFAULT_SETTINGS, readSettings, type SubmitSettings } from './settings';
import { JobsSidebar } from './sidebar';
import { ProfilePickerItem, RunButtonItem } from './toolbar';
import { CommandIDs, PLUGIN_ID, SIDEBAR_ID, TOOLBAR_PICKER, TOOLBAR_RUN } from './tokens';
import type { Job } from './wire';

const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Run a notebook on a cluster GPU node in one click.',
  autoStart: true,
  requires: [INotebookTracker],
  optional: [ICommandPalette, ILayoutRestorer, ISettingRegistry, IDocumentManager, IDefaultFileBrowser, IToolbarWidgetRegistry],
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
    const model = new JobsModel();
    const reveal = () => app.shell.activateById(SIDEBAR_ID);
    const runner = new NotebookRunner(model, () => settings, reveal);
    registerCommands({ app, model, runner, tracker, docManager });

    const run = (id: string) => (job: Job) => void app.commands.execute(id, { id: job.id });
    const sidebar = new JobsSidebar(
      model,
      tracker,
      runner,
      {
        openOutput: run(CommandIDs.openOutput),
        showLog: run(CommandIDs.showLog),
        cancel: run(CommandIDs.cancel),
        rerun: run(CommandIDs.rerun),
        forget: run(CommandIDs.forget)
      },
      (profile) => app.commands.execute(CommandIDs.createKernel, { profile }) as Promise<void>
    );
    app.shell.add(sidebar, 'right', { rank: 600 });
    restorer?.add(sidebar, SIDEBAR_ID);

    if (toolbarRegistry) {
      toolbarRegistry.addFactory<NotebookPanel>('Notebook', TOOLBAR_PICKER, (panel) => new ProfilePickerItem(panel, model, runner));
      toolbarRegistry.addFactory<NotebookPanel>('Notebook', TOOLBAR_RUN, (panel) => new RunButtonItem(panel, model, runner));
    }

    for (const command of Object.values(CommandIDs)) {
      palette?.addItem({ command, category: 'HPC Submit' });
    }

    model.jobEnded.connect((_, job) => {
      // The output is new in the file browser's directory (or a subfolder of it).
      void browser?.model.refresh();
      void app.serviceManager.contents.get(dirName(job.output), { content: false }).catch(() => undefined);
      const label = `${baseName(job.notebook)}: ${stateLabel(job)}`;
      const actions = [{ label: 'Open output', callback: () => void openOutput({ docManager, app }, job) }];
      if (job.state === 'completed') {
        Notification.success(label, { actions, autoClose: 8000 });
        if (settings.openOutputOnCompletion) void openOutput({ docManager, app }, job);
      } else if (job.state === 'cancelled') {
        Notification.info(label, { actions, autoClose: 5000 });
      } else {
        Notification.error(label, { actions, autoClose: false });
      }
    });

    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then((s) => {
          const apply = () => {
            settings = readSettings(s.composite as Record<string, unknown>);
            model.changedSettings();
          };
          s.changed.connect(apply);
          apply();
        })
        .catch((e) => console.warn('jupyterlab-hpc-submit: settings not loaded', e));
    }

    void model.refreshProfiles();
    void model.refreshJobs();
    model.connect();
  }
};

export default plugin;
