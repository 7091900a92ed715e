/**
 * Vega is large: JupyterLab loads and compiles it on the first chart drawn,
 * about 200 ms of the main thread. Done once in idle time, as soon as the
 * sidebar has a sweep with recorded values, the Results view then opens
 * without that wait.
 */
import { MimeModel, type IRenderMimeRegistry } from '@jupyterlab/rendermime';
import type { JobsModel } from './model';
import { hasVegaRenderer } from './chartView';
import { VEGALITE_MIME, chartBundle } from './resultsChart';

const TINY_SPEC = {
  data: { values: [{ x: 0, y: 0 }] },
  mark: 'point',
  encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } }
};

/** Draws a one-point chart off screen, once, when the model first holds a sweep's values. */
export function preloadChartWhenNeeded(
  model: JobsModel,
  rendermime: IRenderMimeRegistry | null
): void {
  if (!rendermime || !hasVegaRenderer(rendermime)) {
    return;
  }
  const look = () => {
    if (!model.jobs.some(job => job.sweepId !== undefined && job.results)) {
      return;
    }
    model.changed.disconnect(look);
    const idle = window.requestIdleCallback ?? ((run: () => void) => setTimeout(run, 200));
    idle(() => void drawOnce(rendermime));
  };
  model.changed.connect(look);
}

async function drawOnce(rendermime: IRenderMimeRegistry): Promise<void> {
  const renderer = rendermime.createRenderer(VEGALITE_MIME);
  try {
    await renderer.renderModel(new MimeModel(chartBundle(TINY_SPEC, 'svg')));
  } catch {
    // A failed warm-up costs nothing: the view draws (and reports) its own chart.
  } finally {
    renderer.dispose();
  }
}
