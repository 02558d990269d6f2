// The JS mirror of ChatMessageIds (server/SignalRSecure.Chat.Contracts/ChatMessageIds.cs): the order of message ids
// within one group.

/** The longest id accepted: two 20-digit numbers and the hyphen (ChatMessageIds.MaximumLength). */
export const MaximumMessageIdLength = 41;

const maximumPart = 18_446_744_073_709_551_615n;
const shape = /^([0-9]+)-([0-9]+)$/;

/**
 * Whether `id` is a well-formed message id: two decimal numbers (digits only, each at most 2^64 - 1) joined by a hyphen.
 * @param {unknown} id
 * @returns {id is string}
 */
export function isMessageId(id) {
  return parse(id) !== null;
}

/**
 * Compares two well-formed ids of the same group number by number (`9-0` is older than `10-0`), never as strings.
 * @param {string} left
 * @param {string} right
 * @returns {number} Less than zero when `left` is older, zero when equal, more than zero when newer.
 * @throws {TypeError} Either id is not well formed.
 */
export function compareMessageIds(left, right) {
  const a = parse(left);
  const b = parse(right);
  if (a === null || b === null) {
    throw new TypeError('Not a chat message id.');
  }

  const high = compareBig(a[0], b[0]);
  return high !== 0 ? high : compareBig(a[1], b[1]);
}

/**
 * @param {unknown} id
 * @returns {[bigint, bigint] | null}
 */
function parse(id) {
  if (typeof id !== 'string' || id.length === 0 || id.length > MaximumMessageIdLength) {
    return null;
  }

  const match = shape.exec(id);
  if (!match) {
    return null;
  }

  const high = BigInt(match[1]);
  const low = BigInt(match[2]);
  return high <= maximumPart && low <= maximumPart ? [high, low] : null;
}

/**
 * @param {bigint} a
 * @param {bigint} b
 */
function compareBig(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}
