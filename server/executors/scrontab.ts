/**
 * The user's scrontab through Slurm's own client: `scrontab -l` to read it,
 * the whole text on stdin (`scrontab -`) to replace it. Slurm then
 * holds each entry and starts it as a batch job, with or without a companion.
 */
import { CommandNotRun } from '../runCommand';
import { Refusal } from '../jobs/refusal';
import type { CronTable } from './executor';
import { type SlurmCommands, unreachable } from './slurmCommands';

/** What `scrontab -l` says (on stdout, exit 1) of a user who has no crontab yet. */
const NO_CRONTAB = /no crontab/i;

const MISSING =
  "Slurm's scrontab client is not installed here: ask the site for it (a schedule is a scrontab entry)";

export function slurmCronTable(commands: SlurmCommands): CronTable {
  const run = async (args: string[], input?: string) => {
    try {
      return await commands.run('scrontab', args, undefined, undefined, input);
    } catch (e) {
      if (e instanceof CommandNotRun && e.why === 'missing') {
        throw new Refusal('scheduler-refused', MISSING);
      }
      throw e instanceof CommandNotRun ? unreachable(e.message) : e;
    }
  };
  return {
    async read() {
      const { stdout, stderr, code } = await run(['-l']);
      if (code === 0) {
        return stdout;
      }
      if (NO_CRONTAB.test(stderr + stdout)) {
        return '';
      }
      throw refused(stderr || stdout, code);
    },
    async write(text) {
      const { stdout, stderr, code } = await run(['-'], text);
      if (code !== 0) {
        throw refused(stderr || stdout, code);
      }
    }
  };
}

/** scrontab's own words; where it says scrontab is off, what the site must do. */
function refused(said: string, code: number): Refusal {
  const words = said.trim() || `scrontab exited with ${code}`;
  const off = /disabled|not enabled|ScronParameters/i.test(words)
    ? ' (the site has not enabled scrontab: ScronParameters=enable in slurm.conf)'
    : '';
  return new Refusal('scheduler-refused', `scrontab refused: ${words}${off}`);
}
