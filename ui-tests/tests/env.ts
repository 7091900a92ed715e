/**
 * Where the test JupyterLab lives; shared by playwright.config.ts (which
 * hands it to start-jupyter.sh) and the tests (which look at its files).
 */
import * as os from 'node:os';
import * as path from 'node:path';

export const UI_PORT = Number(process.env.HPC_SUBMIT_UI_PORT ?? 8931);
export const UI_WORK_DIR =
  process.env.HPC_SUBMIT_UI_DIR ?? path.join(os.tmpdir(), 'hpc-submit-ui-tests');
/** The Jupyter root dir: notebook paths in the browser are relative to it. */
export const UI_ROOT_DIR = path.join(UI_WORK_DIR, 'root');
/** JUPYTER_DATA_DIR of the server: `--user` kernels are installed here. */
export const UI_DATA_DIR = path.join(UI_WORK_DIR, 'data');
/** The profile whose kernel the start script does not install. */
export const MISSING_KERNEL = 'hpc-test-fresh';
/**
 * The checkout. scripts/ui-matrix.sh runs a copy of ui-tests/ (beside the
 * Galata of another JupyterLab) and names the checkout here.
 */
export const REPO_ROOT = process.env.HPC_SUBMIT_REPO_ROOT ?? path.resolve(__dirname, '..', '..');
/** The Python environment whose JupyterLab the tests run (start-jupyter.sh reads it too). */
export const UI_VENV = process.env.HPC_SUBMIT_VENV ?? path.join(REPO_ROOT, '.venv');
/** Only scripts/screenshots.sh sets this: then the README's pictures are all that runs. */
export const SCREENSHOTS = process.env.HPC_SUBMIT_SCREENSHOTS === '1';
/** Run the real-Slurm test (the server must then use the slurm executor). */
export const WITH_SLURM = process.env.HPC_SUBMIT_TEST_SLURM === '1';
