// The JS mirror of the .NET client's MessageSequencer (client-dotnet/SignalRSecure.Client/Hub/MessageSequencer.cs):
// the same ordering and duplicate rule, so that both clients deliver the same messages in the same order.
import { compareMessageIds, isMessageId } from './message-ids.js';

// Enough to recognise every message a recovery can return again (the server's history holds 100 by default): only
// those overlap with what was delivered live.
const rememberedIds = 1_024;

// Group names cannot be empty, so the broadcast channel's key never collides with a group.
const broadcastKey = '';

/** @typedef {import('./secure-hub-client.js').ChatMessage} ChatMessage */

/**
 * Delivers each group's messages (the broadcast channel's under the key '') once and in id order across live delivery
 * and recovery: a message whose id was delivered already is dropped, and while a group recovers its live messages
 * wait, to follow the recovered ones (recovery asks for what is newer than the newest id delivered). Messages without
 * an id (sent while the server's history was down) are delivered as they come.
 */
export class MessageSequencer {
  /** @type {Map<string, Channel>} */
  #channels = new Map();

  /**
   * A live message.
   * @param {ChatMessage} message
   * @returns {ChatMessage[]} What to deliver now, in order (nothing while its group recovers).
   */
  onLive(message) {
    if (!isMessageId(message?.id)) {
      return [message];
    }

    const channel = this.#channelOf(keyOf(message.group));
    if (channel.held) {
      channel.held.push(message);
      return [];
    }

    return channel.accept(message) ? [message] : [];
  }

  /**
   * Holds the live messages of every group that has delivered one, until its {@link MessageSequencer#endRecovery}:
   * called before a new connection authenticates, so that no live message overtakes the recovered ones.
   */
  holdAll() {
    for (const channel of this.#channels.values()) {
      channel.held ??= [];
    }
  }

  /**
   * The groups (null for the broadcast channel) with a last delivered id: those a reconnect recovers.
   * @returns {{ group: string | null, lastId: string }[]}
   */
  recoverable() {
    return [...this.#channels].flatMap(([key, channel]) => (channel.lastId === null
      ? []
      : [{ group: key === broadcastKey ? null : key, lastId: channel.lastId }]));
  }

  /**
   * Ends a group's recovery.
   * @param {string | null} group
   * @param {ChatMessage[]} recovered The server's answer, oldest first.
   * @returns {ChatMessage[]} The recovered messages and then the held live ones, each once, in id order.
   */
  endRecovery(group, recovered) {
    const channel = this.#channelOf(keyOf(group));
    const held = channel.held ?? [];
    channel.held = null;
    return [...recovered, ...held].filter((message) => !isMessageId(message?.id) || channel.accept(message));
  }

  /**
   * Ends every recovery still holding messages (a group that was not rejoined).
   * @returns {ChatMessage[]} The held messages.
   */
  releaseHeld() {
    return [...this.#channels]
      .filter(([, channel]) => channel.held)
      .flatMap(([key]) => this.endRecovery(key === broadcastKey ? null : key, []));
  }

  /**
   * Forgets a group the client left or lost: a later join starts afresh.
   * @param {string | null} group
   */
  forget(group) {
    this.#channels.delete(keyOf(group));
  }

  /** Forgets every group: a new start() begins afresh. */
  clear() {
    this.#channels.clear();
  }

  /** @param {string} key */
  #channelOf(key) {
    let channel = this.#channels.get(key);
    if (!channel) {
      channel = new Channel();
      this.#channels.set(key, channel);
    }

    return channel;
  }
}

class Channel {
  /** @type {Set<string>} */
  #delivered = new Set();

  /**
   * The newest id delivered: where a recovery starts.
   * @type {string | null}
   */
  lastId = null;

  /** @type {ChatMessage[] | null} */
  held = null;

  /**
   * Drops only what was delivered already. Two nodes sending to one group at the same moment can publish slightly out
   * of id order; a message older than the newest one delivered is still new to this client and is kept.
   * @param {ChatMessage} message A message with a well-formed id.
   */
  accept(message) {
    const id = /** @type {string} */ (message.id);
    if (this.#delivered.has(id)) {
      return false;
    }

    // A Set iterates in insertion order: its first entry is the oldest remembered.
    this.#delivered.add(id);
    if (this.#delivered.size > rememberedIds) {
      this.#delivered.delete(/** @type {string} */ (this.#delivered.values().next().value));
    }

    if (this.lastId === null || compareMessageIds(id, this.lastId) > 0) {
      this.lastId = id;
    }

    return true;
  }
}

/** @param {string | null | undefined} group */
function keyOf(group) {
  return group ?? broadcastKey;
}
