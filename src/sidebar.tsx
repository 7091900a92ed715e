/** The jobs sidebar: connects the model, the current notebook and the kernelspecs to JobsPanel. */
import type { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { Notification } from '@jupyterlab/apputils';
import type { KernelSpec } from '@jupyterlab/services';
import { ReactWidget } from '@jupyterlab/ui-components';
import React from 'react';
import type { JobActions } from './components/JobRow';
import { JobsPanel } from './components/JobsPanel';
import { type ScheduleActions, SchedulesSection } from './components/SchedulesSection';
import type { SchedulesModel } from './scheduleModel';
import type { PipelineActions } from './components/PipelineGroup';
import type { SweepActions } from './components/SweepGroup';
import { hpcIcon } from './icons';
import { type ListEntry, ListEntries } from './jobGroups';
import { notebookKey } from './jobList';
import {
  type KernelSpecMap,
  type KernelSummary,
  resolveNotebookKernel,
  summarizeKernels
} from './kernelInfo';
import { baseName } from './labels';
import type { JobsModel } from './model';
import type { NotebookRunner } from './runner';
import { SIDEBAR_ID } from './tokens';
import { isLive } from '../contract/rules';
import type { ProfileStatus, SetupAction } from '../contract/wire';

const TICK_MS = 1000;

/** What the sidebar's buttons do. */
export interface SidebarActions {
  actions: JobActions;
  /** Creates the kernel or installs the environment of the current notebook's choice. */
  setup(action: SetupAction): Promise<unknown>;
  /** Opens the setup check. */
  checkSetup(): void;
  /** Shows a folder in the file browser (a sweep's outputs); without it the sweep has no such button. */
  openFolder?(path: string): void;
  /** Opens a sweep's Results view. */
  openResults(sweepId: string): void;
}

export class JobsSidebar extends ReactWidget {
  private ticker: number | null = null;
  private settingUp = false;
  private watched: NotebookPanel | null = null;
  private readonly listEntries = new ListEntries(isLive);
  private readonly sweepActions: SweepActions;
  private readonly pipelineActions: PipelineActions;
  private readonly scheduleActions: ScheduleActions;

  constructor(
    private readonly model: JobsModel,
    private readonly tracker: INotebookTracker,
    private readonly runner: NotebookRunner,
    private readonly kernelspecs: KernelSpec.IManager,
    private readonly buttons: SidebarActions,
    private readonly schedules: SchedulesModel
  ) {
    super();
    this.id = SIDEBAR_ID;
    this.title.icon = hpcIcon;
    this.title.caption = 'GPU jobs';
    this.addClass('jp-HpcSubmit-sidebar');
    this.sweepActions = {
      cancelAll: id => void refusalShown(model.cancelSweep(id)),
      rerunFailed: id => void refusalShown(model.rerunFailed(id)),
      openResults: buttons.openResults,
      ...(buttons.openFolder ? { openFolder: buttons.openFolder } : {})
    };
    this.pipelineActions = {
      cancelAll: id => void refusalShown(model.cancelPipeline(id)),
      rerunFromFailed: id => void refusalShown(model.rerunPipeline(id)),
      ...(buttons.openFolder ? { openFolder: buttons.openFolder } : {})
    };
    this.scheduleActions = {
      setPaused: (id, paused) => void refusalShown(schedules.setPaused(id, paused)),
      remove: id => void refusalShown(schedules.remove(id))
    };
    schedules.changed.connect(this.onChange, this);
    model.changed.connect(this.onChange, this);
    kernelspecs.specsChanged.connect(this.onChange, this);
    tracker.currentChanged.connect(this.watchCurrent, this);
    this.watchCurrent();
  }

  /** The schedules' next and last starts, read again each time the sidebar is shown. */
  protected onAfterShow(): void {
    void this.schedules.refresh();
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
    this.update();
  }

  protected render(): JSX.Element {
    const panel = this.tracker.currentWidget;
    const profile = panel ? this.runner.chosenProfile(panel) : undefined;
    return (
      <>
        <JobsPanel
          entries={this.entries()}
          currentGroup={
            this.model.currentNotebook
              ? `notebook:${notebookKey({ notebook: this.model.currentNotebook })}`
              : undefined
          }
          hasMore={this.model.hasMore}
          loadingMore={this.model.loadingMore}
          onLoadMore={() => void this.model.loadMore()}
          sweepActions={this.sweepActions}
          pipelineActions={this.pipelineActions}
          now={Date.now()}
          filter={this.model.filter}
          notebookName={panel ? baseName(panel.context.path) : null}
          profile={profile}
          kernels={panel ? this.kernels(panel, profile) : null}
          profileLabels={this.profileLabels()}
          schedulerReachable={this.model.schedulerReachable}
          schedulerMessage={this.model.schedulerMessage}
          companionError={this.model.companionError}
          settingUp={this.settingUp}
          actions={this.buttons.actions}
          onFilter={f => (this.model.filter = f)}
          onSetup={action => void this.setup(action)}
          onCheckSetup={this.buttons.checkSetup}
        />
        <SchedulesSection
          schedules={this.schedules.list}
          error={this.schedules.error}
          actions={this.scheduleActions}
        />
      </>
    );
  }

  /**
   * "This notebook": its runs and sweeps. "All" (or no notebook open): one
   * group per pipeline, then one per notebook. Made again only for the notebooks whose runs changed,
   * not on each tick of the clock nor for an event of another notebook.
   */
  private entries(): ListEntry[] {
    const { filter, currentNotebook } = this.model;
    return filter === 'notebook' && currentNotebook
      ? this.listEntries.runEntries(this.model.visibleJobs)
      : this.listEntries.allGroups(this.model.pipelineLists, this.model.notebookLists);
  }

  /** The notebook's kernel on the hub next to the one its run will use. */
  private kernels(panel: NotebookPanel, profile: ProfileStatus | undefined): KernelSummary {
    const specs = (this.kernelspecs.specs?.kernelspecs ?? null) as KernelSpecMap | null;
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
    return summarizeKernels(notebook, profile, specs);
  }

  private profileLabels(): Record<string, string> {
    return Object.fromEntries(this.model.profiles.map(p => [p.id, p.label]));
  }

  /** The button waits until the task has started (its log panel then follows it). */
  private async setup(action: SetupAction): Promise<void> {
    this.settingUp = true;
    this.update();
    try {
      await this.buttons.setup(action);
    } finally {
      this.settingUp = false;
      this.update();
    }
  }
}

/** A refused sweep action says why; the list keeps what it showed. */
async function refusalShown(action: Promise<unknown>): Promise<void> {
  try {
    await action;
  } catch (e) {
    Notification.error((e as Error).message, { autoClose: false });
  }
}
