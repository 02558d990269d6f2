// Type declarations of signalr-secure-client. The JSDoc in the .js files is the reference; these mirror it.

/** The methods a client may invoke on the chat hub (IChatHub.cs). */
export declare const ChatHubMethods: Readonly<{
  Authenticate: 'Authenticate';
  Reauthenticate: 'Reauthenticate';
  Echo: 'Echo';
  Broadcast: 'Broadcast';
  JoinGroup: 'JoinGroup';
  LeaveGroup: 'LeaveGroup';
  SendToGroup: 'SendToGroup';
  GetGroupMembers: 'GetGroupMembers';
  GetHistory: 'GetHistory';
  RejoinGroup: 'RejoinGroup';
}>;

/** The callbacks the chat hub invokes on authenticated clients (IChatClient.cs). */
export declare const ChatClientMethods: Readonly<{
  ReceiveMessage: 'ReceiveMessage';
  UserJoined: 'UserJoined';
  UserLeft: 'UserLeft';
}>;

/** The paths, the request header and the busy error of the server (SecureEndpoints.cs). */
export declare const SecureEndpoints: Readonly<{
  ChatHub: '/hubs/chat';
  Login: '/auth/login';
  Ticket: '/auth/ticket';
  Logout: '/auth/logout';
  Health: '/healthz';
  RequestHeader: 'X-SignalRSecure';
  RequestHeaderValue: '1';
  /** The `error` of a 503 from `Login`: every password verification is busy; retry after `Retry-After`. */
  ServerBusy: 'server busy';
}>;

/** Why the server closed a hub connection (CloseReasons.cs). */
export declare const CloseReasons: Readonly<{
  /** Terminal: the ticket was refused. */
  AuthenticationFailed: 'authentication failed';
  /** Terminal: a message other than Authenticate came first. */
  AuthenticationRequired: 'authentication required';
  /** Terminal: no successful Authenticate before the deadline. */
  AuthenticationTimeout: 'authentication timeout';
  /** Retryable: a fresh ticket starts a new session. */
  SessionExpired: 'session expired';
  /** Terminal: the user signed out. */
  LoggedOut: 'logged out';
  /** Terminal: the issuer revoked the user. */
  Revoked: 'revoked';
  /** Retryable, after a back-off. */
  RateLimited: 'rate limited';
  /** Terminal: the client sent a message over the server's size limit. */
  MessageTooLarge: 'message too large';
  /** Terminal: the user already has as many connections as the server allows. */
  TooManyConnections: 'too many connections';
  /** Retryable: a store the server shares with other nodes failed; back off and reconnect with a fresh ticket. */
  Unavailable: 'temporarily unavailable';
}>;

/** A close reason the contract names. */
export type CloseReason = (typeof CloseReasons)[keyof typeof CloseReasons];

/** The exact error texts a hub invocation fails with (HubErrors.cs). */
export declare const HubErrors: Readonly<{
  AuthenticationFailed: 'authentication failed';
  AuthenticationRequired: 'authentication required';
  AlreadyAuthenticated: 'already authenticated';
  Forbidden: 'forbidden';
  NotAMember: 'not a member';
  InvalidGroup: 'invalid group';
  MessageTooLong: 'message too long';
  RateLimited: 'rate limited';
  TooManyGroups: 'too many groups';
  TooManyConnections: 'too many connections';
  InvalidMessage: 'invalid message';
  /** A store the server depends on failed; the call may be retried after a back-off. */
  Unavailable: 'temporarily unavailable';
}>;

/** An error text the contract names. */
export type HubError = (typeof HubErrors)[keyof typeof HubErrors];

/** Whether a client must stop reconnecting after `reason`. Unknown reasons and reasonless drops are not terminal. */
export declare function isTerminalCloseReason(reason: string | null | undefined): boolean;

/** Extracts a known close reason from the end of a close error's text. */
export declare function parseCloseReason(message: string | null | undefined): CloseReason | undefined;

/** Extracts the hub error after `HubException: `, or accepts the bare text. */
export declare function parseHubError(message: string | null | undefined): HubError | undefined;

/** The hub connection closed or could not be opened. */
export declare class HubClosedError extends Error {
  constructor(message: string, details?: { reason?: string | null; terminal?: boolean; cause?: unknown });
  /** The server's close reason, or null when the connection dropped without one. */
  reason: string | null;
  /** Whether the client stops here instead of reconnecting. */
  terminal: boolean;
}

/** The server refused a hub method; the connection stays open. */
export declare class HubInvocationError extends Error {
  constructor(method: string, reason: string | null, details?: { cause?: unknown });
  /** The hub method that failed. */
  method: string;
  /** The server's error, or null when it sent one the contract does not name. */
  reason: HubError | null;
}

/** A request to the server's `/auth/*` endpoints failed. */
export declare class AuthRequestError extends Error {
  constructor(path: string, details: { status: number; error?: string | null; retryAfter?: number | null; cause?: unknown });
  /** The endpoint that failed. */
  path: string;
  /** The HTTP status, or 0 when no answer came (network failure, CORS refusal). */
  status: number;
  /** The server's short error text, or null. */
  error: string | null;
  /** Seconds to wait before trying again, from `Retry-After`, or null. */
  retryAfter: number | null;
  /** True for no answer, 429 and 5xx; false when retrying cannot help (401, 403). */
  retryable: boolean;
}

/** Where the client writes its log; `console` fits. Missing methods are skipped. */
export interface Logger {
  debug?(message: string): void;
  info?(message: string): void;
  warn?(message: string): void;
  error?(message: string): void;
}

export type LogLevelName = 'debug' | 'info' | 'warn' | 'error' | 'none';

export interface ReconnectOptions {
  /** Attempts in a row before giving up. The default is Infinity. */
  maxAttempts?: number;
  /** Delay before the first attempt, doubled after every failed one, in ms. The default is 500. */
  initialDelay?: number;
  /** The longest delay between attempts, in ms. The default is 30,000. */
  maxDelay?: number;
}

export interface SecureHubClientOptions {
  /** The hub URL, such as `http://127.0.0.1:5000/hubs/chat` (relative in a page). */
  url: string;
  /** Returns a fresh single-use ticket; called before every connection and before the session expires. */
  getTicket: () => Promise<string>;
  /** Where to log. The default is none. */
  logger?: Logger | null;
  /** The lowest level logged. The default is `info`. */
  logLevel?: LogLevelName;
  /** How to reconnect after a retryable close, or false to stop on any close. The default is `{}`. */
  reconnect?: ReconnectOptions | false;
  /** Whether to extend the session with Reauthenticate before it expires. The default is true. */
  reauthenticate?: boolean;
  /** How long before the session ends to reauthenticate, in ms, at most a quarter of it. The default is 60,000. */
  reauthenticateBefore?: number;
  /**
   * The hub protocol: `messagepack` only when the server enables it (`SignalRSecure:Hub:Protocols`). Results and
   * events have the same shape with either. The default is `json`.
   */
  protocol?: HubProtocolName;
  /**
   * Extra headers on the WebSocket request (Node only). Never put a ticket here. In Node the `User-Agent` is
   * `signalr-secure-client/<version>`, as on AuthSession's requests, since tickets are bound to it; one here replaces it.
   */
  headers?: Record<string, string>;
}

/** The hub protocols a SecureHubClient can speak; the server must enable the one chosen. */
export declare const HubProtocols: Readonly<{
  /** SignalR's JSON protocol, which every server enables by default. */
  Json: 'json';
  /** SignalR's binary MessagePack protocol. */
  MessagePack: 'messagepack';
}>;

/** One of {@link HubProtocols}. */
export type HubProtocolName = typeof HubProtocols[keyof typeof HubProtocols];

/** The result of Authenticate. */
export interface AuthenticateResult {
  user: string;
  /** The groups, or group patterns such as `team-*`, the user may join. */
  groups: string[];
  /** When the session ends unless extended (ISO 8601). */
  expiresAt: string;
}

/** A message delivered by ReceiveMessage. */
export interface ChatMessage {
  from: string;
  /** Show it as text, never as markup. */
  text: string;
  /** The group, or null for a broadcast. */
  group: string | null;
  /** ISO 8601. */
  sentAt: string;
  /**
   * The message's place in its group's history: two decimal numbers joined by a hyphen, ordered by the first, then
   * the second; null when the server's history was unavailable as it was sent.
   */
  id?: string | null;
}

/**
 * Whether `id` is a well-formed message id: two decimal numbers (digits only, each at most 2^64 - 1) joined by a hyphen.
 */
export declare function isMessageId(id: unknown): id is string;

/**
 * Compares two well-formed ids of the same group number by number (`9-0` is older than `10-0`), never as strings:
 * less than zero when `left` is older, zero when equal, more than zero when newer. Throws a TypeError on a malformed id.
 */
export declare function compareMessageIds(left: string, right: string): number;

/** Which page of history {@link SecureHubClient.history} reads. */
export interface HistoryOptions {
  /** Only messages older than this id. The default is none: the newest messages. */
  beforeId?: string | null;
  /** At most this many messages. The default is the server's page size (50), capped at its history length. */
  limit?: number | null;
}

/** Messages may be missing before the ones recovered after a reconnect. */
export interface HistoryGap {
  /** The group, or null for the broadcast channel. */
  group: string | null;
}

/** A user joining or leaving a group. */
export interface GroupPresence {
  group: string;
  user: string;
}

/** Where a {@link SecureHubClient} stands. */
export declare const ConnectionStates: Readonly<{
  Disconnected: 'disconnected';
  Connecting: 'connecting';
  Authenticated: 'authenticated';
  Reconnecting: 'reconnecting';
  Closed: 'closed';
}>;

export type ConnectionState = (typeof ConnectionStates)[keyof typeof ConnectionStates];

export interface StateChange {
  state: ConnectionState;
  /** The server's close reason that led here, if any. */
  reason: string | null;
  /** Why it closed or is reconnecting; null on stop() and when healthy. */
  error: Error | null;
  /** The reconnect attempt (1, 2, ...) when reconnecting, else 0. */
  attempt: number;
}

export interface SecureHubEvents {
  /**
   * A message, live or recovered after a reconnect: each once, and in id order within its group on one node.
   */
  message: (message: ChatMessage) => void;
  /**
   * After a reconnect, the server's history no longer reached back to the last message delivered from a group (or the
   * broadcast channel), or could not be read: some messages may be missing.
   */
  gap: (gap: HistoryGap) => void;
  userJoined: (presence: GroupPresence) => void;
  userLeft: (presence: GroupPresence) => void;
  state: (change: StateChange) => void;
  reauthenticated: (session: { expiresAt: string }) => void;
  /** Background problems that leave the connection up: a failed Reauthenticate, a group that could not be re-joined. */
  error: (error: Error) => void;
}

/** The default of `ReconnectOptions.initialDelay`, in ms. */
export declare const DefaultReconnectInitialDelay: 500;
/** The default of `ReconnectOptions.maxDelay`, in ms. */
export declare const DefaultReconnectMaxDelay: 30000;
/** The default of `SecureHubClientOptions.reauthenticateBefore`, in ms. */
export declare const DefaultReauthenticateBefore: 60000;

/**
 * A client of the SignalRSecure chat hub: Authenticate is the first message of every connection, the session is
 * extended with Reauthenticate, and retryable closes reconnect, re-authenticate and re-join before any waiting call,
 * recovering the messages missed meanwhile (each delivered once, in id order; `gap` when they cannot all be).
 */
export declare class SecureHubClient {
  constructor(options: SecureHubClientOptions);
  readonly state: ConnectionState;
  /** The authenticated user, or null before the first authentication. */
  readonly user: string | null;
  /** The groups, or group patterns, the user may join. */
  readonly allowedGroups: string[];
  /** When the current session ends unless extended (ISO 8601), or null. */
  readonly expiresAt: string | null;
  /** The groups joined through this client; re-joined after every reconnect. */
  readonly joinedGroups: string[];
  /** Why the client closed, or null while it has not. */
  readonly closeError: Error | null;
  on<E extends keyof SecureHubEvents>(event: E, listener: SecureHubEvents[E]): () => void;
  off<E extends keyof SecureHubEvents>(event: E, listener: SecureHubEvents[E]): void;
  /** Connects and authenticates; rejects with HubClosedError (with `reason`) or the ticket flow's error. */
  start(): Promise<AuthenticateResult>;
  /** Closes and stops reconnecting. */
  stop(): Promise<void>;
  echo(text: string): Promise<string>;
  broadcast(text: string): Promise<void>;
  joinGroup(group: string): Promise<void>;
  leaveGroup(group: string): Promise<void>;
  sendToGroup(group: string, text: string): Promise<void>;
  getGroupMembers(group: string): Promise<string[]>;
  /**
   * The recent messages of a joined group, or of the broadcast channel (null), oldest first; not delivered as `message`
   * events. Rejects with HubInvocationError `not a member`, `invalid message` or `temporarily unavailable`.
   */
  history(group?: string | null, options?: HistoryOptions): Promise<ChatMessage[]>;
}

/** The answer of `POST /auth/login`. */
export interface LoginResult {
  user: string;
  groups: string[];
}

/** The answer of `POST /auth/ticket`. */
export interface TicketResult {
  /** Never put it in a URL or a log. */
  ticket: string;
  /** ISO 8601. */
  expiresAt: string;
}

export interface AuthSessionOptions {
  /** The server. Defaults to the page's origin in a browser; required in Node. */
  baseUrl?: string | URL;
  /** The fetch to use. Defaults to the global one. */
  fetch?: typeof fetch;
}

/**
 * The server's cookie ticket flow: login, then `POST /auth/ticket` with the `X-SignalRSecure: 1` header. In Node
 * the session keeps the cookie itself.
 */
export declare class AuthSession {
  constructor(options?: AuthSessionOptions);
  /** The chat hub URL on this server. */
  readonly hubUrl: string;
  /** The account of the latest successful login, or null. */
  readonly account: LoginResult | null;
  login(username: string, password: string): Promise<LoginResult>;
  requestTicket(): Promise<TicketResult>;
  /** Bound: pass it as `getTicket` as it is. */
  getTicket(): Promise<string>;
  logout(): Promise<void>;
}
