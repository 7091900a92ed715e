/**
 * Which notebook is in front, from JupyterLab's notebook tracker, renames
 * included. Typed by what it reads, so the model's tests give it a stand-in.
 */
import type { ISignal } from '@lumino/signaling';

/** What is read of JupyterLab's notebook tracker: the notebook in front, and its renames. */
export interface CurrentNotebookSource {
  readonly currentWidget: {
    readonly context: { readonly path: string; readonly pathChanged: ISignal<any, string> };
  } | null;
  readonly currentChanged: ISignal<any, any>;
}

/** Tells `onPath` the front notebook's path (null: none) now, on a change of tab, and on a rename. */
export function followCurrentNotebook(
  tracker: CurrentNotebookSource,
  onPath: (path: string | null) => void
): void {
  let watched: CurrentNotebookSource['currentWidget'] = null;
  const follow = (): void => {
    const panel = tracker.currentWidget;
    if (panel !== watched) {
      watched?.context.pathChanged.disconnect(follow);
      panel?.context.pathChanged.connect(follow);
      watched = panel;
    }
    onPath(panel?.context.path ?? null);
  };
  tracker.currentChanged.connect(follow);
  follow();
}
