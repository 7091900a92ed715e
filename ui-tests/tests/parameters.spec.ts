/**
 * "Run with parameters…" with the local executor: the dialog lists the
 * notebook's parameters with their defaults, a sweep over one of them runs
 * once per value, its tasks show in the sidebar, and their outputs land in
 * executed/<stem>/ beside the notebook. A notebook without a parameters cell
 * is told how to make one.
 */
import * as path from 'node:path';
import { expect, galata, type IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';
import { REPO_ROOT } from './env';
import {
  expectRowState,
  jobRow,
  openNotebook,
  openSidebar,
  profilePicker,
  putNotebook,
  readNotebook,
  rowButton,
  test,
  toolbarOf
} from './helpers';

const RUN_WITH_PARAMETERS = 'hpc-submit:run-with-parameters';
const SAMPLE = path.join(REPO_ROOT, 'examples', 'notebooks', 'sweep.ipynb');

/** Clicks "Run with parameters…" in the notebook's toolbar; answers the dialog. */
async function openParametersDialog(
  page: IJupyterLabPageFixture,
  panel: Locator
): Promise<Locator> {
  const button = toolbarOf(panel).locator(`[data-command="${RUN_WITH_PARAMETERS}"]`).first();
  await expect(button).toContainText('Run with parameters');
  await button.click();
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog).toBeVisible();
  return dialog;
}

function parameterRow(dialog: Locator, name: string): Locator {
  return dialog.locator(`tr[data-parameter="${name}"]`);
}

test('a sweep over seed runs three times, shows in the sidebar, and writes executed/sweep/', async ({
  page,
  request,
  tmpPath
}) => {
  const nb = await putNotebook(request, tmpPath, 'sweep.ipynb', 'sweep.ipynb', SAMPLE);
  const panel = await openNotebook(page, nb);
  await profilePicker(panel).selectOption('cpu');
  await openSidebar(page);
  const dialog = await openParametersDialog(page, panel);

  // The notebook's defaults and types, as papermill reads them.
  for (const [name, value, type] of [
    ['seed', '0', 'int'],
    ['lr', '0.01', 'float'],
    ['target', "'nzra'", 'str']
  ]) {
    await expect(parameterRow(dialog, name).locator('.jp-HpcSubmit-paramDefault')).toHaveText(
      value
    );
    await expect(parameterRow(dialog, name).locator('.jp-HpcSubmit-paramType')).toHaveText(type);
  }
  const summary = dialog.locator('.jp-HpcSubmit-paramSummary');
  await expect(summary).toHaveText('1 run on CPU node');

  // Keyboard and labels: the sweep toggle and the value are reached by their names.
  await dialog.getByLabel('Sweep seed over several values').check();
  await dialog.getByLabel('seed', { exact: true }).fill('1,2,3');
  await expect(summary).toHaveText('3 runs, at most 4 at once, on CPU node');
  // Each run records its seed: the value its kernel had, asked after the last cell.
  await dialog.getByLabel('Record after the run').fill('seed');

  const created = page.waitForResponse(
    r =>
      r.request().method() === 'POST' &&
      /\/hpc-submit\/api\/jobs\/?$/.test(new URL(r.url()).pathname),
    { timeout: 30_000 }
  );
  // Enter in a field submits, as in every JupyterLab dialog.
  await dialog.getByLabel('seed', { exact: true }).press('Enter');
  const response = await created;
  expect(response.status(), await response.text()).toBe(201);
  const answer = await response.json();
  await expect(dialog).toHaveCount(0);
  expect(answer.sweep.taskCount).toBe(3);
  expect(answer.jobs.map((j: any) => j.parameters.seed)).toStrictEqual([1, 2, 3]);

  // The sweep's row in the sidebar, opened, holds its three runs until they complete.
  const group = page.locator(`li[data-sweep-id="${answer.sweep.id}"]`);
  await expect(group).toBeVisible();
  const toggle = group.locator('.jp-HpcSubmit-groupToggle').first();
  if ((await toggle.getAttribute('aria-expanded')) === 'false') {
    await toggle.click();
  }
  for (const job of answer.jobs) {
    await expectRowState(jobRow(page, job.id), 'completed', 90_000);
    await expect(jobRow(page, job.id).locator('.jp-HpcSubmit-results')).toHaveText(
      `seed ${job.parameters.seed}`
    );
  }

  // The outputs and the sweep's summary, in the file browser.
  expect(await page.filebrowser.openDirectory(`${tmpPath}/executed/sweep`)).toBe(true);
  for (const name of [
    ...answer.jobs.map((j: any) => path.posix.basename(j.output)),
    'summary.csv'
  ]) {
    await expect.poll(() => page.filebrowser.isFileListedInBrowser(name)).toBe(true);
  }

  // The values are kept in the notebook and fill the dialog next time.
  const saved = await readNotebook(page, nb);
  expect(saved.metadata.hpc_submit.sweep).toStrictEqual({
    parameters: { seed: [1, 2, 3] },
    mode: 'product',
    maxParallel: 4
  });
  expect(saved.metadata.hpc_submit.record).toStrictEqual(['seed']);
  const again = await openParametersDialog(page, panel);
  await expect(again.getByLabel('seed', { exact: true })).toHaveValue('1, 2, 3');
  await expect(again.getByLabel('Sweep seed over several values')).toBeChecked();
  await expect(again.getByLabel('Record after the run')).toHaveValue('seed');
  await again.locator('.jp-mod-reject').click();
});

test('a notebook without a parameters cell is told how to tag one, with nothing to submit', async ({
  page,
  request,
  tmpPath
}) => {
  const nb = await putNotebook(request, tmpPath, 'ok.ipynb');
  const panel = await openNotebook(page, nb);
  const dialog = await openParametersDialog(page, panel);
  await expect(dialog).toContainText('has no cell tagged "parameters"');
  await expect(dialog).toContainText('Cell Tags');
  await expect(dialog.locator('.jp-Dialog-button')).toHaveCount(1);
  await expect(dialog.locator('.jp-Dialog-button')).toHaveText('Close');
  await dialog.locator('.jp-Dialog-button').click();
  await expect(dialog).toHaveCount(0);
});

test('"re-run failed" reruns the failed task, then is offered no more', async ({
  page,
  request,
  tmpPath
}) => {
  const contents = galata.newContentsHelper(request);
  const nb = await putNotebook(request, tmpPath, 'fail_on_marker.ipynb');
  expect(await contents.uploadContent('', 'text', `${tmpPath}/fail-2`)).toBe(true);
  const panel = await openNotebook(page, nb);
  await profilePicker(panel).selectOption('cpu');
  await openSidebar(page);
  const dialog = await openParametersDialog(page, panel);
  await dialog.getByLabel('Sweep seed over several values').check();
  await dialog.getByLabel('seed', { exact: true }).fill('1,2');
  const created = page.waitForResponse(
    r => r.request().method() === 'POST' && /\/api\/jobs\/?$/.test(new URL(r.url()).pathname),
    { timeout: 30_000 }
  );
  await dialog.getByLabel('seed', { exact: true }).press('Enter');
  const first = await (await created).json();
  const [passing, failing] = first.jobs;

  const group = page.locator(`li[data-sweep-id="${first.sweep.id}"]`);
  const toggle = group.locator('.jp-HpcSubmit-groupToggle').first();
  if ((await toggle.getAttribute('aria-expanded')) === 'false') {
    await toggle.click();
  }
  await expectRowState(jobRow(page, passing.id), 'completed', 90_000);
  await expectRowState(jobRow(page, failing.id), 'failed', 90_000);
  const rerunButton = rowButton(group.locator('.jp-HpcSubmit-groupHeader'), 'Re-run failed tasks');
  await expect(rerunButton).toHaveCount(1);

  expect(await contents.deleteFile(`${tmpPath}/fail-2`)).toBe(true);
  const rerunAnswer = page.waitForResponse(
    r => r.request().method() === 'POST' && /\/rerun-failed$/.test(new URL(r.url()).pathname),
    { timeout: 30_000 }
  );
  await rerunButton.click();
  const response = await rerunAnswer;
  expect(response.status(), await response.text()).toBeLessThan(300);
  const rerun = await response.json();
  expect(rerun.jobs.map((j: any) => j.parameters.seed)).toStrictEqual([2]);
  const rerunGroup = page.locator(`li[data-sweep-id="${rerun.sweep.id}"]`);
  const rerunToggle = rerunGroup.locator('.jp-HpcSubmit-groupToggle').first();
  if ((await rerunToggle.getAttribute('aria-expanded')) === 'false') {
    await rerunToggle.click();
  }
  await expectRowState(jobRow(page, rerun.jobs[0].id), 'completed', 90_000);

  // The failed row now has a completed run: neither sweep offers a rerun the companion would refuse.
  await expect(rerunButton).toHaveCount(0);
  await expect(
    rowButton(rerunGroup.locator('.jp-HpcSubmit-groupHeader'), 'Re-run failed tasks')
  ).toHaveCount(0);
});
