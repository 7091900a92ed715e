/** Every action as a command, so it is in the palette and can be bound to keys. */
import type { JupyterFrontEnd } from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import type { IDocumentManager } from '@jupyterlab/docmanager';
import type { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { isLive, runLabel } from './labels';
import { openLogPanel } from './logPanel';
import type { JobsModel } from './model';
import type { NotebookRunner } from './runner';
import { CommandIDs, SIDEBAR_ID } from './tokens';
import type { Job } from '../contract/wire';

export interface CommandDeps {
  app: JupyterFrontEnd;
  model: JobsModel;
  runner: NotebookRunner;
  tracker: INotebookTracker;
  docManager: IDocumentManager | null;
}

export function registerCommands(deps: CommandDeps): void {
  const { app, model, runner, tracker } = deps;
  const { commands, shell } = app;

  /** The job named by args, else the newest of the current notebook, else the newest of all. */
  const jobOf = (args: { id?: unknown }): Job | undefined => {
    if (typeof args.id === 'string') {
      return model.job(args.id);
    }
    const path = tracker.currentWidget?.context.path;
    return (path ? model.latestFor(path) : undefined) ?? model.jobs[0];
  };
  const withJob = (fn: (job: Job) => unknown) => (args: { id?: unknown }) => {
    const job = jobOf(args);
    if (!job) {
      Notification.warning('No job to act on: run a notebook first.', { autoClose: 5000 });
      return;
    }
    return fn(job);
  };

  commands.addCommand(CommandIDs.run, {
    label: () => runLabel(runner.chosenProfile(tracker.currentWidget)?.label),
    caption: "Execute the current notebook as a batch job with its profile's kernel",
    isEnabled: () => tracker.currentWidget !== null,
    execute: () => (tracker.currentWidget ? runner.run(tracker.currentWidget) : undefined)
  });

  commands.addCommand(CommandIDs.openSidebar, {
    label: 'Show GPU Jobs',
    execute: () => shell.activateById(SIDEBAR_ID)
  });

  commands.addCommand(CommandIDs.refresh, {
    label: 'Refresh GPU Jobs and Profiles',
    execute: () =>
      Promise.all([model.refreshProfiles(), model.refreshJobs(), model.refreshHealth()])
  });

  commands.addCommand(CommandIDs.cancel, {
    label: 'Cancel GPU Job',
    execute: withJob(async job => {
      if (!isLive(job)) {
        return Notification.info(`${job.notebook}: the run already ended (${job.state}).`, {
          autoClose: 5000
        });
      }
      try {
        model.upsert(await model.api.cancel(job.id));
      } catch (e) {
        Notification.error(`Could not cancel: ${(e as Error).message}`, { autoClose: 10_000 });
      }
    })
  });

  commands.addCommand(CommandIDs.openOutput, {
    label: 'Open Output of GPU Job',
    execute: withJob(job => openOutput(deps, job))
  });

  commands.addCommand(CommandIDs.showLog, {
    label: 'Show Log of GPU Job',
    execute: withJob(job => {
      const id = `jp-hpc-submit-log-${job.id}`;
      const open = [...shell.widgets('main')].find(w => w.id === id);
      if (open) {
        return shell.activateById(id);
      }
      shell.add(openLogPanel(job.id, model), 'main', { mode: 'split-right' });
    })
  });

  commands.addCommand(CommandIDs.rerun, {
    label: 'Run GPU Job Again',
    execute: withJob(job => runner.submit(job.notebook, job.profile, job.resources))
  });

  commands.addCommand(CommandIDs.forget, {
    label: 'Forget GPU Job',
    execute: withJob(async job => {
      if (isLive(job)) {
        return Notification.info(`${job.notebook}: cancel the run before forgetting it.`, {
          autoClose: 5000
        });
      }
      try {
        await model.api.forget(job.id);
        model.remove(job.id);
      } catch (e) {
        Notification.error(`Could not forget the job: ${(e as Error).message}`, {
          autoClose: 10_000
        });
      }
    })
  });

  commands.addCommand(CommandIDs.createKernel, {
    label: args =>
      `Create Kernel for Profile ${typeof args.profile === 'string' ? args.profile : ''}`.trim(),
    execute: async args => {
      const profile =
        typeof args.profile === 'string'
          ? args.profile
          : runner.chosenProfile(tracker.currentWidget)?.id;
      if (!profile) {
        return;
      }
      try {
        await model.api.createKernel(profile);
        Notification.success(`Kernel created for ${model.profile(profile)?.label ?? profile}.`, {
          autoClose: 4000
        });
        // A --user kernelspec is visible to the hub too: its display name shows in the sidebar.
        void app.serviceManager.kernelspecs.refreshSpecs().catch(() => undefined);
      } catch (e) {
        Notification.error((e as Error).message, { autoClose: 10_000 });
      }
      await model.refreshProfiles();
    }
  });
}

/** Opens the executed notebook; a failed run's at its first error. */
export async function openOutput(
  deps: Pick<CommandDeps, 'docManager' | 'app'>,
  job: Job
): Promise<void> {
  if (deps.docManager) {
    const widget = deps.docManager.openOrReveal(job.output);
    if (widget && job.state !== 'completed') {
      await revealFirstError(widget as unknown as NotebookPanel);
    }
    return;
  }
  await deps.app.commands.execute('docmanager:open', { path: job.output });
}

async function revealFirstError(panel: NotebookPanel): Promise<void> {
  if (!panel.content || !panel.context) {
    return;
  }
  await panel.context.ready;
  await panel.revealed;
  const index = panel.content.widgets.findIndex(cell => {
    const outputs = (cell.model as { outputs?: { toJSON(): { output_type: string }[] } }).outputs;
    return outputs?.toJSON().some(o => o.output_type === 'error');
  });
  if (index >= 0) {
    panel.content.activeCellIndex = index;
    await panel.content.scrollToItem(index);
  }
}
