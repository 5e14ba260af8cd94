// api: the JSON API of /api/v1 and the session: the user, the tenant and the CSRF token, kept
// only in memory (the session itself is the HttpOnly cookie).
import { toast } from './dom.js';

const API = '/api/v1';

// The signed-in user and tenant, and the CSRF token of the session; all null when signed out.
export const session = { csrf: null, user: null, tenant: null };
let onLost = () => {};

// Fills session from a login or GET /me answer.
export function setSession(r) {
  session.csrf = r.csrf_token; session.user = r.user; session.tenant = r.tenant;
}
export function clearSession() {
  session.csrf = null; session.user = null; session.tenant = null;
}
// fn() runs when a request answers 401 (the session has expired): it shows the sign-in.
export function onSessionLost(fn) {
  onLost = fn;
}

// A failed request: status (0 when the server cannot be reached), and the API's error code,
// field and message.
export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `Request failed (${status})`);
    this.status = status; this.code = e.code; this.field = e.field;
  }
}

// Sends one request (body as JSON, the CSRF token on writes) and resolves to the parsed answer
// (null for 204). Throws ApiError; on a 401 outside the login it clears the session and calls the
// onSessionLost handler first.
export async function api(method, path, body, extraHeaders = {}) {
  const headers = { Accept: 'application/json', ...extraHeaders };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && session.csrf) headers['X-CSRF-Token'] = session.csrf;
  let res;
  try {
    res = await fetch(API + path, { method, headers, credentials: 'same-origin', body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, { error: { message: 'The server cannot be reached. Check the connection and try again.' } });
  }
  if (res.status === 204) return null;
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (res.status === 401 && path !== '/auth/login') {
    clearSession();
    onLost();
    throw new ApiError(401, data);
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

// Restores the session of the cookie (GET /me); false when there is none. Throws when the
// server cannot be reached.
export async function resumeSession() {
  const me = await fetch(API + '/me', { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (!me.ok) return false;
  setSession(await me.json());
  return true;
}

// A query string "?k=v&..." of the non-empty values of o ('' when there are none).
export const qs = (o) => {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(o)) if (v !== '' && v !== null && v !== undefined) p.set(k, v);
  const t = p.toString();
  return t ? '?' + t : '';
};

// fn as an event handler whose failures show as a toast. Handlers that fail with a 401 have
// already moved to sign-in: that one is swallowed.
export function guard(fn) {
  return async (...a) => {
    try { await fn(...a); } catch (e) { if (!(e instanceof ApiError && e.status === 401)) toast(e.message, true); }
  };
}
