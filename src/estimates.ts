/**
 * The start estimates the toolbar shows in its tooltip: one per profile,
 * asked of the companion at most every ESTIMATE_INTERVAL_MS, because each
 * answer costs the scheduler a query (squeue --start).
 */
import type { EstimateAnswer } from '../contract/wire';

/** A profile's start estimate is asked for at most this often: squeue is the scheduler's load. */
export const ESTIMATE_INTERVAL_MS = 30_000;

/** The last estimate asked for a profile, and when it was asked. */
interface EstimateEntry {
  askedAt: number;
  estimate?: EstimateAnswer;
}

export class StartEstimates {
  private readonly entries = new Map<string, EstimateEntry>();

  /**
   * @param ask asks the companion for a profile's estimate
   * @param answered told when a new answer is kept
   */
  constructor(
    private readonly ask: (profile: string) => Promise<EstimateAnswer>,
    private readonly answered: () => void
  ) {}

  /** The profile's last estimate, if one was fetched; never fetches. */
  get(profile: string): EstimateAnswer | undefined {
    return this.entries.get(profile)?.estimate;
  }

  /** Asks again unless asked within the interval; a refusal keeps the last answer. */
  request(profile: string, now: number): void {
    const last = this.entries.get(profile);
    if (last && now - last.askedAt < ESTIMATE_INTERVAL_MS) {
      return;
    }
    const entry: EstimateEntry = { askedAt: now, estimate: last?.estimate };
    this.entries.set(profile, entry);
    this.ask(profile).then(
      estimate => {
        entry.estimate = estimate;
        this.answered();
      },
      () => undefined
    );
  }
}
