// Typed errors, so that callers branch on fields (reason, terminal, status) and never on message text.
// No message built here includes a ticket, a password or a cookie: they only name methods, paths, statuses and the
// server's fixed error texts.

/**
 * The hub connection closed or could not be opened: by the server with a close reason, because the transport
 * dropped, or because the client could not reconnect.
 */
export class HubClosedError extends Error {
  /**
   * @param {string} message What happened, without secrets.
   * @param {{ reason?: string | null, terminal?: boolean, cause?: unknown }} [details]
   */
  constructor(message, { reason = null, terminal = false, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'HubClosedError';
    /** The server's close reason (one of `CloseReasons`), or null when the connection dropped without one. */
    this.reason = reason;
    /** Whether the client stops here instead of reconnecting. */
    this.terminal = terminal;
  }
}

/** The server refused a hub method: the connection stays open. */
export class HubInvocationError extends Error {
  /**
   * @param {string} method The hub method that failed.
   * @param {string | null} reason One of `HubErrors`, or null for an error the contract does not name.
   * @param {{ cause?: unknown }} [details]
   */
  constructor(method, reason, { cause } = {}) {
    super(reason ? `${method} failed: ${reason}` : `${method} failed`, cause === undefined ? undefined : { cause });
    this.name = 'HubInvocationError';
    /** The hub method that failed. */
    this.method = method;
    /** The server's error (one of `HubErrors`), or null when it sent one the contract does not name. */
    this.reason = reason;
  }
}

/** A request to the server's `/auth/*` endpoints failed. */
export class AuthRequestError extends Error {
  /**
   * @param {string} path The endpoint, such as `/auth/ticket`.
   * @param {{ status: number, error?: string | null, retryAfter?: number | null, cause?: unknown }} details
   *   `status` is 0 when no HTTP answer came (network failure, CORS refusal).
   */
  constructor(path, { status, error = null, retryAfter = null, cause }) {
    const what = status === 0 ? 'no answer' : `${status}${error ? ` ${error}` : ''}`;
    super(`POST ${path} failed: ${what}`, cause === undefined ? undefined : { cause });
    this.name = 'AuthRequestError';
    /** The endpoint that failed. */
    this.path = path;
    /** The HTTP status, or 0 when no answer came. */
    this.status = status;
    /** The server's short error text (`invalid credentials`, `not signed in`, ...), or null. */
    this.error = error;
    /** Seconds to wait before trying again (from `Retry-After`), or null. */
    this.retryAfter = retryAfter;
    /**
     * Whether the same request may succeed later: true for no answer, 429 and 5xx; false when the server refused
     * the caller (401 not signed in, 403 foreign origin), where retrying cannot help.
     */
    this.retryable = status === 0 || status === 429 || status >= 500;
  }
}
