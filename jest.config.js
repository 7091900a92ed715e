/**
 * Two projects, picked with --selectProjects: `unit` (pure logic, seconds) and
 * `integration` (a real companion, nbconvert and Slurm cluster; run it
 * --runInBand, the tests share the cluster). The frontend's tests
 * (frontend-*.test.ts) run in jsdom, the companion's in node; both halves of
 * `unit` carry its name, so selecting `unit` runs both.
 * One file is picked by its path alone (`npx jest test/integration/api.test.ts`):
 * --selectProjects takes every word after it as one more project name.
 */
const jupyterlab = require('@jupyterlab/testing/lib/jest-config')(__dirname);

// Transpile only: `npm run typecheck` type-checks, and jest stays fast.
const transform = {
  '^.+\\.tsx?$': ['ts-jest', { tsconfig: { module: 'commonjs', isolatedModules: true } }]
};
const common = {
  rootDir: __dirname,
  // Only test/ is crawled (not .venv or the built extension); imports of src/
  // and server/ resolve from there.
  roots: ['<rootDir>/test'],
  moduleFileExtensions: ['ts', 'tsx', 'js', 'json'],
  transform
};
const FRONTEND = '<rootDir>/test/unit/**/frontend-*.test.ts';
// ES modules in node_modules that jest must transform: @jupyterlab/testing's
// list, and @jupyterlab/* as the JupyterLab extension template adds.
const esModules = [
  '@codemirror',
  '@jupyter/react-components',
  '@jupyter/web-components',
  '@jupyter/ydoc',
  '@jupyterlab/',
  '@marijn',
  '@microsoft',
  'color',
  'exenv-es6',
  'lib0',
  'marked',
  'nanoid',
  'vscode-ws-jsonrpc',
  'y-protocols',
  'y-websocket',
  'yjs'
].join('|');

module.exports = {
  projects: [
    {
      ...common,
      displayName: 'unit',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
      testPathIgnorePatterns: ['/frontend-[^/]*\\.test\\.ts$']
    },
    {
      ...common,
      displayName: 'unit',
      // As JupyterLab tests its own frontend: jsdom with fetch, and the ESM
      // packages of @jupyterlab/* transformed.
      testEnvironment: jupyterlab.testEnvironment,
      setupFiles: jupyterlab.setupFiles,
      moduleNameMapper: jupyterlab.moduleNameMapper,
      resolver: jupyterlab.resolver,
      transformIgnorePatterns: [`/node_modules/(?!${esModules}).+`],
      transform: {
        ...jupyterlab.transform,
        '^.+\\.jsx?$': ['babel-jest', require('@jupyterlab/testing/lib/babel-config').default],
        ...transform
      },
      testMatch: [FRONTEND]
    },
    {
      ...common,
      displayName: 'integration',
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      // Jobs on a real scheduler: the tests wait with their own deadlines.
      setupFilesAfterEnv: ['<rootDir>/test/integration/setup.ts']
    }
  ]
};
