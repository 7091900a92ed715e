/**
 * Files written whole or not at all: a temporary file beside the target, then
 * a rename over it, so a reader (another companion, a crash's restart, a
 * spreadsheet open on summary.csv) never sees half a file. The file system's
 * error is thrown as it came; the caller says what it means.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs, renameSync, rmSync, writeFileSync } from 'node:fs';

/** Beside the target, so the rename stays on one file system; unique per process and call. */
const temporaryOf = (path: string): string =>
  `${path}.${process.pid}.${randomBytes(3).toString('hex')}.tmp`;

/** mode: 0o600 for the companion's own files; a user's output passes 0o666 (the umask applies). */
export async function writeFileAtomic(path: string, data: string, mode = 0o600): Promise<void> {
  const tmp = temporaryOf(path);
  try {
    await fs.writeFile(tmp, data, { mode });
    await fs.rename(tmp, path);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
}

/** The same, for the local executor's run files, written where no await may come between. */
export function writeFileAtomicSync(path: string, data: string, mode = 0o600): void {
  const tmp = temporaryOf(path);
  try {
    writeFileSync(tmp, data, { mode });
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
