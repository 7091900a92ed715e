/**
 * A pipeline from JupyterLab: "Run Pipeline" on a pipeline file in the file
 * browser's context menu; the sidebar shows the pipeline as one group with
 * its steps in order and their states; the step after a failing one is
 * shown "Not run" and names the step that failed. The file editor's toolbar
 * offers the same command for a pipeline file open in it.
 */
import { expect } from '@jupyterlab/galata';
import {
  openSidebar,
  putNotebook,
  runPipelineFromBrowser,
  seriousViolations,
  test
} from './helpers';

const PIPELINE = `steps:
  - {name: prep, notebook: ok.ipynb, profile: cpu}
  - {name: boom, notebook: fails.ipynb, profile: cpu, after: [prep]}
  - {name: last, notebook: last.ipynb, profile: cpu, after: [boom]}
`;

test('Run Pipeline from the file browser; the group shows its steps, the one after a failure "Not run"', async ({
  page,
  request,
  tmpPath
}) => {
  test.setTimeout(240_000);
  await putNotebook(request, tmpPath, 'ok.ipynb');
  await putNotebook(request, tmpPath, 'fails.ipynb');
  await putNotebook(request, tmpPath, 'ok.ipynb', 'last.ipynb');
  const file = `${tmpPath}/study.pipeline.yaml`;
  await runPipelineFromBrowser(page, request, file, PIPELINE);

  const sidebar = await openSidebar(page);
  const group = sidebar.locator('li.jp-HpcSubmit-pipeline');
  await expect(group).toHaveCount(1);
  await expect(group.locator('.jp-HpcSubmit-groupName')).toHaveText('study.pipeline.yaml');
  const steps = group.locator('li.jp-HpcSubmit-step');
  await expect(steps).toHaveCount(3);
  await expect(steps.locator('.jp-HpcSubmit-stepName')).toHaveText([
    'prep',
    'boom after prep',
    'last after boom'
  ]);
  await expect(group).toHaveAttribute('data-state', 'failed', { timeout: 150_000 });
  await expect(steps.nth(0)).toHaveAttribute('data-state', 'completed');
  await expect(steps.nth(1)).toHaveAttribute('data-state', 'failed');
  const last = steps.nth(2);
  await expect(last).toHaveAttribute('data-state', 'cancelled');
  await expect(last.locator('.jp-HpcSubmit-state')).toHaveText('Not run: boom failed', {
    timeout: 30_000
  });
  await expect(group.locator('.jp-HpcSubmit-sweepCounts')).toHaveText(
    '1 of 3 steps completed · 1 failed · 1 not run or cancelled'
  );
  await expect(group.locator('[title="Re-run from the failed step"]')).toBeVisible();
  expect(await seriousViolations(page, ['li.jp-HpcSubmit-pipeline'])).toEqual([]);

  // The file open in the editor has the same command in its toolbar.
  await page.filebrowser.open(file);
  await expect(
    page.locator('#jp-main-dock-panel [data-command="hpc-submit:run-pipeline"]').first()
  ).toBeVisible();
});
