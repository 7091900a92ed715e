import {
  kernelLabel,
  kernelText,
  type KernelLabel,
  resolveNotebookKernel,
  summarizeKernels,
  type KernelSpecMap
} from '../../src/kernelInfo';
import { gpuProfile } from '../fixtures/wire';

const gpu = gpuProfile();

const specs: KernelSpecMap = {
  python3: { name: 'python3', display_name: 'Python 3 (ipykernel)' },
  'convcnp-gpu': { name: 'convcnp-gpu', display_name: 'ConvCNP (GPU)' }
};

test('the notebook kernel: running, else chosen, else the file’s, named by the server’s kernelspecs', () => {
  expect(
    resolveNotebookKernel(
      {
        running: 'python3',
        preferred: 'other',
        metadata: 'x',
        displayName: 'Python 3 (ipykernel)'
      },
      specs
    )
  ).toStrictEqual({
    name: 'python3',
    displayName: 'Python 3 (ipykernel)',
    known: true
  });
  // Before the kernel starts: the preference, with the spec's display name, not the "No Kernel" placeholder.
  expect(
    resolveNotebookKernel({ running: null, preferred: 'python3', displayName: 'No Kernel' }, specs)
  ).toStrictEqual({
    name: 'python3',
    displayName: 'Python 3 (ipykernel)',
    known: true
  });
  // Only the file says: a kernel the hub does not have keeps its name.
  expect(
    resolveNotebookKernel({ metadata: 'julia-1.10', displayName: 'No Kernel' }, specs)
  ).toStrictEqual({
    name: 'julia-1.10',
    displayName: 'julia-1.10',
    known: false
  });
  // Kernelspecs not loaded yet: the session's display name is used when it is a real one.
  expect(
    resolveNotebookKernel({ running: 'python3', displayName: 'Python 3' }, null).displayName
  ).toBe('Python 3');
  expect(
    resolveNotebookKernel(
      { running: 'python3', displayName: 'Kein Kernel', noKernelName: 'Kein Kernel' },
      null
    ).displayName
  ).toBe('python3');
  expect(
    resolveNotebookKernel({ running: '', preferred: '', displayName: 'No Kernel' }, specs)
  ).toStrictEqual({ name: '', displayName: '', known: false });
});

test('a kernel label: the display name, and the name where it differs', () => {
  expect(kernelLabel('python3', 'Python 3 (ipykernel)')).toStrictEqual({
    display: 'Python 3 (ipykernel)',
    name: 'python3'
  });
  expect(kernelLabel('convcnp-gpu', 'convcnp-gpu')).toStrictEqual({ display: 'convcnp-gpu' });
  expect(kernelLabel('convcnp-gpu')).toStrictEqual({ display: 'convcnp-gpu' });
  expect(kernelText(kernelLabel('python3', 'Python 3 (ipykernel)'))).toBe(
    'Python 3 (ipykernel) (python3)'
  );
});

test('the summary: this notebook on the hub, the run with the profile kernel on its partition', () => {
  const nb = resolveNotebookKernel({ running: 'python3' }, specs);
  const s = summarizeKernels(nb, gpu);
  const line = (l: { kernel?: KernelLabel; where: string }) =>
    l.kernel ? `${kernelText(l.kernel)} ${l.where}` : l.where;
  expect(line(s.notebook)).toBe('Python 3 (ipykernel) (python3) on the hub');
  expect(line(s.run)).toBe('convcnp-gpu on gpu');
  expect(s.missing).toBeUndefined();
  expect(line(summarizeKernels(nb, gpu, specs).run)).toBe('ConvCNP (GPU) (convcnp-gpu) on gpu');
  // Without a partition (the local executor), the profile's label says where.
  expect(line(summarizeKernels(nb, { ...gpu, resources: {} }).run)).toBe('convcnp-gpu on GPU node');
  expect(line(summarizeKernels(null, undefined).run)).toBe('no profile');
  expect(line(summarizeKernels({ name: '', displayName: '' }, gpu).notebook)).toBe(
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
  expect(s.notebook).toStrictEqual({ kernel: { display: 'convcnp-gpu' }, where: 'on the hub' });
  expect(s.missing).toStrictEqual({ message: 'the kernel "convcnp-gpu" is not installed', fix });
});
