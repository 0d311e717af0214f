// Every request the console makes goes to the Tessera that served it (same origin), with the key
// the user signed in with. The key lives in sessionStorage only: it is gone when the tab closes.

const KEY_STORAGE = 'tessera.key';
const ROLE_STORAGE = 'tessera.role';

export function currentKey() {
  return sessionStorage.getItem(KEY_STORAGE) || '';
}

export function currentRole() {
  return sessionStorage.getItem(ROLE_STORAGE) || '';
}

export function forgetKey() {
  sessionStorage.removeItem(KEY_STORAGE);
  sessionStorage.removeItem(ROLE_STORAGE);
}

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

async function request(path, { method = 'GET', body, key = currentKey(), raw = false } = {}) {
  const headers = { Authorization: `Bearer ${key}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
    credentials: 'omit',
  });
  if (raw && response.ok) return response;
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!response.ok) {
    // Errors are {"error":{"code","message","field"}}; the contract of GET /v1/kpis writes them
    // flat, {"error":"invalid_value","message","field"}: both are read.
    const nested = json && json.error;
    const error = typeof nested === 'string' ? { code: nested, message: json.message, field: json.field } : nested || {};
    throw new ApiError(response.status, error.code, error.message || text, error.field);
  }
  return json;
}

// Signs in: a read key may read profiles and audiences; an admin key may also change audiences.
// GET /v1/audiences tells a usable key from a bad one; GET /v1/audit (admin only) tells admin.
export async function signIn(key) {
  await request('/v1/audiences', { key });
  let role = 'read';
  try {
    await request('/v1/audit?limit=1', { key });
    role = 'admin';
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 403) throw error;
  }
  sessionStorage.setItem(KEY_STORAGE, key);
  sessionStorage.setItem(ROLE_STORAGE, role);
  return role;
}

const enc = encodeURIComponent;

export const api = {
  profile: (ref) => request(`/v1/profiles/${ref}`),
  events: (ref, { cursor, channel, event, limit = 25 } = {}) => {
    // Percent-encoding, not URLSearchParams: Tessera reads '+' as a plus sign, not a space.
    const params = [`limit=${limit}`];
    if (cursor) params.push(`cursor=${enc(cursor)}`);
    if (channel) params.push(`channel=${enc(channel)}`);
    if (event) params.push(`event=${enc(event)}`);
    return request(`/v1/profiles/${ref}/events?${params.join('&')}`);
  },
  graph: (ref) => request(`/v1/profiles/${ref}/graph`),
  // Profiles that may be the same person (docs/duplicates.md), most probable first.
  duplicates: (ref, { limit = 10, minProbability = 0.5 } = {}) =>
    request(`/v1/profiles/${ref}/duplicates?limit=${limit}&min_probability=${minProbability}`),
  // An admin's decisions (docs/stewardship.md): a and b are "type:value" or "id:<profile id>".
  mergeIdentities: (a, b, note) => request('/v1/identity/merge', { method: 'POST', body: note ? { a, b, note } : { a, b } }),
  separateIdentities: (a, b, note) => request('/v1/identity/separate', { method: 'POST', body: note ? { a, b, note } : { a, b } }),
  audiences: () => request('/v1/audiences'),
  audience: (name) => request(`/v1/audiences/${enc(name)}`),
  defineAudience: (name, definition) => request(`/v1/audiences/${enc(name)}`, { method: 'PUT', body: definition }),
  computedTraits: () => request('/v1/computed-traits'),
  members: (name, format, fields) =>
    request(`/v1/audiences/${enc(name)}/members?format=${format}&fields=${enc(fields)}`, { raw: true }),
  lift: (name, { since, until } = {}) => {
    const params = [];
    if (since) params.push(`since=${enc(since)}`);
    if (until) params.push(`until=${enc(until)}`);
    return request(`/v1/audiences/${enc(name)}/lift${params.length ? `?${params.join('&')}` : ''}`);
  },
  // The dashboard's figures (docs/console.md); absent filters take the server's defaults.
  kpis: ({ from, to, granularity, channel, modelAsOf } = {}) => {
    const params = [];
    if (from) params.push(`from=${enc(from)}`);
    if (to) params.push(`to=${enc(to)}`);
    if (granularity) params.push(`granularity=${enc(granularity)}`);
    if (channel) params.push(`channel=${enc(channel)}`);
    if (modelAsOf) params.push(`model_as_of=${enc(modelAsOf)}`);
    return request(`/v1/kpis${params.length ? `?${params.join('&')}` : ''}`);
  },
  destinations: () => request('/v1/destinations'),
  destination: (name) => request(`/v1/destinations/${enc(name)}`),
  deadLetters: (name, limit = 100) => request(`/v1/destinations/${enc(name)}/dead-letters?limit=${limit}`),
  // pause, resume or replay: admin key only; the server's refusal is the error a read key sees.
  destinationAction: (name, action) => request(`/v1/destinations/${enc(name)}/${action}`, { method: 'POST' }),
};

// A profile reference for the API path: "type:value" with the value percent-encoded.
export function refFor(type, value) {
  return `${type}:${enc(value)}`;
}
