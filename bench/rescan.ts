/**
 * What a companion pays each second to follow other companions over a shared
 * state directory (JobStore.rescan) with a long history:
 *   node --import tsx bench/rescan.ts [runs] [live]     (default 10000, 50)
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobStore, newJobId } from '../server/jobs/store';

async function main(): Promise<void> {
  const runs = Number(process.argv[2] ?? 10_000);
  const live = Number(process.argv[3] ?? 50);
  const state = mkdtempSync(join(tmpdir(), 'hpc-bench-rescan-'));
  try {
    for (let i = 0; i < runs; i++) {
      const id = newJobId(new Date(Date.UTC(2026, 0, 1, 0, 0, i)));
      mkdirSync(join(state, 'jobs', id), { recursive: true });
      const record = {
        id,
        notebook: 'n.ipynb',
        output: 'executed/n_executed.ipynb',
        notebookPath: '/r/n.ipynb',
        outputPath: '/r/executed/n_executed.ipynb',
        profile: 'cpu',
        kernel: 'k',
        resources: {},
        executor: 'local',
        schedulerId: String(i),
        state: i >= runs - live ? 'running' : 'completed',
        submittedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString()
      };
      writeFileSync(join(state, 'jobs', id, 'job.json'), JSON.stringify(record));
    }
    const store = new JobStore(state, '/r');
    store.load();
    await store.rescan();
    const times: number[] = [];
    for (let k = 0; k < 50; k++) {
      const start = performance.now();
      await store.rescan();
      times.push(performance.now() - start);
    }
    times.sort((a, b) => a - b);
    const at = (q: number) => times[Math.floor(q * (times.length - 1))].toFixed(1);
    console.log(
      `JobStore.rescan, ${runs} runs of which ${live} live: median ${at(0.5)} ms, p90 ${at(0.9)} ms, max ${at(1)} ms (once a second)`
    );
  } finally {
    rmSync(state, { recursive: true, force: true });
  }
}

void main();
