/**
 * The schedule service over a scrontab held in memory (a test double of
 * Slurm's scrontab client, which test/integration/schedules.test.ts drives
 * for real): a schedule checked as its run would be before anything is
 * written, entries paused, resumed and removed with the user's own lines
 * kept, each start recorded, and the local executor's refusal.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CronTable } from '../../server/executors/executor';
import { Refusal, invalid } from '../../server/jobs/refusal';
import { scheduleCommand } from '../../server/schedules/scheduleCommand';
import {
  MAX_SCHEDULES,
  NO_SCHEDULER,
  ScheduleService,
  type ScheduleServiceDeps
} from '../../server/schedules/scheduleService';
import { readSchedules } from '../../server/schedules/scrontab';

const USER_LINES = '# mine\n#SCRON --partition=cpu\n*/5 * * * * /home/me/backup.sh\n';

/** scrontab in memory; `writes` counts the replacements, as the real client's calls. */
function memoryCrontab(text = USER_LINES): CronTable & { text: string; writes: number } {
  const table = {
    text,
    writes: 0,
    read: async () => table.text,
    write: async (t: string) => {
      table.text = t;
      table.writes += 1;
    }
  };
  return table;
}

let stateDir: string;
beforeEach(() => (stateDir = mkdtempSync(join(tmpdir(), 'hpc-schedules-'))));
afterEach(() => rmSync(stateDir, { recursive: true, force: true }));

function service(crontab: CronTable | null, more: Partial<ScheduleServiceDeps> = {}) {
  const submitted: unknown[] = [];
  const s = new ScheduleService({
    stateDir,
    crontab,
    checkRun: async r => {
      if (r.profile !== 'gpu' && r.profile !== 'cpu') {
        throw invalid(`unknown profile "${r.profile}"`);
      }
    },
    checkPipeline: async () => undefined,
    submitRun: async r => {
      submitted.push(r);
      return '20261204-020000-aaaaaa';
    },
    submitPipeline: async r => {
      submitted.push(r);
      return '20261204-020000-bbbbbb';
    },
    entryCommand: id => `/usr/bin/env node hpc-submit.cjs scheduled ${id}`,
    now: () => new Date(2026, 11, 4, 13, 30),
    ...more
  });
  return { s, submitted };
}

const nightly = { when: 'nightly', run: { notebook: 'study/train.ipynb', profile: 'gpu' } };

describe('schedules', () => {
  it("adds an entry with its next run, keeping the user's own lines byte for byte", async () => {
    const crontab = memoryCrontab();
    const { s } = service(crontab);
    const info = await s.add(nightly);
    expect(info).toMatchObject({
      when: '0 2 * * *',
      paused: false,
      label: 'train.ipynb on gpu',
      target: 'study/train.ipynb',
      kind: 'run',
      nextRun: new Date(2026, 11, 5, 2, 0).toISOString()
    });
    expect(crontab.text.endsWith(USER_LINES)).toBe(true);
    const [entry] = readSchedules(crontab.text);
    expect(entry.command).toBe(`/usr/bin/env node hpc-submit.cjs scheduled ${info.id}`);
    expect(entry.options).toContain(`--output=${join(stateDir, 'schedules', `${info.id}.out`)}`);
    expect((await s.list()).schedules.map(x => x.id)).toEqual([info.id]);
  });

  it('refuses what its run would refuse, and a bad "when", before writing anything', async () => {
    const crontab = memoryCrontab();
    const { s } = service(crontab);
    await expect(s.add({ ...nightly, run: { ...nightly.run, profile: 'tpu' } })).rejects.toThrow(
      'unknown profile "tpu"'
    );
    await expect(s.add({ ...nightly, when: '61 * * * *' })).rejects.toThrow(/minute/);
    await expect(s.add({ when: 'nightly' })).rejects.toThrow(/"run".*or.*"pipeline"/);
    await expect(s.add({ ...nightly, also: 1 })).rejects.toThrow('unknown field "also"');
    expect(crontab.writes).toBe(0);
    expect(existsSync(join(stateDir, 'schedules'))).toBe(false);
  });

  it('pauses, resumes and removes, every other line kept', async () => {
    const crontab = memoryCrontab();
    const { s } = service(crontab);
    const a = await s.add(nightly);
    const b = await s.add({ when: '*/15 * * * *', pipeline: { file: 'study/s.pipeline.yaml' } });
    const paused = await s.setPaused(a.id, true);
    expect(paused).toMatchObject({ paused: true, nextRun: null });
    expect(crontab.text).toContain('#paused 0 2 * * * /usr/bin/env node');
    expect((await s.setPaused(a.id, false)).nextRun).toBe(a.nextRun);
    await s.remove(a.id);
    const left = await s.list();
    expect(left.schedules.map(x => [x.id, x.label])).toEqual([[b.id, 'pipeline s.pipeline.yaml']]);
    await s.remove(b.id);
    expect(crontab.text).toBe(USER_LINES);
    await expect(s.remove(b.id)).rejects.toMatchObject({ kind: 'not-found' });
  });

  it('edits one after another: two adds at once both land', async () => {
    const crontab = memoryCrontab();
    const { s } = service(crontab);
    await Promise.all([s.add(nightly), s.add({ ...nightly, when: 'hourly' })]);
    // Which lands first is up to the checks before the edit; that both land is the point.
    expect(
      readSchedules(crontab.text)
        .map(e => e.cron)
        .sort()
    ).toEqual(['0 * * * *', '0 2 * * *']);
  });

  it(`keeps at most ${MAX_SCHEDULES}; a refused write leaves no record behind`, async () => {
    const crontab = memoryCrontab();
    const { s } = service(crontab);
    for (let i = 0; i < MAX_SCHEDULES; i++) {
      await s.add(nightly);
    }
    await expect(s.add(nightly)).rejects.toMatchObject({ kind: 'conflict' });
    const failing = {
      ...memoryCrontab(),
      write: async () => Promise.reject(new Refusal('scheduler-refused', 'scrontab refused: no'))
    };
    const other = service(failing).s;
    rmSync(join(stateDir, 'schedules'), { recursive: true });
    await expect(other.add(nightly)).rejects.toThrow('scrontab refused: no');
    expect(readdirSync(join(stateDir, 'schedules'))).toEqual([]);
  });

  it('a start submits the recorded run and keeps what came of it, a refusal too', async () => {
    const crontab = memoryCrontab();
    let refuse = false;
    const { s } = service(crontab, {
      submitRun: async () => {
        if (refuse) {
          throw new Refusal('conflict', 'train.ipynb already has a live run');
        }
        return '20261204-020000-aaaaaa';
      }
    });
    const { id } = await s.add(nightly);
    expect(await s.start(id)).toMatchObject({ id: '20261204-020000-aaaaaa' });
    refuse = true;
    expect(await s.start(id)).toMatchObject({ error: 'train.ipynb already has a live run' });
    const [listed] = (await s.list()).schedules;
    expect(listed.last?.error).toBe('train.ipynb already has a live run');
    await expect(s.start('20261204-000000-ffffff')).rejects.toMatchObject({ kind: 'not-found' });
    await expect(s.start('../../etc/passwd')).rejects.toMatchObject({ kind: 'not-found' });
  });

  it('the local executor holds none, and says why', async () => {
    const { s } = service(null);
    expect(await s.list()).toEqual({ schedules: [], unavailable: NO_SCHEDULER });
    await expect(s.add(nightly)).rejects.toThrow(NO_SCHEDULER);
    expect(NO_SCHEDULER).toMatch(/while JupyterLab is closed/);
  });
});

describe("a schedule's command", () => {
  it('carries PATH and HPC_SUBMIT_ settings, never a secret, every word quoted', () => {
    const line = scheduleCommand('20261204-133000-abcdef', {
      cli: ['/opt/node', "/srv/it's/hpc-submit.cjs"],
      stateDir: '/home/me/state',
      rootDir: '/home/me/work dir',
      profilesFile: '/etc/p.json',
      env: {
        PATH: '/usr/bin:/bin',
        HPC_SUBMIT_PYTHON: '/venv/bin/python',
        HPC_SUBMIT_WEBHOOK_URL: 'https://hooks.example/secret',
        JUPYTERHUB_API_TOKEN: 'abc',
        HOME: '/home/me'
      }
    });
    expect(line).toBe(
      "/usr/bin/env HPC_SUBMIT_PYTHON=/venv/bin/python PATH=/usr/bin:/bin /opt/node '/srv/it'\\''s/hpc-submit.cjs' scheduled 20261204-133000-abcdef --state-dir /home/me/state --root-dir '/home/me/work dir' --executor slurm --profiles /etc/p.json"
    );
  });
});
