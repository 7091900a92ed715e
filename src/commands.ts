/** Every action as a command, so it is in the palette and can be bound to keys. */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import type { IDocumentManager } from '@jupyterlab/docmanager';
import type { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import React from 'react';
import { RunDetails } from './components/RunDetails';
import { jobName, OUTSIDE_ROOT_REASON, runLabel } from './labels';
import { openLogPanel } from './logPanel';
import type { JobsModel } from './model';
import { notifyError } from './notify';
import { addPanelCommands } from './panelCommands';
import { addSetupCommands } from './setupCommands';
import type { NotebookRunner } from './runner';
import { CommandIDs, SIDEBAR_ID } from './tokens';
import { isLive } from '../contract/rules';
import type { Job } from '../contract/wire';

export interface CommandDeps {
  app: JupyterFrontEnd;
  model: JobsModel;
  runner: NotebookRunner;
  tracker: INotebookTracker;
  docManager: IDocumentManager | null;
  /** Draws the Results view's chart; without it the view says so and shows the table. */
  rendermime: IRenderMimeRegistry | null;
}

export function registerCommands(deps: CommandDeps): void {
  addNotebookCommands(deps);
  addJobCommands(deps);
  addSidebarCommands(deps);
  addPanelCommands(deps);
  addSetupCommands(deps);
}

/** Run the current notebook. */
function addNotebookCommands(deps: CommandDeps): void {
  const { app, runner, tracker } = deps;
  app.commands.addCommand(CommandIDs.run, {
    label: () => runLabel(runner.chosenProfile(tracker.currentWidget)?.label),
    caption: "Execute the current notebook as a batch job with its profile's kernel",
    isEnabled: () => tracker.currentWidget !== null,
    execute: () => (tracker.currentWidget ? runner.run(tracker.currentWidget) : undefined)
  });
  app.commands.addCommand(CommandIDs.runWithParameters, {
    label: 'Run with parameters…',
    caption:
      "Run the current notebook with other values of its cell tagged 'parameters', or once for each of several values",
    isEnabled: () => tracker.currentWidget !== null,
    execute: () =>
      tracker.currentWidget ? runner.runWithParameters(tracker.currentWidget) : undefined
  });
}

/** What a sidebar row's buttons do, also from the palette (see withJob). */
function addJobCommands(deps: CommandDeps): void {
  const { model, runner } = deps;
  const add = (id: string, label: string, act: (job: Job) => unknown) =>
    deps.app.commands.addCommand(id, { label, execute: withJob(deps, act) });
  add(CommandIDs.openOutput, 'Open Output of GPU Job', job =>
    job.outsideRoot ? notHere(job) : openOutput(deps, job)
  );
  add(CommandIDs.showLog, 'Show Log of GPU Job', job => showLog(deps, job));
  add(CommandIDs.cancel, 'Cancel GPU Job', job => cancelJob(model, job));
  add(CommandIDs.rerun, 'Run GPU Job Again', job =>
    job.outsideRoot ? notHere(job) : runner.rerun(job)
  );
  add(CommandIDs.forget, 'Forget GPU Job', job => forgetJob(model, job));
  add(CommandIDs.details, 'Show Run Details of GPU Job', job => showRunDetails(model, job));
}

function addSidebarCommands({ app, model }: CommandDeps): void {
  app.commands.addCommand(CommandIDs.openSidebar, {
    label: 'Show GPU Jobs',
    execute: () => app.shell.activateById(SIDEBAR_ID)
  });
  app.commands.addCommand(CommandIDs.refresh, {
    label: 'Refresh GPU Jobs and Profiles',
    execute: () => model.refresh()
  });
}

/** Runs `act` on the job named by args, else the newest of the current notebook, else the newest of all. */
function withJob(
  { model, tracker }: CommandDeps,
  act: (job: Job) => unknown
): (args: { id?: unknown }) => unknown {
  return args => {
    const path = tracker.currentWidget?.context.path;
    const job =
      typeof args.id === 'string'
        ? model.job(args.id)
        : ((path ? model.latestFor(path) : undefined) ?? model.jobs[0]);
    if (!job) {
      Notification.warning('No job to act on: run a notebook first.', { autoClose: 5000 });
      return;
    }
    return act(job);
  };
}

/** The palette reaches what the sidebar's disabled buttons do not: say why not. */
function notHere(job: Job): void {
  Notification.info(`${job.notebook}: ${OUTSIDE_ROOT_REASON}`, { autoClose: 5000 });
}

function cancelJob(model: JobsModel, job: Job): Promise<void> {
  const ended = isLive(job) ? undefined : `${job.notebook}: the run already ended (${job.state}).`;
  return changeJob(ended, 'Could not cancel', () => model.cancel(job.id));
}

function forgetJob(model: JobsModel, job: Job): Promise<void> {
  const live = isLive(job) ? `${job.notebook}: cancel the run before forgetting it.` : undefined;
  return changeJob(live, 'Could not forget the job', () => model.forget(job.id));
}

/** Says why the job's state rules the change out, or makes it and shows a refusal. */
async function changeJob(
  ruledOut: string | undefined,
  failure: string,
  change: () => Promise<unknown>
): Promise<void> {
  if (ruledOut) {
    Notification.info(ruledOut, { autoClose: 5000 });
    return;
  }
  try {
    await change();
  } catch (e) {
    notifyError(`${failure}: ${(e as Error).message}`);
  }
}

/** The run record and efficiency of a run, in a dialog; a refusal is said in a toast. */
async function showRunDetails(model: JobsModel, job: Job): Promise<void> {
  let details;
  try {
    details = await model.details(job.id);
  } catch (e) {
    notifyError(`Could not read the run details of ${jobName(job)}: ${(e as Error).message}`);
    return;
  }
  await showDialog({
    title: `Run details: ${jobName(details.job)}`,
    body: React.createElement(RunDetails, { details }),
    buttons: [Dialog.okButton({ label: 'Close' })]
  });
}

/** One log panel per job: a second click brings the open one forward. */
function showLog({ app, model }: CommandDeps, job: Job): void {
  const id = `jp-hpc-submit-log-${job.id}`;
  if ([...app.shell.widgets('main')].some(w => w.id === id)) {
    app.shell.activateById(id);
    return;
  }
  app.shell.add(openLogPanel(job.id, model), 'main', { mode: 'split-right' });
}

/** Opens the executed notebook; a failed run's at its first error. */
export async function openOutput(
  deps: Pick<CommandDeps, 'docManager' | 'app'>,
  job: Job
): Promise<void> {
  if (deps.docManager) {
    const widget = deps.docManager.openOrReveal(job.output);
    if (widget && job.state !== 'completed') {
      await revealFirstError(widget as unknown as NotebookPanel);
    }
    return;
  }
  await deps.app.commands.execute('docmanager:open', { path: job.output });
}

async function revealFirstError(panel: NotebookPanel): Promise<void> {
  if (!panel.content || !panel.context) {
    return;
  }
  await panel.context.ready;
  await panel.revealed;
  const index = panel.content.widgets.findIndex(cell => {
    const outputs = (cell.model as { outputs?: { toJSON(): { output_type: string }[] } }).outputs;
    return outputs?.toJSON().some(o => o.output_type === 'error');
  });
  if (index >= 0) {
    panel.content.activeCellIndex = index;
    await panel.content.scrollToItem(index);
  }
}
