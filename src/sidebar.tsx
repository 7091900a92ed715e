/** The jobs sidebar: connects the model and the current notebook to JobsPanel. */
import type { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { ReactWidget } from '@jupyterlab/ui-components';
import React from 'react';
import { type JobActions } from './components/JobRow';
import { JobsPanel } from './components/JobsPanel';
import { hpcIcon } from './icons';
import { summarizeKernels } from './kernelInfo';
import { baseName } from './labels';
import type { JobsModel } from './model';
import type { NotebookRunner } from './runner';
import { SIDEBAR_ID } from './tokens';

export class JobsSidebar extends ReactWidget {
  private ticker: number | null = null;
  private creatingKernel = false;
  private watched: NotebookPanel | null = null;

  constructor(
    private readonly model: JobsModel,
    private readonly tracker: INotebookTracker,
    private readonly runner: NotebookRunner,
    private readonly actions: JobActions,
    private readonly createKernel: (profile: string) => Promise<void>
  ) {
    super();
    this.id = SIDEBAR_ID;
    this.title.icon = hpcIcon;
    this.title.caption = 'GPU jobs';
    this.addClass('jp-HpcSubmit-sidebar');
    model.changed.connect(this.onChange, this);
    tracker.currentChanged.connect(this.watchCurrent, this);
    this.watchCurrent();
  }

  dispose(): void {
    if (this.ticker !== null) window.clearInterval(this.ticker);
    super.dispose();
  }

  private onChange(): void {
    // Tick once a second only while a job runs: elapsed times move.
    if (this.model.anyRunning && this.ticker === null) {
      this.ticker = window.setInterval(() => this.update(), 1000);
    } else if (!this.model.anyRunning && this.ticker !== null) {
      window.clearInterval(this.ticker);
      this.ticker = null;
    }
    this.update();
  }

  private watchCurrent(): void {
    const panel = this.tracker.currentWidget;
    if (this.watched) {
      this.watched.sessionContext.kernelChanged.disconnect(this.onChange, this);
      this.watched.model?.metadataChanged.disconnect(this.onChange, this);
    }
    this.watched = panel;
    if (panel) {
      panel.sessionContext.kernelChanged.connect(this.onChange, this);
      panel.context.ready.then(() => {
        if (this.watched === panel) panel.model?.metadataChanged.connect(this.onChange, this);
        this.onChange();
      });
    }
    this.model.currentNotebook = panel?.context.path ?? null;
    this.update();
  }

  protected render(): JSX.Element {
    const panel = this.tracker.currentWidget;
    const profile = panel ? this.runner.chosenProfile(panel) : undefined;
    const session = panel?.sessionContext;
    const kernelName = session?.session?.kernel?.name ?? '';
    const kernels = panel
      ? summarizeKernels({ name: kernelName, displayName: kernelName ? session?.kernelDisplayName ?? kernelName : '' }, profile)
      : null;
    const labels: Record<string, string> = {};
    for (const p of this.model.profiles) labels[p.id] = p.label;
    return (
      <JobsPanel
        jobs={this.model.visibleJobs}
        now={Date.now()}
        filter={this.model.filter}
        notebookName={panel ? baseName(panel.context.path) : null}
        profile={profile}
        kernels={kernels}
        profileLabels={labels}
        schedulerReachable={this.model.schedulerReachable}
        schedulerMessage={this.model.schedulerMessage}
        companionError={this.model.companionError}
        creatingKernel={this.creatingKernel}
        actions={this.actions}
        onFilter={(f) => (this.model.filter = f)}
        onCreateKernel={async (id) => {
          this.creatingKernel = true;
          this.update();
          try {
            await this.createKernel(id);
          } finally {
            this.creatingKernel = false;
            this.update();
          }
        }}
      />
    );
  }
}
