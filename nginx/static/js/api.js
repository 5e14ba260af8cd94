// api: the JSON API of /api/v1 and the session: the user, the tenant and the CSRF token, kept
// only in memory (the session itself is the HttpOnly cookie).
import { toast } from './dom.js';
import { errorText } from './i18n.js';

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
// field and message (English, for programs: the UI shows errorText(e) of i18n.js).
export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `Request failed (${status})`);
    this.status = status; this.code = e.code; this.field = e.field;
  }
}

// Sends one request (body as JSON, the CSRF token on writes) and resolves to { data, etag }: the
// parsed answer (null for 204) and its ETag header (null when none). Throws ApiError; on a 401
// of an ended session it clears the session and calls the onSessionLost handler first.
export async function request(method, path, body, extraHeaders = {}) {
  const headers = { Accept: 'application/json', ...extraHeaders };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && session.csrf) headers['X-CSRF-Token'] = session.csrf;
  let res;
  try {
    res = await fetch(API + path, { method, headers, credentials: 'same-origin', cache: 'no-store', body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, { error: { message: 'The server cannot be reached. Check the connection and try again.' } });
  }
  const etag = res.headers.get('ETag');
  if (res.status === 204) return { data: null, etag };
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  // A 401 invalid_credentials is a wrong password typed in a form (the login, the current
  // password of POST /me/password), not a session that has ended.
  if (res.status === 401 && path !== '/auth/login' && !(data && data.error && data.error.code === 'invalid_credentials')) {
    clearSession();
    onLost();
    throw new ApiError(401, data);
  }
  if (!res.ok) throw new ApiError(res.status, data);
  return { data, etag };
}

// request() for the parsed answer alone.
export async function api(method, path, body, extraHeaders = {}) {
  return (await request(method, path, body, extraHeaders)).data;
}

// Whether the signed-in user is an admin (SPEC §10: staff see no action they may not use).
export const isAdmin = () => !!(session.user && session.user.role === 'admin');

// The Idempotency-Key of one form: key(body) gives a fresh random key for a new submission and
// the same key again while the body is unchanged (a retry after a lost or failed answer, so the
// server records it once); done() after a success makes the next submission a new one.
export function idempotency() {
  let key = null, last = null;
  const fresh = () => (crypto.randomUUID ? crypto.randomUUID() : Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join(''));
  return {
    key(body) {
      const sig = JSON.stringify(body);
      if (sig !== last) { key = fresh(); last = sig; }
      return key;
    },
    done() { key = null; last = null; },
  };
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
    try { await fn(...a); } catch (e) { if (!(e instanceof ApiError && e.status === 401)) toast(e instanceof ApiError ? errorText(e) : e.message, true); }
  };
}
