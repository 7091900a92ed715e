/** The notebook toolbar items: the hardware picker, the run button and what runs record, one per notebook. */
import { InputDialog, Notification } from '@jupyterlab/apputils';
import type { NotebookPanel } from '@jupyterlab/notebook';
import { ReactWidget, ToolbarButtonComponent } from '@jupyterlab/ui-components';
import React from 'react';
import { ProfilePicker } from './components/ProfilePicker';
import { hpcIcon } from './icons';
import { estimateLabel, recordLabel, runLabel } from './labels';
import { loadChoice, saveRecord } from './metadata';
import { readRecordNames } from './parametersPlan';
import type { JobsModel } from './model';
import type { NotebookRunner } from './runner';
import { CommandIDs } from './tokens';
import { choiceKey } from '../contract/rules';

/** Re-renders when the profiles or this notebook's metadata change. */
abstract class NotebookBoundWidget extends ReactWidget {
  constructor(
    protected readonly panel: NotebookPanel,
    protected readonly model: JobsModel,
    protected readonly runner: NotebookRunner
  ) {
    super();
    model.changed.connect(this.update, this);
    panel.context.ready.then(() => {
      if (!this.isDisposed) {
        panel.model?.metadataChanged.connect(this.update, this);
      }
      this.update();
    });
  }

  dispose(): void {
    this.model.changed.disconnect(this.update, this);
    super.dispose();
  }
}

export class ProfilePickerItem extends NotebookBoundWidget {
  protected render(): JSX.Element {
    const chosen = this.runner.chosenProfile(this.panel);
    return (
      <ProfilePicker
        profiles={this.runner.choices(this.panel)}
        value={chosen ? choiceKey(chosen) : undefined}
        onChange={key => {
          this.runner.setChoice(this.panel, key);
          // The run button's tooltip says when a run of the new choice would start.
          const picked = this.runner.chosenProfile(this.panel);
          if (picked) {
            this.model.requestEstimate(picked.id);
          }
        }}
      />
    );
  }
}

export class RunButtonItem extends NotebookBoundWidget {
  constructor(panel: NotebookPanel, model: JobsModel, runner: NotebookRunner) {
    super(panel, model, runner);
    this.addClass('jp-HpcSubmit-runButton');
    // The same attribute a command toolbar button carries, so tests and CSS can find it.
    this.node.dataset.command = CommandIDs.run;
    // The estimate is asked when the pointer comes to read the tooltip, never per render.
    this.node.addEventListener('pointerenter', this.askEstimate);
  }

  dispose(): void {
    this.node.removeEventListener('pointerenter', this.askEstimate);
    super.dispose();
  }

  /** The model asks the companion at most once per 30 s per profile. */
  private readonly askEstimate = (): void => {
    const profile = this.runner.chosenProfile(this.panel);
    if (profile) {
      this.model.requestEstimate(profile.id);
    }
  };

  protected render(): JSX.Element {
    const profile = this.runner.chosenProfile(this.panel);
    const label = runLabel(profile?.label);
    const what = `${label}: execute this notebook as a batch job with kernel ${profile?.kernel ?? '?'}`;
    const when = profile
      ? estimateLabel(profile.label, this.model.estimate(profile.id), Date.now())
      : undefined;
    return (
      <ToolbarButtonComponent
        icon={hpcIcon}
        label={label}
        tooltip={when ? `${what}\n${when}` : what}
        onClick={() => void this.runner.run(this.panel)}
      />
    );
  }
}

/**
 * "record: loss, accuracy": the variables each run of this notebook asks the
 * kernel for after its last cell; a click changes them. A name that is not
 * a variable's is refused, and nothing is saved.
 */
export class RecordItem extends NotebookBoundWidget {
  constructor(panel: NotebookPanel, model: JobsModel, runner: NotebookRunner) {
    super(panel, model, runner);
    this.addClass('jp-HpcSubmit-recordItem');
  }

  private names(): string[] {
    return this.panel.model ? (loadChoice(this.panel.model).record ?? []) : [];
  }

  private async edit(): Promise<void> {
    const answer = await InputDialog.getText({
      title: 'Record after each run',
      label: 'Variables to record, separated by commas (empty: none)',
      text: this.names().join(', '),
      placeholder: 'loss, accuracy'
    });
    if (!answer.button.accept || answer.value === null || !this.panel.model) {
      return;
    }
    const names = readRecordNames(answer.value);
    if (!names.ok) {
      Notification.error(`Nothing changed: ${names.error}`, { autoClose: 8000 });
      return;
    }
    saveRecord(this.panel.model, names.value);
  }

  protected render(): JSX.Element {
    const names = this.names();
    return (
      <ToolbarButtonComponent
        label={recordLabel(names)}
        tooltip={
          names.length
            ? `Each run records ${names.join(', ')} after its last cell (click to change)`
            : 'Name variables for each run to record after its last cell'
        }
        onClick={() => void this.edit()}
      />
    );
  }
}
