// api.js: the console's only way to talk to tocsin: the public Open API.
//
// Every call is POST + JSON with ?app_key=KEY (reference/event-api.md). The
// key is the one the person pasted at login; it lives in sessionStorage, so
// it is gone when the tab closes and never leaves this origin. A failed call
// throws an ApiError carrying the envelope's {code, message}, which the
// pages show next to the form or button that made the call (see ui.js).

const KEY_NAME = 'tocsin.app_key';

export class ApiError extends Error {
  constructor(code, message, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

export function getKey() {
  return sessionStorage.getItem(KEY_NAME) || '';
}

export function setKey(key) {
  sessionStorage.setItem(KEY_NAME, key);
}

export function clearKey() {
  sessionStorage.removeItem(KEY_NAME);
}

// Listeners told when a call is refused as Unauthorized (key revoked or
// wrong): the app then goes back to the login screen.
const unauthorizedListeners = [];
export function onUnauthorized(fn) {
  unauthorizedListeners.push(fn);
}

// POSTs body to path; resolves with the envelope's `data`, rejects with an
// ApiError (network failures become code "NetworkError").
export async function call(path, body = {}, key = getKey()) {
  let resp;
  try {
    resp = await fetch(path + '?app_key=' + encodeURIComponent(key), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
      cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError('NetworkError', 'tocsin did not answer: ' + e.message, 0);
  }
  let env = null;
  try {
    env = await resp.json();
  } catch {
    throw new ApiError('InternalError', 'tocsin answered HTTP ' + resp.status + ' without JSON',
                       resp.status);
  }
  if (!resp.ok || env.error) {
    const err = env.error || { code: 'InternalError', message: 'HTTP ' + resp.status };
    const e = new ApiError(err.code, err.message, resp.status);
    if (err.code === 'Unauthorized' && key === getKey())
      unauthorizedListeners.forEach((fn) => fn(e));
    throw e;
  }
  return env.data || {};
}
