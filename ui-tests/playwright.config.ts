/**
 * Galata UI tests: one real JupyterLab (started by start-jupyter.sh, with the
 * installed extension and its companion behind jupyter-server-proxy) and
 * Debian's Chromium. Run from the repository root:
 *   npx playwright test -c ui-tests/playwright.config.ts
 * Other JupyterLab releases: scripts/ui-matrix.sh. The README's pictures
 * (docs/*.png): scripts/screenshots.sh, never part of a test run.
 */
import * as path from 'node:path';
import { defineConfig } from '@playwright/test';
import { REPO_ROOT, SCREENSHOTS, UI_PORT, UI_VENV, UI_WORK_DIR } from './tests/env';

// eslint-disable-next-line @typescript-eslint/no-var-requires
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

const baseURL = `http://127.0.0.1:${UI_PORT}`;

export default defineConfig({
  ...baseConfig,
  testDir: './tests',
  ...(SCREENSHOTS ? { testMatch: 'screenshots.spec.ts' } : { testIgnore: 'screenshots.spec.ts' }),
  outputDir: './test-results',
  // One JupyterLab and one companion for all tests; 2 cores.
  workers: 1,
  fullyParallel: false,
  retries: 0,
  timeout: 90_000,
  expect: { timeout: 15_000 },
  reporter: [['list'], ['html', { open: 'never', outputFolder: 'playwright-report' }]],
  use: {
    ...baseConfig.use,
    baseURL,
    // A desktop screen with both side panels open, as researchers use JupyterLab.
    viewport: { width: 1366, height: 850 },
    // Video needs Playwright's own ffmpeg download, which these machines never fetch.
    video: 'off',
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: {
      executablePath: process.env.HPC_SUBMIT_CHROMIUM ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--no-first-run'
      ]
    }
  },
  webServer: {
    command: './start-jupyter.sh',
    cwd: path.join(REPO_ROOT, 'ui-tests'),
    url: `${baseURL}/lab`,
    timeout: 120_000,
    // A server started by hand lacks the test profiles and kernels.
    reuseExistingServer: false,
    stdout: 'pipe',
    stderr: 'pipe',
    env: {
      HPC_SUBMIT_UI_DIR: UI_WORK_DIR,
      HPC_SUBMIT_UI_PORT: String(UI_PORT),
      HPC_SUBMIT_VENV: UI_VENV
    }
  }
});
