/**
 * Kernel awareness: the sidebar names the notebook's kernel and the one the
 * run will use, and when the profile's kernel does not exist it says so before
 * any submission, with the command that creates it and a button that does.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect } from '@jupyterlab/galata';
import { MISSING_KERNEL, UI_DATA_DIR, UI_VENV } from './env';
import { openNotebook, openSidebar, profilePicker, putNotebook, runButton, test } from './helpers';

/** Where `ipykernel install --user` / `--sys-prefix` would put the kernel. */
const kernelDirs = [
  path.join(UI_DATA_DIR, 'kernels', MISSING_KERNEL),
  path.join(UI_VENV, 'share', 'jupyter', 'kernels', MISSING_KERNEL)
];

test.beforeAll(() => {
  for (const dir of kernelDirs) {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
test.afterAll(() => {
  // The venv is shared with the developer: leave no test kernel in it.
  fs.rmSync(kernelDirs[1], { recursive: true, force: true });
});

test('the sidebar shows both kernels, the missing one with its fix, and creates it', async ({
  page,
  request,
  tmpPath
}) => {
  const nb = await putNotebook(request, tmpPath, 'ok.ipynb', 'kernels.ipynb');
  const panel = await openNotebook(page, nb);
  const sidebar = await openSidebar(page);

  await profilePicker(panel).selectOption('cpu');
  const info = sidebar.locator('.jp-HpcSubmit-kernelInfo');
  // "this notebook: python3 on the hub → the run: hpc-test-cpu on cpu"
  await expect(info).toContainText('python3');
  await expect(info).toContainText('hpc-test-cpu');
  await expect(sidebar.locator('.jp-HpcSubmit-problem')).toHaveCount(0);

  await profilePicker(panel).selectOption('fresh');
  await expect(info).toContainText(MISSING_KERNEL);
  const problem = sidebar.locator('.jp-HpcSubmit-problem').filter({ hasText: MISSING_KERNEL });
  await expect(problem).toBeVisible();
  // The one command that creates it, shown to the user.
  await expect(problem).toContainText(/ipykernel install.*hpc-test-fresh/);
  // Nothing is submitted while the kernel is missing.
  const posts: string[] = [];
  page.on('request', r => {
    if (r.method() === 'POST' && /\/hpc-submit\/api\/jobs\/?$/.test(new URL(r.url()).pathname)) {
      posts.push(r.url());
    }
  });
  const disabled = await runButton(panel).evaluate(
    el =>
      el.matches(':disabled, [disabled], [aria-disabled="true"], .lm-mod-disabled') ||
      !!el.querySelector(':disabled, [disabled], [aria-disabled="true"]')
  );
  if (!disabled) {
    await runButton(panel).click();
    await expect(
      page.locator('[class*="jp-Notification-Toast-"], .jp-Dialog').first()
    ).toBeVisible();
  }

  await problem.getByRole('button', { name: 'Create kernel' }).click();
  await expect(
    sidebar.locator('.jp-HpcSubmit-problem').filter({ hasText: MISSING_KERNEL })
  ).toHaveCount(0, {
    timeout: 60_000
  });
  expect(
    kernelDirs.some(dir => fs.existsSync(path.join(dir, 'kernel.json'))),
    'kernel.json written'
  ).toBe(true);
  expect(posts, 'no job submitted with a missing kernel').toEqual([]);
});
