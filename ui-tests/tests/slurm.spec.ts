/**
 * The real thing: the GPU profile submitted to the single-node Slurm cluster
 * (scripts/slurm-cluster.sh up), the executed notebook appearing in the file
 * browser, and its efficiency read from Slurm's accounting in Run details. Runs with HPC_SUBMIT_TEST_SLURM=1, which also makes
 * start-jupyter.sh start the companion with the slurm executor.
 */
import * as path from 'node:path';
import { expect } from '@jupyterlab/galata';
import { REPO_ROOT, WITH_SLURM } from './env';
import {
  chooseFromRowMenu,
  expectRowState,
  fetchJob,
  openOutput,
  putNotebook,
  submitNotebook,
  test
} from './helpers';

test.skip(
  !WITH_SLURM,
  'needs a running Slurm cluster: set HPC_SUBMIT_TEST_SLURM=1 (scripts/test.sh does, as root)'
);

test('the GPU profile runs on a Slurm GPU node and its output appears', async ({
  page,
  request,
  tmpPath
}) => {
  test.setTimeout(240_000);
  const samples = path.join(REPO_ROOT, 'examples', 'notebooks');
  await putNotebook(
    request,
    `${tmpPath}/data`,
    'numbers.txt',
    'numbers.txt',
    path.join(samples, 'data', 'numbers.txt')
  );
  const nb = await putNotebook(
    request,
    tmpPath,
    'experiment.ipynb',
    'gpu-run.ipynb',
    path.join(samples, 'experiment.ipynb')
  );
  const { job, row } = await submitNotebook(page, nb, 'gpu');
  expect(job.executor).toBe('slurm');
  expect(job.schedulerId).toMatch(/^\d+$/);
  await expectRowState(row, 'running', 120_000);
  await expectRowState(row, 'completed', 180_000);
  const done = await fetchJob(page, job.id);
  expect(done.node).toBeTruthy();
  await expect(row).toContainText(done.node);

  await expect
    .poll(() => page.filebrowser.isFileListedInBrowser('executed'), { timeout: 6_000 })
    .toBe(true);
  const outputs = await openOutput(page, row, 'gpu-run_executed.ipynb');
  // The job got a GPU from Slurm's gres (CUDA_VISIBLE_DEVICES is set).
  await expect(outputs.filter({ hasText: /visible GPUs: \d/ })).toBeVisible();

  // The cluster keeps accounting: once sacct has been read, Run details says so.
  await expect
    .poll(async () => (await fetchJob(page, job.id)).efficiency?.source, { timeout: 90_000 })
    .toBe('samples+sacct');
  await chooseFromRowMenu(row, 'Run details');
  const efficiency = page.locator('.jp-Dialog').getByRole('region', { name: 'Efficiency' });
  await expect(efficiency).toContainText("the job's own samples and Slurm's accounting (sacct)");
  await expect(efficiency.getByRole('rowheader', { name: 'Peak memory' })).toBeVisible();
  await page.locator('.jp-Dialog').getByRole('button', { name: 'Close' }).click();
});
