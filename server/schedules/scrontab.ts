/**
 * The user's scrontab with this tool's schedules in it: one block, marked,
 * that only this tool writes; every line outside it is the user's and is
 * kept as it is, byte for byte. Pure: text in, text out.
 *
 * Each schedule in the block is a marker comment, its #SCRON option lines
 * and its cron line. A paused one keeps all three commented out, the option
 * lines too: scrontab applies #SCRON lines to the next cron line, which
 * would otherwise be somebody else's.
 */
import { invalid } from '../jobs/refusal';
import { parseCron } from './cron';

export const BLOCK_BEGIN =
  '# >>> jupyterlab-hpc-submit schedules: written by hpc-submit, your own lines go outside >>>';
export const BLOCK_END = '# <<< jupyterlab-hpc-submit schedules <<<';
const MARKER = '# hpc-submit schedule ';
const PAUSED = '#paused ';

export interface ScheduleEntry {
  /** Letters, digits and dashes. */
  id: string;
  /** Five cron fields. */
  cron: string;
  paused: boolean;
  /** What it runs, for people reading the file (one line). */
  label: string;
  /** sbatch options for #SCRON, each "--name=value" without spaces. */
  options: string[];
  /** The command, already quoted for the shell (shellQuote), on one line. */
  command: string;
}

const ID = /^[a-z0-9][a-z0-9-]{0,63}$/;
const OPTION = /^--[a-z][a-z-]*=[^\s]+$/;

/** The schedules of this tool in `text`; a block it cannot read is refused, not guessed at. */
export function readSchedules(text: string): ScheduleEntry[] {
  const lines = text.split('\n');
  const begin = lines.indexOf(BLOCK_BEGIN);
  const end = lines.indexOf(BLOCK_END);
  if (begin === -1 && end === -1) {
    return [];
  }
  if (begin === -1 || end < begin) {
    throw invalid('the scrontab has half of the hpc-submit block: fix it with scrontab -e');
  }
  const entries: ScheduleEntry[] = [];
  let current: ScheduleEntry | null = null;
  for (const line of lines.slice(begin + 1, end)) {
    if (line.startsWith(MARKER)) {
      current = markerEntry(line.slice(MARKER.length));
      entries.push(current);
      continue;
    }
    if (!current || line.trim() === '') {
      continue;
    }
    const body = current.paused && line.startsWith(PAUSED) ? line.slice(PAUSED.length) : line;
    if (body.startsWith('#SCRON ')) {
      current.options.push(...body.slice('#SCRON '.length).split(' ').filter(Boolean));
    } else {
      const fields = body.split(' ');
      current.cron = fields.slice(0, 5).join(' ');
      current.command = fields.slice(5).join(' ');
    }
  }
  return entries;
}

function markerEntry(rest: string): ScheduleEntry {
  const [id, state, ...label] = rest.split(' ');
  return {
    id,
    paused: state === 'paused',
    label: label.join(' '),
    cron: '',
    options: [],
    command: ''
  };
}

/** `text` with its hpc-submit block holding `entries` (none: the block goes); every other line kept. */
export function withSchedules(text: string, entries: ScheduleEntry[]): string {
  const block = entries.length > 0 ? [BLOCK_BEGIN, ...entries.flatMap(entryLines), BLOCK_END] : [];
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  const begin = lines.indexOf(BLOCK_BEGIN);
  const end = lines.indexOf(BLOCK_END);
  if (begin !== -1 && end > begin) {
    lines.splice(begin, end - begin + 1, ...block);
  } else if (begin !== -1 || end !== -1) {
    throw invalid('the scrontab has half of the hpc-submit block: fix it with scrontab -e');
  } else {
    // At the top: the block ends with its own cron line, so a #SCRON line of the user's
    // waiting for the next cron line never takes one of ours.
    lines.unshift(...block);
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

function entryLines(e: ScheduleEntry): string[] {
  if (!ID.test(e.id)) {
    throw invalid(`${JSON.stringify(e.id)} is not a schedule id`);
  }
  const cron = parseCron(e.cron).text;
  const bad = e.options.find(o => !OPTION.test(o));
  if (bad !== undefined) {
    throw invalid(`${JSON.stringify(bad)} is not an sbatch option a schedule can carry`);
  }
  if (/[\r\n]/.test(e.command) || e.command.trim() === '') {
    throw invalid('a schedule runs one command on one line');
  }
  // eslint-disable-next-line no-control-regex
  const label = e.label.replace(/[\x00-\x1f\x7f]/g, ' ');
  const lines = [
    ...(e.options.length > 0 ? [`#SCRON ${e.options.join(' ')}`] : []),
    `${cron} ${e.command}`
  ];
  return [
    `${MARKER}${e.id} ${e.paused ? 'paused' : 'active'} ${label}`,
    ...(e.paused ? lines.map(l => PAUSED + l) : lines)
  ];
}
