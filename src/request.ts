/**
 * The one request helper: every call to the companion goes through here,
 * with the Jupyter server's auth and XSRF (ServerConnection), under the
 * server's base URL, so it works under JupyterHub's /user/<name>/ prefix.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { COMPANION_PATH } from './tokens';
import type { ApiError } from '../contract/wire';

export class CompanionError extends Error {
  constructor(
    message: string,
    readonly status: number
  ) {
    super(message);
  }
}

function companionUrl(settings: ServerConnection.ISettings, path = ''): string {
  return URLExt.join(settings.baseUrl, COMPANION_PATH, path);
}

/** The URL of the event stream: EventSource sends cookies but no headers, so a token goes in the query where JupyterLab would put it. */
export function eventsUrl(
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): string {
  const url = companionUrl(settings, 'api/events');
  return settings.appendToken && settings.token
    ? `${url}?token=${encodeURIComponent(settings.token)}`
    : url;
}

/** What a successful call answered: the body as text and the response's headers. */
export interface CompanionReply {
  text: string;
  headers: Headers;
}

export async function requestCompanionText(
  path: string,
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<CompanionReply> {
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(companionUrl(settings, path), init, settings);
  } catch (error) {
    throw new CompanionError(
      `the hpc-submit companion cannot be reached: ${(error as Error).message}`,
      0
    );
  }
  const text = await response.text();
  if (!response.ok) {
    throw new CompanionError(refusal(response.status, text), response.status);
  }
  return { text, headers: response.headers };
}

/** The companion's own `{error}` sentence, else what the status means. */
function refusal(status: number, text: string): string {
  try {
    const body = JSON.parse(text) as Partial<ApiError>;
    return typeof body.error === 'string' && body.error ? body.error : `HTTP ${status}`;
  } catch {
    // jupyter-server-proxy's own HTML error page: say what it means
    return status >= 500
      ? `the hpc-submit companion is not answering (HTTP ${status})`
      : `HTTP ${status}`;
  }
}

/** JSON answers parsed, anything else as text. */
export async function requestCompanion<T>(
  path: string,
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const { text, headers } = await requestCompanionText(path, init, settings);
  const type = headers.get('Content-Type') ?? '';
  return (type.includes('application/json') && text ? JSON.parse(text) : text) as T;
}

/**
 * A page of the Jupyter server itself (not the companion), as a frame loads
 * it: under the base URL, with the token where JupyterLab would put one.
 */
export function serverPageUrl(
  path: string,
  query: Record<string, string>,
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): string {
  const params = new URLSearchParams(query);
  if (settings.appendToken && settings.token) {
    params.set('token', settings.token);
  }
  return `${URLExt.join(settings.baseUrl, path)}?${params.toString()}`;
}

/** Whether the Jupyter server serves `path` (another extension's page): false on 404 or no answer. */
export async function serverServes(
  path: string,
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<boolean> {
  try {
    const response = await ServerConnection.makeRequest(
      URLExt.join(settings.baseUrl, path),
      { method: 'GET' },
      settings
    );
    return response.ok;
  } catch {
    return false;
  }
}
