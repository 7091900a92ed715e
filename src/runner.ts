/**
 * Running a notebook: the chosen profile (from its metadata), saving unsaved
 * changes first, refusing early when the profile cannot run, and telling the
 * user what happened. The submission itself is the model's.
 */
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { chooseProfile, loadChoice, saveChoice, saveRunValues } from './metadata';
import { choiceKey, runChoiceOf } from '../contract/rules';
import type { JobsModel } from './model';
import { notifyError } from './notify';
import { HOW_TO_TAG, showNoParametersDialog, showParametersDialog } from './parametersDialog';
import { initialForm, runsSentence, type Submission, sweepRequest } from './parametersPlan';
import type { SubmitSettings } from './settings';
import type { Job, NotebookParameters, ProfileStatus } from '../contract/wire';

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

  /** The notebook's choice among its own (its pixi project's environments, then the site's profiles). */
  chosenProfile(panel: NotebookPanel | null): ProfileStatus | undefined {
    return chooseProfile(
      loadChoice(panel?.model),
      this.choices(panel),
      this.settings().defaultProfile
    );
  }

  /** What the notebook may run with, as the picker lists it. */
  choices(panel: NotebookPanel | null): ProfileStatus[] {
    return this.model.choicesFor(panel?.context.path ?? null);
  }

  /** Saves the picked choice (a choiceKey) in the notebook. */
  setChoice(panel: NotebookPanel, key: string): void {
    const picked = this.choices(panel).find(p => choiceKey(p) === key);
    if (panel.model && picked) {
      saveChoice(panel.model, runChoiceOf(picked));
    }
  }

  run(panel: NotebookPanel): Promise<Job | undefined> {
    return this.once(panel, () => this.runUnguarded(panel));
  }

  /**
   * "Run with parameters…": the notebook's parameters (read from the saved
   * file, as the run will be) in a dialog that submits one run or a sweep.
   */
  runWithParameters(panel: NotebookPanel): Promise<void> {
    return this.once(panel, () => this.runWithParametersUnguarded(panel));
  }

  private async once<T>(panel: NotebookPanel, act: () => Promise<T>): Promise<T | undefined> {
    const path = panel.context.path;
    if (this.inFlight.has(path)) {
      return;
    }
    this.inFlight.add(path);
    try {
      return await act();
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
    return this.report(path, profile.id, this.model.submit(path, runChoiceOf(profile), resources));
  }

  private async runWithParametersUnguarded(panel: NotebookPanel): Promise<void> {
    const profile = await this.runnableProfile(panel);
    if (!profile || !(await this.saved(panel))) {
      return;
    }
    const path = panel.context.path;
    let found: NotebookParameters;
    try {
      found = await this.model.parameters(path);
    } catch (e) {
      await showNoParametersDialog(
        path,
        `Could not read the parameters of ${path}: ${(e as Error).message}`
      );
      return;
    }
    if (!found.hasParametersCell) {
      await showNoParametersDialog(path, `${path} has no cell tagged "parameters".`, HOW_TO_TAG);
      return;
    }
    await showParametersDialog({
      notebook: path,
      profileLabel: profile.label,
      initial: initialForm(found.parameters, loadChoice(panel.model), this.settings().maxParallel),
      submit: submission => this.submitWithParameters(panel, profile, submission)
    });
  }

  /**
   * Records the values in the notebook (the dialog's next defaults), saves it
   * and submits; a failure rejects with its sentence, for the dialog to show.
   */
  private async submitWithParameters(
    panel: NotebookPanel,
    profile: ProfileStatus,
    submission: Submission
  ): Promise<void> {
    const path = panel.context.path;
    if (panel.model) {
      saveRunValues(
        panel.model,
        submission.parameters,
        submission.kind === 'sweep' ? submission.sweep : undefined,
        submission.record
      );
    }
    await this.saveToDisk(panel);
    const resources = loadChoice(panel.model).resources;
    if (submission.kind === 'single') {
      await this.model.submit(path, runChoiceOf(profile), resources, submission.parameters);
    } else {
      await this.model.submitSweep(sweepRequest(path, runChoiceOf(profile), resources, submission));
    }
    this.reveal();
    Notification.info(`${path}: submitted ${runsSentence(submission, profile.label)}`, {
      autoClose: 3000
    });
  }

  /** The notebook's profile, or undefined after telling the user why it cannot run. */
  private async runnableProfile(panel: NotebookPanel): Promise<ProfileStatus | undefined> {
    if (this.choices(panel).length === 0) {
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
    try {
      await this.saveToDisk(panel);
      return true;
    } catch (e) {
      notifyError((e as Error).message);
      return false;
    }
  }

  /** Saves unsaved changes; rejects with a sentence that names the notebook. */
  private async saveToDisk(panel: NotebookPanel): Promise<void> {
    if (!panel.context.model.dirty) {
      return;
    }
    try {
      await panel.context.save();
    } catch (e) {
      throw new Error(
        `Could not save ${panel.context.path} before running it: ${(e as Error).message}`
      );
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
