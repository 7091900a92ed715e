/**
 * "Run Pipeline": a pipeline file's steps submitted at once, from the file
 * browser's context menu, the file editor's toolbar and the palette.
 */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import type { IDocumentManager } from '@jupyterlab/docmanager';
import type { IDefaultFileBrowser } from '@jupyterlab/filebrowser';
import type { JobsModel } from './model';
import { notifyError } from './notify';
import { CommandIDs, SIDEBAR_ID } from './tokens';

export interface PipelineCommandDeps {
  app: JupyterFrontEnd;
  model: JobsModel;
  docManager: IDocumentManager | null;
  browser: IDefaultFileBrowser | null;
}

/** A pipeline is a YAML file (schema/pipeline.schema.json). */
export function isPipelineFile(path: string | undefined): path is string {
  return path !== undefined && /\.ya?ml$/i.test(path);
}

export function addPipelineCommands(deps: PipelineCommandDeps): void {
  deps.app.commands.addCommand(CommandIDs.runPipeline, {
    label: 'Run Pipeline',
    caption: "Submit the pipeline file's steps, each after the steps it comes after",
    isVisible: args => isPipelineFile(targetPath(deps, args)),
    execute: args => {
      const path = targetPath(deps, args);
      return isPipelineFile(path) ? runPipeline(deps, path) : undefined;
    }
  });
}

/** The path given, else the file the context menu was opened on, else the document in front. */
function targetPath(
  { app, browser, docManager }: PipelineCommandDeps,
  args: { path?: unknown }
): string | undefined {
  if (typeof args.path === 'string') {
    return args.path;
  }
  if (app.contextMenuHitTest(node => node.classList.contains('jp-DirListing-item'))) {
    const item = browser?.selectedItems().next();
    return item && !item.done && item.value.type !== 'directory' ? item.value.path : undefined;
  }
  const widget = app.shell.currentWidget;
  return widget ? docManager?.contextForWidget(widget)?.path : undefined;
}

async function runPipeline(deps: PipelineCommandDeps, path: string): Promise<void> {
  try {
    const { pipeline } = await deps.model.submitPipeline(path);
    deps.model.filter = 'all';
    deps.app.shell.activateById(SIDEBAR_ID);
    Notification.success(
      `Pipeline ${path.split('/').pop()} submitted: ${pipeline.steps.length} step${pipeline.steps.length === 1 ? '' : 's'}, each after the ones it comes after.`,
      { autoClose: 5000 }
    );
  } catch (e) {
    notifyError(`Could not run the pipeline ${path}: ${(e as Error).message}`);
  }
}
