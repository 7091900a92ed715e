/**
 * The Results view's chart as a Vega-Lite spec, for the Vega renderer
 * JupyterLab ships (application/vnd.vegalite.v5+json through rendermime): a
 * recorded value against a swept parameter, one line per value of a second
 * parameter when there is one, points where the parameter is not a number.
 * Pure.
 */
import type { ResultsTable } from '../contract/results';
import type { ResultValue } from '../contract/wire';

export const VEGALITE_MIME = 'application/vnd.vegalite.v5+json';

/**
 * JupyterLab's Vega renderer draws each chart a second time, as a PNG for a
 * notebook to save, unless its data has one already: the Results view saves
 * nothing, so it hands over a 1x1 one. Half the cost of every redraw.
 */
const NO_PNG =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';

/** The mime bundle for rendermime's Vega renderer: the spec, drawn as `drawer` says, no export menu. */
export function chartBundle(
  spec: Record<string, unknown>,
  drawer: 'svg' | 'canvas'
): { data: Record<string, never>; metadata: Record<string, never> } {
  return {
    data: { [VEGALITE_MIME]: spec as never, 'image/png': NO_PNG as never },
    metadata: { [VEGALITE_MIME]: { embed_options: { renderer: drawer, actions: false } } as never }
  };
}

/** What is drawn: a recorded value (y) against a parameter (x), by another (color). */
export interface ChartChoice {
  y: string;
  x: string;
  color?: string;
}

function column(table: ResultsTable, name: string): ResultValue[] {
  const at = table.columns.indexOf(name);
  return table.rows.map(({ cells }) => cells[at] ?? null);
}

const distinct = (values: ResultValue[]): number =>
  new Set(values.map(v => JSON.stringify(v))).size;

/** The recorded values that have a number, and the parameters that vary: what may be chosen. */
export function chartOptions(table: ResultsTable): { ys: string[]; xs: string[] } {
  return {
    ys: table.results.filter(name => column(table, name).some(v => typeof v === 'number')),
    xs: table.parameters.filter(name => distinct(column(table, name)) > 1)
  };
}

/** The first value against the first swept parameter, by the second; undefined when nothing can be drawn. */
export function defaultChoice(table: ResultsTable): ChartChoice | undefined {
  const { ys, xs } = chartOptions(table);
  if (ys.length === 0 || xs.length === 0) {
    return undefined;
  }
  return { y: ys[0], x: xs[0], ...(xs[1] ? { color: xs[1] } : {}) };
}

/** A parameter's value as the chart shows it: a number stays one, anything else is its text. */
const plotted = (v: ResultValue): number | string =>
  typeof v === 'number' ? v : typeof v === 'string' ? v : JSON.stringify(v);

/** The name of the chart's one data set: the runs drawn. */
export const CHART_DATA = 'runs';

/** The runs a spec draws. */
export function chartValues(spec: Record<string, unknown>): unknown[] {
  return (spec.datasets as Record<string, unknown[]>)[CHART_DATA];
}

/** What a spec draws but its runs: two specs of one shape differ in their data alone. */
export function chartShape(spec: Record<string, unknown>): string {
  return JSON.stringify({ ...spec, datasets: undefined });
}

/** The spec: one datum per run with a number to draw. */
export function chartSpec(table: ResultsTable, choice: ChartChoice): Record<string, unknown> {
  const [xs, ys] = [column(table, choice.x), column(table, choice.y)];
  const colors = choice.color ? column(table, choice.color) : [];
  const values = table.rows.flatMap(({ cells }, i) =>
    typeof ys[i] === 'number'
      ? [
          {
            run: cells[0],
            x: plotted(xs[i]),
            y: ys[i],
            ...(choice.color ? { color: plotted(colors[i]) } : {})
          }
        ]
      : []
  );
  const numericX = values.length > 0 && values.every(v => typeof v.x === 'number');
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    description: `${choice.y} against ${choice.x}${choice.color ? ` by ${choice.color}` : ''}`,
    width: 360,
    height: 220,
    // Named, so that a task's end changes the drawn view's data, not the whole chart.
    data: { name: CHART_DATA },
    datasets: { [CHART_DATA]: values },
    mark: numericX ? { type: 'line', point: true } : { type: 'point', filled: true, size: 60 },
    encoding: {
      x: { field: 'x', type: numericX ? 'quantitative' : 'nominal', title: choice.x },
      y: { field: 'y', type: 'quantitative', title: choice.y, scale: { zero: false } },
      ...(choice.color ? { color: { field: 'color', type: 'nominal', title: choice.color } } : {}),
      tooltip: [
        { field: 'run', title: table.columns[0] },
        { field: 'x', title: choice.x },
        { field: 'y', title: choice.y },
        ...(choice.color ? [{ field: 'color', title: choice.color }] : [])
      ]
    }
  };
}
