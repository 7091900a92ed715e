/**
 * The README's pictures: the toolbar and the sidebar with a finished job, in
 * JupyterLab's light and dark themes, and a running GPU run's row with its
 * live figures, written to docs/. Only
 * scripts/screenshots.sh runs this (playwright.config.ts leaves it out of the
 * suite), so a test run never rewrites tracked files.
 */
import * as path from 'node:path';
import { expect } from '@jupyterlab/galata';
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
  submitFromToolbar,
  submitNotebook,
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
  // Put the mouse out of the way of hover styles.
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
  await openSidebar(page);
  await page.sidebar.setWidth(360, 'right');
  const { row } = await submitNotebook(page, nb, 'gpu');
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
