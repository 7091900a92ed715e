/** A schedule as the CLI prints it: one line, what it runs, when, and what its last start did. */
import type { ScheduleInfo } from '../../contract/wire';

/** "2026-12-04 02:00" in this machine's time zone: what a person plans by. */
function localTime(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

export function describeSchedule(s: ScheduleInfo): string {
  const when = s.paused ? 'paused' : s.nextRun ? `next ${localTime(s.nextRun)}` : 'never again';
  const last = s.last
    ? s.last.id
      ? `  last: ${s.last.id} at ${localTime(s.last.at)}`
      : `  last: not started at ${localTime(s.last.at)}: ${s.last.error}`
    : '';
  return `${s.id}  "${s.when}"  ${when}  ${s.label}${last}`;
}
