/**
 * The when of a schedule: five cron fields as scrontab reads them (minute,
 * hour, day of month, month, day of week), or a preset's name; checked here
 * with a sentence for what is wrong, and the next time it fires. Pure.
 */
import { CRON_PRESETS } from '../../contract/schedules';
import { invalid } from '../jobs/refusal';

export { CRON_PRESETS };

const FIELDS = [
  { name: 'minute', least: 0, most: 59 },
  { name: 'hour', least: 0, most: 23 },
  { name: 'day of month', least: 1, most: 31 },
  { name: 'month', least: 1, most: 12 },
  { name: 'day of week', least: 0, most: 7 }
] as const;

export interface Cron {
  /** The five fields as written (a preset as its fields). */
  text: string;
  minutes: Set<number>;
  hours: Set<number>;
  days: Set<number>;
  months: Set<number>;
  /** 0 to 6, Sunday 0 (7 is read as 0). */
  weekdays: Set<number>;
  /** Cron's rule: with both days restricted, a time matches either. */
  eitherDay: boolean;
}

/** A preset's name or five cron fields; else a 400 naming the field that is wrong. */
export function parseCron(when: string): Cron {
  const text =
    (CRON_PRESETS as Record<string, string>)[when.trim()] ?? when.trim().replace(/\s+/g, ' ');
  const parts = text.split(' ');
  if (parts.length !== 5 || text === '') {
    throw invalid(
      `${JSON.stringify(when)} is not a schedule: give five cron fields (minute hour day-of-month month day-of-week, such as "0 2 * * *") or one of ${Object.keys(CRON_PRESETS).join(', ')}`
    );
  }
  const sets = parts.map((part, i) => fieldValues(part, FIELDS[i]));
  const weekdays = new Set([...sets[4]].map(d => d % 7));
  return {
    text,
    minutes: sets[0],
    hours: sets[1],
    days: sets[2],
    months: sets[3],
    weekdays,
    eitherDay: !parts[2].startsWith('*') && !parts[4].startsWith('*')
  };
}

function fieldValues(part: string, field: (typeof FIELDS)[number]): Set<number> {
  const values = new Set<number>();
  const wrong = (why: string) =>
    invalid(
      `the ${field.name} field ${JSON.stringify(part)} ${why} (${field.least} to ${field.most})`
    );
  for (const item of part.split(',')) {
    const m = /^(\*|(\d{1,2})(?:-(\d{1,2}))?)(?:\/(\d{1,2}))?$/.exec(item);
    if (!m) {
      throw wrong('is not a number, a range such as 1-5, a step such as */15, or *');
    }
    const from = m[1] === '*' ? field.least : Number(m[2]);
    const to =
      m[1] === '*' ? field.most : m[3] !== undefined ? Number(m[3]) : m[4] ? field.most : from;
    const step = m[4] !== undefined ? Number(m[4]) : 1;
    if (from < field.least || to > field.most || from > to) {
      throw wrong('is out of range');
    }
    if (step < 1) {
      throw wrong('has a step of 0');
    }
    for (let v = from; v <= to; v += step) {
      values.add(v);
    }
  }
  return values;
}

/** The first minute after `from` that the schedule fires at (local time), within four years. */
export function nextRun(cron: Cron, from: Date): Date | null {
  const t = new Date(from.getTime());
  t.setSeconds(0, 0);
  t.setMinutes(t.getMinutes() + 1);
  const limit = from.getTime() + 4 * 366 * 24 * 3600 * 1000;
  while (t.getTime() <= limit) {
    if (!cron.months.has(t.getMonth() + 1) || !dayMatches(cron, t)) {
      t.setDate(t.getDate() + 1);
      t.setHours(0, 0, 0, 0);
      continue;
    }
    if (!cron.hours.has(t.getHours())) {
      t.setHours(t.getHours() + 1, 0, 0, 0);
      continue;
    }
    if (cron.minutes.has(t.getMinutes())) {
      return t;
    }
    t.setMinutes(t.getMinutes() + 1);
  }
  return null;
}

function dayMatches(cron: Cron, t: Date): boolean {
  const day = cron.days.has(t.getDate());
  const weekday = cron.weekdays.has(t.getDay());
  return cron.eitherDay ? day || weekday : day && weekday;
}
