/**
 * Running a notebook: the chosen profile (from its metadata), saving unsaved
 * changes first, refusing early when the profile cannot run, and telling the
 * user what happened.
 */
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { chooseProfile, loadChoice, saveChoice } from './metadata';
import type { JobsModel } from './model';
import type { SubmitSettings } from './settings';
import type { Job, ProfileStatus } from '../contract/wire';

/**
 * Problems after which a submission cannot succeed: say so instead of
 * submitting. Not 'environment-broken': a slow first start of an environment
 * can look broken to the check and still run.
 */
const BLOCKING = new Set(['kernel-missing', 'launcher-missing']);

export class NotebookRunner {
  /** Notebooks with a submission in flight: a double click submits once. */
  private readonly inFlight = new Set<string>();

  constructor(
    private readonly model: JobsModel,
    private readonly settings: () => SubmitSettings,
    private readonly reveal: () => void
  ) {}

  chosenProfile(panel: NotebookPanel | null): ProfileStatus | undefined {
    return chooseProfile(
      loadChoice(panel?.model),
      this.model.profiles,
      this.settings().defaultProfile
    );
  }

  setProfile(panel: NotebookPanel, profile: string): void {
    if (panel.model) {
      saveChoice(panel.model, profile);
    }
  }

  async run(panel: NotebookPanel): Promise<Job | undefined> {
    const path = panel.context.path;
    if (this.inFlight.has(path)) {
      return;
    }
    this.inFlight.add(path);
    try {
      return await this.runUnguarded(panel);
    } finally {
      this.inFlight.delete(path);
    }
  }

  private async runUnguarded(panel: NotebookPanel): Promise<Job | undefined> {
    const path = panel.context.path;
    if (this.model.profiles.length === 0) {
      await this.model.refreshProfiles();
    }
    const profile = this.chosenProfile(panel);
    if (!profile) {
      Notification.error(
        this.model.companionError ?? 'No hardware profiles are configured for this site.',
        { autoClose: 10_000 }
      );
      return;
    }
    const blocking = profile.problems.find(p => BLOCKING.has(p.code));
    if (blocking) {
      this.reveal();
      const fix = blocking.fix ? ` Fix: ${blocking.fix}` : '';
      Notification.error(`${profile.label}: ${blocking.message.replace(/\.$/, '')}.${fix}`, {
        autoClose: 10_000
      });
      return;
    }
    if (this.settings().confirmBeforeSubmit) {
      const where = profile.resources.partition
        ? ` on partition ${profile.resources.partition}`
        : '';
      const answer = await showDialog({
        title: `Run on ${profile.label}?`,
        body: `${path} will run with kernel ${profile.kernel}${where}.${panel.context.model.dirty ? ' Unsaved changes are saved first.' : ''}`,
        buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Run' })]
      });
      if (!answer.button.accept) {
        return;
      }
    }
    // The job runs the file on disk: what the user sees must be what runs.
    if (panel.context.model.dirty) {
      try {
        await panel.context.save();
      } catch (e) {
        Notification.error(`Could not save ${path} before running it: ${(e as Error).message}`, {
          autoClose: 10_000
        });
        return;
      }
    }
    return this.submit(path, profile.id, loadChoice(panel.model).resources);
  }

  async submit(
    notebook: string,
    profile: string,
    resources?: Job['resources']
  ): Promise<Job | undefined> {
    try {
      const job = await this.model.api.submit(notebook, profile, resources, newIdempotencyKey());
      // Shown at once; the companion's event for it follows.
      this.model.upsert(job);
      this.reveal();
      Notification.info(
        `${notebook}: submitted to ${this.model.profile(profile)?.label ?? profile}`,
        { autoClose: 3000 }
      );
      return job;
    } catch (e) {
      Notification.error(`Could not run ${notebook}: ${(e as Error).message}`, {
        autoClose: 10_000
      });
      return undefined;
    }
  }
}

/** One key per click: a retried request never submits twice. */
function newIdempotencyKey(): string {
  return typeof crypto !== 'undefined' && 'randomUUID' in crypto
    ? crypto.randomUUID()
    : `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
