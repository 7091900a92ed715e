/**
 * Two users on one real JupyterHub (issue 4, item 1): each has a single-user
 * server with this extension, and a companion started by jupyter-server-proxy
 * under /user/<name>/hpc-submit/. Alice tries everything she can against
 * Bob — her token and her browser session through the hub's proxy, the
 * port of Bob's server, and her Unix account against his socket and files —
 * and none of it reads, cancels or submits anything of his.
 * Runs as root (the hub switches to the users); skipped otherwise.
 */
import assert from 'node:assert/strict';
import {
  chownSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync
} from 'node:fs';
import { join } from 'node:path';
import { Hub, type CookieJar, hubUnavailable, pythonAs } from '../fixtures/hub';
import { ensureUser, unixUser } from '../fixtures/users';
import { until } from '../fixtures/companion';
import { notebookJson } from '../fixtures/jobRuntime';
import { writeTestProfiles } from '../fixtures/profiles';
import { describeUnless } from '../fixtures/skip';

const ALICE = 'hpcsubmit-alice';
const BOB = 'hpcsubmit-bob';
const API = (user: string) => `/user/${user}/hpc-submit/api`;
const STATE = '.local/share/jupyterlab-hpc-submit';

// The notebook says who ran it and which credential-like variables it saw.
const WHOAMI = notebookJson([
  'import getpass, os\nprint("user:", getpass.getuser())\nprint("secret-vars:", sorted(k for k in os.environ if "TOKEN" in k or "SECRET" in k))'
]);

describeUnless(hubUnavailable())('two users on a real JupyterHub', () => {
  let hub: Hub;
  const homes: Record<string, string> = {};
  const tokens: Record<string, string> = {};
  const jobs: Record<string, string> = {};

  beforeAll(async () => {
    const profiles = join('/tmp', `hpc-hub-profiles-${process.pid}.json`);
    writeTestProfiles(profiles, { resources: { cpus: 1, memory: '300M', time: '00:05:00' } });
    for (const user of [ALICE, BOB]) {
      const { uid, gid, home } = ensureUser(user);
      homes[user] = home;
      for (const old of ['executed', 'whoami.ipynb', STATE]) {
        rmSync(join(home, old), { recursive: true, force: true });
      }
      writeFileSync(join(home, 'whoami.ipynb'), WHOAMI);
      chownSync(join(home, 'whoami.ipynb'), uid, gid);
      // A state directory left readable to all by an earlier umask: the companion must close it.
      mkdirSync(join(home, STATE), { recursive: true, mode: 0o755 });
      for (const d of ['.local', '.local/share', STATE]) {
        chownSync(join(home, d), uid, gid);
      }
    }
    hub = new Hub([ALICE, BOB], { HPC_SUBMIT_PROFILES: profiles, HPC_SUBMIT_EXECUTOR: 'local' });
    await hub.start();
    await Promise.all([ALICE, BOB].map(u => hub.startServer(u)));
    for (const u of [ALICE, BOB]) {
      tokens[u] = await hub.userToken(u);
    }
  });

  afterAll(async () => {
    await hub?.stop();
    rmSync(join('/tmp', `hpc-hub-profiles-${process.pid}.json`), { force: true });
  });

  it("runs each user's notebook under /user/<name>/, as that user, pushing events through both proxies", async () => {
    const streams = await Promise.all([ALICE, BOB].map(u => openEvents(hub, u, tokens[u])));
    for (const user of [ALICE, BOB]) {
      const res = await hub.request(`${API(user)}/jobs`, {
        method: 'POST',
        token: tokens[user],
        body: { notebook: 'whoami.ipynb', profile: 'cpu' }
      });
      assert.equal(res.status, 201, res.text);
      jobs[user] = res.json.id;
    }
    for (const [i, user] of [ALICE, BOB].entries()) {
      const done = await until(
        `${user}'s job`,
        async () => {
          const j = (await hub.request(`${API(user)}/jobs/${jobs[user]}`, { token: tokens[user] }))
            .json;
          return j?.state === 'completed' || j?.state === 'failed' ? j : null;
        },
        120_000
      );
      assert.equal(done.state, 'completed', JSON.stringify(done));
      await until(
        `${user}'s stream to hear the end`,
        () =>
          streams[i].text().includes(`"id":"${jobs[user]}"`) &&
          /"state":"completed"/.test(streams[i].text()),
        10_000
      );
      streams[i].close();

      // The executed notebook is in the user's file browser, and ran as the user.
      const file = await hub.request(`/user/${user}/api/contents/executed/whoami_executed.ipynb`, {
        token: tokens[user]
      });
      assert.equal(file.status, 200);
      const printed = JSON.stringify(file.json.content.cells);
      assert.match(printed, new RegExp(`user: ${user}`));
      assert.match(printed, /secret-vars: \[\]/, 'no hub or server token reached the job');
      assert.equal(
        statSync(join(homes[user], 'executed', 'whoami_executed.ipynb')).uid,
        statSync(homes[user]).uid
      );
    }
  });

  it('lists to each user only their own jobs', async () => {
    for (const [me, other] of [
      [ALICE, BOB],
      [BOB, ALICE]
    ]) {
      const list = (await hub.request(`${API(me)}/jobs`, { token: tokens[me] })).json.jobs.map(
        (j: { id: string }) => j.id
      );
      assert.deepEqual(list, [jobs[me]]);
      assert.ok(!list.includes(jobs[other]));
    }
  });

  it("refuses alice's token at bob's companion through the hub: no list, job, log, events, submit, cancel or forget", async () => {
    const before = await bobsJobs();
    for (const attempt of attempts(jobs[BOB])) {
      const res = await hub.request(`${API(BOB)}/${attempt.path}`, {
        method: attempt.method,
        token: tokens[ALICE],
        body: attempt.body
      });
      assert.equal(
        res.status,
        403,
        `${attempt.method} ${attempt.path} with alice's token answered ${res.status}`
      );
      assert.ok(!res.text.includes(jobs[BOB]), "nothing of bob's in the answer");
    }
    assert.deepEqual(await bobsJobs(), before, "bob's jobs are as they were");
  });

  it("refuses alice's browser session at bob's companion, and logs her in to her own", async () => {
    const jar = await hub.login(ALICE);
    const own = await hub.request(`${API(ALICE)}/jobs`, { jar, follow: true });
    assert.equal(own.status, 200);
    assert.deepEqual(
      own.json.jobs.map((j: { id: string }) => j.id),
      [jobs[ALICE]]
    );

    const before = await bobsJobs();
    // A browser follows the hub's OAuth redirects; the hub refuses to hand alice a login to bob's server.
    const page = await hub.request(`${API(BOB)}/jobs`, { jar, follow: true });
    assert.equal(page.status, 403);
    assert.match(page.url, /\/hub\/api\/oauth2\/authorize/);
    assert.ok(!page.text.includes(jobs[BOB]));
    for (const attempt of attempts(jobs[BOB])) {
      const res = await hub.request(`${API(BOB)}/${attempt.path}`, {
        method: attempt.method,
        jar,
        body: attempt.body,
        headers: xsrfHeader(jar, ALICE)
      });
      assert.ok(
        res.status === 302 || res.status === 403,
        `${attempt.method} ${attempt.path} with alice's session answered ${res.status}`
      );
      if (res.status === 302) {
        assert.match(res.location ?? '', /\/hub\//, 'only to the hub, to log in');
      }
      assert.ok(!res.text.includes(jobs[BOB]));
    }
    assert.deepEqual(await bobsJobs(), before);
  });

  it("refuses a write from alice's own browser session without the XSRF token (another site acting as her)", async () => {
    const jar = await hub.login(ALICE);
    await hub.request(`${API(ALICE)}/jobs`, { jar, follow: true }); // the OAuth round trip sets the server's cookies
    const forged = await hub.request(`${API(ALICE)}/jobs`, {
      method: 'POST',
      jar,
      body: { notebook: 'whoami.ipynb', profile: 'cpu' }
    });
    assert.equal(forged.status, 403, forged.text);
    assert.match(forged.json.error, /XSRF/);
    const forgedForget = await hub.request(`${API(ALICE)}/jobs/${jobs[ALICE]}`, {
      method: 'DELETE',
      jar
    });
    assert.equal(forgedForget.status, 403);
    const list = (await hub.request(`${API(ALICE)}/jobs`, { jar })).json.jobs;
    assert.deepEqual(
      list.map((j: { id: string }) => j.id),
      [jobs[ALICE]],
      'nothing submitted, nothing forgotten'
    );

    // JupyterLab sends X-XSRFToken from the _xsrf cookie: then the same write goes through.
    const real = await hub.request(`${API(ALICE)}/jobs`, {
      method: 'POST',
      jar,
      headers: xsrfHeader(jar, ALICE),
      body: { notebook: 'whoami.ipynb', profile: 'cpu' }
    });
    assert.equal(real.status, 201, real.text);
    await until(
      'the second run to end',
      async () =>
        (await hub.request(`${API(ALICE)}/jobs/${real.json.id}`, { jar })).json?.state ===
        'completed',
      120_000
    );
    jobs.aliceSecond = real.json.id;
  });

  it('refuses requests without credentials', async () => {
    for (const attempt of attempts(jobs[ALICE])) {
      const res = await hub.request(`${API(ALICE)}/${attempt.path}`, {
        method: attempt.method,
        body: attempt.body
      });
      if (attempt.method === 'GET') {
        assert.equal(res.status, 302, `${attempt.path}`);
        assert.match(res.location ?? '', /\/hub\/(api\/oauth2\/authorize|login)/);
      } else {
        assert.equal(res.status, 403, `${attempt.method} ${attempt.path}`);
      }
      assert.ok(!res.text.includes(jobs[ALICE]));
    }
  });

  it("refuses alice at the port of bob's server, from her own Unix account", async () => {
    const target = await hub.serverTarget(BOB);
    assert.match(target, /^http:\/\/127\.0\.0\.1:\d+$/);
    const probe = `
import sys, urllib.request, urllib.error
url, token, method = sys.argv[1], sys.argv[2], sys.argv[3]
req = urllib.request.Request(url, method=method, data=b'{}' if method != 'GET' else None)
req.add_header('Content-Type', 'application/json')
if token: req.add_header('Authorization', 'token ' + token)
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k): return None
try:
    res = urllib.request.build_opener(NoRedirect).open(req, timeout=10)
    print(res.status, res.read().decode()[:2000])
except urllib.error.HTTPError as e:
    print(e.code, e.read().decode(errors='replace')[:2000])
`;
    for (const token of [tokens[ALICE], '']) {
      for (const attempt of attempts(jobs[BOB])) {
        const out = pythonAs(
          ALICE,
          probe,
          `${target}${API(BOB)}/${attempt.path}`,
          token,
          attempt.method
        );
        const status = Number(out.split(' ')[0]);
        assert.ok(
          status === 302 || status === 403,
          `${attempt.method} ${attempt.path} at bob's port answered ${out.slice(0, 80)}`
        );
        assert.ok(!out.includes(jobs[BOB]));
      }
    }
  });

  it("keeps bob's companion socket and state directory closed to alice's Unix account", async () => {
    const companion = companionOf(BOB);
    const socket = companion.socket;
    const code = `
import os, socket, sys
def attempt(f):
    try:
        f(); return 'ALLOWED'
    except PermissionError:
        return 'EACCES'
    except OSError as e:
        return type(e).__name__
s = socket.socket(socket.AF_UNIX)
print(attempt(lambda: s.connect(sys.argv[1])))
print(attempt(lambda: os.listdir(sys.argv[2])))
print(attempt(lambda: os.listdir(os.path.join(sys.argv[2], 'companions'))))
print(attempt(lambda: os.listdir(os.path.join(sys.argv[2], 'jobs'))))
`;
    const state = join(homes[BOB], STATE);
    assert.deepEqual(pythonAs(ALICE, code, socket, state).split('\n'), [
      'EACCES',
      'EACCES',
      'EACCES',
      'EACCES'
    ]);
    // Bob himself reaches it: the refusal above is about alice, not a broken socket.
    assert.equal(pythonAs(BOB, code, socket, state).split('\n')[0], 'ALLOWED');
    assert.equal(statSync(state).mode & 0o777, 0o700, 'the state directory was made private');
    assert.equal(statSync(socket).mode & 0o777, 0o600);
    assert.equal(statSync(join(socket, '..')).mode & 0o777, 0o700);
    assert.deepEqual(companion.tcpListeners, [], 'the companion listens on no TCP port');
  });

  it("leaves no hub or server token in job files or the companion's log", async () => {
    for (const user of [ALICE, BOB]) {
      const secrets = serverTokens(user);
      assert.ok(secrets.length > 0, 'the single-user server has tokens to leak');
      const jobsDir = join(homes[user], STATE, 'jobs');
      const texts: string[] = [];
      for (const id of readdirSync(jobsDir)) {
        for (const f of readdirSync(join(jobsDir, id))) {
          texts.push(readFileSync(join(jobsDir, id, f), 'utf8'));
        }
      }
      texts.push(readFileSync(join(homes[user], 'executed', 'whoami_executed.ipynb'), 'utf8'));
      assert.ok(
        texts.some(t => t.includes('nbconvert')),
        'the job script was read'
      );
      const companionLog = hub
        .hubLog()
        .split('\n')
        .filter(l => l.includes('[hpc-submit]'))
        .join('\n');
      assert.match(
        companionLog,
        new RegExp(`made the state directory ${homes[user]}/\\S+ private`),
        "the companion's log was read"
      );
      for (const secret of [...secrets, tokens[user]]) {
        for (const t of [...texts, companionLog]) {
          assert.ok(!t.includes(secret), `a token of ${user} leaked`);
        }
      }
    }
  });

  async function bobsJobs(): Promise<unknown> {
    return (await hub.request(`${API(BOB)}/jobs`, { token: tokens[BOB] })).json.jobs.map(
      (j: { id: string; state: string }) => [j.id, j.state]
    );
  }
});

/** Every route of the companion, as another user would try it. */
function attempts(victimJob: string): { method: string; path: string; body?: unknown }[] {
  return [
    { method: 'GET', path: 'jobs' },
    { method: 'GET', path: `jobs/${victimJob}` },
    { method: 'GET', path: `jobs/${victimJob}/log` },
    { method: 'GET', path: 'events' },
    { method: 'GET', path: 'profiles' },
    { method: 'POST', path: 'jobs', body: { notebook: 'whoami.ipynb', profile: 'cpu' } },
    { method: 'POST', path: `jobs/${victimJob}/cancel`, body: {} },
    { method: 'DELETE', path: `jobs/${victimJob}` }
  ];
}

function xsrfHeader(jar: CookieJar, user: string): Record<string, string> {
  const value = jar.get('_xsrf', `/user/${user}/`);
  assert.ok(value, 'the server set its _xsrf cookie');
  return { 'X-XSRFToken': value };
}

/** An open event stream through the hub, collecting what arrives. */
async function openEvents(
  hub: Hub,
  user: string,
  token: string
): Promise<{ text(): string; close(): void }> {
  const abort = new AbortController();
  // Accept exactly as EventSource sends it: jupyter-server-proxy streams a response
  // only for that header and otherwise buffers it whole (an event stream never ends).
  const res = await fetch(`${hub.url}${API(user)}/events`, {
    headers: { Authorization: `token ${token}`, Accept: 'text/event-stream' },
    signal: abort.signal
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
  let text = '';
  const reader = res.body!.getReader();
  void (async () => {
    const decoder = new TextDecoder();
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (done) {
        break;
      }
      text += decoder.decode(value, { stream: true });
    }
  })();
  await until('the stream to open', () => text.includes(': connected'), 10_000);
  return { text: () => text, close: () => abort.abort() };
}

/** The user's companion process: its socket and any TCP port it listens on. */
function companionOf(user: string): { socket: string; tcpListeners: string[] } {
  const { uid } = unixUser(user);
  for (const pid of readdirSync('/proc').filter(p => /^\d+$/.test(p))) {
    let argv: string[];
    try {
      if (statSync(`/proc/${pid}`).uid !== uid) {
        continue;
      }
      argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (!argv.some(a => a.endsWith('hpc-submit.cjs'))) {
      continue;
    }
    const socket = argv[argv.indexOf('--unix-socket') + 1];
    const inodes = new Set<string>();
    for (const fd of readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) {
          inodes.add(m[1]);
        }
      } catch {
        // closed meanwhile
      }
    }
    const tcpListeners: string[] = [];
    for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
      for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
        const f = line.trim().split(/\s+/);
        if (f[3] === '0A' && inodes.has(f[9])) {
          tcpListeners.push(f[1]);
        } // 0A: LISTEN
      }
    }
    return { socket, tcpListeners };
  }
  throw new Error(`no companion process of ${user}`);
}

/** The tokens the user's single-user server holds in its environment. */
function serverTokens(user: string): string[] {
  const { uid } = unixUser(user);
  const found = new Set<string>();
  for (const pid of readdirSync('/proc').filter(p => /^\d+$/.test(p))) {
    try {
      if (statSync(`/proc/${pid}`).uid !== uid) {
        continue;
      }
      for (const kv of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
        const m = /^(JUPYTERHUB_API_TOKEN|JPY_API_TOKEN|JUPYTER_TOKEN)=(.+)$/.exec(kv);
        if (m) {
          found.add(m[2]);
        }
      }
    } catch {
      // gone meanwhile
    }
  }
  return [...found];
}
