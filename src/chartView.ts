/**
 * The Results view's chart: a Vega-Lite spec drawn by JupyterLab's own Vega
 * renderer through rendermime, or a sentence where nothing can be drawn.
 * When only the runs change (a task ended), the drawn view takes the new
 * data instead of the whole chart being compiled and drawn again.
 */
import { MimeModel, type IRenderMimeRegistry } from '@jupyterlab/rendermime';
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Panel, Widget } from '@lumino/widgets';
import { CHART_DATA, VEGALITE_MIME, chartBundle, chartShape, chartValues } from './resultsChart';

/** Above this many runs the chart is drawn on a canvas (the table lists every run). */
const SVG_POINTS_AT_MOST = 300;

/** Whether JupyterLab's Vega-Lite renderer is registered (asked with the mime type alone). */
export function hasVegaRenderer(rendermime: IRenderMimeRegistry | null): boolean {
  return !!rendermime?.preferredMimeType({ [VEGALITE_MIME]: {} });
}

/** What the chart needs of a Vega view: new values for its data set. */
interface VegaView {
  data(name: string, values: unknown[]): { runAsync(): Promise<unknown> };
}

/**
 * The Vega view JupyterLab's renderer drew: it keeps vega-embed's result as
 * `_result`, which is not public API, so the chart only uses it where it is
 * there and draws anew otherwise.
 */
function drawnView(renderer: IRenderMime.IRenderer | null): VegaView | null {
  const view = (renderer as unknown as { _result?: { view?: Partial<VegaView> } } | null)?._result
    ?.view;
  return typeof view?.data === 'function' ? (view as VegaView) : null;
}

export class ChartView extends Panel {
  private renderer: IRenderMime.IRenderer | null = null;
  /** The drawn spec but its runs, how it was drawn, and its runs. */
  private shape = '';
  private drawer: 'svg' | 'canvas' | null = null;
  private data = '';
  private readonly note = new Widget();

  constructor(private readonly rendermime: IRenderMimeRegistry | null) {
    super();
    this.addClass('jp-HpcSubmit-chart');
    this.addWidget(this.note);
  }

  dispose(): void {
    this.renderer?.dispose();
    super.dispose();
  }

  /** A sentence instead of a chart. */
  say(text: string): void {
    this.clear();
    this.note.node.textContent = text;
  }

  /** Draws `spec` (null: nothing to draw); `always` draws anew even when nothing changed (a new theme). */
  draw(spec: Record<string, unknown> | null, always = false): void {
    if (!spec) {
      this.say('A chart needs a recorded number and a parameter that varies across the runs.');
      return;
    }
    if (!hasVegaRenderer(this.rendermime)) {
      this.say(
        "The chart needs JupyterLab's Vega renderer (@jupyterlab/vega5-extension), which is disabled here."
      );
      return;
    }
    const values = chartValues(spec);
    // SVG, so that each run is a mark a test and a screen reader can find; a canvas
    // above a few hundred, where making a node per mark costs more than the marks say.
    const drawer = values.length > SVG_POINTS_AT_MOST ? 'canvas' : 'svg';
    const shape = chartShape(spec);
    const data = JSON.stringify(values);
    const same = !always && shape === this.shape && drawer === this.drawer;
    if (same && data === this.data) {
      return;
    }
    const view = same ? drawnView(this.renderer) : null;
    if (view) {
      this.data = data;
      void view
        .data(CHART_DATA, values)
        .runAsync()
        .then(() => this.drawn(values.length, spec));
      return;
    }
    this.drawAnew(spec, { shape, drawer, data });
  }

  private drawAnew(
    spec: Record<string, unknown>,
    drawnAs: { shape: string; drawer: 'svg' | 'canvas'; data: string }
  ): void {
    this.clear();
    const renderer = this.rendermime!.createRenderer(VEGALITE_MIME);
    this.renderer = renderer;
    this.shape = drawnAs.shape;
    this.drawer = drawnAs.drawer;
    this.data = drawnAs.data;
    this.addWidget(renderer);
    void renderer.renderModel(new MimeModel(chartBundle(spec, drawnAs.drawer))).then(() => {
      if (this.renderer === renderer) {
        this.drawn(chartValues(spec).length, spec);
      }
    });
  }

  /** Says the chart is drawn and of how many runs, for a canvas as for SVG. */
  private drawn(points: number, spec: Record<string, unknown>): void {
    this.node.dataset.points = String(points);
    if (this.drawer === 'canvas') {
      this.node.setAttribute('role', 'figure');
      this.node.setAttribute(
        'aria-label',
        `${String(spec.description)}: ${points} runs, drawn on a canvas; the table below lists each run`
      );
    } else {
      this.node.removeAttribute('role');
      this.node.removeAttribute('aria-label');
    }
  }

  private clear(): void {
    this.renderer?.dispose();
    this.renderer = null;
    this.shape = '';
    this.drawer = null;
    this.data = '';
    this.note.node.textContent = '';
    delete this.node.dataset.points;
  }
}
