/** The commands that open a panel in the main area: a sweep's Results, and Compare of two runs. */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import type { Widget } from '@lumino/widgets';
import type { CommandDeps } from './commands';
import { ComparePanel, comparePanelId } from './comparePanel';
import { comparedPair } from './compareRows';
import { ResultsPanel } from './resultsPanel';
import { CommandIDs } from './tokens';
import type { Job } from '../contract/wire';

export function addPanelCommands(deps: CommandDeps): void {
  const open = new OpenPanels(deps.app);
  addResultsCommand(deps, open);
  addCompareCommand(deps, open);
}

/** One panel per subject: asked again, the open one comes forward. */
class OpenPanels {
  private readonly panels = new Map<string, Widget>();
  constructor(private readonly app: JupyterFrontEnd) {}

  show(id: string, make: () => Widget): void {
    let panel = this.panels.get(id);
    // A closed tab is detached, not disposed: it is made again, so it reads its runs afresh.
    if (panel && !panel.isAttached) {
      panel.dispose();
    }
    if (!panel || panel.isDisposed) {
      panel = make();
      this.panels.set(id, panel);
      panel.disposed.connect(() => this.panels.delete(id));
      this.app.shell.add(panel, 'main');
    }
    this.app.shell.activateById(panel.id);
  }
}

/** The front notebook's path, where a notebook is in front. */
const frontNotebook = ({ tracker }: CommandDeps) => tracker.currentWidget?.context.path;

/**
 * Opens a sweep's Results view (args.sweepId; else the newest sweep of the
 * current notebook, else the newest of all), or brings its open one forward.
 */
function addResultsCommand(deps: CommandDeps, open: OpenPanels): void {
  const { app, model, rendermime } = deps;
  app.commands.addCommand(CommandIDs.results, {
    label: 'Show Results of GPU Sweep',
    execute: args => {
      const path = frontNotebook(deps);
      const newest = (jobs: readonly Job[]) => jobs.find(j => j.sweepId)?.sweepId;
      const sweepId =
        typeof args.sweepId === 'string'
          ? args.sweepId
          : ((path ? newest(model.jobs.filter(j => j.notebook === path)) : undefined) ??
            newest(model.jobs));
      if (!sweepId) {
        Notification.warning('No sweep to show: run a notebook with a sweep first.', {
          autoClose: 5000
        });
        return;
      }
      const id = `jp-hpc-submit-results-${sweepId}`;
      const compare = (a: string, b: string) =>
        void app.commands.execute(CommandIDs.compare, { a, b });
      open.show(id, () => new ResultsPanel(model, sweepId, rendermime, compare));
    }
  });
}

/**
 * Compare two runs: args.a and args.b; args.id alone, that run and the run
 * of its notebook before it; nothing, the two newest runs of the front
 * notebook. A sweep's tasks are compared from its Results view.
 */
function addCompareCommand(deps: CommandDeps, open: OpenPanels): void {
  const { app, model } = deps;
  app.commands.addCommand(CommandIDs.compare, {
    label: 'Compare Two GPU Runs',
    execute: args => {
      const pair = comparedPair(model.jobs, args, frontNotebook(deps));
      if (typeof pair === 'string') {
        Notification.warning(pair, { autoClose: 5000 });
        return;
      }
      const [a, b] = pair;
      open.show(comparePanelId(a, b), () => new ComparePanel(model, a, b));
    }
  });
}
