import { JsonHubProtocol } from '@microsoft/signalr';

/**
 * The hub protocols a {@link SecureHubClient} can speak; the server must enable the one chosen
 * (`SignalRSecure:Hub:Protocols`).
 * @readonly
 */
export const HubProtocols = Object.freeze({
  /** SignalR's JSON protocol, which every server enables by default. */
  Json: 'json',
  /** SignalR's binary MessagePack protocol: smaller messages, faster to read and write. */
  MessagePack: 'messagepack',
});

/** @typedef {typeof HubProtocols[keyof typeof HubProtocols]} HubProtocolName */

/**
 * Throws unless `name` is one of {@link HubProtocols}.
 * @param {unknown} name
 * @returns {asserts name is HubProtocolName}
 */
export function assertHubProtocol(name) {
  if (name !== HubProtocols.Json && name !== HubProtocols.MessagePack) {
    throw new TypeError(`SecureHubClient speaks the protocols ${Object.values(HubProtocols).join(' and ')}, not ${String(name)}.`);
  }
}

/**
 * The SignalR protocol object for `name`. MessagePack is imported only when asked for, so that a page bundled with
 * code splitting downloads it only then.
 * @param {string} name One of {@link HubProtocols}.
 * @returns {Promise<import('@microsoft/signalr').IHubProtocol>}
 */
export async function createHubProtocol(name) {
  assertHubProtocol(name);
  if (name === HubProtocols.MessagePack) {
    const { JsonShapedMessagePackHubProtocol } = await import('./messagepack-protocol.js');
    return new JsonShapedMessagePackHubProtocol();
  }

  return new JsonHubProtocol();
}
