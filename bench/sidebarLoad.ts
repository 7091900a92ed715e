/**
 * The jobs sidebar over a long history: a JupyterLab whose companion has a
 * state directory of its own with 10,000 ended runs (100 of them one sweep),
 * in Debian's Chromium. Measures how long the sidebar takes to show its rows,
 * the DOM nodes and JS heap that costs, the main thread's long tasks caused by
 * one job event, and JupyterLab's load with and without the extension.
 *   node --import tsx bench/sidebarLoad.ts
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO, median, notebook, sleep, tempTree, writeProfiles } from './lib';

const RUNS = 10_000;
const SWEEP_TASKS = 100;
const NOTEBOOKS = 50;
const SIDEBAR = '#jp-hpc-submit-sidebar';
/** A run's row or a group's row, in the current build and in the one before groups. */
const ROW = `${SIDEBAR} [data-job-id], ${SIDEBAR} [data-group-key]`;
const LOADS = 5;

interface Lab {
  proc: ChildProcess;
  port: number;
}

/** The id form of the companion (YYYYMMDD-HHMMSS-xxxxxx) from a running number. */
export function jobId(i: number): string {
  const t = new Date(Date.UTC(2025, 0, 1) + i * 60_000);
  const stamp = t.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${stamp}-${i.toString(36).padStart(6, '0')}`;
}

export function endedRun(id: string, i: number, nb: string): Record<string, unknown> {
  const submittedAt = new Date(Date.UTC(2025, 0, 1) + i * 60_000).toISOString();
  return {
    id,
    notebook: nb,
    output: nb.replace(/\.ipynb$/, '_executed.ipynb'),
    profile: 'cpu',
    kernel: 'python3',
    resources: {},
    executor: 'local',
    schedulerId: String(1000 + i),
    state: i % 17 === 0 ? 'failed' : 'completed',
    submittedAt,
    startedAt: submittedAt,
    endedAt: new Date(Date.parse(submittedAt) + 30_000).toISOString()
  };
}

/** 10,000 ended runs over 50 notebooks; the newest 100 are one sweep of sweep.ipynb. */
function writeHistory(state: string, root: string): void {
  for (let n = 0; n < NOTEBOOKS; n++) {
    writeFileSync(join(root, `nb${n}.ipynb`), notebook(['print(1)']));
  }
  writeFileSync(join(root, 'sweep.ipynb'), notebook(['print(1)']));
  const plain = RUNS - SWEEP_TASKS;
  const write = (job: Record<string, unknown>) => {
    const dir = join(state, 'jobs', job.id as string);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'job.json'), JSON.stringify(job));
  };
  for (let i = 0; i < plain; i++) {
    write(endedRun(jobId(i), i, `nb${i % NOTEBOOKS}.ipynb`));
  }
  const sweepId = jobId(plain);
  for (let t = 0; t < SWEEP_TASKS; t++) {
    write({
      ...endedRun(`${sweepId}-${t}`, plain, 'sweep.ipynb'),
      output: `executed/sweep/lr=${t / 1000}.ipynb`,
      sweepId,
      taskIndex: t,
      taskCount: SWEEP_TASKS,
      parameters: { lr: t / 1000 }
    });
  }
}

/**
 * A JupyterLab on `port` with a companion of its own; with `state`, over the
 * history `history` writes there (default: the sidebar's 10,000 runs).
 */
export async function startLab(
  port: number,
  opts: {
    disabled: boolean;
    state?: string;
    history?: (state: string, root: string) => void;
  }
): Promise<Lab> {
  const dir = tempTree('bench-sidebar-');
  const config = join(dir, 'config');
  const root = join(dir, 'root');
  mkdirSync(join(config, 'labconfig'), { recursive: true });
  mkdirSync(root);
  if (opts.disabled) {
    writeFileSync(
      join(config, 'labconfig', 'page_config.json'),
      JSON.stringify({ disabledExtensions: { 'jupyterlab-hpc-submit': true } })
    );
  }
  const state = opts.state ?? join(dir, 'state');
  mkdirSync(join(state, 'jobs'), { recursive: true });
  // Without a state of its own the history is empty: the load comparison measures the extension.
  if (opts.state !== undefined) {
    (opts.history ?? writeHistory)(state, root);
  }
  const profiles = join(dir, 'profiles.json');
  writeProfiles(profiles);
  const proc = spawn(
    join(REPO, '.venv', 'bin', 'jupyter'),
    [
      'lab',
      '--no-browser',
      '--allow-root',
      `--port=${port}`,
      '--ServerApp.token=',
      '--ServerApp.password=',
      `--ServerApp.root_dir=${root}`,
      '--LabApp.news_url=',
      '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate'
    ],
    {
      env: {
        ...process.env,
        PATH: `${join(REPO, '.venv', 'bin')}:${process.env.PATH}`,
        JUPYTER_CONFIG_DIR: config,
        HPC_SUBMIT_EXECUTOR: 'local',
        HPC_SUBMIT_STATE_DIR: state,
        HPC_SUBMIT_PROFILES: profiles
      },
      stdio: 'ignore'
    }
  );
  for (let i = 0; i < 150; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/api`)).ok) {
        return { proc, port };
      }
    } catch {
      // not yet
    }
    await sleep(200);
  }
  throw new Error('JupyterLab did not start');
}

export async function openLab(browser: Browser, port: number): Promise<{ page: Page; ms: number }> {
  const page = await (await browser.newContext()).newPage();
  const t = performance.now();
  await page.goto(`http://127.0.0.1:${port}/lab`);
  // The shell is up and the launcher rendered: the app finished starting its plugins.
  await page.waitForSelector('.jp-Launcher', { timeout: 60_000 });
  return { page, ms: performance.now() - t };
}

export interface LabLoads {
  without: number;
  /** With the extension, its companion's history empty. */
  withEmpty: number;
  /** With the extension, 10,000 runs in its companion's history. */
  withHistory: number;
  runs: number;
}

/**
 * Median load (ms) of JupyterLab without the extension, with it over an empty
 * history, and with it over 10,000 runs, alternated so that all three see the
 * same noise. Each companion has a state directory of its own: the figures
 * never depend on the history of whoever runs the bench.
 */
async function labLoads(browser: Browser): Promise<LabLoads> {
  const off = await startLab(8962, { disabled: true });
  const empty = await startLab(8961, { disabled: false });
  const full = await startLab(8964, {
    disabled: false,
    state: join(tempTree('bench-load-state-'), 'state')
  });
  const times = { without: [] as number[], withEmpty: [] as number[], withHistory: [] as number[] };
  try {
    const load = async (port: number) => {
      const { page, ms } = await openLab(browser, port);
      await page.context().close();
      return ms;
    };
    for (const lab of [off, empty, full]) {
      await load(lab.port); // warm each server's caches once
    }
    for (let i = 0; i < LOADS; i++) {
      times.without.push(await load(off.port));
      times.withEmpty.push(await load(empty.port));
      times.withHistory.push(await load(full.port));
    }
  } finally {
    for (const lab of [off, empty, full]) {
      lab.proc.kill();
    }
  }
  return {
    without: median(times.without),
    withEmpty: median(times.withEmpty),
    withHistory: median(times.withHistory),
    runs: LOADS
  };
}

export interface SidebarFigures {
  rowsMs: number;
  rowsShown: number;
  sidebarNodes: number;
  pageNodes: number;
  heapMB: number;
  eventLongTasks: number;
  eventLongTaskMs: number;
  eventLongestMs: number;
}

/** Records the page's long tasks from its first script on. */
export const OBSERVE_LONG_TASKS = `
  window.__longTasks = [];
  new PerformanceObserver(list => {
    for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, ms: e.duration });
  }).observe({ type: 'longtask', buffered: true });
`;

async function sidebarFigures(browser: Browser, state: string): Promise<SidebarFigures> {
  const lab = await startLab(8963, { disabled: false, state });
  try {
    const { page } = await openLab(browser, lab.port);
    await page.addInitScript(OBSERVE_LONG_TASKS);
    await page.reload();
    await page.waitForSelector('.jp-Launcher', { timeout: 60_000 });
    // No notebook is open: the sidebar lists every run, as on "All".
    const t = performance.now();
    await page.click('.jp-SideBar [data-id="jp-hpc-submit-sidebar"]');
    await page.waitForSelector(ROW, { timeout: 120_000 });
    const rowsMs = performance.now() - t;
    await sleep(2000);
    // Scripts as text: the bench compiles without the DOM's types.
    const counts = (await page.evaluate(`({
      sidebarNodes: document.querySelectorAll('${SIDEBAR} *').length,
      pageNodes: document.querySelectorAll('*').length,
      rowsShown: document.querySelectorAll('${ROW}').length
    })`)) as Pick<SidebarFigures, 'sidebarNodes' | 'pageNodes' | 'rowsShown'>;
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('HeapProfiler.collectGarbage');
    const { usedSize } = await cdp.send('Runtime.getHeapUsage');
    const event = await oneJobEvent(page);
    return { rowsMs, ...counts, heapMB: usedSize / 2 ** 20, ...event };
  } finally {
    lab.proc.kill();
  }
}

/**
 * Submits a run through the Jupyter server as the browser would: the
 * companion's `job` event for it is the one event measured. Long tasks from
 * the request until the row shows, and 500 ms after, are counted.
 */
async function oneJobEvent(
  page: Page
): Promise<Pick<SidebarFigures, 'eventLongTasks' | 'eventLongTaskMs' | 'eventLongestMs'>> {
  const tasks = (await page.evaluate(`(async () => {
    const xsrf = (document.cookie.match(/_xsrf=([^;]+)/) || [])[1] || '';
    const from = performance.now();
    const res = await fetch('/hpc-submit/api/jobs', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-XSRFToken': decodeURIComponent(xsrf) },
      body: JSON.stringify({ notebook: 'nb0.ipynb', profile: 'cpu' })
    });
    const { id } = await res.json();
    // Its row, or (grouped, the group closed) its notebook's header counting it live.
    const shown = () =>
      document.querySelector('${SIDEBAR} [data-job-id="' + id + '"]') ||
      /live/.test(document.querySelector('${SIDEBAR} [data-group-notebook="nb0.ipynb"]')?.textContent || '');
    while (!shown()) {
      if (performance.now() > from + 20000) {
        throw new Error('the run ' + id + ' never showed');
      }
      await new Promise(r => setTimeout(r, 20));
    }
    await new Promise(r => setTimeout(r, 500));
    return window.__longTasks.filter(t => t.start + t.ms >= from).map(t => t.ms);
  })()`)) as number[];
  return {
    eventLongTasks: tasks.length,
    eventLongTaskMs: tasks.reduce((a, b) => a + b, 0),
    eventLongestMs: tasks.length > 0 ? Math.max(...tasks) : 0
  };
}

/** The sidebar over 10,000 runs, and JupyterLab's load with and without the extension. */
export async function sidebarBench(): Promise<{ sidebar: SidebarFigures; loads: LabLoads }> {
  const browser = await launchChromium();
  try {
    const state = join(tempTree('bench-sidebar-state-'), 'state');
    const sidebar = await sidebarFigures(browser, state);
    const loads = await labLoads(browser);
    return { sidebar, loads };
  } finally {
    await browser.close();
  }
}

/** Debian's Chromium, headless, with nothing of its own running in the background. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run'
    ]
  });
}

/** `+3.1%` of `value` against `base`. */
export function percentOver(value: number, base: number): string {
  const p = ((value - base) / base) * 100;
  return `${p >= 0 ? '+' : ''}${p.toFixed(1)}%`;
}

async function main(): Promise<void> {
  const { sidebar: s, loads } = await sidebarBench();
  const rows: [string, string][] = [
    ['runs in the history (one sweep of 100)', String(RUNS)],
    ['sidebar opened → first rows shown', `${Math.round(s.rowsMs)} ms`],
    ['rows shown (runs and groups)', String(s.rowsShown)],
    ['DOM nodes in the sidebar', String(s.sidebarNodes)],
    ['DOM nodes in the page', String(s.pageNodes)],
    ['JS heap after GC', `${s.heapMB.toFixed(1)} MB`],
    [
      'one job event: long tasks',
      `${s.eventLongTasks} (${Math.round(s.eventLongTaskMs)} ms, longest ${Math.round(s.eventLongestMs)} ms)`
    ],
    [
      `JupyterLab load without the extension (median of ${loads.runs})`,
      `${Math.round(loads.without)} ms`
    ],
    [
      'with it, empty history',
      `${Math.round(loads.withEmpty)} ms (${percentOver(loads.withEmpty, loads.without)})`
    ],
    [
      `with it, ${RUNS} runs in the history`,
      `${Math.round(loads.withHistory)} ms (${percentOver(loads.withHistory, loads.without)})`
    ]
  ];
  const width = Math.max(...rows.map(r => r[0].length));
  for (const [what, value] of rows) {
    console.log(`${what.padEnd(width)}  ${value}`);
  }
}

if (require.main === module) {
  main().catch(e => {
    console.error(e);
    process.exit(1);
  });
}
