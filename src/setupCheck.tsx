/**
 * "Check setup": the setup check in a main-area panel, for the notebook that
 * was current when it opened, kept up to date with the model; a fix's button
 * runs the same command as the sidebar's.
 */
import { MainAreaWidget, ReactWidget } from '@jupyterlab/apputils';
import React from 'react';
import type { CommandDeps } from './commands';
import { SetupCheck } from './components/SetupCheck';
import { hpcIcon } from './icons';
import { CommandIDs } from './tokens';
import type { ProfileStatus, SetupAction } from '../contract/wire';

const PANEL_ID = 'jp-hpc-submit-setup-check';

class SetupCheckWidget extends ReactWidget {
  private checking = false;

  constructor(
    private readonly deps: CommandDeps,
    private readonly notebook: string | null
  ) {
    super();
    deps.model.changed.connect(this.update, this);
    void this.checkAgain();
  }

  dispose(): void {
    this.deps.model.changed.disconnect(this.update, this);
    super.dispose();
  }

  private async checkAgain(): Promise<void> {
    this.checking = true;
    this.update();
    try {
      await Promise.all([this.deps.model.refreshProfiles(), this.deps.model.refreshHealth()]);
    } finally {
      this.checking = false;
      this.update();
    }
  }

  private fix(choice: ProfileStatus, action: SetupAction): void {
    const command =
      action === 'create-kernel' ? CommandIDs.createKernel : CommandIDs.installEnvironment;
    void this.deps.app.commands.execute(command, {
      profile: choice.id,
      ...(choice.environment && this.notebook
        ? { environment: choice.environment.name, notebook: this.notebook }
        : {})
    });
  }

  protected render(): JSX.Element {
    const { model } = this.deps;
    const project = this.notebook ? model.projectOf(this.notebook) : {};
    return (
      <SetupCheck
        notebook={this.notebook}
        project={project.project}
        choices={model.choicesFor(this.notebook)}
        fileProblems={project.problems ?? model.profileProblems}
        companionError={model.companionError}
        schedulerReachable={model.schedulerReachable}
        schedulerMessage={model.schedulerMessage}
        checking={this.checking}
        onFix={(choice, action) => this.fix(choice, action)}
        onCheckAgain={() => void this.checkAgain()}
      />
    );
  }
}

/** One check panel: opened again, it checks the current notebook anew. */
export function openSetupCheck(deps: CommandDeps): void {
  for (const w of deps.app.shell.widgets('main')) {
    if (w.id === PANEL_ID) {
      w.dispose();
    }
  }
  const notebook = deps.tracker.currentWidget?.context.path ?? null;
  const widget = new MainAreaWidget({ content: new SetupCheckWidget(deps, notebook) });
  widget.id = PANEL_ID;
  widget.title.label = 'Check setup';
  widget.title.caption = notebook ? `Setup check for ${notebook}` : 'Setup check';
  widget.title.icon = hpcIcon;
  widget.title.closable = true;
  deps.app.shell.add(widget, 'main', { mode: 'split-right' });
}
