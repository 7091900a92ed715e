/**
 * Compare of two runs: a notebook that records its loss run twice with other
 * values, then "Compare with the run before" from the newer run's row. The
 * table shows both runs side by side with what differs marked, and nbdime's
 * web diff of the two executed notebooks (the older one kept when the newer
 * run replaced it). Where the server has no nbdime (its difftool answering
 * 404, routed so in the browser: nbdime is installed here), the panel says
 * how to install it.
 */
import { expect } from '@jupyterlab/galata';
import {
  chooseFromRowMenu,
  expectRowState,
  jobRow,
  openNotebook,
  openSidebar,
  postJobs,
  profilePicker,
  putNotebook,
  seriousViolations,
  test
} from './helpers';

test('two runs compared side by side, their executed notebooks diffed by nbdime', async ({
  page,
  request,
  tmpPath
}) => {
  test.setTimeout(150_000);
  const nb = await putNotebook(request, tmpPath, 'records_loss.ipynb');
  const panel = await openNotebook(page, nb);
  await profilePicker(panel).selectOption('cpu');
  await openSidebar(page);

  const older = await postJobs(page, { notebook: nb, profile: 'cpu', parameters: { lr: 0.1 } });
  await expectRowState(jobRow(page, older.id), 'completed', 60_000);
  const newer = await postJobs(page, { notebook: nb, profile: 'cpu', parameters: { lr: 0.01 } });
  await expectRowState(jobRow(page, newer.id), 'completed', 60_000);

  // First as a server without nbdime answers.
  await page.route('**/nbdime/difftool*', route =>
    route.fulfill({ status: 404, body: 'Not Found' })
  );
  await chooseFromRowMenu(jobRow(page, newer.id), 'Compare with the run before');
  const view = page.locator(`#jp-hpc-submit-compare-${older.id}-${newer.id}`);
  await expect(view).toBeVisible();
  const table = view.locator('.jp-HpcSubmit-compareTable');
  await expect(table.locator('thead th')).toHaveText([/^run of .*/, /^run of .*/]);
  await expect(table.locator('thead th').first()).toHaveAttribute('data-job-id', older.id);
  const row = (label: string) =>
    table.locator('tbody tr', {
      has: page.getByRole('rowheader', { name: new RegExp(`^${label}`) })
    });
  await expect(row('Parameter: lr').locator('td')).toHaveText(['0.1', '0.01']);
  await expect(row('Parameter: lr')).toHaveAttribute('data-differs', 'true');
  await expect(row('Recorded: loss').locator('td')).toHaveText(['0.81', '0']);
  await expect(row('Profile')).not.toHaveAttribute('data-differs', 'true');
  await expect(view.locator('.jp-HpcSubmit-diffNote')).toContainText('pip install nbdime');

  // "Only what differs" hides the rows that are the same.
  await view.getByRole('checkbox', { name: 'Only what differs' }).check();
  await expect(row('Profile')).toHaveCount(0);
  await expect(row('Parameter: lr')).toHaveCount(1);

  // No serious or critical violation in Compare, light and dark.
  const scope = [`#jp-hpc-submit-compare-${older.id}-${newer.id}`];
  expect(await seriousViolations(page, scope)).toStrictEqual([]);
  await page.theme.setDarkTheme();
  expect(await seriousViolations(page, scope)).toStrictEqual([]);
  await page.theme.setLightTheme();

  // With nbdime answering: its diff of the two executed notebooks, the older read from its kept copy.
  await page.unroute('**/nbdime/difftool*');
  await page.activity.getTabLocator('Compare runs').locator('.lm-TabBar-tabCloseIcon').click();
  await expect(view).toHaveCount(0);
  await chooseFromRowMenu(jobRow(page, newer.id), 'Compare with the run before');
  await expect(view).toBeVisible();
  const frame = view.locator('iframe');
  await expect(frame).toHaveAttribute('title', /^Notebook diff: run of .* and run of .*/);
  expect(decodeURIComponent((await frame.getAttribute('src')) ?? '')).toContain(
    `/jobs/${older.id}/executed.ipynb`
  );
  const diff = page.frameLocator(`#jp-hpc-submit-compare-${older.id}-${newer.id} iframe`);
  await expect(diff.locator('.jp-Cell-diff').first()).toBeVisible({ timeout: 30_000 });
  // The injected parameters differ: nbdime marks that cell changed.
  await expect(diff.locator('.jp-Diff-twoway, .jp-Diff-modified').first()).toBeVisible();
  // Our part of the panel stays clean with the frame in it (nbdime's own page is nbdime's).
  expect(await seriousViolations(page, scope, [`${scope[0]} iframe`])).toStrictEqual([]);
});
