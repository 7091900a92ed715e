/** The plugin's toasts, so every error stays as long. */
import { Notification } from '@jupyterlab/apputils';

/** Long enough to read a fix and copy it. */
const ERROR_MS = 10_000;

export function notifyError(message: string): void {
  Notification.error(message, { autoClose: ERROR_MS });
}
