/**
 * "Install environment" and "Create kernel" in a main-area panel: the
 * command as the user would type it, its output as it comes, its state, and
 * a Cancel button while it runs. The log is read from the companion once a
 * second while the task runs, and once more at its end.
 */
import { MainAreaWidget } from '@jupyterlab/apputils';
import { Poll } from '@lumino/polling';
import { Widget } from '@lumino/widgets';
import { hpcIcon } from './icons';
import type { JobsModel } from './model';
import type { SetupTask } from '../contract/wire';

const FOLLOW_MS = 1000;

const STATE_WORDS: Record<SetupTask['state'], string> = {
  running: 'Running…',
  completed: 'Done',
  failed: 'Failed',
  cancelled: 'Cancelled'
};

export class SetupLogView extends Widget {
  private offset = 0;
  private readonly poll: Poll;
  private readonly state = document.createElement('p');
  private readonly cancel = document.createElement('button');
  private readonly pre = document.createElement('pre');

  constructor(
    private task: SetupTask,
    private readonly model: JobsModel,
    private readonly onEnd: (task: SetupTask) => void
  ) {
    super();
    this.addClass('jp-HpcSubmit-setup');
    const head = document.createElement('div');
    head.className = 'jp-HpcSubmit-setupHead';
    const command = document.createElement('code');
    command.textContent = task.command;
    this.state.className = 'jp-HpcSubmit-setupState';
    this.state.setAttribute('role', 'status');
    this.cancel.className = 'jp-mod-styled jp-mod-reject';
    this.cancel.textContent = 'Cancel';
    this.cancel.addEventListener('click', () => void this.stop());
    head.append(command, this.state, this.cancel);
    const log = document.createElement('div');
    log.className = 'jp-HpcSubmit-log';
    log.tabIndex = 0;
    log.setAttribute('aria-label', `Output of ${task.title}`);
    log.appendChild(this.pre);
    this.node.append(head, log);
    this.paint();
    this.poll = new Poll({
      factory: () => this.read(),
      frequency: { interval: FOLLOW_MS, backoff: false },
      name: `hpc-submit:setup:${task.id}`,
      standby: 'never'
    });
  }

  dispose(): void {
    this.poll.dispose();
    super.dispose();
  }

  private async read(): Promise<void> {
    const chunk = await this.model.setupLog(this.task.id, this.offset);
    if (this.isDisposed) {
      return;
    }
    this.pre.append(chunk.text);
    this.offset = chunk.next;
    this.task = chunk.task;
    this.paint();
    if (chunk.task.state !== 'running') {
      this.poll.dispose();
      this.onEnd(this.task);
    }
  }

  private async stop(): Promise<void> {
    this.cancel.disabled = true;
    this.task = await this.model.cancelSetup(this.task.id);
    this.paint();
    void this.poll.refresh();
  }

  private paint(): void {
    this.state.textContent = STATE_WORDS[this.task.state];
    this.state.dataset.state = this.task.state;
    this.cancel.hidden = this.task.state !== 'running';
  }
}

export function setupPanel(
  task: SetupTask,
  model: JobsModel,
  onEnd: (task: SetupTask) => void
): MainAreaWidget<SetupLogView> {
  const widget = new MainAreaWidget({ content: new SetupLogView(task, model, onEnd) });
  widget.id = setupPanelId(task);
  widget.addClass('jp-HpcSubmit-setupPanel');
  widget.title.label = task.title;
  widget.title.caption = `${task.title}: ${task.command}`;
  widget.title.icon = hpcIcon;
  widget.title.closable = true;
  return widget;
}

export const setupPanelId = (task: Pick<SetupTask, 'id'>): string =>
  `jp-hpc-submit-setup-${task.id}`;
