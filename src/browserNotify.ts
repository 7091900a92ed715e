/**
 * The browser's own notification for a run that ends while the tab is
 * hidden (setting notifyWhenHidden): JupyterLab's toasts are not seen then.
 * Permission is asked when the setting is switched on, never at a run's end.
 */
import { hiddenTabNotice, type NoticeConditions, shouldNotifyInBrowser } from './labels';
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

/** A click brings the tab forward. */
export function notifyIfHidden(job: Job, enabled: boolean): void {
  const conditions = { enabled, hidden: document.hidden, permission: browserPermission() };
  if (!shouldNotifyInBrowser(conditions)) {
    return;
  }
  const { title, body } = hiddenTabNotice(job);
  // The tag replaces an older notice of the same run instead of stacking.
  const notice = new Notification(title, { body, tag: `hpc-submit-${job.id}` });
  notice.onclick = () => {
    window.focus();
    notice.close();
  };
}
