/**
 * What the domain refuses, and why, in words a researcher can act on. The
 * domain throws these; only server/http/ turns a kind into a status code, so
 * the same refusal reads the same from the CLI, the sidebar and a test.
 */
export type RefusalKind =
  /** The request's own fault: a field, a path, a parameter. */
  | 'invalid'
  | 'not-found'
  /** The state forbids it now: a run already running, a sweep already ended. */
  | 'conflict'
  /** The state directory cannot be written (full, read-only, not ours). */
  | 'storage'
  /** The scheduler does not answer: nothing was done. */
  | 'scheduler-down'
  /** The scheduler answered no. */
  | 'scheduler-refused'
  /** The companion's own failure, said in words. */
  | 'failed';

export class Refusal extends Error {
  constructor(
    readonly kind: RefusalKind,
    message: string
  ) {
    super(message);
    this.name = 'Refusal';
  }
}

export const invalid = (message: string): Refusal => new Refusal('invalid', message);
