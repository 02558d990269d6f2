// The JS mirror of server/SignalRSecure.Contracts (the gate) and server/SignalRSecure.Chat.Contracts (the chat): the
// same names, the same texts, each defined once.
// test/contract.test.js reads the C# files and fails when the two drift apart.

/**
 * The methods a client may invoke on the chat hub (IChatHub.cs, with Authenticate and Reauthenticate from ISecureHub.cs).
 * Method names go on the wire as written here.
 * @readonly
 */
export const ChatHubMethods = Object.freeze({
  Authenticate: 'Authenticate',
  Reauthenticate: 'Reauthenticate',
  Echo: 'Echo',
  Broadcast: 'Broadcast',
  JoinGroup: 'JoinGroup',
  LeaveGroup: 'LeaveGroup',
  SendToGroup: 'SendToGroup',
  GetGroupMembers: 'GetGroupMembers',
  GetHistory: 'GetHistory',
  RejoinGroup: 'RejoinGroup',
});

/**
 * The callbacks the chat hub invokes on authenticated clients (IChatClient.cs).
 * @readonly
 */
export const ChatClientMethods = Object.freeze({
  ReceiveMessage: 'ReceiveMessage',
  UserJoined: 'UserJoined',
  UserLeft: 'UserLeft',
});

/**
 * The paths, the request header and the busy error of the server (SecureEndpoints.cs; `ChatHub` is ChatEndpoints.Hub
 * of the chat's contract). `ServerBusy` is the `error`
 * of a 503 from `Login`: retryable after `Retry-After`.
 * @readonly
 */
export const SecureEndpoints = Object.freeze({
  ChatHub: '/hubs/chat',
  Login: '/auth/login',
  Ticket: '/auth/ticket',
  Logout: '/auth/logout',
  Health: '/healthz',
  RequestHeader: 'X-SignalRSecure',
  RequestHeaderValue: '1',
  ServerBusy: 'server busy',
});

// The one table of close reasons (CloseReasons.cs): the constant's name, the text on the wire, and whether a client
// must stop reconnecting after it. Everything below is derived from it.
/** @type {ReadonlyArray<readonly [name: string, text: string, terminal: boolean]>} */
const closeReasonTable = [
  ['AuthenticationFailed', 'authentication failed', true],
  ['AuthenticationRequired', 'authentication required', true],
  ['AuthenticationTimeout', 'authentication timeout', true],
  ['SessionExpired', 'session expired', false],
  ['LoggedOut', 'logged out', true],
  ['Revoked', 'revoked', true],
  ['RateLimited', 'rate limited', false],
  ['MessageTooLarge', 'message too large', true],
  ['TooManyConnections', 'too many connections', true],
  ['Unavailable', 'temporarily unavailable', false],
];

/**
 * Why the server closed a hub connection (CloseReasons.cs). The reason travels as the error of the SignalR close
 * message; {@link isTerminalCloseReason} tells whether a client may reconnect after it.
 * @readonly
 * @type {Readonly<{
 *   AuthenticationFailed: 'authentication failed', AuthenticationRequired: 'authentication required',
 *   AuthenticationTimeout: 'authentication timeout', SessionExpired: 'session expired', LoggedOut: 'logged out',
 *   Revoked: 'revoked', RateLimited: 'rate limited', MessageTooLarge: 'message too large',
 *   TooManyConnections: 'too many connections', Unavailable: 'temporarily unavailable' }>}
 */
export const CloseReasons = /** @type {any} */ (Object.freeze(Object.fromEntries(closeReasonTable.map(([name, text]) => [name, text]))));

const terminalByReason = new Map(closeReasonTable.map(([, text, terminal]) => [text, terminal]));

/**
 * Whether a client must stop reconnecting after the server closed with `reason`. Unknown reasons, and a connection
 * lost without a reason, are not terminal (the same rule as `CloseReasons.IsTerminal`).
 * @param {string | null | undefined} reason A close reason.
 * @returns {boolean} True for a terminal reason.
 */
export function isTerminalCloseReason(reason) {
  return reason != null && terminalByReason.get(reason) === true;
}

/**
 * Extracts a known close reason from the text of a close error. The SignalR client prefixes the server's reason
 * (`Server returned an error on close: ...`) and the prefix differs between versions, so only the suffix counts.
 * @param {string | null | undefined} message The message of the error the connection closed with.
 * @returns {string | undefined} The reason, or undefined when the text carries none.
 */
export function parseCloseReason(message) {
  if (typeof message !== 'string') {
    return undefined;
  }

  for (const reason of terminalByReason.keys()) {
    if (message.endsWith(reason)) {
      return reason;
    }
  }

  return undefined;
}

/**
 * The exact error texts a hub invocation fails with (HubErrors.cs).
 * @readonly
 */
export const HubErrors = Object.freeze({
  AuthenticationFailed: 'authentication failed',
  AuthenticationRequired: 'authentication required',
  AlreadyAuthenticated: 'already authenticated',
  Forbidden: 'forbidden',
  NotAMember: 'not a member',
  InvalidGroup: 'invalid group',
  MessageTooLong: 'message too long',
  RateLimited: 'rate limited',
  TooManyGroups: 'too many groups',
  TooManyConnections: 'too many connections',
  InvalidMessage: 'invalid message',
  Unavailable: 'temporarily unavailable',
});

/** @type {Set<string>} */
const hubErrorTexts = new Set(Object.values(HubErrors));
const hubExceptionMarker = 'HubException: ';

/**
 * Extracts the hub error from the message of a failed invocation (`... HubException: forbidden`), or accepts the
 * bare text (the same rule as `HubErrors.TryParse`).
 * @param {string | null | undefined} message The message of the error the invocation failed with.
 * @returns {string | undefined} One of {@link HubErrors}, or undefined.
 */
export function parseHubError(message) {
  if (typeof message !== 'string') {
    return undefined;
  }

  const marker = message.lastIndexOf(hubExceptionMarker);
  const candidate = marker < 0 ? message : message.slice(marker + hubExceptionMarker.length);
  return hubErrorTexts.has(candidate) ? candidate : undefined;
}

