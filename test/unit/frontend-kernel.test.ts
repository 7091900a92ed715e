import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  kernelText,
  resolveNotebookKernel,
  summarizeKernels,
  type KernelSpecMap
} from '../../src/kernelInfo';
import type { ProfileStatus } from '../../contract/wire';

const gpu: ProfileStatus = {
  id: 'gpu',
  label: 'GPU node',
  kernel: 'convcnp-gpu',
  launcher: ['pixi', 'run', '-e', 'gpu'],
  resources: { partition: 'gpu', gpus: 1 },
  available: true,
  problems: []
};

const specs: KernelSpecMap = {
  python3: { name: 'python3', display_name: 'Python 3 (ipykernel)' },
  'convcnp-gpu': { name: 'convcnp-gpu', display_name: 'ConvCNP (GPU)' }
};

test('the notebook kernel: running, else chosen, else the file’s, named by the server’s kernelspecs', () => {
  assert.deepEqual(
    resolveNotebookKernel(
      {
        running: 'python3',
        preferred: 'other',
        metadata: 'x',
        displayName: 'Python 3 (ipykernel)'
      },
      specs
    ),
    {
      name: 'python3',
      displayName: 'Python 3 (ipykernel)',
      known: true
    }
  );
  // Before the kernel starts: the preference, with the spec's display name, not the "No Kernel" placeholder.
  assert.deepEqual(
    resolveNotebookKernel({ running: null, preferred: 'python3', displayName: 'No Kernel' }, specs),
    {
      name: 'python3',
      displayName: 'Python 3 (ipykernel)',
      known: true
    }
  );
  // Only the file says: a kernel the hub does not have keeps its name.
  assert.deepEqual(
    resolveNotebookKernel({ metadata: 'julia-1.10', displayName: 'No Kernel' }, specs),
    {
      name: 'julia-1.10',
      displayName: 'julia-1.10',
      known: false
    }
  );
  // Kernelspecs not loaded yet: the session's display name is used when it is a real one.
  assert.equal(
    resolveNotebookKernel({ running: 'python3', displayName: 'Python 3' }, null).displayName,
    'Python 3'
  );
  assert.equal(
    resolveNotebookKernel(
      { running: 'python3', displayName: 'Kein Kernel', noKernelName: 'Kein Kernel' },
      null
    ).displayName,
    'python3'
  );
  assert.deepEqual(
    resolveNotebookKernel({ running: '', preferred: '', displayName: 'No Kernel' }, specs),
    { name: '', displayName: '', known: false }
  );
});

test('kernel text shows the display name and the name once each', () => {
  assert.equal(kernelText('python3', 'Python 3 (ipykernel)'), 'Python 3 (ipykernel) [python3]');
  assert.equal(kernelText('convcnp-gpu', 'convcnp-gpu'), 'convcnp-gpu');
  assert.equal(kernelText('convcnp-gpu'), 'convcnp-gpu');
});

test('the summary: this notebook on the hub, the run with the profile kernel on its partition', () => {
  const nb = resolveNotebookKernel({ running: 'python3' }, specs);
  const s = summarizeKernels(nb, gpu);
  assert.equal(s.notebook, 'Python 3 (ipykernel) [python3] on the hub');
  assert.equal(s.run, 'convcnp-gpu on gpu');
  assert.equal(s.differs, true);
  assert.equal(s.missing, undefined);
  assert.equal(summarizeKernels(nb, gpu, specs).run, 'ConvCNP (GPU) [convcnp-gpu] on gpu');
  // Without a partition (the local executor), the profile's label says where.
  assert.equal(summarizeKernels(nb, { ...gpu, resources: {} }).run, 'convcnp-gpu on GPU node');
  assert.equal(summarizeKernels(null, undefined).run, 'no profile');
  assert.equal(
    summarizeKernels({ name: '', displayName: '' }, gpu).notebook,
    'no kernel on the hub'
  );
});

test('a missing profile kernel is reported with the one command that creates it', () => {
  const fix = 'pixi run -e gpu python -m ipykernel install --user --name convcnp-gpu';
  const s = summarizeKernels(
    { name: 'convcnp-gpu', displayName: 'convcnp-gpu' },
    {
      ...gpu,
      problems: [
        { code: 'partition-unknown', message: 'partition "gpu" is not known to the scheduler' },
        { code: 'kernel-missing', message: 'the kernel "convcnp-gpu" is not installed', fix }
      ]
    }
  );
  assert.equal(s.notebook, 'convcnp-gpu on the hub');
  assert.equal(s.differs, false);
  assert.deepEqual(s.missing, { message: 'the kernel "convcnp-gpu" is not installed', fix });
});
