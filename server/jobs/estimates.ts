/** The start estimates of the profiles' runs, shared by every open tab. */
import type { EstimateAnswer, Profile } from '../../contract/wire';
import type { Executor } from '../executors/executor';

/** How long Slurm's estimate for a profile is reused: every open tab asks for it. */
const ESTIMATE_TTL_MS = 30_000;

/**
 * The start estimate of a profile's run, one scheduler call per profile per
 * 30 s whatever the number of tabs (concurrent asks share the call). The
 * local executor answers from memory: never cached, so it follows the queue.
 */
export function estimateCache(executor: Executor): (profile: Profile) => Promise<EstimateAnswer> {
  const cache = new Map<string, { at: number; answer: Promise<EstimateAnswer> }>();
  const ttl = executor.name === 'slurm' ? ESTIMATE_TTL_MS : 0;
  return profile => {
    if (!executor.estimateStart) {
      return Promise.resolve({ expectedStart: null, message: 'no estimate' });
    }
    const hit = cache.get(profile.id);
    if (hit && Date.now() - hit.at < ttl) {
      return hit.answer;
    }
    const answer = executor.estimateStart(profile.resources);
    cache.set(profile.id, { at: Date.now(), answer });
    answer.catch(() => cache.delete(profile.id));
    return answer;
  };
}
