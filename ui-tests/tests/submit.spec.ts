/**
 * Submitting with the local executor: the row goes live from queued/running
 * to its end, pushed by the companion's events through jupyter-server-proxy;
 * the executed notebook shows up in the file browser by itself and opens.
 */
import { expect } from '@jupyterlab/galata';
import {
  expectRowState,
  fetchJob,
  jobRow,
  openOutput,
  putNotebook,
  chooseFromRowMenu,
  rowButton,
  submitNotebook,
  test
} from './helpers';

/** Shorter than the file browser's own 10 s refresh poll: the extension must refresh it. */
const LISTING_WITHOUT_REFRESH_MS = 6_000;

test('a run completes live and its output opens from the sidebar', async ({
  page,
  request,
  tmpPath
}) => {
  const nb = await putNotebook(request, tmpPath, 'ok.ipynb');

  // Events reach the page while the job runs, not buffered until the stream ends.
  await page.evaluate(() => {
    const w = window as any;
    w.__hpcEvents = [];
    const config = JSON.parse(document.getElementById('jupyter-config-data')!.textContent!);
    const es = new EventSource(`${config.baseUrl}hpc-submit/api/events`);
    es.addEventListener('job', (e: MessageEvent) => w.__hpcEvents.push(JSON.parse(e.data)));
    w.__hpcEventSource = es;
  });

  const { sidebar, job, row } = await submitNotebook(page, nb, 'cpu');
  expect(job.notebook).toBe(nb);
  expect(job.profile).toBe('cpu');
  expect(job.kernel).toBe('hpc-test-cpu');
  expect(job.output).toBe(`${tmpPath}/executed/ok_executed.ipynb`);

  await expect(row).toBeVisible(); // at once, not after a poll
  await expect(row).toHaveAttribute('data-state', /queued|running/);
  await expectRowState(row, 'running', 30_000);
  const whileRunning = await page.evaluate(() => (window as any).__hpcEvents.length);
  expect(whileRunning, 'job events pushed while the job is still running').toBeGreaterThan(0);

  await expectRowState(row, 'completed', 60_000);
  const done = await fetchJob(page, job.id);
  expect(done.state).toBe('completed');
  expect(done.exitCode).toBe(0);
  await page.evaluate(() => (window as any).__hpcEventSource.close());

  // No manual refresh: the extension makes the file browser show it.
  await expect
    .poll(() => page.filebrowser.isFileListedInBrowser('executed'), {
      timeout: LISTING_WITHOUT_REFRESH_MS
    })
    .toBe(true);

  const outputs = await openOutput(page, row, 'ok_executed.ipynb');
  await expect(outputs.filter({ hasText: 'answer 42' })).toBeVisible();

  // The log opens in a JupyterLab panel.
  await rowButton(row, 'Show log').click();
  await expect(
    page.locator('.jp-HpcSubmit-log, .jp-MainAreaWidget:has(.jp-HpcSubmit-log)').first()
  ).toBeVisible();

  // Forgetting removes the row; the output notebook stays.
  await chooseFromRowMenu(row, 'Forget');
  const confirm = page.locator('.jp-Dialog .jp-mod-accept');
  if (await confirm.isVisible().catch(() => false)) {
    await confirm.click();
  }
  await expect(row).toHaveCount(0);
  expect(await page.contents.fileExists(`${tmpPath}/executed/ok_executed.ipynb`)).toBe(true);
  await expect(sidebar).toBeVisible();
});

test('a failing run ends failed with its reason, and its output shows the traceback', async ({
  page,
  request,
  tmpPath
}) => {
  const nb = await putNotebook(request, tmpPath, 'fails.ipynb');
  const { job, row } = await submitNotebook(page, nb, 'cpu');
  await expect(row).toBeVisible();
  await expectRowState(row, 'failed', 60_000);

  const failed = await fetchJob(page, job.id);
  expect(failed.state).toBe('failed');
  expect(failed.reason, 'a failed job says why').toBeTruthy();
  await expect(row).toContainText(String(failed.reason).slice(0, 40));

  const outputs = await openOutput(page, row, 'fails_executed.ipynb');
  await expect(outputs.filter({ hasText: 'before the failure' })).toBeVisible();
  await expect(outputs.filter({ hasText: 'boom from the UI test' })).toBeVisible();
  await expect(outputs.filter({ hasText: 'never reached' })).toHaveCount(0);

  // Run again submits the same notebook once more.
  const again = page.waitForResponse(
    r =>
      r.request().method() === 'POST' &&
      /\/hpc-submit\/api\/jobs\/?$/.test(new URL(r.url()).pathname)
  );
  await rowButton(row, 'Run again').click();
  const dialog = page.locator('.jp-Dialog .jp-mod-accept');
  await Promise.race([again, dialog.waitFor({ timeout: 10_000 }).then(() => dialog.click())]).catch(
    () => undefined
  );
  const second = await (await again).json();
  expect(second.id).not.toBe(job.id);
  expect(second.notebook).toBe(nb);
  await expectRowState(jobRow(page, second.id), 'failed', 60_000);
});
