import { LogLevel } from '@microsoft/signalr';

const levelRank = Object.freeze({ debug: 0, info: 1, warn: 2, error: 3, none: 4 });

/**
 * @typedef {object} Logger Where the client writes its log; `console` fits. Missing methods are skipped.
 * @property {(message: string) => void} [debug]
 * @property {(message: string) => void} [info]
 * @property {(message: string) => void} [warn]
 * @property {(message: string) => void} [error]
 */

/**
 * @typedef {'debug' | 'info' | 'warn' | 'error' | 'none'} LogLevelName
 */

/**
 * @typedef {{ debug(message: string): void, info(message: string): void, warn(message: string): void,
 *   error(message: string): void }} Log
 */

/**
 * Wraps a {@link Logger} so that records below `minimum` are dropped and a throwing logger cannot break the client.
 * @param {Logger | null | undefined} logger The caller's logger, or none.
 * @param {LogLevelName} minimum The lowest level written.
 * @returns {Log} A log with every method present.
 */
export function createLog(logger, minimum) {
  const floor = levelRank[minimum] ?? levelRank.info;
  /** @param {'debug' | 'info' | 'warn' | 'error'} level */
  const writer = (level) => (/** @type {string} */ message) => {
    const write = logger?.[level];
    if (levelRank[level] < floor || typeof write !== 'function') {
      return;
    }

    try {
      write.call(logger, `[signalr-secure] ${message}`);
    } catch {
      // A broken logger must not turn a log line into a failure of the client.
    }
  };
  return { debug: writer('debug'), info: writer('info'), warn: writer('warn'), error: writer('error') };
}

/**
 * Adapts a {@link Log} to the `ILogger` of `@microsoft/signalr`. SignalR logs every server close and failed start
 * at Error, but this client reports those itself, as typed errors and state changes, at the level they deserve; so
 * SignalR's Error records come through as warnings, only Critical ones as errors, and its Information records
 * (transport chosen, handshake done) as debug.
 * @param {Log} log The client's log.
 * @returns {import('@microsoft/signalr').ILogger} A logger for `HubConnectionBuilder.configureLogging`.
 */
export function signalRLogger(log) {
  return {
    log(level, message) {
      if (level >= LogLevel.None) {
        return;
      }

      const text = `signalr: ${message}`;
      if (level >= LogLevel.Critical) {
        log.error(text);
      } else if (level >= LogLevel.Warning) {
        log.warn(text);
      } else {
        log.debug(text);
      }
    },
  };
}
