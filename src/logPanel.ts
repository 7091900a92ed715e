/** A job's log in a main-area panel, following it while the job runs. */
import { MainAreaWidget } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';
import { hpcIcon } from './icons';
import { baseName } from './labels';
import type { JobsModel } from './model';
import { isLive } from '../contract/rules';

const FOLLOW_MS = 2000;
/** After the end, for what was written as the job stopped. */
const FINAL_READ_MS = 500;

class LogView extends Widget {
  private offset = 0;
  private timer: number | null = null;
  private finalRead = false;
  private readonly pre = document.createElement('pre');

  constructor(
    private readonly jobId: string,
    private readonly model: JobsModel
  ) {
    super();
    this.addClass('jp-HpcSubmit-log');
    this.node.tabIndex = 0;
    this.pre.setAttribute('aria-live', 'polite');
    this.node.appendChild(this.pre);
    void this.fetch();
  }

  dispose(): void {
    if (this.timer !== null) {
      window.clearTimeout(this.timer);
    }
    this.timer = null;
    super.dispose();
  }

  private async fetch(): Promise<void> {
    this.timer = null;
    if (this.isDisposed) {
      return;
    }
    let more: boolean;
    try {
      more = await this.readMore();
    } catch (e) {
      if (!this.isDisposed) {
        this.pre.append(`\n[hpc-submit] ${(e as Error).message}\n`);
      }
      return;
    }
    if (!this.isDisposed) {
      this.scheduleNext(more);
    }
  }

  /** Appends the next piece; true when there may be more at once. */
  private async readMore(): Promise<boolean> {
    const chunk = await this.model.readLog(this.jobId, this.offset);
    if (this.isDisposed) {
      return false;
    }
    // A long log comes in pieces: read on at once while pieces arrive.
    const more = chunk.text !== '' && chunk.next > this.offset;
    this.append(chunk.text);
    this.offset = chunk.next;
    return more;
  }

  /** Keeps the view at the bottom if it was there. */
  private append(text: string): void {
    if (!text) {
      return;
    }
    const atBottom = this.node.scrollTop + this.node.clientHeight >= this.node.scrollHeight - 8;
    this.pre.append(text);
    if (atBottom) {
      this.node.scrollTop = this.node.scrollHeight;
    }
  }

  private scheduleNext(more: boolean): void {
    const job = this.model.job(this.jobId);
    if (more) {
      this.schedule(0);
    } else if (job && isLive(job)) {
      this.schedule(FOLLOW_MS);
    } else if (!this.finalRead) {
      this.finalRead = true;
      this.schedule(FINAL_READ_MS);
    }
  }

  private schedule(ms: number): void {
    this.timer = window.setTimeout(() => void this.fetch(), ms);
  }
}

export function openLogPanel(jobId: string, model: JobsModel): MainAreaWidget<LogView> {
  const job = model.job(jobId);
  const widget = new MainAreaWidget({ content: new LogView(jobId, model) });
  widget.id = `jp-hpc-submit-log-${jobId}`;
  widget.addClass('jp-HpcSubmit-logPanel');
  widget.title.label = `Log: ${job ? baseName(job.notebook) : jobId}`;
  widget.title.caption = job ? `Log of the run of ${job.notebook} (${jobId})` : `Log of ${jobId}`;
  widget.title.icon = hpcIcon;
  widget.title.closable = true;
  return widget;
}
