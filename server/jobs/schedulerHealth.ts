/**
 * Whether the scheduler answers: one value per companion. The poller is its
 * only writer (it is the one that asks the scheduler); the job service (to
 * refuse a submission), GET /api/health and the event hub (to tell a new
 * stream) only read it.
 */
import type { SchedulerHealth } from '../../contract/wire';

/** What the readers get: the value, never the pen. */
export interface SchedulerHealthView {
  readonly current: SchedulerHealth;
}

export class SchedulerHealthHolder implements SchedulerHealthView {
  private health: SchedulerHealth = { reachable: true };

  get current(): SchedulerHealth {
    return this.health;
  }

  /** Records the scheduler's latest answer; true when that changes what is known. */
  record(reachable: boolean, message?: string): boolean {
    const next: SchedulerHealth = reachable ? { reachable } : { reachable, message };
    if (next.reachable === this.health.reachable && next.message === this.health.message) {
      return false;
    }
    this.health = next;
    return true;
  }
}
