// The User-Agent this package sends outside a browser. The server binds every ticket to the User-Agent of the
// request that got it, and refuses it on a WebSocket with another one; in Node, @microsoft/signalr sends its own
// "Microsoft SignalR/..." on the WebSocket while fetch sends "node", so both requests send this instead.

/** The User-Agent of the ticket request and of the hub's WebSocket request in Node: this package and its version. */
export const ClientUserAgent = 'signalr-secure-client/0.1.0';

// Same test as @microsoft/signalr's Platform.isNode, the only case in which it sets a User-Agent of its own.
const isNode = typeof process !== 'undefined' && process.release?.name === 'node';

/**
 * The headers to add to both requests: `User-Agent` in Node, none in a browser, which sends its own User-Agent on
 * both and does not let a page change it on a WebSocket.
 * @returns {Record<string, string>}
 */
export function userAgentHeaders() {
  return isNode ? { 'User-Agent': ClientUserAgent } : {};
}
