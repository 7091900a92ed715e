#!/usr/bin/env node
// `npx hpc-submit …` from the repository: runs the bundled companion.
require('../jupyterlab_hpc_submit/companion/hpc-submit.cjs');
