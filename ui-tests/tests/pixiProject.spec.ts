/**
 * A researcher's own pixi project in JupyterLab: the picker offers its
 * environments on the site's hardware ("CPU node · myproj default"), the
 * sidebar's "Install environment" and "Create kernel" show their logs in a
 * panel (one is cancelled), "Check setup" lists what is left, and the
 * panels pass axe-core. pixi is the STAND-IN test/fixtures/stand-in-pixi/pixi
 * (start-jupyter.sh puts it on the server's PATH), which records its calls.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from '@jupyterlab/galata';
import { UI_ROOT_DIR, UI_WORK_DIR } from './env';
import { openNotebook, openSidebar, profilePicker, seriousViolations, test } from './helpers';

const PROJECT = path.join(UI_ROOT_DIR, 'myproj');
const MANIFEST = `[workspace]
name = "myproj"
channels = ["conda-forge"]
platforms = ["linux-64"]

[feature.gpu.system-requirements]
cuda = "12.0"

[environments]
gpu = ["gpu"]
slow = []
`;
const NOTEBOOK = JSON.stringify({
  cells: [
    {
      cell_type: 'code',
      id: 'c0',
      metadata: {},
      execution_count: null,
      outputs: [],
      source: ['print(1)']
    }
  ],
  metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
  nbformat: 4,
  nbformat_minor: 5
});

test.beforeAll(() => {
  fs.rmSync(PROJECT, { recursive: true, force: true });
  fs.mkdirSync(path.join(PROJECT, 'notebooks'), { recursive: true });
  fs.writeFileSync(path.join(PROJECT, 'pixi.toml'), MANIFEST);
  fs.writeFileSync(path.join(PROJECT, 'notebooks', 'train.ipynb'), NOTEBOOK);
});

test("the picker offers the project's environments; Install environment and Create kernel show their logs", async ({
  page
}) => {
  const panel = await openNotebook(page, 'myproj/notebooks/train.ipynb');
  const picker = profilePicker(panel);
  await expect(picker.locator('optgroup[label="myproj (pixi project)"] option')).toHaveText([
    'GPU node · myproj gpu',
    'GPU node · myproj default',
    'GPU node · myproj slow',
    'CPU node · myproj default',
    'CPU node · myproj slow',
    'Fresh env · myproj default',
    'Fresh env · myproj slow'
  ]);
  await expect(picker.locator('optgroup[label="Site environments"] option')).toHaveText([
    'GPU node',
    'CPU node',
    'Fresh env'
  ]);
  await picker.selectOption({ label: 'CPU node · myproj default' });
  await expect(picker).toHaveValue('cpu:default');
  const saved = await page.evaluate(() => {
    const app = (window as any).jupyterapp;
    return app.shell.currentWidget.context.model.getMetadata('hpc_submit');
  });
  expect(saved).toEqual({ profile: 'cpu', environment: 'default' });

  const sidebar = await openSidebar(page);
  const missing = sidebar
    .locator('.jp-HpcSubmit-problem')
    .filter({ hasText: 'is not installed yet' });
  await expect(missing).toContainText('pixi install --manifest-path');
  await missing.getByRole('button', { name: 'Install environment' }).click();
  const install = page.locator('.jp-HpcSubmit-setupPanel').filter({ hasText: 'stand-in pixi' });
  await expect(install.locator('pre')).toContainText('stand-in pixi: installed default');
  await expect(install.locator('.jp-HpcSubmit-setupState')).toHaveText('Done');
  expect(fs.existsSync(path.join(PROJECT, '.pixi', 'envs', 'default', 'conda-meta'))).toBe(true);

  // Installed: now its kernel is what is missing, and the sidebar makes it.
  const noKernel = sidebar.locator('.jp-HpcSubmit-problem').filter({ hasText: 'myproj-default' });
  await noKernel.getByRole('button', { name: 'Create kernel' }).click();
  const kernel = page.locator('.jp-HpcSubmit-setupPanel').filter({ hasText: 'ipykernel install' });
  await expect(kernel.locator('pre')).toContainText('Installed kernelspec myproj-default');
  await expect(kernel.locator('.jp-HpcSubmit-setupState')).toHaveText('Done');
  await expect(sidebar.locator('.jp-HpcSubmit-problem')).toHaveCount(0, { timeout: 30_000 });
  expect(await seriousViolations(page, ['.jp-HpcSubmit-setupPanel'])).toEqual([]);

  const calls = fs
    .readFileSync(path.join(UI_WORK_DIR, 'pixi-calls.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map(line => JSON.parse(line).args as string[]);
  expect(calls).toContainEqual([
    'install',
    '--manifest-path',
    path.join(PROJECT, 'pixi.toml'),
    '-e',
    'default'
  ]);
});

test('an install is cancelled from its log panel, and Check setup lists each choice with its fix', async ({
  page
}) => {
  const panel = await openNotebook(page, 'myproj/notebooks/train.ipynb');
  await profilePicker(panel).selectOption({ label: 'CPU node · myproj slow' });
  const sidebar = await openSidebar(page);
  await sidebar
    .locator('.jp-HpcSubmit-problem')
    .filter({ hasText: 'is not installed yet' })
    .getByRole('button', { name: 'Install environment' })
    .click();
  const install = page.locator('.jp-HpcSubmit-setupPanel').filter({ hasText: '-e slow' });
  await expect(install.locator('pre')).toContainText('stand-in pixi: solving slow');
  await install.getByRole('button', { name: 'Cancel' }).click();
  await expect(install.locator('.jp-HpcSubmit-setupState')).toHaveText('Cancelled');
  await expect(install.locator('pre')).toContainText('[hpc-submit] cancelled');
  expect(fs.existsSync(path.join(PROJECT, '.pixi', 'envs', 'slow'))).toBe(false);

  await sidebar.getByRole('button', { name: 'Check setup' }).click();
  const check = page.locator('.jp-HpcSubmit-setupCheck');
  await expect(check).toContainText(
    'the notebook lies in the pixi project myproj (myproj/pixi.toml)'
  );
  await expect(check).toContainText('CPU node · myproj default: ready (kernel myproj-default)');
  const slow = check.locator('li').filter({ hasText: 'CPU node · myproj slow' });
  await expect(slow).toContainText('is not installed yet');
  await expect(slow.getByRole('button', { name: 'Install environment' })).toBeVisible();
  expect(await seriousViolations(page, ['.jp-HpcSubmit-setupCheck'])).toEqual([]);
});
