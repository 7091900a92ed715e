/**
 * The extension is installed as users install it, and every notebook has the
 * "Run on …" button and the hardware picker; the choice lives in the
 * notebook's metadata, so the notebook remembers it.
 */
import { expect } from '@jupyterlab/galata';
import {
  openNotebook,
  profilePicker,
  putNotebook,
  readNotebook,
  runButton,
  test,
  toolbarOf
} from './helpers';

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
  // Each says which profiles file defined it (the server's HPC_SUBMIT_PROFILES here).
  await expect(picker.locator('option[value="cpu"]')).toHaveAttribute(
    'title',
    /defined in \/.+\.json$/
  );

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

test("the toolbar's record entry names the variables each run records, refusing a bad name", async ({
  page,
  request,
  tmpPath
}) => {
  const nb = await putNotebook(request, tmpPath, 'ok.ipynb', 'record.ipynb');
  const panel = await openNotebook(page, nb);
  const entry = toolbarOf(panel).locator('.jp-HpcSubmit-recordItem');
  await expect(entry).toHaveText('Record…');

  // A name that is not a variable's: said, and nothing saved.
  await entry.click();
  const dialog = page.locator('.jp-Dialog');
  await dialog.getByRole('textbox').fill('loss, 2fast');
  await dialog.getByRole('button', { name: 'Ok' }).click();
  await expect(page.locator('.jp-toast-container, .Toastify')).toContainText(
    'Nothing changed: record: 2fast is not a variable name'
  );
  await expect(entry).toHaveText('Record…');

  await entry.click();
  await dialog.getByRole('textbox').fill(' loss ,answer');
  await dialog.getByRole('button', { name: 'Ok' }).click();
  await expect(entry).toHaveText('record: loss, answer');
  expect(await page.notebook.save()).toBe(true);
  expect((await readNotebook(page, nb)).metadata.hpc_submit?.record).toStrictEqual([
    'loss',
    'answer'
  ]);
});
