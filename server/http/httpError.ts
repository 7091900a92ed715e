import { Refusal, type RefusalKind } from '../jobs/refusal';

/** An error of the HTTP layer itself, whose message is safe and meant for the client. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** The one place a domain refusal becomes a status code. */
const STATUS_OF_REFUSAL: Record<RefusalKind, number> = {
  invalid: 400,
  'not-found': 404,
  conflict: 409,
  storage: 507,
  'scheduler-down': 503,
  'scheduler-refused': 502,
  failed: 500
};

/** The status and sentence of an error meant for the client, or null for an unexpected one. */
export function answerOf(err: unknown): { status: number; message: string } | null {
  if (err instanceof Refusal) {
    return { status: STATUS_OF_REFUSAL[err.kind], message: err.message };
  }
  if (err instanceof HttpError) {
    return { status: err.status, message: err.message };
  }
  return null;
}
