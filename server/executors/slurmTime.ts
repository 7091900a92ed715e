// Slurm's time syntax, shared by the executors and request validation.

/**
 * Slurm's time syntax in milliseconds: "30" (minutes), "MM:SS", "HH:MM:SS",
 * "D-HH", "D-HH:MM", "D-HH:MM:SS". Null for none, "UNLIMITED" or nonsense.
 */
export function parseSlurmTime(time: string | undefined): number | null {
  if (!time) {
    return null;
  }
  const t = time.trim();
  if (/^(unlimited|infinite)$/i.test(t)) {
    return null;
  }
  let days = 0;
  let rest = t;
  const dash = /^(\d+)-(.*)$/.exec(t);
  if (dash) {
    days = Number(dash[1]);
    rest = dash[2];
  }
  const parts = rest.split(':');
  if (parts.some(p => !/^\d+$/.test(p)) || parts.length > 3) {
    return null;
  }
  const n = parts.map(Number);
  let seconds: number;
  if (dash) {
    // D-HH, D-HH:MM, D-HH:MM:SS
    seconds = (n[0] ?? 0) * 3600 + (n[1] ?? 0) * 60 + (n[2] ?? 0);
  } else if (n.length === 1) {
    seconds = n[0] * 60;
  } else if (n.length === 2) {
    seconds = n[0] * 60 + n[1];
  } else {
    seconds = n[0] * 3600 + n[1] * 60 + n[2];
  }
  const total = (days * 86400 + seconds) * 1000;
  return total > 0 ? total : null;
}
