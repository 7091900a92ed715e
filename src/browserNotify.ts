/**
 * The browser's own notification for a run that ends while the tab is
 * hidden (setting notifyWhenHidden): JupyterLab's toasts are not seen then.
 * Permission is asked when the setting is switched on, never at a run's end.
 */
import { hiddenTabNotice, type NoticeConditions, shouldNotifyInBrowser } from './labels';
import { sweepEndedNotice } from './sweepLabels';
import type { SweepEnd } from './model';
import type { Job } from '../contract/wire';

function browserPermission(): NoticeConditions['permission'] {
  return typeof Notification === 'undefined' ? 'unsupported' : Notification.permission;
}

/** Asks once the user switched the setting on; a denial stays the browser's and is respected. */
export async function askNotificationPermission(): Promise<void> {
  if (browserPermission() === 'default') {
    await Notification.requestPermission().catch(() => undefined);
  }
}

function allowed(enabled: boolean): boolean {
  return shouldNotifyInBrowser({
    enabled,
    hidden: document.hidden,
    permission: browserPermission()
  });
}

/** A click brings the tab forward; the tag replaces an older notice of the same run instead of stacking. */
function show(notice: { title: string; body: string }, tag: string): void {
  const shown = new Notification(notice.title, { body: notice.body, tag });
  shown.onclick = () => {
    window.focus();
    shown.close();
  };
}

/** A run's end; a sweep's task is left to notifySweepIfHidden: one notice per sweep, not per task. */
export function notifyIfHidden(job: Job, enabled: boolean): void {
  if (!job.sweepId && allowed(enabled)) {
    show(hiddenTabNotice(job), `hpc-submit-${job.id}`);
  }
}

/** The end of a whole sweep (JobsModel.sweepEnded). */
export function notifySweepIfHidden(end: SweepEnd, enabled: boolean): void {
  const first = end.tasks[0];
  if (first && allowed(enabled)) {
    show(sweepEndedNotice(first.notebook, end.tasks, first.taskCount), `hpc-submit-${end.sweepId}`);
  }
}

/** The end of a whole pipeline (JobsModel.pipelineEnded). */
export function notifyPipelineIfHidden(
  notice: { title: string; body: string },
  pipelineId: string,
  enabled: boolean
): void {
  if (allowed(enabled)) {
    show(notice, `hpc-submit-${pipelineId}`);
  }
}
