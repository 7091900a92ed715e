/**
 * Running a notebook: the chosen profile (from its metadata), saving unsaved
 * changes first, refusing early when the profile cannot run, and telling the
 * user what happened. The submission itself is the model's.
 */
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { chooseProfile, loadChoice, saveChoice } from './metadata';
import type { JobsModel } from './model';
import { notifyError } from './notify';
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

  /** A job's notebook again, as it ran. */
  rerun(job: Job): Promise<Job | undefined> {
    return this.report(job.notebook, job.profile, this.model.rerun(job));
  }

  private async runUnguarded(panel: NotebookPanel): Promise<Job | undefined> {
    const profile = await this.runnableProfile(panel);
    if (!profile || !(await this.confirmed(panel, profile)) || !(await this.saved(panel))) {
      return;
    }
    const path = panel.context.path;
    const resources = loadChoice(panel.model).resources;
    return this.report(path, profile.id, this.model.submit(path, profile.id, resources));
  }

  /** The notebook's profile, or undefined after telling the user why it cannot run. */
  private async runnableProfile(panel: NotebookPanel): Promise<ProfileStatus | undefined> {
    if (this.model.profiles.length === 0) {
      await this.model.refreshProfiles();
    }
    const profile = this.chosenProfile(panel);
    if (!profile) {
      notifyError(
        this.model.companionError ?? 'No hardware profiles are configured for this site.'
      );
      return;
    }
    const blocking = profile.problems.find(p => BLOCKING.has(p.code));
    if (blocking) {
      this.reveal();
      const fix = blocking.fix ? ` Fix: ${blocking.fix}` : '';
      notifyError(`${profile.label}: ${blocking.message.replace(/\.$/, '')}.${fix}`);
      return;
    }
    return profile;
  }

  /** Asks first when the settings say so. */
  private async confirmed(panel: NotebookPanel, profile: ProfileStatus): Promise<boolean> {
    if (!this.settings().confirmBeforeSubmit) {
      return true;
    }
    const where = profile.resources.partition ? ` on partition ${profile.resources.partition}` : '';
    const saving = panel.context.model.dirty ? ' Unsaved changes are saved first.' : '';
    const answer = await showDialog({
      title: `Run on ${profile.label}?`,
      body: `${panel.context.path} will run with kernel ${profile.kernel}${where}.${saving}`,
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Run' })]
    });
    return answer.button.accept;
  }

  /** The job runs the file on disk: what the user sees must be what runs. */
  private async saved(panel: NotebookPanel): Promise<boolean> {
    if (!panel.context.model.dirty) {
      return true;
    }
    try {
      await panel.context.save();
      return true;
    } catch (e) {
      notifyError(
        `Could not save ${panel.context.path} before running it: ${(e as Error).message}`
      );
      return false;
    }
  }

  /** Says how a submission went; the sidebar comes forward to show the new job. */
  private async report(
    notebook: string,
    profile: string,
    submission: Promise<Job>
  ): Promise<Job | undefined> {
    try {
      const job = await submission;
      this.reveal();
      Notification.info(
        `${notebook}: submitted to ${this.model.profile(profile)?.label ?? profile}`,
        { autoClose: 3000 }
      );
      return job;
    } catch (e) {
      notifyError(`Could not run ${notebook}: ${(e as Error).message}`);
      return undefined;
    }
  }
}
