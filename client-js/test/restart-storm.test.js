import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CloseReasons, HubClosedError, SecureHubClient } from '../src/index.js';
import { testLogger } from './support/logger.js';
import { startServer } from './support/server.js';
import { issuerTickets } from './support/tickets.js';
import { nextEvent, record, within } from './support/wait.js';

// The JS side of the attack suite's restart storm (RestartStormTests.cs): 50 clients, 250 at full scale.
const clientCount = process.env.SIGNALRSECURE_ATTACK_SCALE === 'full' ? 250 : 50;
const group = 'storm';
const recoveryBoundMs = 30_000;

// The server's default ticket lifetime: the stale ticket is tried well inside it, so that its refusal can only
// come from the restart having forgotten it.
const ticketLifetimeMs = 30_000;

// The library's default backoff starts at 0.5 s but grows to 30 s between attempts, which alone could outlast the
// recovery bound after a slow start; a 5 s ceiling keeps the herd spread by jitter yet inside the bound.
const stormReconnect = { maxDelay: 5_000 };

/**
 * @typedef {object} StormClient
 * @property {string} user
 * @property {SecureHubClient} client
 * @property {string[]} issued Every ticket its getTicket handed out, in order.
 * @property {import('../src/secure-hub-client.js').StateChange[]} states Every state change since it was created.
 */

/**
 * Resolves with the time of the first `authenticated` state after the call, and fails on `closed`: a client that
 * gives up must fail the storm at once rather than at the bound.
 * @param {SecureHubClient} client
 * @returns {Promise<number>}
 */
function reauthenticated(client) {
  /** @type {() => void} */
  let off = () => {};
  return new Promise((resolve, reject) => {
    off = client.on('state', ({ state, error }) => {
      if (state === 'authenticated') {
        resolve(Date.now());
      } else if (state === 'closed') {
        reject(error ?? new Error('closed without an error'));
      }
    });
  }).finally(() => off());
}

/**
 * @param {number[]} values
 * @param {number} fraction 0.5 for the median.
 */
function percentile(values, fraction) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))];
}

/**
 * @param {string} text
 * @param {RegExp} pattern
 */
function count(text, pattern) {
  return [...text.matchAll(new RegExp(pattern.source, `${pattern.flags.replace('g', '')}g`))].length;
}

/**
 * The server's `Authenticated` log line for `user`.
 * @param {string} user
 */
function authenticatedAs(user) {
  return new RegExp(`authenticated as ${user}$`, 'm');
}

describe(`SecureHubClient crowd of ${clientCount} across a server restart`, () => {
  /** @type {import('./support/server.js').TestServer} */
  let server;
  /** @type {StormClient[]} */
  const crowd = [];
  /** @type {SecureHubClient[]} */
  const others = [];

  before(async () => {
    server = await startServer({
      // Every client comes from 127.0.0.1, so that one address stands for the whole crowd, twice over for the
      // moment when all of them are reconnecting and none has authenticated yet.
      SignalRSecure__Protection__MaxConnectionsPerIp: String(clientCount * 2),
      SignalRSecure__Protection__MaxUnauthenticatedConnectionsPerIp: String(clientCount * 2),
      SignalRSecure__Tickets__RequestsPerIpPerMinute: '100000',
    });
  });

  after(async () => {
    const clients = [...crowd.map((c) => c.client), ...others];
    try {
      await within(Promise.allSettled(clients.map((c) => c.stop())), 30_000, 'every client stopped');
    } finally {
      // Even when a client hangs in stop(): a server left running would outlive the test run.
      await server?.stop();
    }
  });

  it('reconnects every client with a fresh ticket, re-authenticated and re-joined within 30 s, and refuses a ticket from before the restart', async (t) => {
    const logs = testLogger(t);
    for (let i = 0; i < clientCount; i++) {
      const user = `storm${i}`;
      // Tickets come unbound from the issuer endpoint (no clientIp), which suits a crowd that all shares one IP.
      const tickets = issuerTickets(server, user, [group], logs);
      const client = new SecureHubClient({
        url: server.hubUrl,
        getTicket: tickets.getTicket,
        logger: logs.logger,
        reconnect: stormReconnect,
      });
      crowd.push({ user, client, issued: tickets.issued, states: record(client, 'state') });
    }

    await within(
      Promise.all(crowd.map(async ({ client }) => {
        await client.start();
        await client.joinGroup(group);
      })),
      60_000,
      `${clientCount} clients started and joined`,
    );
    const staleTicket = await server.issueTicket('latecomer', [group]);
    logs.secret(staleTicket);
    const staleIssuedAt = Date.now();
    const prior = crowd.map((c) => ({ states: c.states.length, tickets: [...c.issued] }));
    const lost = crowd.map(({ client }) => nextEvent(client, 'state', (s) => s.state === 'reconnecting'));
    const recovered = crowd.map(({ client }) => reauthenticated(client));
    // Nobody may wait on these until the server is back, and a close must not count as unhandled meanwhile.
    for (const r of recovered) {
      r.catch(() => {});
    }

    await server.kill();
    await Promise.all(lost);
    await server.relaunch();
    const upAt = Date.now();
    const latecomer = new SecureHubClient({
      url: server.hubUrl,
      getTicket: async () => staleTicket,
      logger: logs.logger,
      reconnect: false,
    });
    others.push(latecomer);
    const staleAgeMs = Date.now() - staleIssuedAt;
    const refused = await within(latecomer.start().then(() => null, (e) => e), 10_000, 'the stale ticket refused');
    const times = await within(Promise.all(recovered), recoveryBoundMs, `${clientCount} clients re-authenticated`);
    const recoveryMs = times.map((at) => Math.max(0, at - upAt));
    const slowestMs = Math.max(...recoveryMs);
    t.diagnostic(`${clientCount} clients re-authenticated and re-joined ${slowestMs} ms after the new server was up `
      + `(median ${percentile(recoveryMs, 0.5)} ms, p95 ${percentile(recoveryMs, 0.95)} ms)`);
    const members = await within(crowd[0].client.getGroupMembers(group), 10_000, 'the members of storm');
    const echoes = await within(
      Promise.all(crowd.map(({ user, client }) => client.echo(`${user} after the restart`))),
      20_000,
      'every echo',
    );
    // The server's console log trails its answers by a background thread.
    await server.waitForOutput(/failed to authenticate: \w+/);
    for (const { user } of crowd) {
      await server.waitForOutput(authenticatedAs(user));
    }

    const output = server.output();

    assert.ok(slowestMs <= recoveryBoundMs, `recovered in ${slowestMs} ms`);
    for (const [i, { user, client, issued, states }] of crowd.entries()) {
      const since = states.slice(prior[i].states).map((s) => s.state).join(' ');
      assert.match(since, /^(reconnecting )+authenticated$/, `${user}'s states after the kill`);
      assert.equal(client.state, 'authenticated', user);
      assert.equal(client.user, user);
      assert.deepEqual(client.joinedGroups, [group], user);
      const fresh = issued.slice(prior[i].tickets.length);
      assert.ok(fresh.length >= 1, `${user} fetched a fresh ticket`);
      assert.ok(fresh.every((ticket) => !prior[i].tickets.includes(ticket)), `${user} reused no ticket`);
    }

    assert.deepEqual([...members].sort(), crowd.map((c) => c.user).sort());
    assert.deepEqual(echoes, crowd.map(({ user }) => `${user} after the restart`));
    const everyTicket = crowd.flatMap((c) => c.issued);
    assert.equal(new Set(everyTicket).size, everyTicket.length, 'every ticket is single-use, so all differ');

    assert.ok(staleAgeMs < ticketLifetimeMs, `the stale ticket was tried ${staleAgeMs} ms after it was issued`);
    assert.ok(refused instanceof HubClosedError, String(refused));
    assert.equal(refused.reason, CloseReasons.AuthenticationFailed);
    assert.equal(refused.terminal, true);
    assert.equal(latecomer.state, 'closed');
    // The new server never saw it, as opposed to seeing it too late: the restart is what made it worthless.
    assert.match(output, /failed to authenticate: Unknown/);
    assert.equal(count(output, /failed to authenticate/), 1, 'no crowd client failed to authenticate');
    // Exactly one authentication per user on the new server: none left behind, none on a second connection.
    for (const { user } of crowd) {
      assert.equal(count(output, authenticatedAs(user)), 1, `${user} on the new server`);
    }

    assert.equal(count(output, /^(fail|crit): /m), 0, `error-level server log:\n${output}`);
  });
});
