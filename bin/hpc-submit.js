#!/usr/bin/env node
// `npx hpc-submit …` from the repository: runs the bundled companion.
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const bundle = join(__dirname, '..', 'jupyterlab_hpc_submit', 'companion', 'hpc-submit.cjs');
if (!existsSync(bundle)) {
  // A fresh checkout: say how to build it rather than show a MODULE_NOT_FOUND trace.
  console.error(
    `hpc-submit: the companion bundle ${bundle} is missing; build it with \`npm run build:companion\`.`
  );
  process.exit(1);
}
require(bundle);
