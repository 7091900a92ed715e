/**
 * Accessibility (axe-core) of what the extension adds to JupyterLab: the
 * jobs sidebar with a run listed (its "…" menu open too) and the toolbar's
 * items, in the light and the dark theme. No serious or critical violation
 * is accepted.
 */
import AxeBuilder from '@axe-core/playwright';
import { expect, type IJupyterLabPageFixture } from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';
import { expectRowState, putNotebook, rowButton, submitNotebook, test } from './helpers';

/** The serious and critical violations inside `selectors`, one line each. */
async function seriousViolations(
  page: IJupyterLabPageFixture,
  selectors: string[]
): Promise<string[]> {
  let builder = new AxeBuilder({ page });
  for (const selector of selectors) {
    builder = builder.include(selector);
  }
  const { violations } = await builder.analyze();
  return violations
    .filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(
      v => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map(n => n.target.join(' ')).join(', ')}`
    );
}

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

test('the sidebar and the toolbar items have no serious violation, in both themes', async ({
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
});
