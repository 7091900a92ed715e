/**
 * The one quoting function for everything that goes into a job script.
 * POSIX single quotes keep every byte literal ($, `, \, newlines, non-ASCII);
 * the only character that needs care is the single quote itself, which is
 * closed, escaped and reopened. NUL cannot be carried by any shell word, so
 * it is refused rather than silently truncated.
 */
export function shellQuote(value: string): string {
  if (typeof value !== 'string') {
    throw new TypeError(`shellQuote expects a string, got ${typeof value}`);
  }
  if (value.includes('\0')) {
    throw new Error('a value for the job script contains a NUL byte, which no shell can carry');
  }
  // Plain words stay readable in job.sh; anything else is single-quoted.
  if (value !== '' && /^[A-Za-z0-9_\-+=.,/:@%]+$/.test(value)) {
    return value;
  }
  return `'${value.replace(/'/g, "'\\''")}'`;
}
