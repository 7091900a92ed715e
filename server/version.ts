// Replaced at bundle time by esbuild's `define`; from source, read package.json.
declare const __HPC_SUBMIT_VERSION__: string | undefined;

export const VERSION: string =
  typeof __HPC_SUBMIT_VERSION__ === 'string'
    ? __HPC_SUBMIT_VERSION__
    : // eslint-disable-next-line @typescript-eslint/no-var-requires
      (require('../package.json') as { version: string }).version;
