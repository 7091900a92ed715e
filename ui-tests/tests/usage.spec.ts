/**
 * A run's use of the hardware in the sidebar (issue 10): the live figures and
 * history line of a running GPU run, the idle-GPU warning, "Run details" with
 * the run record and efficiency, and the opt-in browser notification in the
 * settings editor. The GPU figures come from the nvidia-smi TEST DOUBLE that
 * start-jupyter.sh puts on the server's PATH (87% unless a test writes another
 * utilization to its file); the server samples every 2 s and warns after
 * 15 s of idle GPUs (HPC_SUBMIT_SAMPLE_SECONDS, HPC_SUBMIT_GPU_IDLE_MINUTES there).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from '@jupyterlab/galata';
import { UI_WORK_DIR } from './env';
import {
  expectRowState,
  chooseFromRowMenu,
  cancelFromRow,
  putSleeper,
  submitNotebook,
  test
} from './helpers';

/** Read by the nvidia-smi test double at every answer (start-jupyter.sh). */
const GPU_UTIL_FILE = path.join(UI_WORK_DIR, 'test-double-gpu-util');

test.afterEach(() => fs.rmSync(GPU_UTIL_FILE, { force: true }));

test('a running GPU run shows its live figures and a history line', async ({
  page,
  request,
  tmpPath
}) => {
  test.setTimeout(180_000);
  const nb = await putSleeper(request, `${tmpPath}/busy.ipynb`, 120);
  const { row } = await submitNotebook(page, nb, 'gpu');
  await expectRowState(row, 'running', 60_000);
  try {
    // The test double's 87% and 12390 of 81920 MiB per GPU; RSS of the 500M asked.
    await expect(row.locator('.jp-HpcSubmit-usageText')).toHaveText(
      /^(GPU|\d+ GPUs) 87% · [\d.]+\/\d+ GiB · RAM [\d.]+\/500 MiB$/,
      { timeout: 60_000 }
    );
    const line = row.locator('svg.jp-HpcSubmit-sparkline');
    await expect(line).toBeVisible({ timeout: 30_000 });
    await expect(line).toHaveAttribute(
      'aria-label',
      /^GPU utilization over the last \d+ samples: 87% to 87%, now 87%$/
    );
    await expect(row.locator('.jp-HpcSubmit-idleWarning')).toHaveCount(0);
  } finally {
    await cancelFromRow(page, row);
  }
});

test('GPUs idle since the start earn a visible warning on the row', async ({
  page,
  request,
  tmpPath
}) => {
  test.setTimeout(180_000);
  fs.writeFileSync(GPU_UTIL_FILE, '0\n');
  const nb = await putSleeper(request, `${tmpPath}/idle.ipynb`, 120);
  const { row } = await submitNotebook(page, nb, 'gpu');
  await expectRowState(row, 'running', 60_000);
  try {
    const warning = row.getByRole('status');
    await expect(warning).toHaveClass(/jp-HpcSubmit-idleWarning/, { timeout: 90_000 });
    await expect(warning).toContainText('GPU idle for');
    await expect(warning).toBeVisible();
    await expect(row.locator('.jp-HpcSubmit-usageText')).toContainText('0%');
  } finally {
    await cancelFromRow(page, row);
  }
});

test('Run details shows the run record and the efficiency', async ({ page, request, tmpPath }) => {
  test.setTimeout(180_000);
  const nb = await putSleeper(request, `${tmpPath}/short.ipynb`, 8);
  const { job, row } = await submitNotebook(page, nb, 'gpu');
  await expectRowState(row, 'completed', 120_000);

  await chooseFromRowMenu(row, 'Run details');
  const dialog = page.locator('.jp-Dialog');
  await expect(dialog).toContainText('Run details: short.ipynb');
  const run = dialog.getByRole('table', { name: 'Run' });
  const value = (label: string) =>
    run.getByRole('row').filter({ has: page.getByRole('rowheader', { name: label, exact: true }) });
  await expect(value('Kernel')).toContainText('hpc-test-gpu');
  await expect(value('State')).toContainText('completed');
  await expect(value('Node')).not.toBeEmpty();
  await expect(value('GPUs')).toContainText(/Test Double GPU|\d/);
  await expect(value('Started')).toContainText(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/);
  await expect(value('Python')).toContainText(/^Python\s*3\.\d+/);
  await expect(value('Environment')).toContainText(/sha256 [0-9a-f]{12}/);
  await expect(value('Resources asked')).toContainText('500M memory');
  await expect(value('Scheduler')).toContainText(job.schedulerId ?? job.id);

  const efficiency = dialog.getByRole('region', { name: 'Efficiency' });
  await expect(efficiency.getByRole('rowheader', { name: 'Wall time' })).toBeVisible();
  await expect(efficiency).toContainText("the job's own samples");

  await dialog.getByRole('button', { name: 'Close' }).click();
  await expect(dialog).toHaveCount(0);
});

test('the browser notification for a hidden tab is a setting, off by default', async ({ page }) => {
  // Switching it on asks the browser; granted here so no prompt waits.
  await page.context().grantPermissions(['notifications']);
  await page.evaluate(() =>
    (window as any).jupyterapp.commands.execute('settingeditor:open', { query: 'HPC Submit' })
  );
  const field = page.getByRole('checkbox', { name: 'Notify when the tab is hidden' });
  await expect(field).toBeVisible();
  await expect(field).not.toBeChecked();

  // Read back through the page: Galata serves the settings API to it.
  const saved = () =>
    page.evaluate(
      async () =>
        (
          await (window as any).jupyterapp.serviceManager.settings.fetch(
            'jupyterlab-hpc-submit:plugin'
          )
        ).settings
    );
  await field.check();
  await expect.poll(async () => (await saved()).notifyWhenHidden, { timeout: 10_000 }).toBe(true);
  expect(await page.evaluate(() => Notification.permission)).toBe('granted');
  await field.uncheck();
  await expect.poll(async () => (await saved()).notifyWhenHidden, { timeout: 10_000 }).toBe(false);
});
