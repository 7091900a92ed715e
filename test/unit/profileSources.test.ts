import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  BUILT_IN,
  CONFIG_FILE,
  loadProfileSet,
  splitConfigPath
} from '../../server/jobs/profileSources';

const gpu = (label: string, kernel = 'site-gpu') => ({
  id: 'gpu',
  label,
  kernel,
  launcher: [],
  resources: { partition: 'gpu', gpus: 1 }
});
const cpu = { id: 'cpu', label: 'CPU node', kernel: 'site-cpu', launcher: [], resources: {} };

describe('profiles from Jupyter config directories', () => {
  let base: string;
  let user: string;
  let site: string;
  const write = (dir: string, content: unknown) => {
    mkdirSync(join(dir, 'hpc_submit'), { recursive: true });
    writeFileSync(
      join(dir, CONFIG_FILE),
      typeof content === 'string' ? content : JSON.stringify(content)
    );
    return join(dir, CONFIG_FILE);
  };
  beforeEach(() => {
    base = mkdtempSync(join(tmpdir(), 'profile-sources-'));
    user = join(base, 'user');
    site = join(base, 'etc');
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  it('merges by id, the higher-priority directory (listed first) overriding, each with its file', () => {
    const siteFile = write(site, { profiles: [gpu('Site GPU'), cpu] });
    const userFile = write(user, { profiles: [gpu('My GPU', 'myproj-gpu')] });
    const set = loadProfileSet(undefined, [user, join(base, 'absent'), site]);
    expect(set.profiles.map(p => [p.id, p.label, p.kernel])).toEqual([
      ['gpu', 'My GPU', 'myproj-gpu'],
      ['cpu', 'CPU node', 'site-cpu']
    ]);
    expect(set.sources).toEqual({ gpu: userFile, cpu: siteFile });
    expect(set.problems).toEqual([]);
  });

  it('names a broken file and its problem, and still loads the others', () => {
    const siteFile = write(site, { profiles: [cpu] });
    const broken = write(user, '{"profiles": [ {"id": "gpu"');
    const set = loadProfileSet(undefined, [user, site]);
    expect(set.profiles.map(p => p.id)).toEqual(['cpu']);
    expect(set.sources).toEqual({ cpu: siteFile });
    expect(set.problems).toHaveLength(1);
    expect(set.problems[0]).toContain(broken);
    const invalid = write(user, { profiles: [{ id: 'gpu' }] });
    expect(loadProfileSet(undefined, [user, site]).problems[0]).toMatch(
      new RegExp(
        `^${invalid.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} does not match the profiles schema: .*label`
      )
    );
  });

  it('falls back to the built-in profiles when no directory has a file', () => {
    const set = loadProfileSet(undefined, [user, site]);
    expect(set.profiles.map(p => p.id)).toEqual(['gpu', 'cpu']);
    expect(set.sources).toEqual({ gpu: BUILT_IN, cpu: BUILT_IN });
  });

  it('lets --profiles or HPC_SUBMIT_PROFILES win whole', () => {
    write(user, { profiles: [gpu('My GPU')] });
    const named = write(join(base, 'named'), { profiles: [cpu] });
    const set = loadProfileSet(named, [user]);
    expect(set.profiles.map(p => p.id)).toEqual(['cpu']);
    expect(set.sources).toEqual({ cpu: named });
  });

  it('splits a config path as JUPYTER_CONFIG_PATH is written', () => {
    expect(splitConfigPath('/a:/b::/c')).toEqual(['/a', '/b', '/c']);
    expect(splitConfigPath(undefined)).toEqual([]);
  });
});
