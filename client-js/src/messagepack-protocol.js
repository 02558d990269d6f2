// SignalR's MessagePack protocol for SecureHubClient, in a module of its own: protocols.js imports it only when a
// client asks for MessagePack, so that the JSON page's bundle leaves it out.
import { MessageType } from '@microsoft/signalr';
import { MessagePackHubProtocol } from '@microsoft/signalr-protocol-msgpack';

/**
 * SignalR's MessagePack protocol, with what the server sends read back in the shapes the JSON protocol gives: the
 * server writes .NET names (`From`, `ExpiresAt`) where JSON has camelCase ones, and a `DateTimeOffset` as a
 * `[Date, offset minutes]` pair where JSON has ISO 8601 text. The client's events and results stay the same whichever
 * protocol carries them.
 */
export class JsonShapedMessagePackHubProtocol {
  #inner = new MessagePackHubProtocol();

  get name() {
    return this.#inner.name;
  }

  get version() {
    return this.#inner.version;
  }

  get transferFormat() {
    return this.#inner.transferFormat;
  }

  /**
   * @param {string | ArrayBuffer} input
   * @param {import('@microsoft/signalr').ILogger} logger
   */
  parseMessages(input, logger) {
    // The binary protocol never receives text; the inner protocol rejects it.
    return this.#inner.parseMessages(/** @type {ArrayBuffer} */ (input), logger).map((message) => {
      switch (message.type) {
        case MessageType.Invocation:
          return { ...message, arguments: message.arguments.map(jsonShaped) };
        case MessageType.Completion:
          return message.result === undefined ? message : { ...message, result: jsonShaped(message.result) };
        case MessageType.StreamItem:
          return { ...message, item: jsonShaped(message.item) };
        default:
          return message;
      }
    });
  }

  /** @param {import('@microsoft/signalr').HubMessage} message */
  writeMessage(message) {
    return this.#inner.writeMessage(message);
  }
}

/**
 * A value as the JSON protocol would have given it.
 * @param {unknown} value
 * @returns {unknown}
 */
function jsonShaped(value) {
  if (value instanceof Date) {
    return value.toISOString();
  }

  if (Array.isArray(value)) {
    // A DateTimeOffset: its clock time (written as if it were UTC) and its offset from UTC in minutes.
    if (value.length === 2 && value[0] instanceof Date && typeof value[1] === 'number') {
      return new Date(value[0].getTime() - value[1] * 60_000).toISOString();
    }

    return value.map(jsonShaped);
  }

  if (value !== null && typeof value === 'object' && !ArrayBuffer.isView(value)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key.charAt(0).toLowerCase() + key.slice(1), jsonShaped(item)]));
  }

  return value;
}
