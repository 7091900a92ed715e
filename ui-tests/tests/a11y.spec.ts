/**
 * Accessibility (axe-core) of what the extension adds to JupyterLab: the
 * jobs sidebar with a run listed (its "…" menu open too), the toolbar's run
 * button and picker, and the "Run with parameters…" dialog, in the light
 * and the dark theme. No serious or critical violation is accepted.
 */
import { expect, galata, type IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';
import {
  expectRowState,
  openNotebook,
  putNotebook,
  rowButton,
  seriousViolations,
  submitNotebook,
  test,
  toolbarOf
} from './helpers';

const PARAMETERS_COMMAND = 'hpc-submit:run-with-parameters';

/** A notebook whose first code cell is tagged `parameters`, as papermill reads it. */
const PARAMETRIZED = JSON.stringify({
  cells: [
    {
      cell_type: 'code',
      id: 'p0',
      metadata: { tags: ['parameters'] },
      execution_count: null,
      outputs: [],
      source: ['lr = 0.01  # learning rate\n', "optimizer = 'adam'"]
    },
    {
      cell_type: 'code',
      id: 'c1',
      metadata: {},
      execution_count: null,
      outputs: [],
      source: ['print(lr, optimizer)']
    }
  ],
  metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
  nbformat: 4,
  nbformat_minor: 5
});

async function checkSidebarAndToolbar(page: IJupyterLabPageFixture, row: Locator): Promise<void> {
  expect(
    await seriousViolations(page, [
      '#jp-hpc-submit-sidebar',
      '.jp-NotebookPanel-toolbar [data-jp-item-name^="hpc-submit"]'
    ])
  ).toStrictEqual([]);
  // The "…" menu, open.
  await rowButton(row, 'More actions').click();
  await expect(row.getByRole('menu')).toBeVisible();
  expect(await seriousViolations(page, ['#jp-hpc-submit-sidebar'])).toStrictEqual([]);
  await page.keyboard.press('Escape');
  await expect(row.getByRole('menu')).toHaveCount(0);
}

/** The dialog as it opens, then with a sweep awaiting its values (the extra inputs and the error shown). */
async function checkParametersDialog(page: IJupyterLabPageFixture, panel: Locator): Promise<void> {
  await toolbarOf(panel).locator(`[data-command="${PARAMETERS_COMMAND}"]`).first().click();
  const dialog = page.locator('.jp-Dialog');
  // The form itself, not just the dialog: its parameters are read from the companion first.
  await expect(dialog.locator('input.jp-HpcSubmit-paramValue').first()).toBeVisible();
  expect(await seriousViolations(page, ['.jp-Dialog-content'])).toStrictEqual([]);
  await dialog.getByLabel('Sweep lr over several values').check();
  await expect(dialog.locator('.jp-HpcSubmit-paramSummary')).toHaveClass(/jp-HpcSubmit-invalid/);
  expect(await seriousViolations(page, ['.jp-Dialog-content'])).toStrictEqual([]);
  await dialog.locator('.jp-mod-reject').click();
  await expect(dialog).toHaveCount(0);
}

test('the sidebar, the toolbar items and the parameters dialog have no serious violation, in both themes', async ({
  page,
  request,
  tmpPath
}) => {
  test.setTimeout(180_000);
  const nb = await putNotebook(request, tmpPath, 'ok.ipynb');
  const { row } = await submitNotebook(page, nb, 'cpu');
  await expectRowState(row, 'completed', 60_000);

  await checkSidebarAndToolbar(page, row);
  await page.theme.setDarkTheme();
  await checkSidebarAndToolbar(page, row);
  await page.theme.setLightTheme();

  const parametrized = `${tmpPath}/params.ipynb`;
  // Through `request`, which carries the XSRF token the server checks.
  expect(
    await galata.newContentsHelper(request).uploadContent(PARAMETRIZED, 'text', parametrized)
  ).toBe(true);
  const panel = await openNotebook(page, parametrized);
  await checkParametersDialog(page, panel);
  await page.theme.setDarkTheme();
  await checkParametersDialog(page, panel);
  await page.theme.setLightTheme();
  // Cancelled both times: nothing of this notebook was submitted.
  const listed = await page.request.get('/hpc-submit/api/jobs');
  expect(listed.status()).toBe(200);
  const notebooks = ((await listed.json()).jobs as { notebook: string }[]).map(j => j.notebook);
  expect(notebooks).toContain(nb);
  expect(notebooks).not.toContain(parametrized);
});
