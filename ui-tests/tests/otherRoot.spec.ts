/**
 * Companions of several roots share one state directory: a run submitted by
 * the CLI from a folder outside the Lab's root shows in the sidebar with its
 * whole path under "All", and never as a run of the Lab's own notebook of
 * the same name.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expect, galata } from '@jupyterlab/galata';
import { UI_WORK_DIR } from './env';
import {
  expectRowState,
  jobRow,
  openNotebook,
  openSidebar,
  openNotebookGroup,
  rowButton,
  runCli,
  test
} from './helpers';

const NOTEBOOK = 'x.ipynb';
const SAMPLE = path.resolve(__dirname, '..', 'notebooks', 'ok.ipynb');
const JOB_ID = /\b\d{8}-\d{6}-[a-z0-9]{6}\b/;

test.afterEach(async ({ request }) => {
  // At the top of the root, outside Galata's per-test folder: removed here.
  await galata.newContentsHelper(request).deleteFile(NOTEBOOK);
});

test('a run from another root is listed under All with its path, not as this notebook’s', async ({
  page,
  request
}) => {
  // The Lab's x.ipynb, at the top of its root: the relative path the other
  // root's x.ipynb would have from its own root.
  expect(await galata.newContentsHelper(request).uploadFile(SAMPLE, NOTEBOOK)).toBe(true);
  // Galata's file browser starts in the test's folder; the notebook is at the top.
  expect(await page.filebrowser.openHomeDirectory()).toBe(true);
  await openNotebook(page, NOTEBOOK);
  const sidebar = await openSidebar(page);

  const otherRoot = fs.realpathSync(fs.mkdtempSync(path.join(UI_WORK_DIR, 'other-root-')));
  fs.copyFileSync(SAMPLE, path.join(otherRoot, NOTEBOOK));
  const elsewhere = path.join(otherRoot, NOTEBOOK);

  const cli = await runCli(
    ['run', NOTEBOOK, '--profile', 'cpu', '--executor', 'local', '--wait'],
    otherRoot
  );
  expect(cli.code, `${cli.stdout}\n${cli.stderr}`).toBe(0);
  const id = JOB_ID.exec(cli.stdout)?.[0];
  expect(id, cli.stdout).toBeTruthy();
  const row = jobRow(page, id!);

  // Pushed to the Lab by its own companion, which did not submit it.
  await sidebar.getByRole('radio', { name: 'All' }).check();
  await openNotebookGroup(sidebar, elsewhere);
  await expectRowState(row, 'completed', 30_000);

  // "This notebook" with the Lab's x.ipynb in front: not its run.
  await sidebar.getByRole('radio', { name: 'This notebook' }).check();
  await expect(row).toHaveCount(0);
  await expect(sidebar.locator('.jp-HpcSubmit-empty')).toHaveText(`No runs of ${NOTEBOOK} yet.`);

  // "All": the whole path, marked as outside this root, neither opened nor run again here.
  await sidebar.getByRole('radio', { name: 'All' }).check();
  await openNotebookGroup(sidebar, elsewhere);
  const name = row.locator('.jp-HpcSubmit-jobName');
  await expect(name).toHaveText(elsewhere);
  await expect(name).toHaveAttribute('title', elsewhere);
  await expect(row).toContainText('outside this root');
  await expect(rowButton(row, 'Open output')).toBeDisabled();
  await expect(rowButton(row, 'Open output')).toHaveAttribute(
    'title',
    /not under this Jupyter root/
  );
  await expect(rowButton(row, 'Run again')).toBeDisabled();
  await expect(rowButton(row, 'Show log')).toBeEnabled();
});
