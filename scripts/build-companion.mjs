// Bundles the companion (server/) into one file that ships inside the Python
// package, so the hub node needs only `node`, never node_modules.
import { build } from 'esbuild';
import { mkdirSync, copyFileSync, readFileSync } from 'node:fs';

const outdir = 'jupyterlab_hpc_submit/companion';
mkdirSync(outdir, { recursive: true });
await build({
  entryPoints: ['server/cli/main.ts'],
  outfile: `${outdir}/hpc-submit.cjs`,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  sourcemap: false,
  legalComments: 'none',
  define: {
    __HPC_SUBMIT_VERSION__: JSON.stringify(JSON.parse(readFileSync('package.json', 'utf8')).version)
  },
  logLevel: 'warning'
});
// The job runtime (job script body, nbconvert config, ...) and the profiles schema travel beside it.
copyFileSync('server/runtime/job.sh', `${outdir}/job.sh`);
copyFileSync('server/runtime/nbconvert_config.py', `${outdir}/nbconvert_config.py`);
copyFileSync('server/runtime/sampler.py', `${outdir}/sampler.py`);
copyFileSync('server/runtime/parameterize.py', `${outdir}/parameterize.py`);
copyFileSync('schema/profiles.schema.json', `${outdir}/profiles.schema.json`);
