/**
 * Schedules, pure: cron fields and presets checked with a sentence, the next
 * time a schedule fires, and the user's scrontab with this tool's block in it,
 * every other line kept byte for byte.
 */
import { CRON_PRESETS, nextRun, parseCron } from '../../server/schedules/cron';
import {
  BLOCK_BEGIN,
  BLOCK_END,
  type ScheduleEntry,
  readSchedules,
  withSchedules
} from '../../server/schedules/scrontab';

const refused = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    expect((e as { kind?: string }).kind).toBe('invalid');
    return (e as Error).message;
  }
  throw new Error('not refused');
};

/** A local time, as the schedule reads it. */
const at = (y: number, mo: number, d: number, h: number, mi: number) =>
  new Date(y, mo - 1, d, h, mi);

describe('cron fields', () => {
  it('reads presets and fields, and refuses what is not one, naming the field', () => {
    expect(parseCron('nightly').text).toBe(CRON_PRESETS.nightly);
    expect([...parseCron('*/15  1-3 * * 1,5').minutes]).toStrictEqual([0, 15, 30, 45]);
    expect([...parseCron('0 8-18/5 * * *').hours]).toStrictEqual([8, 13, 18]);
    expect([...parseCron('0 0 * * 7').weekdays]).toStrictEqual([0]);
    expect(refused(() => parseCron('0 2 * *'))).toMatch(
      /^"0 2 \* \*" is not a schedule: give five cron fields/
    );
    expect(refused(() => parseCron('60 * * * *'))).toBe(
      'the minute field "60" is out of range (0 to 59)'
    );
    expect(refused(() => parseCron('0 * * jan *'))).toBe(
      'the month field "jan" is not a number, a range such as 1-5, a step such as */15, or * (1 to 12)'
    );
    expect(refused(() => parseCron('*/0 * * * *'))).toBe(
      'the minute field "*/0" has a step of 0 (0 to 59)'
    );
    expect(refused(() => parseCron('0 5-2 * * *'))).toBe(
      'the hour field "5-2" is out of range (0 to 23)'
    );
    expect(refused(() => parseCron('0 2 * * *; rm -rf ~'))).toMatch(/is not a schedule/);
  });

  it('says the next time a schedule fires', () => {
    const nightly = parseCron('nightly');
    expect(nextRun(nightly, at(2026, 12, 3, 1, 30))).toStrictEqual(at(2026, 12, 3, 2, 0));
    expect(nextRun(nightly, at(2026, 12, 3, 2, 0))).toStrictEqual(at(2026, 12, 4, 2, 0));
    expect(nextRun(parseCron('*/15 * * * *'), at(2026, 12, 3, 10, 7))).toStrictEqual(
      at(2026, 12, 3, 10, 15)
    );
    // 2026-12-03 is a Thursday: weekly (Monday 02:00) is the 7th.
    expect(nextRun(parseCron('weekly'), at(2026, 12, 3, 12, 0))).toStrictEqual(
      at(2026, 12, 7, 2, 0)
    );
    // Both days restricted: the 13th or a Friday, whichever comes first (Friday the 4th).
    expect(nextRun(parseCron('0 0 13 * 5'), at(2026, 12, 3, 12, 0))).toStrictEqual(
      at(2026, 12, 4, 0, 0)
    );
    expect(nextRun(parseCron('0 0 29 2 *'), at(2026, 3, 1, 0, 0))).toStrictEqual(
      at(2028, 2, 29, 0, 0)
    );
    expect(nextRun(parseCron('0 0 31 2 *'), at(2026, 3, 1, 0, 0))).toBeNull();
  });
});

describe("the user's scrontab", () => {
  const mine = [
    '# my own jobs',
    'SHELL=/bin/bash',
    '#SCRON --partition=debug',
    '*/5 * * * * $HOME/bin/check.sh',
    '#SCRON --time=00:01:00'
  ].join('\n');
  const entry = (over: Partial<ScheduleEntry> = {}): ScheduleEntry => ({
    id: 's1',
    cron: '0 2 * * *',
    paused: false,
    label: 'exp/train.ipynb on gpu',
    options: ['--partition=gpu', '--time=02:00:00'],
    command: "'/opt/hpc-submit' run 'exp/train.ipynb' --profile gpu",
    ...over
  });

  it('puts its block first, keeping every line of the user’s, and reads it back', () => {
    const text = withSchedules(`${mine}\n`, [entry(), entry({ id: 's2', cron: 'hourly' })]);
    const lines = text.split('\n');
    expect(lines[0]).toBe(BLOCK_BEGIN);
    expect(lines.slice(1, 4)).toStrictEqual([
      '# hpc-submit schedule s1 active exp/train.ipynb on gpu',
      '#SCRON --partition=gpu --time=02:00:00',
      "0 2 * * * '/opt/hpc-submit' run 'exp/train.ipynb' --profile gpu"
    ]);
    expect(lines[7]).toBe(BLOCK_END);
    // The user's own lines after it, as they were: their last #SCRON still waits for their next line.
    expect(text.slice(text.indexOf(BLOCK_END) + BLOCK_END.length + 1)).toBe(`${mine}\n`);
    expect(readSchedules(text)).toStrictEqual([entry(), entry({ id: 's2', cron: '0 * * * *' })]);
  });

  it('comments a paused schedule out, its option lines too, and removing the last drops the block', () => {
    const paused = withSchedules(withSchedules(mine, [entry()]), [entry({ paused: true })]);
    expect(paused.split('\n').slice(1, 4)).toStrictEqual([
      '# hpc-submit schedule s1 paused exp/train.ipynb on gpu',
      '#paused #SCRON --partition=gpu --time=02:00:00',
      "#paused 0 2 * * * '/opt/hpc-submit' run 'exp/train.ipynb' --profile gpu"
    ]);
    expect(readSchedules(paused)).toStrictEqual([entry({ paused: true })]);
    expect(withSchedules(paused, [])).toBe(`${mine}\n`);
    expect(withSchedules('', [])).toBe('');
    expect(readSchedules(mine)).toStrictEqual([]);
  });

  it('refuses what would put a second line or a foreign option into the file', () => {
    expect(refused(() => withSchedules('', [entry({ id: 's1\n* * * * * evil' })]))).toMatch(
      /is not a schedule id$/
    );
    expect(refused(() => withSchedules('', [entry({ options: ['--partition=gpu x'] })]))).toBe(
      '"--partition=gpu x" is not an sbatch option a schedule can carry'
    );
    expect(refused(() => withSchedules('', [entry({ command: 'a\n* * * * * evil' })]))).toBe(
      'a schedule runs one command on one line'
    );
    expect(refused(() => withSchedules('', [entry({ cron: '* * * * * evil' })]))).toMatch(
      /is not a schedule/
    );
    // A label is only read by people: a newline in it becomes a space.
    expect(withSchedules('', [entry({ label: 'a\nb' })]).split('\n')[1]).toBe(
      '# hpc-submit schedule s1 active a b'
    );
    expect(refused(() => readSchedules(`${BLOCK_BEGIN}\n${mine}`))).toBe(
      'the scrontab has half of the hpc-submit block: fix it with scrontab -e'
    );
  });
});
