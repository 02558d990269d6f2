import { SecureEndpoints } from './contract.js';
import { AuthRequestError } from './errors.js';
import { userAgentHeaders } from './user-agent.js';

/**
 * @typedef {object} LoginResult The answer of `POST /auth/login`.
 * @property {string} user The signed-in user.
 * @property {string[]} groups The groups, or group patterns such as `team-*`, the user may join.
 */

/**
 * @typedef {object} TicketResult The answer of `POST /auth/ticket`.
 * @property {string} ticket The single-use ticket; never put it in a URL or a log.
 * @property {string} expiresAt When the ticket stops being redeemable (ISO 8601).
 */

/**
 * @typedef {object} AuthSessionOptions
 * @property {string | URL} [baseUrl] The server, such as `http://127.0.0.1:5000`. Defaults to the page's origin in
 *   a browser; required in Node.
 * @property {typeof fetch} [fetch] The fetch to use. Defaults to the global one.
 */

/**
 * The server's cookie ticket flow: `login` starts a cookie session, `getTicket` asks `POST /auth/ticket` for a
 * single-use ticket with the `X-SignalRSecure: 1` header, `logout` ends the session (and the server closes the
 * user's hub connections). In a browser the browser keeps the HttpOnly cookie; where the runtime lets the code see
 * `Set-Cookie` (Node), the session keeps the cookie itself and sends it only to its own server.
 *
 * @example
 * const session = new AuthSession({ baseUrl: 'http://127.0.0.1:5000' });
 * await session.login('alice', password);
 * const client = new SecureHubClient({ url: session.hubUrl, getTicket: session.getTicket });
 */
export class AuthSession {
  /** @type {URL} */
  #baseUrl;
  /** @type {typeof fetch} */
  #fetch;
  // Only ever filled in runtimes that expose Set-Cookie; a browser never does, and keeps the cookie itself.
  /** @type {Map<string, string>} */
  #cookies = new Map();
  /** @type {LoginResult | null} */
  #account = null;

  /** @param {AuthSessionOptions} [options] */
  constructor({ baseUrl, fetch: fetchImpl } = {}) {
    const base = baseUrl ?? globalThis.location?.origin;
    if (!base) {
      throw new TypeError('AuthSession needs a baseUrl outside a browser page.');
    }

    this.#baseUrl = new URL(base);
    const chosen = fetchImpl ?? globalThis.fetch;
    if (typeof chosen !== 'function') {
      throw new TypeError('AuthSession needs fetch: pass one or run where it is global (browsers, Node 18+).');
    }

    this.#fetch = chosen.bind(globalThis);

    // Bound, so that `getTicket: session.getTicket` can be handed to SecureHubClient as it is.
    this.getTicket = this.getTicket.bind(this);
  }

  /** The URL of the chat hub on this server. */
  get hubUrl() {
    return new URL(SecureEndpoints.ChatHub, this.#baseUrl).href;
  }

  /** The account of the latest successful login, or null after logout or before any login. */
  get account() {
    return this.#account;
  }

  /**
   * Signs in and keeps the session cookie.
   * @param {string} username The user name.
   * @param {string} password The password; sent in the body only.
   * @returns {Promise<LoginResult>} The user and the groups the user may join.
   * @throws {AuthRequestError} 401 `invalid credentials`, 429 or 503 `server busy` with `retryAfter`, or no answer.
   */
  async login(username, password) {
    const account = /** @type {LoginResult} */ (await this.#post(SecureEndpoints.Login, { username, password }));
    this.#account = { user: account.user, groups: [...account.groups] };
    return this.#account;
  }

  /**
   * Asks the server for a fresh single-use ticket for the signed-in session.
   * @returns {Promise<TicketResult>} The ticket and when it expires.
   * @throws {AuthRequestError} 401 when not signed in, 403 from a foreign origin, 429, or no answer.
   */
  async requestTicket() {
    return /** @type {TicketResult} */ (await this.#post(SecureEndpoints.Ticket));
  }

  /**
   * Asks the server for a fresh single-use ticket; pass it as `getTicket` to {@link SecureHubClient}.
   * @returns {Promise<string>} The ticket.
   * @throws {AuthRequestError} As {@link AuthSession#requestTicket}.
   */
  async getTicket() {
    return (await this.requestTicket()).ticket;
  }

  /**
   * Ends the session. The server closes every hub connection of the user with `logged out`.
   * @returns {Promise<void>}
   * @throws {AuthRequestError} When the server cannot be reached or refuses the request.
   */
  async logout() {
    try {
      await this.#post(SecureEndpoints.Logout);
    } finally {
      this.#account = null;
    }
  }

  /**
   * @param {string} path
   * @param {object} [body]
   * @returns {Promise<unknown>}
   */
  async #post(path, body) {
    /** @type {Record<string, string>} */
    const headers = {
      // The ticket is bound to the User-Agent: in Node the same one SecureHubClient sends on the WebSocket.
      ...userAgentHeaders(),
      // Every endpoint gets the header: cross-origin it forces a CORS preflight, which the server grants only to
      // allowed origins, so a foreign page cannot make these requests with the user's cookie.
      [SecureEndpoints.RequestHeader]: SecureEndpoints.RequestHeaderValue,
      Accept: 'application/json',
    };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
    }

    if (this.#cookies.size > 0) {
      headers.Cookie = [...this.#cookies].map(([name, value]) => `${name}=${value}`).join('; ');
    }

    /** @type {Response} */
    let response;
    try {
      response = await this.#fetch(new URL(path, this.#baseUrl), {
        method: 'POST',
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'include',
        cache: 'no-store',
        redirect: 'error',
      });
    } catch (cause) {
      throw new AuthRequestError(path, { status: 0, cause });
    }

    this.#keepCookies(response);
    if (!response.ok) {
      throw new AuthRequestError(path, {
        status: response.status,
        error: await readError(response),
        retryAfter: parseRetryAfter(response.headers.get('Retry-After')),
      });
    }

    return response.status === 204 ? undefined : response.json();
  }

  /** @param {Response} response */
  #keepCookies(response) {
    const setCookies = typeof response.headers.getSetCookie === 'function' ? response.headers.getSetCookie() : [];
    for (const header of setCookies) {
      const [pair, ...attributes] = header.split(';');
      const separator = pair.indexOf('=');
      if (separator <= 0) {
        continue;
      }

      const name = pair.slice(0, separator).trim();
      const value = pair.slice(separator + 1).trim();
      if (value === '' || attributes.some(isExpiredAttribute)) {
        this.#cookies.delete(name);
      } else {
        this.#cookies.set(name, value);
      }
    }
  }
}

/** @param {string} attribute */
function isExpiredAttribute(attribute) {
  const [key, value = ''] = attribute.split('=').map((part) => part.trim());
  if (key.toLowerCase() === 'max-age') {
    return Number(value) <= 0;
  }

  return key.toLowerCase() === 'expires' && Date.parse(value) <= Date.now();
}

/**
 * @param {Response} response
 * @returns {Promise<string | null>}
 */
async function readError(response) {
  try {
    const body = await response.json();
    // Bounded: the text ends up in an error message, and a hostile proxy could answer anything.
    return typeof body?.error === 'string' ? body.error.slice(0, 200) : null;
  } catch {
    return null;
  }
}

/**
 * @param {string | null} value
 * @returns {number | null}
 */
function parseRetryAfter(value) {
  const seconds = value === null ? NaN : Number(value);
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : null;
}
