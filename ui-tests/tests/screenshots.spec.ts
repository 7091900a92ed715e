/**
 * The README's pictures: the toolbar and the sidebar with a finished job, in
 * JupyterLab's light and dark themes, a running GPU run's row with its
 * live figures, a sweep in the sidebar and a sweep's Results view, written to docs/. Only
 * scripts/screenshots.sh runs this (playwright.config.ts leaves it out of the
 * suite), so a test run never rewrites tracked files.
 */
import * as path from 'node:path';
import { expect, galata } from '@jupyterlab/galata';
import { REPO_ROOT } from './env';
import {
  cancelFromRow,
  expectRowState,
  jobRow,
  openNotebook,
  openSidebar,
  profilePicker,
  putNotebook,
  putSleeper,
  runPipelineFromBrowser,
  submitFromToolbar,
  submitNotebook,
  submitSweep,
  toolbarOf,
  test
} from './helpers';

const docs = (name: string) => path.join(REPO_ROOT, 'docs', name);

test.use({ viewport: { width: 1280, height: 800 } });

test('screenshots of the toolbar and the sidebar, light and dark', async ({
  page,
  request,
  tmpPath
}) => {
  const nb = await putNotebook(request, tmpPath, 'ok.ipynb', 'experiment.ipynb');
  const panel = await openNotebook(page, nb);
  await profilePicker(panel).selectOption('cpu');
  const sidebar = await openSidebar(page);
  await page.sidebar.setWidth(360, 'right');
  const job = await submitFromToolbar(page, panel);
  await expectRowState(jobRow(page, job.id), 'completed', 90_000);
  // Room for every toolbar item (the file browser is in neither picture), and
  // the mouse out of the way of hover styles.
  await page.sidebar.close('left');
  await page.mouse.move(0, 0);

  for (const theme of ['light', 'dark'] as const) {
    if (theme === 'dark') {
      await page.theme.setDarkTheme();
    } else {
      await page.theme.setLightTheme();
    }
    await expect(page.locator('body')).toHaveAttribute(
      'data-jp-theme-light',
      theme === 'light' ? 'true' : 'false'
    );
    await sidebar.screenshot({ path: docs(`sidebar-${theme}.png`) });
    await toolbarOf(panel).screenshot({ path: docs(`toolbar-${theme}.png`) });
  }
  await page.theme.setLightTheme();
});

test('screenshot of a running GPU run with its live figures', async ({
  page,
  request,
  tmpPath
}) => {
  test.setTimeout(180_000);
  const nb = await putSleeper(request, `${tmpPath}/train.ipynb`, 120);
  // Submitted first: a narrower main area folds the picker into the toolbar's overflow menu.
  const { row } = await submitNotebook(page, nb, 'gpu');
  await page.sidebar.setWidth(360, 'right');
  await expectRowState(row, 'running', 60_000);
  try {
    // The usage of the nvidia-smi test double (start-jupyter.sh) and the job's own memory.
    await expect(row.locator('svg.jp-HpcSubmit-sparkline')).toBeVisible({ timeout: 60_000 });
    await page.waitForTimeout(8_000); // a few more samples for the history line
    await page.mouse.move(0, 0);
    await row.screenshot({ path: docs('row-live-light.png') });
  } finally {
    await cancelFromRow(page, row);
  }
});

/** A notebook with a `parameters` cell whose seed 3 fails on purpose. */
function seededNotebook(): string {
  const cell = (id: string, source: string, tags: string[] = []) => ({
    cell_type: 'code',
    execution_count: null,
    id,
    metadata: { tags },
    outputs: [],
    source
  });
  return JSON.stringify({
    cells: [
      cell('c0', 'seed: int = 0', ['parameters']),
      cell('c1', "import time\ntime.sleep(1 + seed)\nassert seed != 3, 'seed 3 fails on purpose'")
    ],
    metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
    nbformat: 4,
    nbformat_minor: 5
  });
}

test('screenshot of a sweep in the sidebar', async ({ page, request, tmpPath }) => {
  test.setTimeout(240_000);
  const nb = `${tmpPath}/nzra.ipynb`;
  expect(await galata.newContentsHelper(request).uploadContent(seededNotebook(), 'text', nb)).toBe(
    true
  );
  const panel = await openNotebook(page, nb);
  await profilePicker(panel).selectOption('cpu');
  // The button first: a narrower main area folds it into the toolbar's overflow menu.
  await toolbarOf(panel).locator('[data-command="hpc-submit:run-with-parameters"]').first().click();
  const dialog = page.locator('.jp-Dialog');
  await dialog.getByLabel('Sweep seed over several values').check();
  await dialog.getByLabel('seed', { exact: true }).fill('0, 1, 2, 3, 4, 5');
  await dialog.getByLabel('seed', { exact: true }).press('Enter');
  await expect(dialog).toHaveCount(0);
  const sidebar = await openSidebar(page);
  await page.sidebar.setWidth(360, 'right');
  const group = sidebar.locator('li[data-sweep-id]').first();
  await expect(group).toContainText('5 of 6 completed · 1 failed', {
    timeout: 120_000
  });
  const toggle = group.locator('.jp-HpcSubmit-groupToggle').first();
  if ((await toggle.getAttribute('aria-expanded')) === 'false') {
    await toggle.click();
  }
  await page.mouse.move(0, 0);
  await sidebar.screenshot({ path: docs('sweep-light.png') });
});

test("screenshot of a sweep's Results view", async ({ page, request, tmpPath }) => {
  test.setTimeout(240_000);
  const nb = await putNotebook(request, tmpPath, 'records_loss.ipynb');
  const panel = await openNotebook(page, nb);
  await profilePicker(panel).selectOption('cpu');
  const sidebar = await openSidebar(page);
  const { sweep } = await submitSweep(page, nb, 'cpu', {
    parameters: { lr: [0.1, 0.07, 0.04, 0.01], seed: [0, 1] },
    maxParallel: 8
  });
  const group = sidebar.locator(`li[data-sweep-id="${sweep.id}"]`);
  await expect(group).toContainText('8 of 8 completed', { timeout: 120_000 });
  await group.locator('[title="Show results"]').first().click();
  const view = page.locator(`#jp-hpc-submit-results-${sweep.id}`);
  await view.locator('.jp-HpcSubmit-resultsTable').getByRole('button', { name: 'loss' }).click();
  await expect(view.locator('.jp-HpcSubmit-chart [aria-roledescription="point"]')).toHaveCount(8);
  await page.mouse.move(0, 0);
  await view.screenshot({ path: docs('results-light.png') });
});

test('screenshot of a pipeline in the sidebar', async ({ page, request, tmpPath }) => {
  test.setTimeout(240_000);
  await putNotebook(request, tmpPath, 'ok.ipynb', 'prepare.ipynb');
  await putNotebook(request, tmpPath, 'fails.ipynb', 'train.ipynb');
  await putNotebook(request, tmpPath, 'ok.ipynb', 'evaluate.ipynb');
  const pipeline =
    'steps:\n' +
    '  - {name: prep, notebook: prepare.ipynb, profile: cpu}\n' +
    '  - {name: train, notebook: train.ipynb, profile: cpu, after: [prep]}\n' +
    '  - {name: eval, notebook: evaluate.ipynb, profile: cpu, after: [train]}\n';
  const file = `${tmpPath}/study.pipeline.yaml`;
  await runPipelineFromBrowser(page, request, file, pipeline);
  const sidebar = await openSidebar(page);
  await page.sidebar.setWidth(360, 'right');
  const group = sidebar.locator('li.jp-HpcSubmit-pipeline').first();
  await expect(group.locator('li.jp-HpcSubmit-step').last()).toContainText(
    'Not run: train failed',
    {
      timeout: 120_000
    }
  );
  await page.mouse.move(0, 0);
  await group.screenshot({ path: docs('pipeline-light.png') });
});
