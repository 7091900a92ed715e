/**
 * The presets of a schedule's "when", shared by the companion (which reads
 * them, server/schedules/cron.ts) and the "Run on a schedule…" dialog.
 */

/** Each preset as the five cron fields it stands for. */
export const CRON_PRESETS = {
  hourly: '0 * * * *',
  nightly: '0 2 * * *',
  weekly: '0 2 * * 1'
} as const;
export type CronPreset = keyof typeof CRON_PRESETS;

/** What each preset means, in the dialog's words. */
export const PRESET_LABELS: Record<CronPreset, string> = {
  hourly: 'Hourly, on the hour',
  nightly: 'Nightly at 02:00',
  weekly: 'Weekly, on Monday at 02:00'
};
