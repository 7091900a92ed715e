/**
 * Compare, in the main area: two runs' parameters, recorded values and run
 * records side by side, over nbdime's diff of their executed notebooks. The
 * older run is the diff's base. It reads both runs' details again when one
 * of them ends, so a live run's column fills in.
 */
import { Panel, Widget } from '@lumino/widgets';
import React from 'react';
import { CompareTable } from './components/CompareView';
import { type CompareRow, compareDetails, runHeading, undiffable } from './compareRows';
import type { JobsModel } from './model';
import { NBDIME_MISSING, nbdimeAvailable, nbdimeDiffUrl } from './nbdime';
import { RenderedView } from './renderedView';
import type { Job, JobDetails } from '../contract/wire';

/** One panel per pair, whichever way round it was asked. */
export const comparePanelId = (a: string, b: string): string =>
  `jp-hpc-submit-compare-${[a, b].sort().join('-')}`;

export class ComparePanel extends Panel {
  private details: [JobDetails, JobDetails] | null = null;
  private rows: CompareRow[] = [];
  private error = '';
  private onlyDiffering = false;
  private diffed = '';
  private readonly table = new RenderedView(() => this.renderTable());
  private readonly diff = new Widget();

  /** `a` and `b` in either order: the older run is shown first. */
  constructor(
    private readonly model: JobsModel,
    readonly a: string,
    readonly b: string
  ) {
    super();
    this.id = comparePanelId(a, b);
    this.addClass('jp-HpcSubmit-comparePanel');
    this.title.closable = true;
    this.title.label = 'Compare runs';
    this.diff.addClass('jp-HpcSubmit-diff');
    this.addWidget(this.table);
    this.addWidget(this.diff);
    model.jobEnded.connect(this.onEnded, this);
    void this.load();
  }

  dispose(): void {
    if (!this.isDisposed) {
      this.model.jobEnded.disconnect(this.onEnded, this);
      super.dispose();
    }
  }

  private onEnded(_: JobsModel, job: Job): void {
    if (job.id === this.a || job.id === this.b) {
      void this.load();
    }
  }

  private async load(): Promise<void> {
    let both: [JobDetails, JobDetails];
    try {
      both = await Promise.all([this.model.details(this.a), this.model.details(this.b)]);
    } catch (e) {
      this.error = `The runs could not be read: ${(e as Error).message}`;
      this.table.update();
      return;
    }
    if (this.isDisposed) {
      return;
    }
    // Older first; a sweep's tasks, submitted together, by their place in it.
    both.sort(
      (x, y) =>
        x.job.submittedAt.localeCompare(y.job.submittedAt) ||
        (x.job.taskIndex ?? 0) - (y.job.taskIndex ?? 0)
    );
    this.details = both;
    this.rows = compareDetails(both[0], both[1]);
    this.error = '';
    const [older, newer] = both.map(d => runHeading(d.job));
    this.title.caption = `${both[0].job.notebook}: ${older} and ${newer}`;
    this.table.update();
    await this.showDiff(both);
  }

  /** The diff frame, or a sentence saying why there is none; the frame is kept while its files are. */
  private async showDiff([base, remote]: [JobDetails, JobDetails]): Promise<void> {
    const missing = [base, remote].map(undiffable).filter(Boolean);
    if (missing.length > 0) {
      this.noDiff(`${missing.join('. ')}.`);
      return;
    }
    if (!(await nbdimeAvailable())) {
      this.noDiff(NBDIME_MISSING);
      return;
    }
    const url = nbdimeDiffUrl(base.executed!.path, remote.executed!.path);
    if (url === this.diffed || this.isDisposed) {
      return;
    }
    this.diffed = url;
    const frame = document.createElement('iframe');
    frame.title = `Notebook diff: ${runHeading(base.job)} and ${runHeading(remote.job)}`;
    frame.src = url;
    this.diff.node.replaceChildren(frame);
  }

  private noDiff(sentence: string): void {
    this.diffed = '';
    const note = document.createElement('p');
    note.className = 'jp-HpcSubmit-diffNote';
    note.textContent = sentence;
    this.diff.node.replaceChildren(note);
  }

  private renderTable(): JSX.Element {
    if (this.error) {
      return <p className="jp-HpcSubmit-compareError">{this.error}</p>;
    }
    if (!this.details) {
      return <p className="jp-HpcSubmit-compareLoading">Reading the two runs…</p>;
    }
    const [older, newer] = this.details.map(d => d.job);
    return (
      <div className="jp-HpcSubmit-compare">
        <h2>
          {older.notebook === newer.notebook
            ? `Compare runs of ${older.notebook}`
            : `Compare a run of ${older.notebook} with a run of ${newer.notebook}`}
        </h2>
        <CompareTable
          headings={[runHeading(older), runHeading(newer)]}
          ids={[older.id, newer.id]}
          rows={this.rows}
          onlyDiffering={this.onlyDiffering}
          onOnlyDiffering={only => {
            this.onlyDiffering = only;
            this.table.update();
          }}
        />
      </div>
    );
  }
}
