// api.js: talking to the whaco HTTP API (same origin), and the admin token.
//
// The token lives in sessionStorage only: it survives a reload of the tab and
// is forgotten when the tab closes. When set it goes with every request
// (an admin token also satisfies read and write).

export const BASE = '/api/intelligence';
const TOKEN_KEY = 'whaco.token';
const TIMEOUT_MS = 10000;

export function getToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || '';
  } catch {
    return '';
  }
}

export function setToken(token) {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    /* storage disabled: the token then lasts until the next reload */
  }
}

/** An answer other than 2xx, or no answer at all (status 0). */
export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field || null;
  }
}

/**
 * One request; resolves to the parsed JSON body, rejects with ApiError.
 * path is relative to /api/intelligence.
 */
export async function request(method, path, body) {
  const headers = { Accept: 'application/json' };
  const token = getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  const init = { method, headers, cache: 'no-store', signal: AbortSignal.timeout(TIMEOUT_MS) };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(BASE + path, init);
  } catch {
    throw new ApiError(0, 'UNREACHABLE', 'Service unreachable');
  }
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const e = data && data.error ? data.error : {};
    throw new ApiError(res.status, e.code || `HTTP_${res.status}`,
      e.message || `The service answered ${res.status}`, e.field);
  }
  return data;
}

export const get = (path) => request('GET', path);
export const post = (path, body) => request('POST', path, body);
export const del = (path) => request('DELETE', path);

/** URL of the live event stream (EventSource cannot send headers). */
export function eventsUrl() {
  const token = getToken();
  return `${BASE}/events${token ? `?token=${encodeURIComponent(token)}` : ''}`;
}
