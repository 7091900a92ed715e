/**
 * What a pipeline costs the Slurm controller: a 10-step chain of short
 * notebooks submitted through a real companion (as hpcuser, POST
 * /api/pipelines), sdiag's submission RPCs counted around the request, then
 * its job-info RPCs per minute while the steps wait and run, polled by the
 * companion's one poller at its default interval, until the last step ends.
 *
 *   node --import tsx bench/pipelineRpc.ts [--steps 10]
 *
 * As root (sdiag needs it), with the cluster up and the companion built
 * (`npm run build:companion`).
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  USER,
  chownTree,
  companion,
  mkdirs,
  notebook,
  sleep,
  tempTree,
  userIds,
  writeProfiles
} from './lib';
import { readSdiag } from './sweepRpc';

export interface PipelineCost {
  steps: number;
  submitRpcs: number;
  submitMs: number;
  jobInfoPerMinute: number;
  minutes: number;
  state: string;
}

const SUBMISSION = /^REQUEST_SUBMIT_BATCH/;
const JOB_INFO = /^REQUEST_JOB_(INFO|USER_INFO)/;

function made(before: Map<string, number>, after: Map<string, number>, type: RegExp): number {
  let n = 0;
  for (const [t, count] of after) {
    if (type.test(t)) {
      n += count - (before.get(t) ?? 0);
    }
  }
  return n;
}

export async function measurePipeline(steps: number): Promise<PipelineCost> {
  if (process.getuid?.() !== 0) {
    throw new Error('bench/pipelineRpc.ts needs root: sdiag answers only the Slurm admin');
  }
  const user = userIds();
  const dir = tempTree('bench-pipeline-');
  const root = join(dir, 'root');
  mkdirs(root);
  const lines = ['steps:'];
  for (let i = 0; i < steps; i++) {
    writeFileSync(join(root, `step${i}.ipynb`), notebook(['import time; time.sleep(15)']));
    lines.push(
      `  - {name: s${i}, notebook: step${i}.ipynb, profile: cpu${i > 0 ? `, after: [s${i - 1}]` : ''}}`
    );
  }
  writeFileSync(join(root, 'chain.pipeline.yaml'), lines.join('\n') + '\n');
  writeProfiles(join(dir, 'profiles.json'), {
    resources: { partition: 'cpu', cpus: 1, memory: '200M', time: '00:10:00' }
  });
  chownTree(dir, user.uid, user.gid);
  const c = await companion({
    root,
    state: join(dir, 'state'),
    profiles: join(dir, 'profiles.json'),
    executor: 'slurm',
    user: USER
  });
  try {
    const before = readSdiag();
    const t0 = performance.now();
    const res = await c.post('api/pipelines', { file: 'chain.pipeline.yaml' });
    const submitMs = performance.now() - t0;
    const afterSubmit = readSdiag();
    if (res.status !== 201) {
      throw new Error(`the pipeline was refused: ${JSON.stringify(res.body)}`);
    }
    const started = Date.now();
    let state = 'queued';
    while (Date.now() - started < 15 * 60_000) {
      await sleep(2000);
      state = (await c.get(`api/pipelines/${res.body.pipeline.id}`)).body.pipeline.state;
      if (['completed', 'failed', 'cancelled', 'timeout'].includes(state)) {
        break;
      }
    }
    const minutes = (Date.now() - started) / 60_000;
    const jobInfo = made(afterSubmit, readSdiag(), JOB_INFO);
    return {
      steps,
      submitRpcs: made(before, afterSubmit, SUBMISSION),
      submitMs,
      jobInfoPerMinute: jobInfo / minutes,
      minutes,
      state
    };
  } finally {
    await c.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  const at = process.argv.indexOf('--steps');
  const steps = at < 0 ? 10 : Number(process.argv[at + 1]);
  measurePipeline(steps)
    .then(cost => console.log(JSON.stringify(cost, null, 2)))
    .catch(e => {
      console.error(e);
      process.exit(1);
    });
}
