/**
 * The "Run with parameters…" dialog. It submits itself: Run keeps it open
 * until the companion has answered, so a refusal is read in the dialog, with
 * the values still there to correct, never in a toast that fades.
 */
import { Dialog, ReactWidget, showDialog } from '@jupyterlab/apputils';
import React from 'react';
import { ParametersForm, ParametersMessage } from './components/ParametersForm';
import {
  type ParametersFormState,
  readForm,
  runsSentence,
  type Submission
} from './parametersPlan';

/** How to make a parameters cell, in JupyterLab 4's words. */
export const HOW_TO_TAG =
  'To add one: put the assignments of your parameters (seed = 0, lr = 0.01, …) in one code cell, ' +
  'select it, open the Property Inspector (the gears in the right sidebar) and add the tag ' +
  '"parameters" under Common Tools, Cell Tags. Then save and open this dialog again.';

export interface ParametersDialogOptions {
  notebook: string;
  /** The chosen profile's label: "on GPU node". */
  profileLabel: string;
  initial: ParametersFormState;
  /** Saves and submits; a rejection's message is shown in the dialog. */
  submit(submission: Submission): Promise<void>;
}

/** Resolves with whether the runs were submitted. */
export async function showParametersDialog(options: ParametersDialogOptions): Promise<boolean> {
  const result = await new ParametersDialog(options).launch();
  return result.button.accept;
}

/** A dialog with nothing to submit: a notebook without a parameters cell, or an unreadable one. */
export async function showNoParametersDialog(notebook: string, message: string, hint?: string) {
  await showDialog({
    title: `Run with parameters: ${notebook}`,
    body: <ParametersMessage message={message} hint={hint} />,
    buttons: [Dialog.okButton({ label: 'Close' })]
  });
}

/** The Run button's index: the last, Dialog's default (Enter). */
const RUN = 1;

class ParametersDialog extends Dialog<void> {
  private readonly form: ParametersBody;

  constructor(private readonly options: ParametersDialogOptions) {
    const form = new ParametersBody(options.initial, options.profileLabel);
    super({
      title: `Run with parameters: ${options.notebook}`,
      body: form,
      buttons: [Dialog.cancelButton(), Dialog.okButton({ label: 'Run' })],
      focusNodeSelector: 'input.jp-HpcSubmit-paramValue'
    });
    this.form = form;
    this.addClass('jp-HpcSubmit-parametersDialog');
  }

  /** Run submits first and closes only once the companion has accepted. */
  resolve(index?: number): void {
    if ((index ?? RUN) !== RUN) {
      super.resolve(index);
      return;
    }
    void this.submitThenClose();
  }

  private async submitThenClose(): Promise<void> {
    if (this.form.busy) {
      return;
    }
    const reading = readForm(this.form.state);
    if (!reading.ok) {
      this.form.fail(reading.error);
      return;
    }
    this.form.setBusy(true);
    try {
      await this.options.submit(reading.value);
    } catch (e) {
      this.form.setBusy(false);
      this.form.fail((e as Error).message);
      return;
    }
    super.resolve(RUN);
  }
}

/** The form's state and the companion's last refusal; re-renders on each change. */
class ParametersBody extends ReactWidget {
  busy = false;
  private error: string | undefined;

  constructor(
    public state: ParametersFormState,
    private readonly profileLabel: string
  ) {
    super();
    this.addClass('jp-HpcSubmit-parametersBody');
  }

  setBusy(busy: boolean): void {
    this.busy = busy;
    this.update();
  }

  fail(error: string): void {
    this.error = error;
    this.update();
  }

  protected render(): JSX.Element {
    const reading = readForm(this.state);
    return (
      <ParametersForm
        state={this.state}
        summary={reading.ok ? runsSentence(reading.value, this.profileLabel) : reading.error}
        summaryIsError={!reading.ok}
        error={this.error}
        busy={this.busy}
        onChange={change => {
          this.state = change(this.state);
          // A refusal was about the values as they were.
          this.error = undefined;
          this.update();
        }}
      />
    );
  }
}
