import assert from 'node:assert/strict';

/**
 * @typedef {{ level: 'debug' | 'info' | 'warn' | 'error', message: string }} LogRecord
 */

/**
 * A logger for the client under test that records everything, debug included, and fails the test at its end when
 * an error-level record came that the test did not announce with `expectError`, or when any record contains a
 * secret (a ticket) announced with `secret`.
 * @param {import('node:test').TestContext} t The test.
 */
export function testLogger(t) {
  /** @type {LogRecord[]} */
  const records = [];
  /** @type {RegExp[]} */
  const expected = [];
  /** @type {Set<string>} */
  const secrets = new Set();
  /** @param {LogRecord['level']} level */
  const write = (level) => (/** @type {string} */ message) => {
    records.push({ level, message });
  };

  t.after(() => {
    const unexpected = records.filter((r) => r.level === 'error' && !expected.some((p) => p.test(r.message)));
    assert.deepEqual(unexpected, [], 'unexpected error-level log records');
    const leaks = records.filter((r) => [...secrets].some((secret) => r.message.includes(secret)));
    assert.deepEqual(leaks, [], 'log records that contain a ticket');
  });

  return {
    logger: { debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error') },
    records,
    /** @param {RegExp} pattern An error record the test causes on purpose. */
    expectError(pattern) {
      expected.push(pattern);
    },
    /** @param {string} value A ticket that must appear in no record. */
    secret(value) {
      secrets.add(value);
    },
    /** Everything logged, as one string. */
    text() {
      return records.map((r) => `${r.level}: ${r.message}`).join('\n');
    },
  };
}
