/**
 * Schedules on the real Slurm cluster, as hpcuser, through Slurm's own
 * scrontab (built by scripts/build-scrontab.sh where Debian leaves it out):
 * an every-minute schedule starts its notebook at least twice, each start an
 * ordinary run in the history; pause stops it; remove leaves the user's own
 * scrontab lines as they were. Also the local executor's refusal.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Job, ScheduleInfo, ScheduleList } from '../../contract/wire';
import { type Companion, startCompanion, until } from '../fixtures/companion';
import { PYTHON, REPO, notebookJson, tempDir } from '../fixtures/jobRuntime';
import { writeTestProfiles } from '../fixtures/profiles';
import { SLURM_USER, asSlurmUser, slurmUsable } from '../fixtures/slurm';
import { describeUnless } from '../fixtures/skip';
import { chownTree, unixUser } from '../fixtures/users';

const BUNDLE = join(REPO, 'jupyterlab_hpc_submit', 'companion', 'hpc-submit.cjs');

/** Why the scrontab test cannot run here, or null. */
function scrontabUsable(): string | null {
  const slurm = slurmUsable();
  if (slurm) {
    return slurm;
  }
  try {
    execFileSync('scrontab', ['-h'], { stdio: 'ignore' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      return 'no scrontab client (scripts/build-scrontab.sh builds it)';
    }
  }
  return existsSync(BUNDLE) ? null : `no companion bundle at ${BUNDLE} (npm run build:companion)`;
}

const OWN_LINES =
  "# my own entries, not hpc-submit's\n#SCRON --partition=cpu --time=00:01:00\n0 0 1 1 * /bin/true\n";

function setUserCrontab(text: string): void {
  execFileSync('runuser', ['-u', SLURM_USER, '--', 'scrontab', '-'], { input: text });
}

const userCrontab = (): string => {
  try {
    return asSlurmUser(['scrontab', '-l']);
  } catch {
    return '';
  }
};

describeUnless(scrontabUsable())('schedules on real Slurm (scrontab), as hpcuser', () => {
  let dir: string;
  let c: Companion;

  beforeAll(async () => {
    dir = tempDir('hpc-schedules-');
    chmodSync(dir, 0o755);
    mkdirSync(join(dir, 'root', 'study'), { recursive: true });
    writeFileSync(
      join(dir, 'root', 'study', 'tick.ipynb'),
      notebookJson(["open('ticks.txt', 'a').write('tick\\n')"])
    );
    writeTestProfiles(join(dir, 'profiles.json'), {
      resources: { partition: 'cpu', cpus: 1, memory: '500M', time: '00:05:00' }
    });
    chownTree(dir, unixUser(SLURM_USER));
    setUserCrontab(OWN_LINES);
    c = await startCompanion({
      rootDir: join(dir, 'root'),
      stateDir: join(dir, 'state'),
      profiles: join(dir, 'profiles.json'),
      executor: 'slurm',
      user: { name: SLURM_USER, home: unixUser(SLURM_USER).home },
      env: { HPC_SUBMIT_PYTHON: PYTHON, HPC_SUBMIT_SCHEDULE_CLI: BUNDLE },
      pollSeconds: 2
    });
  });

  afterAll(async () => {
    await c?.stop();
    try {
      asSlurmUser(['scrontab', '-r']);
    } catch {
      // none left
    }
    if (dir) {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const runsOfTick = async (): Promise<Job[]> =>
    ((await c.api('GET', 'api/jobs?notebook=study/tick.ipynb')).json.jobs as Job[]).filter(
      j => j.notebook === 'study/tick.ipynb'
    );

  it('every minute: two starts as ordinary runs; pause stops it; remove keeps my own lines', async () => {
    const res = await c.api('POST', 'api/schedules', {
      when: '* * * * *',
      run: { notebook: 'study/tick.ipynb', profile: 'cpu' }
    });
    assert.equal(res.status, 201, res.text);
    const schedule = res.json as ScheduleInfo;
    assert.equal(schedule.label, 'tick.ipynb on cpu');
    assert.ok(schedule.nextRun && Date.parse(schedule.nextRun) - Date.now() <= 61_000);
    const installed = userCrontab();
    assert.ok(installed.includes(OWN_LINES.trimEnd()), installed);
    assert.match(installed, new RegExp(`scheduled ${schedule.id} `));

    const two = await until(
      'two scheduled runs completed',
      async () => {
        const done = (await runsOfTick()).filter(j => j.state === 'completed');
        return done.length >= 2 && done;
      },
      200_000
    );
    assert.equal(two.length >= 2, true);
    const listed = ((await c.api('GET', 'api/schedules')).json as ScheduleList).schedules;
    assert.deepEqual(
      listed.map(s => [s.id, s.paused, typeof s.last?.id]),
      [[schedule.id, false, 'string']]
    );

    const paused = await c.api('POST', `api/schedules/${schedule.id}/pause`);
    assert.equal(paused.json.paused, true, paused.text);
    assert.equal(paused.json.nextRun, null);
    await until(
      'no run live',
      async () => (await runsOfTick()).every(j => j.state === 'completed' || j.state === 'failed'),
      60_000
    );
    const before = (await runsOfTick()).length;
    await new Promise(r => setTimeout(r, 75_000));
    assert.equal((await runsOfTick()).length, before, 'a paused schedule started a run');

    assert.equal((await c.api('DELETE', `api/schedules/${schedule.id}`)).status, 204);
    assert.equal(userCrontab(), OWN_LINES);
    assert.deepEqual(((await c.api('GET', 'api/schedules')).json as ScheduleList).schedules, []);
  }, 420_000);
});

describe('schedules with the local executor', () => {
  it('are refused with a sentence that says why, and nothing is written', async () => {
    const dir = tempDir('hpc-schedules-local-');
    mkdirSync(join(dir, 'root'), { recursive: true });
    writeFileSync(join(dir, 'root', 'a.ipynb'), notebookJson(['1']));
    writeTestProfiles(join(dir, 'profiles.json'));
    const local = await startCompanion({
      rootDir: join(dir, 'root'),
      stateDir: join(dir, 'state'),
      profiles: join(dir, 'profiles.json')
    });
    try {
      const res = await local.api('POST', 'api/schedules', {
        when: 'nightly',
        run: { notebook: 'a.ipynb', profile: 'cpu' }
      });
      assert.equal(res.status, 409, res.text);
      assert.match(res.json.error, /nothing would start a run while JupyterLab is closed/);
      const list = (await local.api('GET', 'api/schedules')).json as ScheduleList;
      assert.deepEqual(list.schedules, []);
      assert.match(list.unavailable ?? '', /local executor/);
      assert.equal(existsSync(join(dir, 'state', 'schedules')), false);
    } finally {
      await local.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
