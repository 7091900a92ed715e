/** The user's settings (schema/settings/plugin.json), with their defaults. */
export interface SubmitSettings {
  defaultProfile: string;
  confirmBeforeSubmit: boolean;
  openOutputOnCompletion: boolean;
  /** A browser notification when a run ends while this tab is hidden. */
  notifyWhenHidden: boolean;
  /** The "max at once" of a new sweep (the profile's limit may be lower). */
  maxParallel: number;
}

export const DEFAULT_SETTINGS: SubmitSettings = {
  defaultProfile: 'gpu',
  confirmBeforeSubmit: false,
  openOutputOnCompletion: false,
  notifyWhenHidden: false,
  maxParallel: 4
};

export function readSettings(
  composite: Partial<Record<keyof SubmitSettings, unknown>>
): SubmitSettings {
  return {
    defaultProfile:
      typeof composite.defaultProfile === 'string' && composite.defaultProfile
        ? composite.defaultProfile
        : DEFAULT_SETTINGS.defaultProfile,
    confirmBeforeSubmit: composite.confirmBeforeSubmit === true,
    openOutputOnCompletion: composite.openOutputOnCompletion === true,
    notifyWhenHidden: composite.notifyWhenHidden === true,
    maxParallel:
      Number.isInteger(composite.maxParallel) && (composite.maxParallel as number) >= 1
        ? (composite.maxParallel as number)
        : DEFAULT_SETTINGS.maxParallel
  };
}
