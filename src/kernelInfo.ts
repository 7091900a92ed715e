/**
 * What the sidebar says about kernels: the one the open notebook uses on the
 * hub, and the one the run will use on the compute node. The trap it names:
 * the notebook's kernel is not what runs on the node, the profile's is. Pure.
 */
import type { ProfileStatus } from './wire';

export interface NotebookKernel {
  /** kernelspec name, e.g. "python3"; empty when no kernel is chosen. */
  name: string;
  displayName: string;
}

export interface KernelSummary {
  notebook: string;
  run: string;
  /** True when the notebook's kernel differs from the profile's (the usual, expected case on a hub). */
  differs: boolean;
  /** The kernel-missing problem of the profile, if any. */
  missing?: { message: string; fix?: string };
}

export function summarizeKernels(
  notebook: NotebookKernel | null,
  profile: Pick<ProfileStatus, 'kernel' | 'resources' | 'label' | 'problems'> | undefined
): KernelSummary {
  const shown = notebook?.displayName && notebook.displayName !== notebook.name ? `${notebook.displayName} [${notebook.name}]` : notebook?.name;
  const nb = notebook && notebook.name ? `${shown} on the hub` : 'no kernel on the hub';
  if (!profile) return { notebook: nb, run: 'no profile', differs: false };
  const where = profile.resources.partition ? `partition ${profile.resources.partition}` : profile.label;
  const missing = profile.problems.find((p) => p.code === 'kernel-missing');
  return {
    notebook: nb,
    run: `${profile.kernel} on ${where}`,
    differs: !notebook || notebook.name !== profile.kernel,
    ...(missing ? { missing: { message: missing.message, fix: missing.fix } } : {})
  };
}
