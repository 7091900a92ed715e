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
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { api } from './api';
import {
  askNotificationPermission,
  notifyIfHidden,
  notifyPipelineIfHidden,
  notifySweepIfHidden
} from './browserNotify';
import { preloadChartWhenNeeded } from './chartPreload';
import { openOutput, registerCommands } from './commands';
import { addPipelineCommands } from './pipelineCommands';
import { addScheduleCommands } from './scheduleCommands';
import { SchedulesModel } from './scheduleModel';
import { JobEventStream } from './eventStream';
import { endedMessage } from './labels';
import { pipelineEndedNotice, sweepEndedNotice } from './sweepLabels';
import { JobsModel, type SweepEnd } from './model';
import { NotebookRunner } from './runner';
import { DEFAULT_SETTINGS, readSettings, type SubmitSettings } from './settings';
import { JobsSidebar, type SidebarActions } from './sidebar';
import { ProfilePickerItem, RecordItem, RunButtonItem } from './toolbar';
import {
  CommandIDs,
  PALETTE_CATEGORY,
  PLUGIN_ID,
  SIDEBAR_ID,
  TOOLBAR_PICKER,
  TOOLBAR_RECORD,
  TOOLBAR_RUN
} from './tokens';
import type { Job, PipelineInfo } from '../contract/wire';

/** What a run's end touches besides the model. */
interface EndDeps {
  app: JupyterFrontEnd;
  docManager: IDocumentManager | null;
  browser: IDefaultFileBrowser | null;
  settings: () => SubmitSettings;
}

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
    IToolbarWidgetRegistry,
    IRenderMimeRegistry
  ],
  activate
};

function activate(
  app: JupyterFrontEnd,
  tracker: INotebookTracker,
  palette: ICommandPalette | null,
  restorer: ILayoutRestorer | null,
  settingRegistry: ISettingRegistry | null,
  docManager: IDocumentManager | null,
  browser: IDefaultFileBrowser | null,
  toolbarRegistry: IToolbarWidgetRegistry | null,
  rendermime: IRenderMimeRegistry | null
): void {
  const model = new JobsModel(api);
  model.followCurrentNotebook(tracker);
  const settings = watchSettings(settingRegistry, model);
  const runner = new NotebookRunner(model, settings, () => app.shell.activateById(SIDEBAR_ID));
  registerCommands({ app, model, runner, tracker, docManager, rendermime });
  addPipelineCommands({ app, model, docManager, browser });
  const schedules = new SchedulesModel(api);
  addScheduleCommands({
    app,
    schedules,
    runner,
    tracker,
    browser,
    defaultProfile: () => settings().defaultProfile
  });

  addSidebar(
    app,
    restorer,
    new JobsSidebar(
      model,
      tracker,
      runner,
      app.serviceManager.kernelspecs,
      sidebarActions(app),
      schedules
    )
  );
  if (toolbarRegistry) {
    addToolbarItems(toolbarRegistry, model, runner);
  }
  if (palette) {
    addToPalette(palette);
  }

  const ends: EndDeps = { app, docManager, browser, settings };
  model.jobEnded.connect((_, job) => onJobEnded(ends, job));
  model.sweepEnded.connect((_, end) => onSweepEnded(ends, end));
  model.pipelineEnded.connect((_, info) => onPipelineEnded(ends, info));
  preloadChartWhenNeeded(model, rendermime);
  void model.refresh();
  void schedules.refresh();
  new JobEventStream(model).connect();
}

/** The settings as last loaded; the model re-renders when they change. */
function watchSettings(registry: ISettingRegistry | null, model: JobsModel): () => SubmitSettings {
  let settings = DEFAULT_SETTINGS;
  registry
    ?.load(PLUGIN_ID)
    .then(loaded => {
      const apply = () => {
        const before = settings;
        settings = readSettings(loaded.composite as Record<string, unknown>);
        if (settings.notifyWhenHidden && !before.notifyWhenHidden) {
          void askNotificationPermission();
        }
        model.changedSettings();
      };
      loaded.changed.connect(apply);
      apply();
    })
    .catch(e => console.warn('jupyterlab-hpc-submit: settings not loaded', e));
  return () => settings;
}

function addSidebar(
  app: JupyterFrontEnd,
  restorer: ILayoutRestorer | null,
  sidebar: JobsSidebar
): void {
  app.shell.add(sidebar, 'right', { rank: 600 });
  restorer?.add(sidebar, SIDEBAR_ID);
}

/** The sidebar's buttons run the commands, so they act as the palette does. */
function sidebarActions(app: JupyterFrontEnd): SidebarActions {
  const run = (id: string) => (job: Job) => void app.commands.execute(id, { id: job.id });
  return {
    actions: {
      openOutput: run(CommandIDs.openOutput),
      showLog: run(CommandIDs.showLog),
      cancel: run(CommandIDs.cancel),
      rerun: run(CommandIDs.rerun),
      forget: run(CommandIDs.forget),
      details: run(CommandIDs.details),
      compare: run(CommandIDs.compare)
    },
    setup: action =>
      app.commands.execute(
        action === 'create-kernel' ? CommandIDs.createKernel : CommandIDs.installEnvironment
      ),
    checkSetup: () => void app.commands.execute(CommandIDs.checkSetup),
    openResults: sweepId => void app.commands.execute(CommandIDs.results, { sweepId }),
    openFolder: path => void app.commands.execute('filebrowser:go-to-path', { path })
  };
}

function addToPalette(palette: ICommandPalette): void {
  for (const command of Object.values(CommandIDs)) {
    palette.addItem({ command, category: PALETTE_CATEGORY });
  }
}

function addToolbarItems(
  registry: IToolbarWidgetRegistry,
  model: JobsModel,
  runner: NotebookRunner
): void {
  registry.addFactory<NotebookPanel>(
    'Notebook',
    TOOLBAR_PICKER,
    panel => new ProfilePickerItem(panel, model, runner)
  );
  registry.addFactory<NotebookPanel>(
    'Notebook',
    TOOLBAR_RUN,
    panel => new RunButtonItem(panel, model, runner)
  );
  registry.addFactory<NotebookPanel>(
    'Notebook',
    TOOLBAR_RECORD,
    panel => new RecordItem(panel, model, runner)
  );
}

/**
 * A toast that stays as long as its news matters, and the output shown fresh.
 * The output of a run from another root is not under this Jupyter root: no
 * button opens it, and it is not opened.
 */
function onJobEnded(deps: EndDeps, job: Job): void {
  if (job.sweepId || job.pipeline) {
    // A sweep's task: its output shows in the file browser; the news waits for the sweep's end.
    void showOutput(deps, job);
    return;
  }
  notifyIfHidden(job, deps.settings().notifyWhenHidden);
  const here = !job.outsideRoot;
  if (here) {
    void showOutput(deps, job);
  }
  const open = () => void openOutput(deps, job);
  const actions = here ? [{ label: 'Open output', callback: open }] : [];
  const message = endedMessage(job);
  if (job.state === 'completed') {
    Notification.success(message, { actions, autoClose: 8000 });
    if (here && deps.settings().openOutputOnCompletion) {
      open();
    }
  } else if (job.state === 'cancelled') {
    Notification.info(message, { actions, autoClose: 5000 });
  } else {
    Notification.error(message, { actions, autoClose: false });
  }
}

/** One toast and one browser notification for a whole sweep, not one per task. */
function onSweepEnded(deps: EndDeps, end: SweepEnd): void {
  if (end.tasks[0]?.pipeline) {
    return; // a pipeline's step: the pipeline's end is told, once
  }
  notifySweepIfHidden(end, deps.settings().notifyWhenHidden);
  const first = end.tasks[0];
  if (!first) {
    return;
  }
  const { title, body } = sweepEndedNotice(first.notebook, end.tasks, first.taskCount);
  const message = `${title}: ${body}`;
  if (end.tasks.every(task => task.state === 'completed')) {
    Notification.success(message, { autoClose: 8000 });
  } else {
    Notification.warning(message, { autoClose: false });
  }
}

/** One toast and one browser notification for a whole pipeline, not one per step. */
function onPipelineEnded(deps: EndDeps, info: PipelineInfo): void {
  const notice = pipelineEndedNotice(info);
  notifyPipelineIfHidden(notice, info.id, deps.settings().notifyWhenHidden);
  const message = `${notice.title}: ${notice.body}`;
  if (info.state === 'completed') {
    Notification.success(message, { autoClose: 8000 });
  } else {
    Notification.warning(message, { autoClose: false });
  }
}

/** The executed notebook is new on disk: show it in the file browser, and in its tab if open and unchanged. */
async function showOutput({ browser, docManager }: EndDeps, job: Job): Promise<void> {
  await browser?.model.refresh().catch(() => undefined);
  const widget = docManager?.findWidget(job.output);
  const context = widget ? docManager?.contextForWidget(widget) : undefined;
  if (context && !context.model.dirty) {
    await context.revert().catch(() => undefined);
  }
}

export default plugin;
