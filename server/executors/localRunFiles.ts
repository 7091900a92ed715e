/**
 * The local executor's run files: one JSON file per run under
 * <stateDir>/local-executor/<job id>.json, holding what is needed to find the
 * run again after a restart of the companion (see local.ts).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '../atomicWrite';
import type { LaunchSpec } from './executor';

export interface RunRecord {
  spec: LaunchSpec;
  /** Where it runs; absent in records made before several hosts shared a state directory. */
  host?: string;
  /** The companion that manages it (see `managed`). */
  companionPid?: number;
  /** Order of submission, for the queue. */
  seq: number;
  pid?: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot): tells our process from a recycled pid. */
  procStart?: string;
  startedAt?: number;
  /** Known only when this companion was the parent. */
  exitCode?: number;
  exitSignal?: string;
  ended?: boolean;
  /**
   * The executor's own memory of a cancel, kept in its run file: after a
   * restart it still answers a cancelled run's end as 'cancelled'.
   */
  cancelRequested?: boolean;
  /** A start that failed (e.g. the working directory is gone). */
  startError?: string;
  /** A task of a sweep: at most `maxParallel` of its sweep run at once. */
  sweep?: { id: string; maxParallel: number };
  /** Ended without running: a run it came after failed (Slurm's DependencyNeverSatisfied). */
  dependencyNeverSatisfied?: boolean;
}

/** One JSON file per run under <stateDir>/local-executor/, written atomically. */
export class RunFiles {
  constructor(private readonly dir: string) {}

  save(id: string, record: RunRecord): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    writeFileAtomicSync(this.pathOf(id), JSON.stringify(record));
  }

  load(id: string): RunRecord | undefined {
    try {
      const record = JSON.parse(readFileSync(this.pathOf(id), 'utf8')) as RunRecord;
      return record && typeof record === 'object' && record.spec ? record : undefined;
    } catch {
      return undefined;
    }
  }

  private pathOf(id: string): string {
    return join(this.dir, `${encodeURIComponent(id)}.json`);
  }
}
