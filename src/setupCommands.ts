/**
 * Making what a run needs, as commands: "Create Kernel" and "Install
 * Environment" for the current notebook's choice (or the one the sidebar or
 * the setup check names), each in a log panel; "Check Setup" opens the check.
 */
import { Notification } from '@jupyterlab/apputils';
import type { ReadonlyPartialJSONObject } from '@lumino/coreutils';
import type { CommandDeps } from './commands';
import { openSetupCheck } from './setupCheck';
import { setupPanel, setupPanelId } from './setupPanel';
import { notifyError } from './notify';
import { CommandIDs } from './tokens';
import type { SetupAction, SetupRequest, SetupTask } from '../contract/wire';

export function addSetupCommands(deps: CommandDeps): void {
  const { app } = deps;
  app.commands.addCommand(CommandIDs.createKernel, {
    label: args => `Create Kernel${forWhom(deps, args)}`,
    caption:
      "Register the kernel the run uses, inside the run's environment (ipykernel install --user)",
    execute: args => startSetup(deps, 'create-kernel', args)
  });
  app.commands.addCommand(CommandIDs.installEnvironment, {
    label: args => `Install Environment${forWhom(deps, args)}`,
    caption: "Install the notebook's pixi project environment (pixi install), here before the run",
    execute: args => startSetup(deps, 'install-environment', args)
  });
  app.commands.addCommand(CommandIDs.checkSetup, {
    label: 'Check Setup',
    caption: 'What stands between this notebook and a run on each profile, and the fixes',
    execute: () => openSetupCheck(deps)
  });
}

/** The choice named by the arguments, else the current notebook's. */
function requestOf(
  deps: CommandDeps,
  action: SetupAction,
  args: ReadonlyPartialJSONObject
): SetupRequest | null {
  const text = (key: string): string | undefined =>
    typeof args[key] === 'string' && args[key] !== '' ? (args[key] as string) : undefined;
  if (text('profile')) {
    const environment = text('environment');
    const notebook = text('notebook');
    return {
      action,
      profile: text('profile') as string,
      ...(environment && notebook ? { environment, notebook } : {})
    };
  }
  const panel = deps.tracker.currentWidget;
  const chosen = deps.runner.chosenProfile(panel);
  if (!chosen) {
    return null;
  }
  return {
    action,
    profile: chosen.id,
    ...(chosen.environment && panel
      ? { environment: chosen.environment.name, notebook: panel.context.path }
      : {})
  };
}

function forWhom(deps: CommandDeps, args: ReadonlyPartialJSONObject): string {
  const request = requestOf(deps, 'create-kernel', args);
  if (!request) {
    return '';
  }
  return request.environment
    ? ` for ${request.environment} on ${request.profile}`
    : ` for ${request.profile}`;
}

async function startSetup(
  deps: CommandDeps,
  action: SetupAction,
  args: ReadonlyPartialJSONObject
): Promise<void> {
  const request = requestOf(deps, action, args);
  if (!request) {
    notifyError('Open a notebook first: its hardware and environment say what to set up.');
    return;
  }
  let task: SetupTask;
  try {
    task = await deps.model.startSetup(request);
  } catch (e) {
    notifyError((e as Error).message);
    return;
  }
  const open = [...deps.app.shell.widgets('main')].find(w => w.id === setupPanelId(task));
  if (open) {
    deps.app.shell.activateById(open.id);
    return;
  }
  const panel = setupPanel(task, deps.model, ended => void finished(deps, ended));
  deps.app.shell.add(panel, 'main', { mode: 'split-bottom' });
}

/** What changed is read again; the user hears how it ended. */
async function finished(deps: CommandDeps, task: SetupTask): Promise<void> {
  if (task.action === 'create-kernel') {
    // A --user kernelspec is visible to the hub too: its display name shows in the sidebar.
    void deps.app.serviceManager.kernelspecs.refreshSpecs().catch(() => undefined);
  }
  await deps.model.refreshProfiles();
  if (task.state === 'completed') {
    Notification.success(`${task.title}: done.`, { autoClose: 4000 });
  } else if (task.state === 'failed') {
    notifyError(`${task.title} failed: its log says why.`);
  }
}
