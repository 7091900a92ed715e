/**
 * The Results view of a sweep, in the main area: a chart of a recorded value
 * against a swept parameter (JupyterLab's own Vega-Lite renderer, through
 * rendermime, in the theme's colours) over a table of every run's parameters
 * and values, sorted by a click, each value's best marked. It follows the
 * model: a task that ends shows at once, and the chart is drawn again only
 * when what it draws changed.
 */
import { MimeModel, type IRenderMimeRegistry } from '@jupyterlab/rendermime';
import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Panel, Widget } from '@lumino/widgets';
import React from 'react';
import { ChartControls, ResultsTableView, type TableSort } from './components/ResultsView';
import type { JobsModel } from './model';
import { RenderedView as View } from './renderedView';
import {
  type ChartChoice,
  VEGALITE_MIME,
  chartBundle,
  chartOptions,
  chartSpec,
  defaultChoice
} from './resultsChart';
import { sweepName } from './sweepLabels';
import { type ResultsTable, bestRow, resultsTable, sortedBy } from '../contract/results';
import { sweepProgress } from '../contract/rules';
import type { Job } from '../contract/wire';

/** Above this many runs the chart is drawn on a canvas (the table lists every run). */
const SVG_POINTS_AT_MOST = 300;

export class ResultsPanel extends Panel {
  private tasks: Job[] = [];
  private table: ResultsTable = resultsTable([]);
  private sort: TableSort | null = null;
  private choice: ChartChoice | undefined;
  private showAll = false;
  /** The runs picked for Compare, in the order picked. */
  private picked: string[] = [];
  private drawn = '';
  private renderer: IRenderMime.IRenderer | null = null;
  private chartFrame = 0;
  private readonly head = new View(() => this.renderHead());
  private readonly chart = new Panel();
  /** What the chart area says when it draws nothing. */
  private readonly chartNote = new Widget();
  private readonly rows = new View(() => this.renderTable());
  private readonly themeWatch = new MutationObserver(() => this.redrawChart(true));

  constructor(
    private readonly model: JobsModel,
    readonly sweepId: string,
    private readonly rendermime: IRenderMimeRegistry | null,
    private readonly compare: (a: string, b: string) => void
  ) {
    super();
    this.id = `jp-hpc-submit-results-${sweepId}`;
    this.addClass('jp-HpcSubmit-resultsPanel');
    this.title.closable = true;
    this.chart.addClass('jp-HpcSubmit-chart');
    this.chart.addWidget(this.chartNote);
    this.addWidget(this.head);
    this.addWidget(this.chart);
    this.addWidget(this.rows);
    model.changed.connect(this.follow, this);
    // The history is read a page at a time: the view asks for every task of its sweep.
    model.loadSweep(sweepId).catch((e: Error) => {
      this.chartNote.node.textContent = `The sweep's tasks could not be read: ${e.message}`;
    });
    // The Vega theme is chosen when the chart is drawn: a theme change draws it again.
    this.themeWatch.observe(document.body, { attributeFilter: ['data-jp-theme-light'] });
    this.follow();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.model.changed.disconnect(this.follow, this);
    this.themeWatch.disconnect();
    cancelAnimationFrame(this.chartFrame);
    this.renderer?.dispose();
    super.dispose();
  }

  /** The sweep's tasks as the model has them; nothing is redone when none of them changed. */
  private follow(): void {
    const tasks = this.model.sweepTasks(this.sweepId);
    if (tasks.length === this.tasks.length && tasks.every((t, i) => t === this.tasks[i])) {
      return;
    }
    this.tasks = tasks;
    const name = sweepName(tasks[0]?.notebook ?? this.sweepId);
    this.title.label = `Results: ${name}`;
    this.title.caption = `${name} (${this.sweepId}): ${sweepProgress(tasks, tasks[0]?.taskCount)}`;
    this.rebuild();
  }

  private rebuild(): void {
    const table = resultsTable(this.tasks);
    this.table = this.sort
      ? sortedBy(table, `${this.sort.descending ? '-' : ''}${this.sort.column}`)
      : table;
    const { ys, xs } = chartOptions(this.table);
    if (!this.choice || !ys.includes(this.choice.y) || !xs.includes(this.choice.x)) {
      this.choice = defaultChoice(this.table);
    }
    this.head.update();
    this.rows.update();
    this.scheduleChart();
  }

  /**
   * The chart is drawn in a frame of its own, after the table's: each stays
   * a short task, and tasks that end together are drawn once.
   */
  private scheduleChart(): void {
    if (this.chartFrame === 0) {
      this.chartFrame = requestAnimationFrame(() => {
        this.chartFrame = 0;
        if (!this.isDisposed) {
          this.redrawChart(false);
        }
      });
    }
  }

  private redrawChart(always: boolean): void {
    const choice = this.choice;
    const spec = choice ? chartSpec(this.table, choice) : null;
    const text = JSON.stringify(spec);
    if (!always && text === this.drawn) {
      return;
    }
    this.drawn = text;
    this.renderer?.dispose();
    this.renderer = null;
    this.chartNote.node.textContent = '';
    if (!spec) {
      this.chartNote.node.textContent =
        'A chart needs a recorded number and a parameter that varies across the runs.';
      return;
    }
    // Asked with the mime type alone: whether a renderer is registered for it.
    if (!this.rendermime?.preferredMimeType({ [VEGALITE_MIME]: {} })) {
      this.chartNote.node.textContent =
        "The chart needs JupyterLab's Vega renderer (@jupyterlab/vega5-extension), which is disabled here.";
      return;
    }
    const renderer = this.rendermime.createRenderer(VEGALITE_MIME);
    this.renderer = renderer;
    this.chart.addWidget(renderer);
    const points = (spec.data as { values: unknown[] }).values.length;
    // SVG, so that each run is a mark a test and a screen reader can find; a canvas
    // above a few hundred, where making a node per mark costs more than the marks say.
    const drawer = points > SVG_POINTS_AT_MOST ? 'canvas' : 'svg';
    delete this.chart.node.dataset.points;
    if (drawer === 'canvas') {
      this.chart.node.setAttribute('role', 'figure');
      this.chart.node.setAttribute(
        'aria-label',
        `${String(spec.description)}: ${points} runs, drawn on a canvas; the table below lists each run`
      );
    } else {
      this.chart.node.removeAttribute('role');
      this.chart.node.removeAttribute('aria-label');
    }
    void renderer.renderModel(new MimeModel(chartBundle(spec, drawer))).then(() => {
      if (this.renderer === renderer) {
        // Says the chart is drawn and of how many runs, for a canvas as for SVG.
        this.chart.node.dataset.points = String(points);
      }
    });
  }

  private renderHead(): JSX.Element {
    const { ys, xs } = chartOptions(this.table);
    const name = sweepName(this.tasks[0]?.notebook ?? this.sweepId);
    return (
      <div className="jp-HpcSubmit-resultsHead">
        <h2>{name}</h2>
        <p>{sweepProgress(this.tasks, this.tasks[0]?.taskCount)}</p>
        <button
          type="button"
          className="jp-HpcSubmit-compareButton jp-Button jp-mod-styled jp-mod-accept"
          disabled={this.picked.length !== 2}
          onClick={() => this.compare(this.picked[0], this.picked[1])}
        >
          {this.picked.length === 2
            ? 'Compare the two picked runs'
            : `Compare: pick ${2 - this.picked.length} more run${this.picked.length === 1 ? '' : 's'} in the table`}
        </button>
        {this.choice && (
          <ChartControls
            ys={ys}
            xs={xs}
            choice={this.choice}
            onChoice={choice => {
              this.choice = choice;
              this.head.update();
              this.redrawChart(false);
            }}
          />
        )}
      </div>
    );
  }

  private renderTable(): JSX.Element {
    const best = new Map<string, number>();
    for (const name of this.table.results) {
      const row = bestRow(this.table, name);
      if (row !== undefined) {
        best.set(name, row);
      }
    }
    return (
      <ResultsTableView
        table={this.table}
        sort={this.sort}
        best={best}
        showAll={this.showAll}
        onSort={column => {
          const descending = this.sort?.column === column && !this.sort.descending;
          this.sort = { column, descending };
          this.rebuild();
        }}
        onShowAll={() => {
          this.showAll = true;
          this.rows.update();
        }}
        picked={this.picked}
        onPick={(jobId, picked) => {
          this.picked = picked
            ? [...this.picked, jobId].slice(-2)
            : this.picked.filter(id => id !== jobId);
          this.head.update();
          this.rows.update();
        }}
      />
    );
  }
}
