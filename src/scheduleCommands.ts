/**
 * "Run on a Schedule…": a notebook (with the hardware picked for it) or a
 * pipeline file started by the scheduler at set times, as the user's
 * scrontab entry, from the notebook's context menu, the file browser's and
 * the palette.
 */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import type { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import type { INotebookTracker } from '@jupyterlab/notebook';
import { Widget } from '@lumino/widgets';
import { CRON_PRESETS, type CronPreset, PRESET_LABELS } from '../contract/schedules';
import { runChoiceOf } from '../contract/rules';
import type { RunChoice, ScheduleRequest } from '../contract/wire';
import { choiceLabel } from './labels';
import { isPipelineFile } from './pipelineCommands';
import type { NotebookRunner } from './runner';
import type { SchedulesModel } from './scheduleModel';
import { notifyError } from './notify';
import { CommandIDs, SIDEBAR_ID } from './tokens';

export interface ScheduleCommandDeps {
  app: JupyterFrontEnd;
  schedules: SchedulesModel;
  runner: NotebookRunner;
  tracker: INotebookTracker;
  browser: IDefaultFileBrowser | null;
  defaultProfile: () => string;
}

const isNotebook = (path: string | undefined): path is string =>
  path !== undefined && path.toLowerCase().endsWith('.ipynb');

export function addScheduleCommands(deps: ScheduleCommandDeps): void {
  deps.app.commands.addCommand(CommandIDs.runOnSchedule, {
    label: 'Run on a Schedule…',
    caption: 'Start this notebook or pipeline at set times, as your scrontab entry on the cluster',
    isVisible: args => {
      const path = targetPath(deps, args);
      return isNotebook(path) || isPipelineFile(path);
    },
    execute: args => {
      const path = targetPath(deps, args);
      return isNotebook(path) || isPipelineFile(path) ? schedule(deps, path) : undefined;
    }
  });
}

/** The path given, else the file browser item the context menu was opened on, else the notebook in front. */
function targetPath(
  { app, browser, tracker }: ScheduleCommandDeps,
  args: { path?: unknown }
): string | undefined {
  if (typeof args.path === 'string') {
    return args.path;
  }
  if (app.contextMenuHitTest(node => node.classList.contains('jp-DirListing-item'))) {
    const item = browser?.selectedItems().next();
    return item && !item.done && item.value.type !== 'directory' ? item.value.path : undefined;
  }
  return tracker.currentWidget?.context.path;
}

async function schedule(deps: ScheduleCommandDeps, path: string): Promise<void> {
  const name = path.split('/').pop() ?? path;
  const choice = isNotebook(path) ? choiceFor(deps, path) : null;
  const body = new WhenBody(choice ? `${name} on ${choice.label}` : `the pipeline ${name}`);
  const result = await showDialog({
    title: `Run on a schedule: ${name}`,
    body,
    buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Schedule' })],
    focusNodeSelector: 'select'
  });
  if (!result.button.accept) {
    return;
  }
  const when = body.when();
  const request: ScheduleRequest = choice
    ? { when, run: { notebook: path, ...choice.run } }
    : { when, pipeline: { file: path } };
  try {
    const added = await deps.schedules.add(request);
    deps.app.shell.activateById(SIDEBAR_ID);
    const next = added.nextRun ? new Date(added.nextRun).toLocaleString() : 'never';
    Notification.success(`Scheduled ${added.label} (${added.when}); next start ${next}.`, {
      autoClose: 5000
    });
  } catch (e) {
    notifyError(`Could not schedule ${name}: ${(e as Error).message}`);
  }
}

/** The hardware (and environment) picked for the notebook when it is open, else the default profile. */
function choiceFor(deps: ScheduleCommandDeps, path: string): { run: RunChoice; label: string } {
  const open = deps.tracker.find(panel => panel.context.path === path) ?? null;
  const chosen = deps.runner.chosenProfile(open);
  if (!chosen) {
    return { run: { profile: deps.defaultProfile() }, label: deps.defaultProfile() };
  }
  return { run: runChoiceOf(chosen), label: choiceLabel(chosen) };
}

/** The dialog's body: a preset or five cron fields of one's own. */
class WhenBody extends Widget {
  private readonly select: HTMLSelectElement;
  private readonly fields: HTMLInputElement;

  constructor(what: string) {
    super();
    this.addClass('jp-HpcSubmit-scheduleDialog');
    const intro = document.createElement('p');
    intro.textContent = `Slurm starts ${what} at these times, whether or not JupyterLab is open; each start is an ordinary run in the sidebar.`;
    this.select = document.createElement('select');
    this.select.setAttribute('aria-label', 'When');
    for (const preset of Object.keys(CRON_PRESETS) as CronPreset[]) {
      this.select.add(new Option(PRESET_LABELS[preset], preset));
    }
    this.select.add(new Option('Cron fields of my own…', 'custom'));
    this.select.value = 'nightly';
    this.fields = document.createElement('input');
    this.fields.type = 'text';
    this.fields.placeholder = 'minute hour day month weekday, e.g. 30 6 * * 1-5';
    this.fields.setAttribute('aria-label', 'Cron fields');
    this.fields.hidden = true;
    this.select.addEventListener('change', () => {
      this.fields.hidden = this.select.value !== 'custom';
    });
    this.node.append(intro, this.select, this.fields);
  }

  when(): string {
    return this.select.value === 'custom' ? this.fields.value.trim() : this.select.value;
  }
}
