/**
 * The extension is installed as users install it, and every notebook has the
 * "Run on …" button and the hardware picker; the choice lives in the
 * notebook's metadata, so the notebook remembers it.
 */
import { expect } from '@jupyterlab/galata';
import { openNotebook, profilePicker, putNotebook, readNotebook, runButton, test } from './helpers';

test('the extension is loaded from the installed package', async ({ page }) => {
  const plugins = await page.evaluate(() => {
    const app = (window as any).jupyterapp;
    return (app.listPlugins() as string[])
      .filter(id => id.startsWith('jupyterlab-hpc-submit'))
      .map(id => [id, app.isPluginActivated(id)]);
  });
  expect(plugins.length).toBeGreaterThan(0);
  for (const [id, activated] of plugins) {
    expect(activated, `${id} activated`).toBe(true);
  }
  // The companion answers behind jupyter-server-proxy, started on demand.
  const health = await page.request.get('/hpc-submit/api/health');
  expect(health.status()).toBe(200);
  expect((await health.json()).ok).toBe(true);
});

test('toolbar has the run button and the picker; the choice is saved in the notebook', async ({
  page,
  request,
  tmpPath
}) => {
  const nb = await putNotebook(request, tmpPath, 'ok.ipynb', 'pick.ipynb');
  let panel = await openNotebook(page, nb);

  const button = runButton(panel);
  const picker = profilePicker(panel);
  await expect(button).toBeVisible();
  await expect(button).toHaveText(/Run on .+/);
  await expect(picker).toBeVisible();
  // The site's profiles, by label.
  await expect(picker.locator('option')).toHaveText(['GPU node', 'CPU node', 'Fresh env']);

  await picker.selectOption('cpu');
  await expect(button).toHaveText(/Run on CPU node/);
  await picker.selectOption('gpu');
  await expect(button).toHaveText(/Run on GPU node/);
  await picker.selectOption('cpu');
  await expect(button).toHaveText(/Run on CPU node/);

  expect(await page.notebook.save()).toBe(true);
  const saved = await readNotebook(page, nb);
  expect(saved.metadata.hpc_submit?.profile).toBe('cpu');

  expect(await page.notebook.close()).toBe(true);
  panel = await openNotebook(page, nb);
  await expect(profilePicker(panel)).toHaveValue('cpu');
  await expect(runButton(panel)).toHaveText(/Run on CPU node/);
});
