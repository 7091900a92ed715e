/** A job's log in a main-area panel, following it while the job runs. */
import { MainAreaWidget } from '@jupyterlab/apputils';
import { Widget } from '@lumino/widgets';
import { api } from './api';
import { hpcIcon } from './icons';
import { baseName, isLive } from './labels';
import type { JobsModel } from './model';

const FOLLOW_MS = 2000;

class LogView extends Widget {
  private offset = 0;
  private timer: number | null = null;
  private readonly pre = document.createElement('pre');

  constructor(
    private readonly jobId: string,
    private readonly model: JobsModel
  ) {
    super();
    this.addClass('jp-HpcSubmit-log');
    this.pre.setAttribute('aria-live', 'polite');
    this.node.appendChild(this.pre);
    void this.fetch();
  }

  dispose(): void {
    if (this.timer !== null) window.clearTimeout(this.timer);
    super.dispose();
  }

  private async fetch(): Promise<void> {
    if (this.isDisposed) return;
    try {
      const text = await api.log(this.jobId, this.offset);
      if (text) {
        const atBottom = this.node.scrollTop + this.node.clientHeight >= this.node.scrollHeight - 8;
        this.pre.append(text);
        this.offset += new TextEncoder().encode(text).length;
        if (atBottom) this.node.scrollTop = this.node.scrollHeight;
      }
    } catch (e) {
      this.pre.append(`\n[hpc-submit] ${(e as Error).message}\n`);
      return;
    }
    const job = this.model.job(this.jobId);
    if (job && isLive(job)) this.timer = window.setTimeout(() => void this.fetch(), FOLLOW_MS);
    else if (!this.finalRead) {
      // One last read after the end, for what was written as the job stopped.
      this.finalRead = true;
      this.timer = window.setTimeout(() => void this.fetch(), 500);
    }
  }

  private finalRead = false;
}

export function openLogPanel(jobId: string, model: JobsModel): MainAreaWidget<LogView> {
  const job = model.job(jobId);
  const widget = new MainAreaWidget({ content: new LogView(jobId, model) });
  widget.id = `jp-hpc-submit-log-${jobId}`;
  widget.title.label = `Log: ${job ? baseName(job.notebook) : jobId}`;
  widget.title.icon = hpcIcon;
  widget.title.closable = true;
  return widget;
}
