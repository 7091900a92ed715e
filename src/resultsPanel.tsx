/**
 * The Results view of a sweep, in the main area: a chart of a recorded value
 * against a swept parameter (JupyterLab's own Vega-Lite renderer, through
 * rendermime, in the theme's colours) over a table of every run's parameters
 * and values, sorted by a click, each value's best marked. It follows the
 * model: a task that ends shows at once, and the chart is drawn again only
 * when what it draws changed.
 */
import type { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { Panel } from '@lumino/widgets';
import React from 'react';
import { ChartControls, ResultsTableView, type TableSort } from './components/ResultsView';
import type { JobsModel } from './model';
import { RenderedView as View } from './renderedView';
import { ChartView } from './chartView';
import { type ChartChoice, chartOptions, chartSpec, defaultChoice } from './resultsChart';
import { sweepName } from './sweepLabels';
import { type ResultsTable, bestRow, resultsTable, sortedBy } from '../contract/results';
import { sweepProgress } from '../contract/rules';
import type { Job } from '../contract/wire';

export class ResultsPanel extends Panel {
  private tasks: Job[] = [];
  private table: ResultsTable = resultsTable([]);
  private sort: TableSort | null = null;
  private choice: ChartChoice | undefined;
  private showAll = false;
  /** The runs picked for Compare, in the order picked. */
  private picked: string[] = [];
  private chartFrame = 0;
  /** Set once every task of the sweep has been read (GET /api/sweeps/:id). */
  private allRead = false;
  private readonly head = new View(() => this.renderHead());
  private readonly chart: ChartView;
  private readonly rows = new View(() => this.renderTable());
  private readonly themeWatch = new MutationObserver(() => this.redrawChart(true));

  constructor(
    private readonly model: JobsModel,
    readonly sweepId: string,
    rendermime: IRenderMimeRegistry | null,
    private readonly compare: (a: string, b: string) => void
  ) {
    super();
    this.id = `jp-hpc-submit-results-${sweepId}`;
    this.addClass('jp-HpcSubmit-resultsPanel');
    this.title.closable = true;
    this.chart = new ChartView(rendermime);
    this.addWidget(this.head);
    this.addWidget(this.chart);
    this.addWidget(this.rows);
    model.changed.connect(this.follow, this);
    // The history is read a page at a time: the view asks for every task of its sweep.
    model
      .loadSweep(sweepId)
      .then(() => {
        this.allRead = true;
        this.scheduleChart();
      })
      .catch((e: Error) => {
        this.chart.say(`The sweep's tasks could not be read: ${e.message}`);
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
    // Until the whole sweep is read the chart waits: drawn from a page of it, it would be drawn twice.
    const partial = this.tasks.length < (this.tasks[0]?.taskCount ?? 0);
    if (!this.allRead && partial) {
      this.chart.say("Reading the sweep's tasks…");
      return;
    }
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
    this.chart.draw(this.choice ? chartSpec(this.table, this.choice) : null, always);
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
