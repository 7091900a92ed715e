/**
 * Two executed notebooks diffed by nbdime's web diff: its Jupyter server
 * extension serves /nbdime/difftool, which reads both files relative to the
 * server's root (an absolute path, as a kept copy's, is read as it is).
 */
import { serverPageUrl, serverServes } from './request';

const DIFFTOOL = 'nbdime/difftool';

/** What to run where the diff is missing: nbdime comes with this package, so it was removed or disabled. */
export const NBDIME_MISSING =
  "The notebook diff needs nbdime's server extension, which this Jupyter server does not have: " +
  'install it with `pip install nbdime` (or enable it with `jupyter server extension enable nbdime`), ' +
  'then restart JupyterLab.';

export function nbdimeDiffUrl(base: string, remote: string): string {
  return serverPageUrl(DIFFTOOL, { base, remote });
}

/** Once found, found for the page: a server does not lose an extension while it runs. */
let found = false;

export async function nbdimeAvailable(): Promise<boolean> {
  found ||= await serverServes(DIFFTOOL);
  return found;
}
