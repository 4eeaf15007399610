// api.js - the one place the workbench talks to `imr serve` (docs/api.md): JSON in and out,
// the session's CSRF token on every unsafe request, and problem documents (RFC 9457) turned
// into errors that name the offending fields.

let csrfToken = null;
let onUnauthorized = () => {};

export function setCsrfToken(token) {
  csrfToken = token || null;
}

// Called when the server answers 401 to anything but the sign-in itself (session over).
export function whenUnauthorized(callback) {
  onUnauthorized = callback;
}

export class ApiError extends Error {
  constructor(status, problem) {
    const p = problem && typeof problem === 'object' ? problem : {};
    super(p.detail || p.title || `the server answered ${status}`);
    this.status = status;
    this.problem = p;
    // [{pointer: "/disputed_items/0/request", detail: "expected a string"}]
    this.fields = Array.isArray(p.errors) ? p.errors : [];
  }
}

const SAFE = new Set(['GET', 'HEAD']);

export async function request(method, path, body) {
  const headers = {Accept: 'application/json'};
  const init = {method, headers, credentials: 'same-origin'};
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (!SAFE.has(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError(0, {detail: 'the server cannot be reached; is `imr serve` running?'});
  }
  if (res.status === 204) return null;
  const type = res.headers.get('Content-Type') || '';
  const data = type.includes('json') ? await res.json().catch(() => null) : await res.text();
  if (!res.ok) {
    const err = new ApiError(res.status, data);
    if (res.status === 401 && path !== '/api/session') onUnauthorized(err);
    throw err;
  }
  return data;
}

export const get = (path) => request('GET', path);
export const post = (path, body) => request('POST', path, body);
export const put = (path, body) => request('PUT', path, body);
export const del = (path) => request('DELETE', path);

// "/api/cases?status=assigned&q=CM15" from {status: 'assigned', q: 'CM15', priority: ''}.
export function withQuery(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params || {}))
    if (v !== undefined && v !== null && v !== '' && v !== false) q.set(k, v === true ? '1' : String(v));
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

export function casePath(id, rest = '') {
  return `/api/cases/${encodeURIComponent(id)}${rest}`;
}

// The case file inside a case object (`case_file`, docs/api.md).
export function caseFileOf(c) {
  return c.case_file || {};
}
