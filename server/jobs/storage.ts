/**
 * A write the file system refused, in words: the one place an errno becomes
 * the `storage` refusal (507) a researcher can act on.
 */
import { writeFileAtomic } from '../atomicWrite';
import { Refusal } from './refusal';

/** The state directory's refusal for a failed write of `path`; undefined when the error is not the file system saying no. */
export function storageRefusal(e: unknown, path?: string): Refusal | undefined {
  const err = e as NodeJS.ErrnoException;
  const writing = path ?? err.path ?? "the job's files";
  switch (err?.code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new Refusal(
        'storage',
        `the state directory is full (writing ${writing}): free some space or set --state-dir`
      );
    case 'EROFS':
      return new Refusal(
        'storage',
        `the state directory is read-only (writing ${writing}): set --state-dir to a writable one`
      );
    case 'EACCES':
    case 'EPERM':
      return new Refusal(
        'storage',
        `no permission to write ${writing}: check the state directory's owner and mode`
      );
    default:
      return undefined;
  }
}

/** A failed write to the state directory, in words: the storage refusal, else a plain failure. */
export function writeRefusal(e: unknown, path: string): Refusal {
  if (e instanceof Refusal) {
    return e;
  }
  const err = e as NodeJS.ErrnoException;
  return (
    storageRefusal(e, path) ??
    new Refusal('failed', `cannot write ${path}: ${err.code ?? err.message}`)
  );
}

/** writeFileAtomic into the state directory, failing with writeRefusal. */
export async function writeStateFile(path: string, data: string): Promise<void> {
  await writeFileAtomic(path, data).catch((e: unknown) => {
    throw writeRefusal(e, path);
  });
}
