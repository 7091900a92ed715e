/**
 * A sweep's results: six runs of a notebook that records its loss by name,
 * each row showing its values, then the Results view opened from the sweep's
 * row: a table sorted by a click with the best loss marked, and a chart drawn
 * by JupyterLab's own Vega-Lite renderer with one mark per run.
 */
import { expect } from '@jupyterlab/galata';
import {
  expectRowState,
  jobRow,
  openNotebook,
  openSidebar,
  profilePicker,
  putNotebook,
  rowButton,
  seriousViolations,
  submitSweep,
  test
} from './helpers';

test('a sweep of six runs shows its values, and its Results view a sorted table and a chart', async ({
  page,
  request,
  tmpPath
}) => {
  test.setTimeout(180_000);
  const nb = await putNotebook(request, tmpPath, 'records_loss.ipynb');
  const panel = await openNotebook(page, nb);
  await profilePicker(panel).selectOption('cpu');
  await openSidebar(page);

  // 3 learning rates × 2 seeds, through the companion as the dialog sends them.
  const { sweep, jobs } = await submitSweep(page, nb, 'cpu', {
    parameters: { lr: [0.1, 0.05, 0.01], seed: [0, 1] },
    maxParallel: 6
  });
  expect(jobs).toHaveLength(6);

  const group = page.locator(`li[data-sweep-id="${sweep.id}"]`);
  const toggle = group.locator('.jp-HpcSubmit-groupToggle').first();
  if ((await toggle.getAttribute('aria-expanded')) === 'false') {
    await toggle.click();
  }
  for (const job of jobs) {
    await expectRowState(jobRow(page, job.id), 'completed', 120_000);
  }
  // lr 0.01, seed 0 is the best fit: its row says its values.
  await expect(jobRow(page, jobs[4].id).locator('.jp-HpcSubmit-results')).toHaveText(
    'loss 0 · accuracy 1'
  );

  await rowButton(group.locator('.jp-HpcSubmit-groupHeader'), 'Show results').click();
  const view = page.locator(`#jp-hpc-submit-results-${sweep.id}`);
  await expect(view).toBeVisible();
  const table = view.locator('.jp-HpcSubmit-resultsTable');
  await expect(table.locator('tbody tr')).toHaveCount(6);
  await expect(table.locator('thead th')).toHaveText([
    'Compare',
    'task',
    'lr',
    'seed',
    'loss',
    'accuracy',
    'state'
  ]);

  // Sorted by loss with a click, smallest first; the best loss and the best accuracy marked.
  await table.getByRole('button', { name: 'loss' }).click();
  await expect(table.locator('thead th').nth(4)).toHaveAttribute('aria-sort', 'ascending');
  await expect(table.locator('tbody tr').first()).toHaveAttribute('data-job-id', jobs[4].id);
  await expect(table.locator('td.jp-HpcSubmit-best')).toHaveCount(2);
  await expect(table.locator('tbody tr').first().locator('td.jp-HpcSubmit-best')).toHaveCount(2);
  await table.getByRole('button', { name: 'loss' }).click();
  await expect(table.locator('thead th').nth(4)).toHaveAttribute('aria-sort', 'descending');
  await expect(table.locator('tbody tr').last()).toHaveAttribute('data-job-id', jobs[4].id);

  // The chart: Vega-Lite's SVG, one point per run, loss against lr, one line per seed.
  const chart = view.locator('.jp-HpcSubmit-chart svg');
  await expect(chart.first()).toBeVisible({ timeout: 30_000 });
  await expect(view.locator('.jp-HpcSubmit-chart [aria-roledescription="point"]')).toHaveCount(6);
  const choose = (name: string) => view.getByRole('combobox', { name });
  await expect(choose('Value drawn')).toHaveValue('loss');
  await expect(choose('Parameter along the x axis')).toHaveValue('lr');
  await expect(choose('Parameter drawn as one line per value')).toHaveValue('seed');
  // Another value: drawn again, still one point per run.
  await choose('Value drawn').selectOption('accuracy');
  await expect(view.locator('.jp-HpcSubmit-chart [aria-label*="accuracy"]').first()).toBeVisible();
  await expect(view.locator('.jp-HpcSubmit-chart [aria-roledescription="point"]')).toHaveCount(6);

  // No serious or critical violation in the view, light and dark (the chart is drawn again in the theme's colours).
  expect(await seriousViolations(page, [`#jp-hpc-submit-results-${sweep.id}`])).toStrictEqual([]);
  await page.theme.setDarkTheme();
  await expect(chart.first()).toBeVisible();
  expect(await seriousViolations(page, [`#jp-hpc-submit-results-${sweep.id}`])).toStrictEqual([]);
  await page.theme.setLightTheme();

  // Two tasks picked in the table: Compare shows them side by side, their lr differing.
  const compare = view.getByRole('button', { name: /^Compare/ });
  await expect(compare).toBeDisabled();
  await table.getByRole('checkbox', { name: 'Compare lr=0.01, seed=0' }).check();
  await table.getByRole('checkbox', { name: 'Compare lr=0.1, seed=0' }).check();
  await expect(table.getByRole('checkbox', { name: 'Compare lr=0.05, seed=1' })).toBeDisabled();
  await expect(compare).toHaveText('Compare the two picked runs');
  await compare.click();
  const side = page.locator(`#jp-hpc-submit-compare-${jobs[0].id}-${jobs[4].id}`);
  await expect(side).toBeVisible();
  await expect(side.locator('thead th')).toHaveText(
    ['lr=0.1, seed=0', 'lr=0.01, seed=0'].map(t => new RegExp(`^${t.replace(/[.]/g, '\\.')}`))
  );
  await expect(side.locator('iframe')).toBeVisible();
});
