/**
 * Server-sent events for GET /api/events. One hub per companion: a change is
 * serialized once and written to every open stream; subscribers never cause
 * a scheduler query of their own.
 */
import type { Response } from 'express';
import type { ServerEvent } from '../../contract/wire';
import { eventData } from '../../contract/rules';
import type { SchedulerHealthView } from '../jobs/schedulerHealth';

const HEARTBEAT_MS = 15_000;

export class EventHub {
  private readonly streams = new Set<Response>();
  private heartbeat: NodeJS.Timeout | null = null;

  constructor(private readonly scheduler: SchedulerHealthView) {}

  subscribe(res: Response): void {
    res.status(200);
    res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
    res.setHeader('Cache-Control', 'no-cache, no-transform');
    res.setHeader('X-Accel-Buffering', 'no');
    res.flushHeaders();
    // A proxy may hold the headers back until the first body bytes: send some now.
    res.write('retry: 3000\n: connected\n\n');
    // A new stream hears of an outage that began before it.
    if (!this.scheduler.current.reachable) {
      res.write(frame({ type: 'scheduler', ...this.scheduler.current }));
    }
    this.streams.add(res);
    res.on('close', () => {
      this.streams.delete(res);
      if (this.streams.size === 0) {
        this.stopHeartbeat();
      }
    });
    if (!this.heartbeat) {
      this.heartbeat = setInterval(() => this.broadcast(': keep-alive\n\n'), HEARTBEAT_MS);
      this.heartbeat.unref();
    }
  }

  publish(event: ServerEvent): void {
    if (this.streams.size > 0) {
      this.broadcast(frame(event));
    }
  }

  close(): void {
    this.stopHeartbeat();
    for (const res of this.streams) {
      res.end();
    }
    this.streams.clear();
  }

  private broadcast(text: string): void {
    for (const res of this.streams) {
      res.write(text);
    }
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) {
      clearInterval(this.heartbeat);
    }
    this.heartbeat = null;
  }
}

/** One SSE frame; pure. */
export function frame(event: ServerEvent): string {
  return `event: ${event.type}\ndata: ${JSON.stringify(eventData(event))}\n\n`;
}
