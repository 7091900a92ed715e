/**
 * JupyterLab's load time in Debian's Chromium with and without the extension:
 * two servers (one with the extension disabled in its page config), loads
 * alternated so both see the same noise.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { REPO, median, sleep, tempTree } from './lib';

async function startLab(
  port: number,
  disabled: boolean
): Promise<{ proc: ChildProcess; dir: string }> {
  const dir = tempTree('bench-lab-');
  const config = join(dir, 'config');
  mkdirSync(join(config, 'labconfig'), { recursive: true });
  if (disabled) {
    writeFileSync(
      join(config, 'labconfig', 'page_config.json'),
      JSON.stringify({ disabledExtensions: { 'jupyterlab-hpc-submit': true } })
    );
  }
  mkdirSync(join(dir, 'root'));
  const proc = spawn(
    join(REPO, '.venv', 'bin', 'jupyter'),
    [
      'lab',
      '--no-browser',
      '--allow-root',
      `--port=${port}`,
      '--ServerApp.token=',
      '--ServerApp.password=',
      '--ServerApp.disable_check_xsrf=True',
      `--ServerApp.root_dir=${join(dir, 'root')}`,
      '--LabApp.news_url=',
      '--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate'
    ],
    {
      env: { ...process.env, JUPYTER_CONFIG_DIR: config, HPC_SUBMIT_EXECUTOR: 'local' },
      stdio: 'ignore'
    }
  );
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/api`)).ok) {
        return { proc, dir };
      }
    } catch {
      // not yet
    }
    await sleep(200);
  }
  throw new Error('JupyterLab did not start');
}

/** Median load times (ms), with and without the extension. */
export async function labLoad(runs = 7): Promise<{ with: number; without: number; runs: number }> {
  const on = await startLab(8951, false);
  const off = await startLab(8952, true);
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run'
    ]
  });
  const times: Record<'with' | 'without', number[]> = { with: [], without: [] };
  try {
    const load = async (port: number): Promise<number> => {
      const context = await browser.newContext();
      const page = await context.newPage();
      const t = performance.now();
      await page.goto(`http://127.0.0.1:${port}/lab`);
      // The shell is up and the launcher rendered: the app finished starting its plugins.
      await page.waitForSelector('.jp-Launcher', { timeout: 60_000 });
      const ms = performance.now() - t;
      await context.close();
      return ms;
    };
    await load(8951); // warm both servers' caches once
    await load(8952);
    for (let i = 0; i < runs; i++) {
      times.with.push(await load(8951));
      times.without.push(await load(8952));
    }
  } finally {
    await browser.close();
    on.proc.kill();
    off.proc.kill();
  }
  return { with: median(times.with), without: median(times.without), runs };
}
