/**
 * The Results view over a 1,000-task sweep whose runs recorded a loss and an
 * accuracy: a JupyterLab whose companion has a state directory of its own, in
 * Debian's Chromium. Measures the time from "Show results" to the table's
 * rows and to the chart's 1,000 points, and the main thread's long tasks for
 * a job event of another notebook and for one of the sweep's own tasks (the
 * table and chart are made again).
 *   node --import tsx bench/resultsView.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { notebook, sleep, tempTree } from './lib';
import {
  OBSERVE_LONG_TASKS,
  endedRun,
  jobId,
  launchChromium,
  openLab,
  startLab
} from './sidebarLoad';

export const RESULT_TASKS = 1000;
const SIDEBAR = '#jp-hpc-submit-sidebar';

/** One ended sweep of 1,000 tasks of sweep.ipynb over lr × seed, each with its loss and accuracy. */
function writeSweep(state: string, root: string): void {
  writeFileSync(join(root, 'sweep.ipynb'), notebook(['print(1)']));
  writeFileSync(join(root, 'other.ipynb'), notebook(['print(1)']));
  const sweepId = jobId(1);
  for (let t = 0; t < RESULT_TASKS; t++) {
    const lr = Math.floor(t / 4) / 1000;
    const seed = t % 4;
    const loss = Math.round(((lr - 0.1) ** 2 * 50 + seed * 0.01) * 1e4) / 1e4;
    const job: Record<string, unknown> = {
      ...endedRun(`${sweepId}-${t}`, 1, 'sweep.ipynb'),
      state: 'completed',
      output: `executed/sweep/${t}.ipynb`,
      sweepId,
      taskIndex: t,
      taskCount: RESULT_TASKS,
      parameters: { lr, seed },
      results: { loss, accuracy: Math.round((1 - loss / 2) * 1e4) / 1e4 }
    };
    const dir = join(state, 'jobs', job.id as string);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'job.json'), JSON.stringify(job));
  }
}

export interface ResultsFigures {
  tableMs: number;
  chartMs: number;
  rowsShown: number;
  points: number;
  /** Canvases in the chart: 1 when drawn on a canvas, as a sweep this large is. */
  canvas: number;
  otherEvent: LongTasks;
  ownEvent: LongTasks;
}

interface LongTasks {
  count: number;
  longestMs: number;
}

/** Long tasks from `from` (performance.now() in the page) on. */
async function longTasksSince(page: Page, from: number): Promise<LongTasks> {
  const tasks = (await page.evaluate(
    `window.__longTasks.filter(t => t.start + t.ms >= ${from}).map(t => t.ms)`
  )) as number[];
  return { count: tasks.length, longestMs: tasks.length ? Math.max(...tasks) : 0 };
}

/** Sends a request from the page as the extension would; answers the page's clock at the start. */
async function fromPage(page: Page, method: string, path: string, body?: object): Promise<number> {
  return (await page.evaluate(`(async () => {
    const xsrf = decodeURIComponent((document.cookie.match(/_xsrf=([^;]+)/) || [])[1] || '');
    const from = performance.now();
    const res = await fetch('/hpc-submit/${path}', {
      method: '${method}',
      headers: { 'Content-Type': 'application/json', 'X-XSRFToken': xsrf },
      ${body ? `body: ${JSON.stringify(JSON.stringify(body))}` : ''}
    });
    if (!res.ok) throw new Error('${method} ${path}: ' + res.status);
    return from;
  })()`)) as number;
}

export async function resultsBench(): Promise<ResultsFigures> {
  const browser = await launchChromium();
  const lab = await startLab(8965, {
    disabled: false,
    state: join(tempTree('bench-results-state-'), 'state'),
    history: writeSweep
  });
  try {
    const { page } = await openLab(browser, lab.port);
    await page.addInitScript(OBSERVE_LONG_TASKS);
    await page.reload();
    await page.waitForSelector('.jp-Launcher', { timeout: 60_000 });
    await page.click('.jp-SideBar [data-id="jp-hpc-submit-sidebar"]');
    // No notebook open: the sweep is in its notebook's group; opened, its header has the button.
    await page.click(`${SIDEBAR} [data-group-notebook="sweep.ipynb"] .jp-HpcSubmit-groupToggle`);
    const button = `${SIDEBAR} li[data-sweep-id] [title="Show results"]`;
    await page.waitForSelector(button, { timeout: 60_000 });
    await sleep(1000);
    // Timed in the page, from the click to the first frame that shows the rows, then the points.
    const { tableMs, chartMs } = (await page.evaluate(`new Promise((resolve, reject) => {
      const from = performance.now();
      let tableMs;
      const look = () => {
        const now = performance.now();
        if (tableMs === undefined && document.querySelector('.jp-HpcSubmit-resultsTable tbody tr')) {
          tableMs = now - from;
        }
        const points = Number(document.querySelector('.jp-HpcSubmit-chart')?.dataset.points ?? 0);
        if (tableMs !== undefined && points >= ${RESULT_TASKS}) {
          resolve({ tableMs, chartMs: now - from });
        } else if (now - from > 60000) {
          reject(new Error('the Results view did not show ' + ${RESULT_TASKS} + ' points: ' + points));
        } else {
          requestAnimationFrame(look);
        }
      };
      document.querySelector('${button}').click();
      requestAnimationFrame(look);
    })`)) as { tableMs: number; chartMs: number };
    const counts = (await page.evaluate(`({
      rowsShown: document.querySelectorAll('.jp-HpcSubmit-resultsTable tbody tr').length,
      points: Number(document.querySelector('.jp-HpcSubmit-chart')?.dataset.points ?? 0),
      canvas: document.querySelectorAll('.jp-HpcSubmit-chart canvas').length
    })`)) as { rowsShown: number; points: number; canvas: number };
    await sleep(1500);

    // A run of another notebook: its event must leave the view as it is.
    const otherFrom = await fromPage(page, 'POST', 'api/jobs', {
      notebook: 'other.ipynb',
      profile: 'cpu'
    });
    await sleep(3000);
    const otherEvent = await longTasksSince(page, otherFrom);

    // A task of the sweep forgotten: the table and the chart are made again, 999 points.
    const ownFrom = await fromPage(page, 'DELETE', `api/jobs/${jobId(1)}-${RESULT_TASKS - 1}`);
    await page.waitForFunction(
      `document.querySelector('.jp-HpcSubmit-chart')?.dataset.points === '${RESULT_TASKS - 1}'`,
      undefined,
      { timeout: 30_000 }
    );
    await sleep(500);
    const ownEvent = await longTasksSince(page, ownFrom);
    return { tableMs, chartMs, ...counts, otherEvent, ownEvent };
  } finally {
    lab.proc.kill();
    await browser.close();
  }
}

if (require.main === module) {
  resultsBench()
    .then(r => console.log(JSON.stringify(r, null, 2)))
    .catch(e => {
      console.error(e);
      process.exit(1);
    });
}
