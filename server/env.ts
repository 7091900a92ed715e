/**
 * The environment a job starts with: the companion's own, less every
 * credential. A job runs user code on a shared cluster and its environment is
 * readable by the scheduler's tools, so no Jupyter or Hub token may reach it.
 */
// A webhook URL carries its secret in its path (Slack, Mattermost): a credential too.
const SECRET_NAME = /TOKEN|SECRET|PASSW|API_KEY|APIKEY|CREDENTIAL|COOKIE|PRIVATE_KEY|WEBHOOK/i;
const DROPPED = new Set([
  'JPY_API_TOKEN',
  'JUPYTERHUB_API_TOKEN',
  'JUPYTER_TOKEN',
  'JPY_COOKIE_NAME'
]);

export function isSecretName(name: string): boolean {
  return DROPPED.has(name) || SECRET_NAME.test(name);
}

export function jobEnvironment(
  base: NodeJS.ProcessEnv,
  extra: Record<string, string> = {}
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(base)) {
    if (value !== undefined && !isSecretName(name)) {
      env[name] = value;
    }
  }
  return { ...env, ...extra };
}
