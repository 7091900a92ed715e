/**
 * The per-user memory cost of the extension on a hub node (issue 20, item 4),
 * on the real JupyterHub of test/fixtures/hub.ts: N users (default 20), each
 * with a single-user server, measured in three states —
 *   a. the servers running, no companion started (what a hub without the
 *      extension's companion costs: the extension's Python side is loaded,
 *      but nothing asked for the companion);
 *   b. each user's companion started by one request through the hub, idle;
 *   c. each with one live job (a notebook that sleeps, local executor).
 * Memory is the sum of PSS (/proc/<pid>/smaps_rollup) over the users'
 * processes, split into the single-user servers, the companions and what the
 * companions started (jobs, the validation worker), and the drop of
 * MemAvailable (/proc/meminfo) from before the hub started.
 *
 *   node --import tsx bench/hubMemory.ts [users]      (as root)
 *
 * The servers import this checkout's jupyterlab_hpc_submit (PYTHONPATH), so
 * the companion is the bundle `npm run build:companion` wrote.
 */
import { chownSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Hub, hubUnavailable } from '../test/fixtures/hub';
import { ensureUser } from '../test/fixtures/users';
import { until } from '../test/fixtures/companion';
import { REPO, notebookJson } from '../test/fixtures/jobRuntime';
import { writeTestProfiles } from '../test/fixtures/profiles';

const USERS = Number(process.argv[2] ?? 20);
const PREFIX = 'hpcbench-';
const STATE = '.local/share/jupyterlab-hpc-submit';
const SETTLE_MS = 10_000;
const API = (user: string) => `/user/${user}/hpc-submit/api`;

interface Proc {
  pid: number;
  ppid: number;
  uid: number;
  cmd: string;
  pssKb: number;
}

function processes(): Proc[] {
  const out: Proc[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) {
      continue;
    }
    try {
      const status = readFileSync(`/proc/${name}/status`, 'utf8');
      const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1]);
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ');
      const rollup = readFileSync(`/proc/${name}/smaps_rollup`, 'utf8');
      const pssKb = Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
      out.push({ pid: Number(name), ppid, uid, cmd, pssKb });
    } catch {
      // gone while read, or a kernel thread without smaps
    }
  }
  return out;
}

function memAvailableKb(): number {
  return Number(/^MemAvailable:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1]);
}

interface Sample {
  servers: number;
  companions: number;
  children: number;
  companionCount: number;
  available: number;
}

/** PSS of the users' processes, in MB, by kind. */
function sample(uids: Set<number>): Sample {
  const all = processes().filter(p => uids.has(p.uid));
  const companions = all.filter(p => p.cmd.includes('hpc-submit.cjs'));
  const under = new Set(companions.map(p => p.pid));
  // What a companion started, and what those started: jobs, kernels, the validation worker.
  for (let grew = true; grew;) {
    grew = false;
    for (const p of all) {
      if (!under.has(p.pid) && under.has(p.ppid)) {
        under.add(p.pid);
        grew = true;
      }
    }
  }
  const mb = (ps: Proc[]) => ps.reduce((s, p) => s + p.pssKb, 0) / 1024;
  const companionPids = new Set(companions.map(p => p.pid));
  return {
    servers: mb(all.filter(p => !under.has(p.pid))),
    companions: mb(companions),
    children: mb(all.filter(p => under.has(p.pid) && !companionPids.has(p.pid))),
    companionCount: companions.length,
    available: memAvailableKb() / 1024
  };
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

async function main(): Promise<void> {
  const why = hubUnavailable();
  if (why) {
    throw new Error(`the hub cannot run here: ${why}`);
  }
  const users = Array.from(
    { length: USERS },
    (_, i) => `${PREFIX}${String(i + 1).padStart(2, '0')}`
  );
  const uids = new Set<number>();
  for (const user of users) {
    const { uid, gid, home } = ensureUser(user);
    uids.add(uid);
    rmSync(join(home, STATE), { recursive: true, force: true });
    rmSync(join(home, 'executed'), { recursive: true, force: true });
    writeFileSync(join(home, 'sleep.ipynb'), notebookJson(['import time\ntime.sleep(600)']));
    chownSync(join(home, 'sleep.ipynb'), uid, gid);
  }
  const profiles = writeTestProfiles(join('/tmp', `hpc-bench-profiles-${process.pid}.json`));
  const before = memAvailableKb() / 1024;
  const hub = new Hub(users, {
    HPC_SUBMIT_PROFILES: profiles,
    HPC_SUBMIT_EXECUTOR: 'local',
    PYTHONPATH: REPO
  });
  const rows: [string, Sample][] = [];
  try {
    await hub.start();
    const started = performance.now();
    // Two at a time: a cold jupyter-server takes a core for a few seconds.
    for (let i = 0; i < users.length; i += 2) {
      await Promise.all(users.slice(i, i + 2).map(u => hub.startServer(u)));
    }
    console.error(
      `${users.length} servers ready in ${((performance.now() - started) / 1000).toFixed(0)} s`
    );
    const tokens = Object.fromEntries(
      await Promise.all(users.map(async u => [u, await hub.userToken(u)] as const))
    );
    await sleep(SETTLE_MS);
    rows.push(['a. single-user servers, no companion', sample(uids)]);

    for (const user of users) {
      const res = await hub.request(`${API(user)}/health`, { token: tokens[user] });
      if (res.status !== 200) {
        throw new Error(`${user}'s companion answered ${res.status}: ${res.text.slice(0, 200)}`);
      }
    }
    await sleep(SETTLE_MS);
    rows.push(['b. + each companion started, idle', sample(uids)]);

    for (const user of users) {
      const res = await hub.request(`${API(user)}/jobs`, {
        method: 'POST',
        token: tokens[user],
        body: { notebook: 'sleep.ipynb', profile: 'cpu' }
      });
      if (res.status !== 201) {
        throw new Error(`${user}'s submit answered ${res.status}: ${res.text.slice(0, 200)}`);
      }
      const id = res.json.id;
      await until(
        `${user}'s job to run`,
        async () =>
          (await hub.request(`${API(user)}/jobs/${id}`, { token: tokens[user] })).json?.state ===
          'running',
        120_000
      );
    }
    // The kernels are up once each has imported what the notebook runs in.
    await sleep(3 * SETTLE_MS);
    rows.push(['c. + one live job each', sample(uids)]);
  } finally {
    await hub.stop();
    rmSync(profiles, { force: true });
  }
  report(rows, before);
}

function report(rows: [string, Sample][], before: number): void {
  const n = USERS;
  const f = (x: number) => x.toFixed(1);
  console.log(`\n${n} users, PSS in MB (sum over the users' processes)\n`);
  console.log(
    "| state | single-user servers | companions | companions' jobs and workers | all | companions running | MemAvailable drop since before the hub |"
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const [name, s] of rows) {
    const all = s.servers + s.companions + s.children;
    console.log(
      `| ${name} | ${f(s.servers)} | ${f(s.companions)} | ${f(s.children)} | ${f(all)} | ${s.companionCount} | ${f(before - s.available)} |`
    );
  }
  const [a, b, c] = rows.map(r => r[1]);
  console.log('\nper user:');
  console.log(`- single-user server (state a): ${f(a.servers / n)} MB PSS`);
  console.log(
    `- companion, idle (b): ${f(b.companions / n)} MB PSS; MemAvailable ${f((a.available - b.available) / n)} MB`
  );
  console.log(
    `- companion with one live job (c): ${f(c.companions / n)} MB PSS for the companion, ${f(c.children / n)} MB for the job and what else it started; MemAvailable ${f((b.available - c.available) / n)} MB more than idle`
  );
}

main().catch(e => {
  console.error(e);
  process.exit(1);
});
