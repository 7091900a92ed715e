/**
 * What the specs share: putting a test notebook on the server, the
 * extension's DOM (its contract with src/), submitting, and reading jobs
 * back from the companion through the Jupyter server.
 */
import AxeBuilder from '@axe-core/playwright';
import { execFile } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { expect, galata, IJupyterLabPageFixture, test as base } from '@jupyterlab/galata';
import type { APIRequestContext, Locator, Page } from '@playwright/test';
import { REPO_ROOT, UI_DATA_DIR, UI_VENV, UI_WORK_DIR } from './env';

const XSRF = crypto.randomBytes(16).toString('hex');

/**
 * Galata's test, with XSRF checks left on in the server (as in a real
 * deployment, so the extension's own POSTs are checked): the `request`
 * context that Galata's file and kernel helpers use carries a matching
 * `_xsrf` cookie and X-XSRFToken header. The browser gets no such help.
 */
export const test = base.extend({
  request: async ({ playwright, baseURL }, use) => {
    const host = new URL(baseURL!).hostname;
    const context = await playwright.request.newContext({
      baseURL,
      extraHTTPHeaders: { 'X-XSRFToken': XSRF },
      storageState: {
        cookies: [
          {
            name: '_xsrf',
            value: XSRF,
            domain: host,
            path: '/',
            expires: -1,
            httpOnly: false,
            secure: false,
            sameSite: 'Lax'
          }
        ],
        origins: []
      }
    });
    await use(context);
    await context.dispose();
  }
});

export const SIDEBAR_ID = 'jp-hpc-submit-sidebar';
export const RUN_COMMAND = 'hpc-submit:run';

/** Copies ui-tests/notebooks/<name> (or another file) to <dir>/<as> on the server. */
export async function putNotebook(
  request: APIRequestContext,
  dir: string,
  name: string,
  as: string = name,
  source = path.resolve(__dirname, '..', 'notebooks', name)
): Promise<string> {
  const dest = `${dir}/${as}`;
  expect(await galata.newContentsHelper(request).uploadFile(source, dest)).toBe(true);
  return dest;
}

/** Opens a notebook by its path from the Jupyter root and waits for its toolbar. */
export async function openNotebook(page: IJupyterLabPageFixture, nbPath: string): Promise<Locator> {
  expect(await page.notebook.openByPath(nbPath)).toBe(true);
  const name = path.posix.basename(nbPath);
  await page.notebook.activate(name);
  const panel = await page.activity.getPanelLocator(name);
  expect(panel).not.toBeNull();
  return panel!;
}

export function toolbarOf(panel: Locator): Locator {
  return panel.locator('.jp-NotebookPanel-toolbar');
}

/** The "Run on …" toolbar button (a command toolbar item). */
export function runButton(panel: Locator): Locator {
  return toolbarOf(panel).locator(`[data-command="${RUN_COMMAND}"]`).first();
}

export function profilePicker(panel: Locator): Locator {
  return toolbarOf(panel).locator('select.jp-HpcSubmit-profilePicker');
}

export async function openSidebar(page: IJupyterLabPageFixture): Promise<Locator> {
  await page.sidebar.openTab(SIDEBAR_ID);
  const sidebar = page.locator(`#${SIDEBAR_ID}`);
  await expect(sidebar).toBeVisible();
  return sidebar;
}

export function jobRow(page: Page, id: string): Locator {
  return page.locator(`li.jp-HpcSubmit-job[data-job-id="${id}"]`);
}

/** The row's button with this title ("Open output", "Show log", …). */
export function rowButton(row: Locator, title: string): Locator {
  return row.locator(`[title="${title}"], [title^="${title} "]`).first();
}

/** Chooses one of the row's less frequent actions ("Forget", "Run details") from its "…" menu. */
export async function chooseFromRowMenu(row: Locator, label: string): Promise<void> {
  await rowButton(row, 'More actions').click();
  await row.getByRole('menuitem', { name: label }).click();
}

/** Opens the notebook's group on "All" (groups other than the current notebook's start closed). */
export async function openNotebookGroup(sidebar: Locator, notebook: string): Promise<void> {
  const toggle = sidebar.locator(
    `[data-group-notebook="${notebook}"] > .jp-HpcSubmit-groupToggle[aria-expanded="false"]`
  );
  if ((await toggle.count()) > 0) {
    await toggle.click();
  }
}

/** One job as the companion has it (through jupyter-server-proxy). */
export async function fetchJob(page: IJupyterLabPageFixture, id: string): Promise<any> {
  const res = await page.request.get(`/hpc-submit/api/jobs/${encodeURIComponent(id)}`);
  expect(res.status(), await res.text()).toBe(200);
  return res.json();
}

/**
 * Clicks "Run on …"; resolves with the job the companion created. The test
 * settings ask no confirmation, so nothing waits for a dialog: a waiter left
 * behind would click Run on the next dialog a test opens (it once submitted
 * the parameters dialog's defaults in the middle of the a11y check).
 */
export async function submitFromToolbar(
  page: IJupyterLabPageFixture,
  panel: Locator
): Promise<any> {
  const created = page.waitForResponse(
    r =>
      r.request().method() === 'POST' &&
      /\/hpc-submit\/api\/jobs\/?$/.test(new URL(r.url()).pathname),
    { timeout: 30_000 }
  );
  await runButton(panel).click();
  const response = await created;
  expect(response.status(), await response.text()).toBe(201);
  return response.json();
}

/**
 * Opens the notebook, picks the profile, opens the sidebar and submits from
 * the toolbar; resolves with the job the companion created and its row.
 */
export async function submitNotebook(
  page: IJupyterLabPageFixture,
  nbPath: string,
  profile: string
): Promise<{ panel: Locator; sidebar: Locator; job: any; row: Locator }> {
  const panel = await openNotebook(page, nbPath);
  await profilePicker(panel).selectOption(profile);
  const sidebar = await openSidebar(page);
  const job = await submitFromToolbar(page, panel);
  return { panel, sidebar, job, row: jobRow(page, job.id) };
}

/** Opens the row's executed notebook (`name`) from the sidebar; answers its cells' outputs. */
export async function openOutput(
  page: IJupyterLabPageFixture,
  row: Locator,
  name: string
): Promise<Locator> {
  await rowButton(row, 'Open output').click();
  await expect(page.activity.getTabLocator(name)).toBeVisible();
  const output = await page.activity.getPanelLocator(name);
  expect(output).not.toBeNull();
  return output!.locator('.jp-OutputArea-output');
}

/** The job reaches `state`, shown by its row in the sidebar. */
export async function expectRowState(row: Locator, state: string, timeout: number): Promise<void> {
  await expect(row).toHaveAttribute('data-state', state, { timeout });
}

/** Reads the notebook JSON the Jupyter server has at this path. */
export async function readNotebook(page: IJupyterLabPageFixture, nbPath: string): Promise<any> {
  const res = await page.request.get(
    `/api/contents/${nbPath.split('/').map(encodeURIComponent).join('/')}?content=1`
  );
  expect(res.status()).toBe(200);
  return (await res.json()).content;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * The CLI from source, run in `cwd` as a terminal user there would run it:
 * with the test server's state directory, profiles, kernels and Python, and
 * a companion of its own that exits a few seconds after it has nothing to do.
 */
export async function runCli(args: string[], cwd: string): Promise<CliResult> {
  const tsx = pathToFileURL(path.join(REPO_ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs'));
  const cli = path.join(REPO_ROOT, 'server', 'cli', 'main.ts');
  const env = {
    ...process.env,
    PATH: `${path.join(UI_VENV, 'bin')}${path.delimiter}${process.env.PATH ?? ''}`,
    HPC_SUBMIT_STATE_DIR: path.join(UI_WORK_DIR, 'state'),
    HPC_SUBMIT_PROFILES: path.join(UI_WORK_DIR, 'profiles.json'),
    HPC_SUBMIT_IDLE_EXIT_MINUTES: '0.1',
    JUPYTER_DATA_DIR: UI_DATA_DIR,
    JUPYTER_CONFIG_DIR: path.join(UI_WORK_DIR, 'config'),
    JUPYTER_RUNTIME_DIR: path.join(UI_WORK_DIR, 'runtime')
  };
  try {
    const { stdout, stderr } = await promisify(execFile)(
      process.execPath,
      ['--import', tsx.href, cli, ...args],
      { cwd, env, timeout: 120_000 }
    );
    return { code: 0, stdout, stderr };
  } catch (e) {
    const failed = e as { code?: unknown; stdout?: string; stderr?: string; message: string };
    return {
      code: typeof failed.code === 'number' ? failed.code : -1,
      stdout: failed.stdout ?? '',
      stderr: failed.stderr || failed.message
    };
  }
}

/** A notebook that holds some memory and runs for `seconds`: long enough to be sampled. */
function sleeper(seconds: number): string {
  const cell = (id: string, source: string) => ({
    cell_type: 'code',
    execution_count: null,
    id,
    metadata: {},
    outputs: [],
    source
  });
  return JSON.stringify({
    cells: [
      cell('c0', 'import time\nheld = bytearray(64 * 2**20)  # resident memory to be seen'),
      cell('c1', `time.sleep(${seconds})`)
    ],
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
    nbformat: 4,
    nbformat_minor: 5
  });
}

export async function putSleeper(
  request: Parameters<typeof galata.newContentsHelper>[0],
  dest: string,
  seconds: number
): Promise<string> {
  expect(
    await galata.newContentsHelper(request).uploadContent(sleeper(seconds), 'text', dest)
  ).toBe(true);
  return dest;
}

/** Ends a live run from its row (answering a confirmation if one is asked). */
export async function cancelFromRow(page: Page, row: Locator): Promise<void> {
  if ((await row.getAttribute('data-state')) !== 'running') {
    return;
  }
  await rowButton(row, 'Cancel').click();
  const accept = page.locator('.jp-Dialog .jp-mod-accept');
  await accept
    .waitFor({ timeout: 2_000 })
    .then(() => accept.click())
    .catch(() => undefined);
  await expect(row).not.toHaveAttribute('data-state', 'running', { timeout: 30_000 });
}

/** The serious and critical violations inside `selectors`, one line each. */
export async function seriousViolations(
  page: IJupyterLabPageFixture,
  selectors: string[],
  exclude: string[] = []
): Promise<string[]> {
  let builder = new AxeBuilder({ page });
  for (const selector of selectors) {
    builder = builder.include(selector);
  }
  for (const selector of exclude) {
    builder = builder.exclude(selector);
  }
  const { violations } = await builder.analyze();
  return violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(
      v => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map(n => n.target.join(' ')).join(', ')}`
    );
}

/** POST /api/jobs from the page, as the toolbar and the parameters dialog send it; answers the created body. */
export async function postJobs(
  page: IJupyterLabPageFixture,
  body: Record<string, unknown>
): Promise<any> {
  const answer = await page.evaluate(async body => {
    const base = document.body.dataset.baseUrl ?? '/';
    const xsrf = document.cookie.match(/_xsrf=([^;]+)/)?.[1] ?? '';
    const res = await fetch(`${base}hpc-submit/api/jobs`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-XSRFToken': xsrf },
      body: JSON.stringify({ idempotencyKey: `ui-${Date.now()}-${Math.random()}`, ...body })
    });
    return { status: res.status, body: await res.json() };
  }, body);
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return answer.body;
}

/** A sweep submitted through the companion, as the parameters dialog sends it; answers its SweepAnswer. */
export function submitSweep(
  page: IJupyterLabPageFixture,
  notebook: string,
  profile: string,
  sweep: { parameters: Record<string, unknown[]>; maxParallel?: number }
): Promise<{ sweep: any; jobs: any[] }> {
  return postJobs(page, { notebook, profile, sweep });
}

/** Writes a pipeline file at `file` on the server and runs it from the file browser's context menu. */
export async function runPipelineFromBrowser(
  page: IJupyterLabPageFixture,
  request: APIRequestContext,
  file: string,
  text: string
): Promise<void> {
  expect(await galata.newContentsHelper(request).uploadContent(text, 'text', file)).toBe(true);
  await page.filebrowser.openDirectory(path.posix.dirname(file));
  await page
    .locator('.jp-DirListing-item', { hasText: path.posix.basename(file) })
    .click({ button: 'right' });
  await page.getByRole('menuitem', { name: 'Run Pipeline' }).click();
}
