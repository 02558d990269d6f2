import { HttpTransportType, HubConnectionBuilder, HubConnectionState } from '@microsoft/signalr';
import {
  ChatClientMethods,
  ChatHubMethods,
  CloseReasons,
  HubErrors,
  isTerminalCloseReason,
  parseCloseReason,
  parseHubError,
} from './contract.js';
import { HubClosedError, HubInvocationError } from './errors.js';
import { createLog, signalRLogger } from './logging.js';
import { MessageSequencer } from './message-sequencer.js';
import { HubProtocols, assertHubProtocol, createHubProtocol } from './protocols.js';
import { userAgentHeaders } from './user-agent.js';

/**
 * Where a {@link SecureHubClient} stands.
 * @readonly
 */
export const ConnectionStates = Object.freeze({
  /** Not started yet. */
  Disconnected: 'disconnected',
  /** `start()` is fetching a ticket, connecting and authenticating. */
  Connecting: 'connecting',
  /** Authenticated: calls go out. */
  Authenticated: 'authenticated',
  /** The connection was lost; a new one is being opened and authenticated. Calls wait. */
  Reconnecting: 'reconnecting',
  /** Stopped by `stop()`, refused by the server, or out of reconnect attempts. Calls fail. */
  Closed: 'closed',
});

/** @typedef {typeof ConnectionStates[keyof typeof ConnectionStates]} ConnectionState */

/** The default of `ReconnectOptions.initialDelay`, in milliseconds. */
export const DefaultReconnectInitialDelay = 500;

/** The default of `ReconnectOptions.maxDelay`, in milliseconds. */
export const DefaultReconnectMaxDelay = 30_000;

/** The default of `SecureHubClientOptions.reauthenticateBefore`, in milliseconds. */
export const DefaultReauthenticateBefore = 60_000;

// Below this, a session that the local clock says is about to end is left to expire: the server closes it with the
// retryable `session expired` and the client reconnects. This keeps a badly skewed clock from a Reauthenticate loop.
const minimumReauthenticateDelay = 1_000;

// setTimeout fires at once for delays above 2^31 - 1 ms.
const maximumTimerDelay = 2_147_483_647;

/**
 * @typedef {import('./logging.js').Logger} Logger
 * @typedef {import('./logging.js').LogLevelName} LogLevelName
 */

/**
 * @typedef {object} ReconnectOptions
 * @property {number} [maxAttempts] Attempts in a row before giving up. The default is Infinity.
 * @property {number} [initialDelay] Delay before the first attempt, doubled after every failed one, in ms.
 *   The default is 500.
 * @property {number} [maxDelay] The longest delay between attempts, in ms. The default is 30,000.
 */

/**
 * @typedef {object} SecureHubClientOptions
 * @property {string} url The hub URL, such as `http://127.0.0.1:5000/hubs/chat` (relative in a page).
 * @property {() => Promise<string>} getTicket Returns a fresh single-use ticket. Called before every connection
 *   and before the session expires.
 * @property {Logger | null} [logger] Where to log; `console` fits. The default is none.
 * @property {LogLevelName} [logLevel] The lowest level logged. The default is `info`.
 * @property {ReconnectOptions | false} [reconnect] How to reconnect after a retryable close, or false to stop on
 *   any close. The default is `{}`: forever, 0.5 s doubling to 30 s.
 * @property {boolean} [reauthenticate] Whether to extend the session with `Reauthenticate` before it expires.
 *   The default is true.
 * @property {number} [reauthenticateBefore] How long before the session ends to reauthenticate, in ms, at most a
 *   quarter of the session. The default is 60,000.
 * @property {import('./protocols.js').HubProtocolName} [protocol] The hub protocol: `messagepack` only when the server
 *   enables it (`SignalRSecure:Hub:Protocols`). Results and events have the same shape with either. The default is
 *   `json`.
 * @property {Record<string, string>} [headers] Extra headers on the WebSocket request (Node only; browsers
 *   cannot set them). Never put a ticket here. In Node the `User-Agent` is `signalr-secure-client/<version>`, as on
 *   {@link AuthSession}'s requests, since tickets are bound to it; a `User-Agent` here replaces it.
 */

/**
 * @typedef {object} AuthenticateResult
 * @property {string} user The user the ticket was issued to.
 * @property {string[]} groups The groups, or group patterns such as `team-*`, the user may join.
 * @property {string} expiresAt When the session ends unless extended (ISO 8601).
 */

/**
 * @typedef {object} ChatMessage
 * @property {string} from The sending user.
 * @property {string} text The text: show it as text, never as markup.
 * @property {string | null} group The group, or null for a broadcast.
 * @property {string} sentAt When the server accepted it (ISO 8601).
 * @property {string | null} [id] Its place in its group's history (two decimal numbers joined by a hyphen, ordered
 *   number by number); null when the server's history was unavailable as it was sent.
 */

/**
 * @typedef {object} HistoryOptions
 * @property {string | null} [beforeId] Only messages older than this id. The default is none: the newest messages.
 * @property {number | null} [limit] At most this many messages. The default is the server's page size (50), capped
 *   at its history length.
 */

/**
 * @typedef {object} HistoryGap
 * @property {string | null} group The group, or null for the broadcast channel, where messages may be missing.
 */

/**
 * @typedef {object} GroupRecovery
 * @property {ChatMessage[]} messages The messages after the client's last id, oldest first.
 * @property {boolean} recovered False when the server's history no longer reached back to that id.
 */

/**
 * @typedef {object} GroupPresence
 * @property {string} group The group.
 * @property {string} user The user who joined or left.
 */

/**
 * @typedef {object} StateChange
 * @property {ConnectionState} state One of {@link ConnectionStates}.
 * @property {string | null} reason The server's close reason that led here, if any.
 * @property {Error | null} error Why the connection closed or is reconnecting; null on `stop()` and when healthy.
 * @property {number} attempt The reconnect attempt (1, 2, ...) when reconnecting, else 0.
 */

/**
 * @typedef {{
 *   message: (message: ChatMessage) => void,
 *   userJoined: (presence: GroupPresence) => void,
 *   userLeft: (presence: GroupPresence) => void,
 *   gap: (gap: HistoryGap) => void,
 *   state: (change: StateChange) => void,
 *   reauthenticated: (session: { expiresAt: string }) => void,
 *   error: (error: Error) => void,
 * }} SecureHubEvents
 */

/**
 * @typedef {object} Run One start() until the client closes: its timers and the connection being set up, so that
 *   stop() can end all of them.
 * @property {boolean} stopped
 * @property {import('@microsoft/signalr').HubConnection | null} connection
 * @property {ReturnType<typeof setTimeout> | undefined} timer
 * @property {(() => void) | null} wake
 * @property {Promise<void>} done
 */

/**
 * A client of the SignalRSecure chat hub that authenticates every connection with a single-use ticket before
 * anything else goes out, keeps the session alive with `Reauthenticate`, and reconnects after retryable closes,
 * re-authenticating and re-joining its groups before any waiting call is sent. The groups, and the broadcast channel,
 * that delivered a message recover what was sent meanwhile (`RejoinGroup` with the newest id delivered): the missed
 * messages come first, then the live ones held meanwhile, each once; `gap` says when the history could not reach back.
 *
 * @example
 * const client = new SecureHubClient({ url: session.hubUrl, getTicket: session.getTicket, logger: console });
 * client.on('message', (m) => console.log(m.from, m.text));
 * await client.start();
 * await client.joinGroup('general');
 */
export class SecureHubClient {
  #url;
  #getTicket;
  #log;
  /** @type {Required<ReconnectOptions> | null} */
  #reconnect;
  #reauthenticate;
  #reauthenticateBefore;
  #headers;
  #protocol;
  /** @type {Map<keyof SecureHubEvents, Set<Function>>} */
  #listeners = new Map();
  /** @type {ConnectionState} */
  #state = ConnectionStates.Disconnected;
  /** @type {import('@microsoft/signalr').HubConnection | null} */
  #live = null;
  /** @type {Run | null} */
  #run = null;
  /** @type {Deferred<import('@microsoft/signalr').HubConnection>} */
  #ready = deferred();
  /** @type {Set<string>} */
  #joined = new Set();
  #sequencer = new MessageSequencer();
  /** @type {AuthenticateResult | null} */
  #session = null;
  /** @type {Error | null} */
  #closeError = null;
  /**
   * What each connection closed with, for the calls that fail on it.
   * @type {WeakMap<import('@microsoft/signalr').HubConnection, Error | undefined>}
   */
  #closeErrors = new WeakMap();

  /** @param {SecureHubClientOptions} options */
  constructor(options) {
    const {
      url,
      getTicket,
      logger = null,
      logLevel = 'info',
      reconnect = {},
      reauthenticate = true,
      reauthenticateBefore = DefaultReauthenticateBefore,
      headers,
      protocol = HubProtocols.Json,
    } = options ?? {};
    if (typeof url !== 'string' || url.length === 0) {
      throw new TypeError('SecureHubClient needs the hub url.');
    }

    if (typeof getTicket !== 'function') {
      throw new TypeError('SecureHubClient needs getTicket, a function returning a fresh ticket.');
    }

    // Refused here rather than at the first connection: a wrong name is a programming error.
    assertHubProtocol(protocol);
    this.#url = url;
    this.#getTicket = getTicket;
    this.#protocol = protocol;
    this.#log = createLog(logger, logLevel);
    this.#reconnect = reconnect === false ? null : {
      maxAttempts: reconnect.maxAttempts ?? Infinity,
      initialDelay: reconnect.initialDelay ?? DefaultReconnectInitialDelay,
      maxDelay: reconnect.maxDelay ?? DefaultReconnectMaxDelay,
    };
    this.#reauthenticate = reauthenticate;
    this.#reauthenticateBefore = reauthenticateBefore;
    this.#headers = headers;
  }

  /** One of {@link ConnectionStates}. */
  get state() {
    return this.#state;
  }

  /** The authenticated user, or null before the first authentication. */
  get user() {
    return this.#session?.user ?? null;
  }

  /** The groups, or group patterns, the user may join, as of the latest authentication. */
  get allowedGroups() {
    return this.#session ? [...this.#session.groups] : [];
  }

  /** When the current session ends unless extended (ISO 8601), or null. */
  get expiresAt() {
    return this.#session?.expiresAt ?? null;
  }

  /** The groups joined through this client; they are re-joined after every reconnect. */
  get joinedGroups() {
    return [...this.#joined];
  }

  /** Why the client closed, or null while it has not. */
  get closeError() {
    return this.#closeError;
  }

  /**
   * Adds a listener. Listeners run synchronously; one that throws is logged and does not disturb the others.
   * @template {keyof SecureHubEvents} E
   * @param {E} event `message`, `gap`, `userJoined`, `userLeft`, `state`, `reauthenticated` or `error`.
   * @param {SecureHubEvents[E]} listener The listener.
   * @returns {() => void} Removes the listener.
   */
  on(event, listener) {
    if (typeof listener !== 'function') {
      throw new TypeError('listener must be a function');
    }

    let listeners = this.#listeners.get(event);
    if (!listeners) {
      listeners = new Set();
      this.#listeners.set(event, listeners);
    }

    listeners.add(listener);
    return () => this.off(event, listener);
  }

  /**
   * Removes a listener added with {@link SecureHubClient#on}.
   * @template {keyof SecureHubEvents} E
   * @param {E} event The event.
   * @param {SecureHubEvents[E]} listener The listener.
   */
  off(event, listener) {
    this.#listeners.get(event)?.delete(listener);
  }

  /**
   * Fetches a ticket, connects and authenticates: `Authenticate` is the first message on the connection. Resolves
   * once authenticated; does not retry (reconnecting starts only after a first success).
   * @returns {Promise<AuthenticateResult>} The user, the groups the user may join and the end of the session.
   * @throws {HubClosedError} Refused (`reason` says why) or unreachable.
   * @throws {import('./errors.js').AuthRequestError} From the ticket flow, such as 401 when not signed in.
   */
  async start() {
    if (this.#state !== ConnectionStates.Disconnected && this.#state !== ConnectionStates.Closed) {
      throw new Error(`SecureHubClient cannot start while ${this.#state}.`);
    }

    /** @type {Deferred<AuthenticateResult>} */
    const started = deferred();
    /** @type {Run} */
    const run = { stopped: false, connection: null, timer: undefined, wake: null, done: Promise.resolve() };
    this.#run = run;
    this.#closeError = null;
    this.#joined.clear();
    this.#sequencer.clear();
    this.#enter(ConnectionStates.Connecting, null, null, 0);
    run.done = this.#runConnections(run, started);
    return started.promise;
  }

  /**
   * Closes the connection and stops reconnecting. Calls waiting for a connection fail with {@link HubClosedError}.
   * @returns {Promise<void>} Resolves once closed.
   */
  async stop() {
    const run = this.#run;
    if (!run || run.stopped) {
      await run?.done;
      return;
    }

    run.stopped = true;
    clearTimeout(run.timer);
    run.wake?.();
    await run.connection?.stop();
    await run.done;
  }

  /**
   * Returns `text` from the server.
   * @param {string} text The text.
   * @returns {Promise<string>} The same text.
   */
  echo(text) {
    return this.#invoke(ChatHubMethods.Echo, text);
  }

  /**
   * Sends `text` to every authenticated user, the caller included, as a `message` with a null group.
   * @param {string} text The text.
   * @returns {Promise<void>}
   */
  async broadcast(text) {
    await this.#invoke(ChatHubMethods.Broadcast, text);
  }

  /**
   * Joins a group the user may join; it is re-joined after every reconnect until left.
   * @param {string} group The group.
   * @returns {Promise<void>}
   * @throws {HubInvocationError} `forbidden`, `invalid group` or `too many groups`.
   */
  async joinGroup(group) {
    await this.#invoke(ChatHubMethods.JoinGroup, group);
    this.#joined.add(group);
  }

  /**
   * Leaves a group.
   * @param {string} group The group.
   * @returns {Promise<void>}
   * @throws {HubInvocationError} `not a member` or `invalid group`.
   */
  async leaveGroup(group) {
    try {
      await this.#invoke(ChatHubMethods.LeaveGroup, group);
    } catch (error) {
      // The server forgot the membership already (it was never joined, or dropped with an old connection).
      if (error instanceof HubInvocationError && error.reason === HubErrors.NotAMember) {
        this.#joined.delete(group);
        this.#sequencer.forget(group);
      }

      throw error;
    }

    this.#joined.delete(group);
    this.#sequencer.forget(group);
  }

  /**
   * Sends `text` to the members of a joined group, the caller included.
   * @param {string} group The group.
   * @param {string} text The text.
   * @returns {Promise<void>}
   * @throws {HubInvocationError} `not a member`, `message too long`, `rate limited`, ...
   */
  async sendToGroup(group, text) {
    await this.#invoke(ChatHubMethods.SendToGroup, group, text);
  }

  /**
   * Lists the users online in a joined group.
   * @param {string} group The group.
   * @returns {Promise<string[]>} The users.
   */
  getGroupMembers(group) {
    return this.#invoke(ChatHubMethods.GetGroupMembers, group);
  }

  /**
   * Reads the recent messages of a joined group, or of the broadcast channel. It delivers nothing: the messages are
   * the answer, not `message` events.
   * @param {string | null} [group] The group, or null for the broadcast channel.
   * @param {HistoryOptions} [options] Where the page ends and how long it is.
   * @returns {Promise<ChatMessage[]>} The messages before `beforeId` (or the newest), oldest first.
   * @throws {HubInvocationError} `not a member`, `invalid message` (a malformed `beforeId`, a limit below 1) or
   *   `temporarily unavailable` (the server's history store failed).
   */
  history(group = null, options = {}) {
    const { beforeId = null, limit = null } = options ?? {};
    return this.#invoke(ChatHubMethods.GetHistory, group ?? null, beforeId ?? null, limit ?? null);
  }

  /**
   * Opens connections until the client stops or closes for good.
   * @param {Run} run
   * @param {Deferred<AuthenticateResult> | null} started Settled by the first outcome, for start().
   */
  async #runConnections(run, started) {
    let attempt = 0;
    for (;;) {
      /** @type {unknown} */
      let failure;
      try {
        const { connection, closed, result } = await this.#connect(run);
        attempt = 0;
        this.#session = result;
        this.#live = connection;
        this.#log.info(`authenticated as ${result.user}`);
        this.#enter(ConnectionStates.Authenticated, null, null, 0);
        this.#ready.resolve(connection);
        started?.resolve({ ...result, groups: [...result.groups] });
        started = null;
        this.#scheduleReauthentication(run, connection);
        failure = await closed;
        this.#live = null;
        clearTimeout(run.timer);
      } catch (error) {
        failure = error;
      }

      if (run.stopped) {
        this.#close(null);
        started?.reject(new HubClosedError('the client was stopped before it authenticated'));
        return;
      }

      const error = toClosedError(failure);
      const terminal = isTerminal(error);
      if (started || terminal || !this.#reconnect) {
        this.#log[terminal && !isRoutineClose(error) ? 'warn' : 'info'](`closed: ${error.message}`);
        this.#close(error);
        started?.reject(error);
        return;
      }

      attempt += 1;
      if (attempt > this.#reconnect.maxAttempts) {
        const gaveUp = new HubClosedError(`gave up reconnecting after ${attempt - 1} attempts`, {
          reason: reasonOf(error),
          cause: error,
        });
        this.#log.warn(gaveUp.message);
        this.#close(gaveUp);
        return;
      }

      this.#log.warn(`reconnecting (attempt ${attempt}): ${error.message}`);
      this.#enter(ConnectionStates.Reconnecting, reasonOf(error), error, attempt);
      await this.#sleep(run, this.#retryDelay(attempt));
      if (run.stopped) {
        this.#close(null);
        return;
      }
    }
  }

  /**
   * Fetches a ticket, opens a connection, authenticates it and re-joins the groups.
   * @param {Run} run
   */
  async #connect(run) {
    const ticket = await this.#fetchTicket();
    if (run.stopped) {
      throw new HubClosedError('the client was stopped');
    }

    // Live messages of the groups to recover wait from now on: they must not overtake the recovered ones.
    this.#sequencer.holdAll();
    const connection = await this.#build();
    /** @type {Promise<Error | undefined>} */
    const closed = new Promise((resolve) => connection.onclose(resolve));
    run.connection = connection;
    try {
      await connection.start();
      if (run.stopped) {
        throw new HubClosedError('the client was stopped');
      }

      /** @type {AuthenticateResult} */
      const result = await connection.invoke(ChatHubMethods.Authenticate, ticket);
      await this.#rejoin(connection);
      return { connection, closed, result };
    } catch (error) {
      await connection.stop().catch(() => {});
      throw toClosedError(error);
    }
  }

  async #build() {
    const protocol = await createHubProtocol(this.#protocol);
    const connection = new HubConnectionBuilder()
      .withUrl(this.#url, {
        // The server speaks WebSockets only; skipping negotiate also means no request carries anything but the
        // upgrade, and the ticket travels in the first hub message, never in a URL.
        skipNegotiation: true,
        transport: HttpTransportType.WebSockets,
        logMessageContent: false,
        // In Node the WebSocket carries the User-Agent AuthSession's ticket requests send; headers given may replace it.
        headers: { ...userAgentHeaders(), ...this.#headers },
      })
      .withHubProtocol(protocol)
      .configureLogging(signalRLogger(this.#log))
      .build();
    connection.onclose((error) => this.#closeErrors.set(connection, error));
    connection.on(ChatClientMethods.ReceiveMessage, (message) => this.#deliver(this.#sequencer.onLive(message)));
    connection.on(ChatClientMethods.UserJoined, (presence) => this.#emit('userJoined', presence));
    connection.on(ChatClientMethods.UserLeft, (presence) => {
      // The server sends UserLeft with this client's own user only when the user is out of the group (a newer
      // ticket no longer allows it): stop re-joining it.
      if (presence?.user === this.#session?.user) {
        this.#joined.delete(presence.group);
        this.#sequencer.forget(presence.group);
      }

      this.#emit('userLeft', presence);
    });
    return connection;
  }

  /**
   * Re-joins the groups; those (and the broadcast channel) that delivered a message recover what was missed first.
   * @param {import('@microsoft/signalr').HubConnection} connection
   */
  async #rejoin(connection) {
    const lastIds = new Map(this.#sequencer.recoverable().map(({ group, lastId }) => [group, lastId]));
    for (const group of [...this.#joined]) {
      try {
        const lastId = lastIds.get(group);
        if (lastId === undefined) {
          await connection.invoke(ChatHubMethods.JoinGroup, group);
        } else {
          await this.#recover(connection, group, lastId);
        }
      } catch (error) {
        if (connection.state !== HubConnectionState.Connected) {
          throw error;
        }

        // The fresh ticket may grant fewer groups than the old one: drop the group and say so, but stay connected.
        this.#joined.delete(group);
        this.#sequencer.forget(group);
        const refused = toInvocationError(ChatHubMethods.JoinGroup, error);
        this.#log.warn(`could not re-join ${group}: ${refused.reason ?? 'error'}`);
        this.#emit('error', refused);
      }
    }

    const lastBroadcastId = lastIds.get(null);
    if (lastBroadcastId !== undefined) {
      await this.#recover(connection, null, lastBroadcastId);
    }

    this.#deliver(this.#sequencer.releaseHeld());
  }

  /**
   * Rejoins a group (or, for null, only reads the broadcast channel) with the last id delivered from it, then delivers
   * the missed messages and the live ones held meanwhile, and reports a gap the server could not fill.
   * @param {import('@microsoft/signalr').HubConnection} connection
   * @param {string | null} group
   * @param {string} lastId
   */
  async #recover(connection, group, lastId) {
    /** @type {GroupRecovery} */
    let recovery;
    try {
      recovery = await connection.invoke(ChatHubMethods.RejoinGroup, group, lastId);
    } catch (error) {
      if (connection.state !== HubConnectionState.Connected
        || parseHubError(error instanceof Error ? error.message : undefined) !== HubErrors.Unavailable) {
        throw error;
      }

      // The history store failed: live delivery still works, so join without the missed messages and say they may be
      // missing, rather than drop the connection until the store is back.
      this.#log.warn(`could not recover ${group ?? 'the broadcast channel'}: ${HubErrors.Unavailable}`);
      if (group !== null) {
        await connection.invoke(ChatHubMethods.JoinGroup, group);
      }

      recovery = { messages: [], recovered: false };
    }

    this.#deliver(this.#sequencer.endRecovery(group, recovery?.messages ?? []));
    if (recovery?.recovered === false) {
      this.#log.info(`messages may be missing in ${group ?? 'the broadcast channel'}`);
      this.#emit('gap', { group });
    }
  }

  /** @param {ChatMessage[]} messages */
  #deliver(messages) {
    for (const message of messages) {
      this.#emit('message', message);
    }
  }

  async #fetchTicket() {
    const ticket = await this.#getTicket();
    if (typeof ticket !== 'string' || ticket.length === 0) {
      throw new TypeError('getTicket must return a non-empty string.');
    }

    return ticket;
  }

  /**
   * @param {Run} run
   * @param {import('@microsoft/signalr').HubConnection} connection
   */
  #scheduleReauthentication(run, connection) {
    if (!this.#reauthenticate || !this.#session) {
      return;
    }

    const remaining = Date.parse(this.#session.expiresAt) - Date.now();
    const delay = remaining - Math.min(this.#reauthenticateBefore, remaining / 4);
    if (!(delay >= minimumReauthenticateDelay)) {
      this.#log.warn('the session ends too soon by the local clock to reauthenticate; it will reconnect instead');
      return;
    }

    run.timer = setTimeout(() => void this.#reauthenticateNow(run, connection), Math.min(delay, maximumTimerDelay));
  }

  /**
   * @param {Run} run
   * @param {import('@microsoft/signalr').HubConnection} connection
   */
  async #reauthenticateNow(run, connection) {
    const current = () => connection === this.#live && !run.stopped;
    let ticket;
    try {
      ticket = await this.#fetchTicket();
    } catch (error) {
      if (current()) {
        const failure = error instanceof Error ? error : new Error(String(error));
        this.#log.warn(`reauthentication failed: ${failure.message}`);
        this.#emit('error', failure);
        if (isRetryable(failure)) {
          this.#retryReauthentication(run, connection);
        }
      }

      return;
    }

    if (!current()) {
      return;
    }

    try {
      /** @type {{ expiresAt: string }} */
      const result = await connection.invoke(ChatHubMethods.Reauthenticate, ticket);
      if (!current() || !this.#session) {
        return;
      }

      this.#session = { ...this.#session, expiresAt: result.expiresAt };
      this.#log.info('reauthenticated');
      this.#emit('reauthenticated', { expiresAt: result.expiresAt });
      this.#scheduleReauthentication(run, connection);
    } catch (error) {
      if (!current()) {
        return;
      }

      // A refused ticket closes the connection, and the run loop reports that close; any other answer (such as
      // `rate limited`) leaves the session as it was, to be tried again while it lasts.
      const failure = connection.state === HubConnectionState.Connected
        ? toInvocationError(ChatHubMethods.Reauthenticate, error)
        : toClosedError(error);
      this.#log.warn(`reauthentication failed: ${failure.message}`);
      if (failure instanceof HubInvocationError && failure.reason !== HubErrors.AuthenticationFailed) {
        this.#emit('error', failure);
        this.#retryReauthentication(run, connection);
      }
    }
  }

  /**
   * Tries Reauthenticate again while the session has time left; past that the server closes with the retryable
   * `session expired` and the client reconnects.
   * @param {Run} run
   * @param {import('@microsoft/signalr').HubConnection} connection
   */
  #retryReauthentication(run, connection) {
    const remaining = this.#session ? Date.parse(this.#session.expiresAt) - Date.now() : 0;
    if (remaining > 2 * minimumReauthenticateDelay) {
      run.timer = setTimeout(() => void this.#reauthenticateNow(run, connection), Math.min(remaining / 2, 10_000));
    }
  }

  /**
   * Sends an invocation once the client is authenticated: while connecting or reconnecting it waits, so nothing
   * ever goes out on a connection before its Authenticate succeeded and its groups are re-joined.
   * @param {string} method
   * @param {...unknown} args
   * @returns {Promise<any>}
   */
  async #invoke(method, ...args) {
    const connection = await this.#whenAuthenticated();
    try {
      return await connection.invoke(method, ...args);
    } catch (error) {
      // An answer that came in the same read as the close message is still an answer (`rate limited`), except
      // `authentication required`: on an authenticated connection the server answers that only while it closes
      // the connection, so the close is what the caller must hear about.
      const answer = parseHubError(error instanceof Error ? error.message : undefined);
      if (answer === HubErrors.AuthenticationRequired
        || (answer === undefined && connection.state !== HubConnectionState.Connected)) {
        throw toClosedError(this.#closeErrors.get(connection) ?? error);
      }

      throw toInvocationError(method, error);
    }
  }

  /** @returns {Promise<import('@microsoft/signalr').HubConnection>} */
  async #whenAuthenticated() {
    switch (this.#state) {
      case ConnectionStates.Authenticated:
        if (this.#live) {
          return this.#live;
        }

        break;
      case ConnectionStates.Connecting:
      case ConnectionStates.Reconnecting:
        return this.#ready.promise;
      case ConnectionStates.Closed:
        throw this.#closeError ?? new HubClosedError('the client is stopped');
    }

    throw new HubClosedError('the client is not started');
  }

  /**
   * @param {ConnectionState} state
   * @param {string | null} reason
   * @param {Error | null} error
   * @param {number} attempt
   */
  #enter(state, reason, error, attempt) {
    if (state === ConnectionStates.Connecting || state === ConnectionStates.Reconnecting) {
      if (this.#ready.settled) {
        this.#ready = deferred();
      }
    }

    this.#state = state;
    this.#log.debug(`state: ${state}`);
    this.#emit('state', { state, reason, error, attempt });
  }

  /** @param {Error | null} error Null when stopped. */
  #close(error) {
    this.#live = null;
    if (this.#run) {
      clearTimeout(this.#run.timer);
      this.#run.connection = null;
    }

    this.#closeError = error;
    this.#ready.reject(error ?? new HubClosedError('the client was stopped'));
    this.#enter(ConnectionStates.Closed, error ? reasonOf(error) : null, error, 0);
  }

  /** @param {number} attempt */
  #retryDelay(attempt) {
    const { initialDelay, maxDelay } = /** @type {Required<ReconnectOptions>} */ (this.#reconnect);
    const base = Math.min(maxDelay, initialDelay * 2 ** (attempt - 1));

    // Jitter spreads the reconnects of many clients after a server restart.
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  /**
   * @param {Run} run
   * @param {number} delay
   * @returns {Promise<void>}
   */
  #sleep(run, delay) {
    return new Promise((resolve) => {
      run.wake = () => {
        clearTimeout(run.timer);
        run.wake = null;
        resolve();
      };
      run.timer = setTimeout(run.wake, delay);
    });
  }

  /**
   * @template {keyof SecureHubEvents} E
   * @param {E} event
   * @param {Parameters<SecureHubEvents[E]>[0]} payload
   */
  #emit(event, payload) {
    for (const listener of [...(this.#listeners.get(event) ?? [])]) {
      try {
        listener(payload);
      } catch (error) {
        this.#log.error(`a '${event}' listener threw: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
}

/**
 * @template T
 * @typedef {{ promise: Promise<T>, resolve(value: T): void, reject(error: unknown): void, settled: boolean }} Deferred
 */

/**
 * @template T
 * @returns {Deferred<T>}
 */
function deferred() {
  /** @type {(value: T) => void} */
  let resolve = () => {};
  /** @type {(error: unknown) => void} */
  let reject = () => {};
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });

  // Nobody may be waiting when it fails; that must not surface as an unhandled rejection.
  promise.catch(() => {});
  /** @type {Deferred<T>} */
  const result = {
    promise,
    settled: false,
    resolve(value) {
      result.settled = true;
      resolve(value);
    },
    reject(error) {
      result.settled = true;
      reject(error);
    },
  };
  return result;
}

/**
 * Turns whatever a connection failed or closed with into a {@link HubClosedError}; errors that already say what
 * happened (typed ones, and those from getTicket, which carry `retryable`) pass through.
 * @param {unknown} error
 * @returns {Error}
 */
function toClosedError(error) {
  if (error instanceof HubClosedError || (error instanceof Error && 'retryable' in error)) {
    return error;
  }

  const message = error instanceof Error ? error.message : typeof error === 'string' ? error : '';

  // A refused Authenticate or Reauthenticate answers `authentication failed` and the server then closes with the
  // same reason; the answer may arrive before the close message, so it alone decides. An Authenticate that found the
  // server's shared store down answers `temporarily unavailable` and closes with that retryable reason the same way.
  const hubError = parseHubError(message);
  if (hubError === HubErrors.AuthenticationFailed) {
    return closedBy(CloseReasons.AuthenticationFailed, error);
  }

  if (hubError === HubErrors.Unavailable) {
    return closedBy(CloseReasons.Unavailable, error);
  }

  // Any other hub error was an answer, not a close, even when its text ends like a close reason (`rate limited`).
  const reason = hubError === undefined ? parseCloseReason(message) : undefined;
  if (reason !== undefined) {
    return closedBy(reason, error);
  }

  return new HubClosedError(message ? `the connection was lost: ${message}` : 'the connection was lost', {
    cause: error,
  });
}

/**
 * @param {string} reason
 * @param {unknown} cause
 */
function closedBy(reason, cause) {
  return new HubClosedError(`the server closed the connection: ${reason}`, {
    reason,
    terminal: isTerminalCloseReason(reason),
    cause,
  });
}

/**
 * @param {string} method
 * @param {unknown} error
 */
function toInvocationError(method, error) {
  const message = error instanceof Error ? error.message : String(error);
  return new HubInvocationError(method, parseHubError(message) ?? null, { cause: error });
}

/** @param {Error} error */
function isTerminal(error) {
  if (error instanceof HubClosedError) {
    return error.terminal;
  }

  // An error from getTicket that says retrying cannot help (401: the login session is gone).
  return 'retryable' in error && error.retryable === false;
}

/** @param {Error} error */
function isRetryable(error) {
  return !('retryable' in error) || error.retryable !== false;
}

/** @param {Error} error */
function reasonOf(error) {
  return error instanceof HubClosedError ? error.reason : null;
}

/** @param {Error} error */
function isRoutineClose(error) {
  return error instanceof HubClosedError && error.reason === CloseReasons.LoggedOut;
}
