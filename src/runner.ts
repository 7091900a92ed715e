/**
 * Running a notebook: the chosen profile (from its metadata), saving unsaved
 * changes first, refusing early when the profile's kernel is missing, and
 * telling the user what happened.
 */
import { Dialog, Notification, showDialog } from '@jupyterlab/apputils';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { api } from './api';
import { chooseProfile, readSubmitMetadata, withProfile } from './metadata';
import type { JobsModel } from './model';
import type { SubmitSettings } from './settings';
import { NOTEBOOK_METADATA_KEY, type Job, type ProfileStatus } from './wire';

export class NotebookRunner {
  constructor(
    private readonly model: JobsModel,
    private readonly settings: () => SubmitSettings,
    private readonly reveal: () => void
  ) {}

  chosenProfile(panel: NotebookPanel | null): ProfileStatus | undefined {
    const meta = readSubmitMetadata(panel?.model?.getMetadata(NOTEBOOK_METADATA_KEY));
    return chooseProfile(meta, this.model.profiles, this.settings().defaultProfile);
  }

  setProfile(panel: NotebookPanel, profile: string): void {
    const meta = readSubmitMetadata(panel.model?.getMetadata(NOTEBOOK_METADATA_KEY));
    panel.model?.setMetadata(NOTEBOOK_METADATA_KEY, withProfile(meta, profile));
  }

  async run(panel: NotebookPanel): Promise<Job | undefined> {
    if (this.model.profiles.length === 0) await this.model.refreshProfiles();
    const profile = this.chosenProfile(panel);
    if (!profile) {
      Notification.error(this.model.companionError ?? 'No hardware profiles are configured for this site.');
      return;
    }
    const missing = profile.problems.find((p) => p.code === 'kernel-missing' || p.code === 'launcher-missing');
    if (missing) {
      this.reveal();
      Notification.error(`${profile.label}: ${missing.message}.${missing.fix ? ` Fix: ${missing.fix}` : ''}`, { autoClose: 10_000 });
      return;
    }
    if (this.settings().confirmBeforeSubmit) {
      const answer = await showDialog({
        title: `Run on ${profile.label}?`,
        body: `${panel.context.path} will run with kernel ${profile.kernel}${profile.resources.partition ? ` on partition ${profile.resources.partition}` : ''}.`,
        buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Run' })]
      });
      if (!answer.button.accept) return;
    }
    if (panel.context.model.dirty) await panel.context.save();
    const meta = readSubmitMetadata(panel.model?.getMetadata(NOTEBOOK_METADATA_KEY));
    return this.submit(panel.context.path, profile.id, meta.resources);
  }

  async submit(notebook: string, profile: string, resources?: Job['resources']): Promise<Job | undefined> {
    try {
      const job = await api.submit(notebook, profile, resources);
      this.model.upsert(job);
      this.reveal();
      Notification.info(`${notebook}: submitted to ${this.model.profile(profile)?.label ?? profile}`, { autoClose: 3000 });
      return job;
    } catch (e) {
      Notification.error(`Could not run ${notebook}: ${(e as Error).message}`, { autoClose: 10_000 });
      return undefined;
    }
  }
}
