import type { ServerEvent } from '../../contract/wire';

/** Where the domain says what changed; server/http/events.ts fans it out to the open streams. */
export interface JobEventSink {
  publish(event: ServerEvent): void;
}
