/**
 * What the sidebar says about kernels: the one the open notebook uses on the
 * hub, and the one the run will use on the compute node. The trap it names:
 * the notebook's kernel is not what runs on the node, the profile's is. Pure:
 * the caller reads the session and the kernelspecs and passes plain values.
 */
import type { ProfileStatus } from '../contract/wire';

/** The part of a kernelspec this module needs (the server's `kernelspecs` map values). */
export interface KernelSpecLite {
  name: string;
  display_name: string;
}

/** name -> spec, as `KernelSpecManager.specs.kernelspecs` holds them. */
export type KernelSpecMap = Readonly<Record<string, KernelSpecLite | undefined>>;

/** Everything the open notebook says about its kernel, most reliable first. */
export interface NotebookKernelSources {
  /** The running kernel's spec name (sessionContext.session.kernel.name). */
  running?: string | null;
  /** A kernel being started or chosen but not running yet (sessionContext.kernelPreference.name). */
  preferred?: string | null;
  /** The notebook file's own `metadata.kernelspec.name`. */
  metadata?: string | null;
  /** sessionContext.kernelDisplayName: also a placeholder ("No Kernel") when there is none. */
  displayName?: string | null;
  /** The session context's word for "no kernel" (translated), to tell a placeholder from a name. */
  noKernelName?: string;
}

export interface NotebookKernel {
  /** kernelspec name, e.g. "python3"; empty when no kernel is chosen. */
  name: string;
  displayName: string;
  /** Whether the hub's server knows this kernelspec. */
  known: boolean;
}

/** The notebook's kernel on the hub: the running one, else the chosen one, else its file's. */
export function resolveNotebookKernel(
  src: NotebookKernelSources,
  specs: KernelSpecMap | null | undefined
): NotebookKernel {
  const name =
    [src.running, src.preferred, src.metadata].find(
      (n): n is string => typeof n === 'string' && n !== ''
    ) ?? '';
  if (!name) {
    return { name: '', displayName: '', known: false };
  }
  const spec = specs?.[name];
  const placeholder = !src.displayName || src.displayName === (src.noKernelName ?? 'No Kernel');
  const displayName = spec?.display_name || (placeholder ? name : (src.displayName as string));
  return { name, displayName, known: spec !== undefined };
}

/**
 * A kernel as the kernel box shows it: its display name, and its name beside
 * it (in quieter type) where the two differ, since two kernels often share a
 * display name ("Python 3 (ipykernel)") and only the name tells them apart.
 */
export interface KernelLabel {
  display: string;
  /** The kernel's name, when it is not the display name. */
  name?: string;
}

export function kernelLabel(name: string, displayName?: string): KernelLabel {
  return displayName && displayName !== name ? { display: displayName, name } : { display: name };
}

/** The label as one line of text (tooltips, tests). */
export function kernelText(label: KernelLabel): string {
  return label.name ? `${label.display} (${label.name})` : label.display;
}

export interface KernelLine {
  /** Absent: the notebook has no kernel. */
  kernel?: KernelLabel;
  /** "on the hub", "on gpu", "no kernel on the hub", "no profile". */
  where: string;
}

export interface KernelSummary {
  /** The notebook's own kernel, on the hub. */
  notebook: KernelLine;
  /** The profile's kernel on its partition (or its label without one). */
  run: KernelLine;
  /** The kernel-missing problem of the profile, if any. */
  missing?: { message: string; fix?: string };
}

export function summarizeKernels(
  notebook: Pick<NotebookKernel, 'name' | 'displayName'> | null,
  profile: Pick<ProfileStatus, 'kernel' | 'resources' | 'label' | 'problems'> | undefined,
  specs?: KernelSpecMap | null
): KernelSummary {
  const nb: KernelLine =
    notebook && notebook.name
      ? { kernel: kernelLabel(notebook.name, notebook.displayName), where: 'on the hub' }
      : { where: 'no kernel on the hub' };
  if (!profile) {
    return { notebook: nb, run: { where: 'no profile' } };
  }
  const where = profile.resources.partition || profile.label;
  const missing = profile.problems.find(p => p.code === 'kernel-missing');
  // The hub may know the profile's kernel too (a --user kernelspec is shared); its display name helps.
  return {
    notebook: nb,
    run: {
      kernel: kernelLabel(profile.kernel, specs?.[profile.kernel]?.display_name),
      where: `on ${where}`
    },
    ...(missing ? { missing: { message: missing.message, fix: missing.fix } } : {})
  };
}
