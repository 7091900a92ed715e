/** The jobs sidebar: connects the model, the current notebook and the kernelspecs to JobsPanel. */
import type { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import type { KernelSpec } from '@jupyterlab/services';
import { ReactWidget } from '@jupyterlab/ui-components';
import React from 'react';
import { type JobActions } from './components/JobRow';
import { JobsPanel } from './components/JobsPanel';
import { hpcIcon } from './icons';
import { type KernelSpecMap, resolveNotebookKernel, summarizeKernels } from './kernelInfo';
import { baseName } from './labels';
import type { JobsModel } from './model';
import type { NotebookRunner } from './runner';
import { SIDEBAR_ID } from './tokens';

const TICK_MS = 1000;

export class JobsSidebar extends ReactWidget {
  private ticker: number | null = null;
  private creatingKernel = false;
  private watched: NotebookPanel | null = null;

  constructor(
    private readonly model: JobsModel,
    private readonly tracker: INotebookTracker,
    private readonly runner: NotebookRunner,
    private readonly kernelspecs: KernelSpec.IManager,
    private readonly actions: JobActions,
    private readonly createKernel: (profile: string) => Promise<void>
  ) {
    super();
    this.id = SIDEBAR_ID;
    this.title.icon = hpcIcon;
    this.title.caption = 'GPU jobs';
    this.addClass('jp-HpcSubmit-sidebar');
    model.changed.connect(this.onChange, this);
    kernelspecs.specsChanged.connect(this.onChange, this);
    tracker.currentChanged.connect(this.watchCurrent, this);
    this.watchCurrent();
  }

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.stopTicking();
    this.unwatch();
    this.model.changed.disconnect(this.onChange, this);
    this.kernelspecs.specsChanged.disconnect(this.onChange, this);
    this.tracker.currentChanged.disconnect(this.watchCurrent, this);
    super.dispose();
  }

  private onChange(): void {
    // Tick once a second only while a job is live: only then do elapsed times move.
    if (this.model.anyRunning && this.ticker === null) {
      this.ticker = window.setInterval(() => this.update(), TICK_MS);
    } else if (!this.model.anyRunning) {
      this.stopTicking();
    }
    this.update();
  }

  private stopTicking(): void {
    if (this.ticker !== null) {
      window.clearInterval(this.ticker);
    }
    this.ticker = null;
  }

  private unwatch(): void {
    const old = this.watched;
    if (!old) {
      return;
    }
    old.sessionContext.kernelChanged.disconnect(this.onChange, this);
    old.sessionContext.kernelPreferenceChanged.disconnect(this.onChange, this);
    old.context.pathChanged.disconnect(this.watchCurrent, this);
    old.model?.metadataChanged.disconnect(this.onChange, this);
    this.watched = null;
  }

  private watchCurrent(): void {
    const panel = this.tracker.currentWidget;
    if (panel !== this.watched) {
      this.unwatch();
      this.watched = panel;
      if (panel) {
        panel.sessionContext.kernelChanged.connect(this.onChange, this);
        panel.sessionContext.kernelPreferenceChanged.connect(this.onChange, this);
        // A rename changes which jobs are "this notebook's".
        panel.context.pathChanged.connect(this.watchCurrent, this);
        void panel.context.ready.then(() => {
          if (this.watched === panel) {
            panel.model?.metadataChanged.connect(this.onChange, this);
          }
          this.onChange();
        });
      }
    }
    this.model.currentNotebook = panel?.context.path ?? null;
    this.update();
  }

  protected render(): JSX.Element {
    const panel = this.tracker.currentWidget;
    const profile = panel ? this.runner.chosenProfile(panel) : undefined;
    const specs = (this.kernelspecs.specs?.kernelspecs ?? null) as KernelSpecMap | null;
    let kernels = null;
    if (panel) {
      const session = panel.sessionContext;
      const fileSpec = panel.model?.getMetadata('kernelspec') as { name?: unknown } | undefined;
      const notebook = resolveNotebookKernel(
        {
          running: session.session?.kernel?.name,
          preferred: session.kernelPreference.name,
          metadata: typeof fileSpec?.name === 'string' ? fileSpec.name : undefined,
          displayName: session.kernelDisplayName
        },
        specs
      );
      kernels = summarizeKernels(notebook, profile, specs);
    }
    const labels: Record<string, string> = {};
    for (const p of this.model.profiles) {
      labels[p.id] = p.label;
    }
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
        onFilter={f => (this.model.filter = f)}
        onCreateKernel={async id => {
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
