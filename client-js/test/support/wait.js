/**
 * Fails after `ms` unless `promise` settles first, so that a hang fails fast instead of stalling the suite.
 * @template T
 * @param {Promise<T>} promise
 * @param {number} ms
 * @param {string} what What is awaited, for the failure message.
 * @returns {Promise<T>}
 */
export function within(promise, ms, what) {
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return /** @type {Promise<T>} */ (Promise.race([promise, timeout]).finally(() => clearTimeout(timer)));
}

/**
 * Resolves with the first payload of `event` on `client` that satisfies `predicate`.
 * @param {{ on(event: string, listener: (payload: any) => void): () => void }} client
 * @param {string} event
 * @param {(payload: any) => boolean} [predicate]
 * @param {number} [ms]
 * @returns {Promise<any>}
 */
export function nextEvent(client, event, predicate = () => true, ms = 10_000) {
  /** @type {() => void} */
  let off = () => {};
  const seen = new Promise((resolve) => {
    off = client.on(event, (payload) => {
      if (predicate(payload)) {
        resolve(payload);
      }
    });
  });
  return within(seen, ms, `'${event}'`).finally(() => off());
}

/**
 * Records every payload of `event` on `client`.
 * @param {{ on(event: string, listener: (payload: any) => void): () => void }} client
 * @param {string} event
 * @returns {any[]}
 */
export function record(client, event) {
  /** @type {any[]} */
  const payloads = [];
  client.on(event, (payload) => payloads.push(payload));
  return payloads;
}
