/**
 * The development environment has what the package needs at run time:
 * scripts/setup.sh installs the package with --no-deps (it is rebuilt on
 * every change), so each of pyproject.toml's dependencies must also be in
 * requirements-dev.txt, or the tests run without it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const REPO = join(__dirname, '..', '..');

/** The requirement strings of `[project] dependencies`, comments left out. */
function projectDependencies(): string[] {
  const toml = readFileSync(join(REPO, 'pyproject.toml'), 'utf8');
  const block = /^dependencies = \[\n([\s\S]*?)^\]/m.exec(toml)?.[1] ?? '';
  return [...block.matchAll(/^\s*"([^"]+)",?\s*$/gm)].map(m => m[1]);
}

test('every dependency of the package is in requirements-dev.txt', () => {
  const name = (req: string) => req.split(/[<>=!~ ;[]/)[0].toLowerCase();
  const wanted = projectDependencies().map(name);
  expect(wanted).toEqual(expect.arrayContaining(['papermill', 'nbdime']));
  const dev = new Set(
    readFileSync(join(REPO, 'requirements-dev.txt'), 'utf8')
      .split('\n')
      .map(line => line.replace(/#.*/, '').trim())
      .filter(Boolean)
      .map(name)
  );
  expect(wanted.filter(dep => !dev.has(dep))).toStrictEqual([]);
});
