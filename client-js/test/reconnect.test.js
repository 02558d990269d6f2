import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuthSession, CloseReasons, HubClosedError, HubErrors, HubInvocationError, SecureHubClient } from '../src/index.js';
import { testLogger } from './support/logger.js';
import { startServer } from './support/server.js';
import { issuerTickets } from './support/tickets.js';
import { nextEvent, record, within } from './support/wait.js';

const sessionLifetimeMs = 3_000;
const fastReconnect = { initialDelay: 100, maxDelay: 400 };

/**
 * @param {import('node:test').TestContext} t
 * @param {import('./support/server.js').TestServer} server
 * @param {ReturnType<typeof testLogger>} logs
 * @param {Partial<import('../src/secure-hub-client.js').SecureHubClientOptions>} options
 */
function clientFor(t, server, logs, options) {
  const client = new SecureHubClient({
    url: server.hubUrl,
    getTicket: async () => { throw new Error('no getTicket given'); },
    logger: logs.logger,
    logLevel: 'debug',
    reconnect: fastReconnect,
    ...options,
  });
  t.after(() => client.stop());
  return client;
}

/** @param {{ state: string }[]} states */
const names = (states) => states.map((s) => s.state);

describe('SecureHubClient sessions', () => {
  /** @type {import('./support/server.js').TestServer} */
  let server;

  before(async () => {
    server = await startServer({ SignalRSecure__Hub__SessionLifetime: '00:00:03' });
  });

  after(async () => {
    await server?.stop();
  });

  it('reauthenticates on the live connection before the session expires, without reconnecting', async (t) => {
    const logs = testLogger(t);
    const tickets = issuerTickets(server, 'alice', ['general'], logs);
    const client = clientFor(t, server, logs, tickets);
    const states = record(client, 'state');
    const received = record(client, 'message');
    const first = await within(client.start(), 10_000, 'start');
    await client.joinGroup('general');

    const renewed = await nextEvent(client, 'reauthenticated', () => true, sessionLifetimeMs + 2_000);
    const renewedAgain = await nextEvent(client, 'reauthenticated', () => true, sessionLifetimeMs + 2_000);
    const elapsedPastFirstExpiry = Date.now() - Date.parse(first.expiresAt);
    const delivered = nextEvent(client, 'message', (m) => m.text === 'after two renewals');
    await client.sendToGroup('general', 'after two renewals');
    await delivered;

    assert.ok(elapsedPastFirstExpiry > 0, 'the test outlived the first session');
    assert.ok(Date.parse(renewed.expiresAt) > Date.parse(first.expiresAt));
    assert.ok(Date.parse(renewedAgain.expiresAt) > Date.parse(renewed.expiresAt));
    assert.equal(client.expiresAt, renewedAgain.expiresAt);
    assert.equal(tickets.issued.length, 3);
    assert.deepEqual(names(states), ['connecting', 'authenticated']);
    assert.equal(received.length, 1);
  });

  it('reconnects with a fresh ticket after the retryable `session expired`, and re-joins its groups', async (t) => {
    const logs = testLogger(t);
    const tickets = issuerTickets(server, 'alice', ['general'], logs);
    const client = clientFor(t, server, logs, { ...tickets, reauthenticate: false });
    const states = record(client, 'state');
    await within(client.start(), 10_000, 'start');
    await client.joinGroup('general');
    const rejoined = nextEvent(client, 'userJoined', (p) => p.group === 'general', sessionLifetimeMs + 5_000);

    const reconnecting = await nextEvent(client, 'state', (s) => s.state === 'reconnecting', sessionLifetimeMs + 2_000);
    await nextEvent(client, 'state', (s) => s.state === 'authenticated');
    await rejoined;

    assert.equal(reconnecting.reason, CloseReasons.SessionExpired);
    assert.ok(reconnecting.error instanceof HubClosedError);
    assert.equal(reconnecting.error.terminal, false);
    assert.equal(reconnecting.attempt, 1);
    assert.deepEqual(names(states), ['connecting', 'authenticated', 'reconnecting', 'authenticated']);
    assert.equal(tickets.issued.length, 2);
    assert.notEqual(tickets.issued[0], tickets.issued[1]);
    assert.deepEqual(await client.getGroupMembers('general'), ['alice']);
  });

  it('stops for good with a typed error on the terminal `logged out`', async (t) => {
    const logs = testLogger(t);
    const session = new AuthSession({ baseUrl: server.url });
    await session.login('bob', 'bob-demo-password');
    let calls = 0;
    const client = clientFor(t, server, logs, {
      getTicket: async () => {
        calls += 1;
        const ticket = await session.getTicket();
        logs.secret(ticket);
        return ticket;
      },
    });
    const states = record(client, 'state');
    await within(client.start(), 10_000, 'start');
    const closed = nextEvent(client, 'state', (s) => s.state === 'closed');

    await session.logout();
    const change = await closed;
    const late = await client.echo('after logout').catch((e) => e);

    assert.equal(change.reason, CloseReasons.LoggedOut);
    assert.ok(change.error instanceof HubClosedError);
    assert.equal(change.error.reason, CloseReasons.LoggedOut);
    assert.equal(change.error.terminal, true);
    assert.equal(client.closeError, change.error);
    assert.equal(late, change.error);
    assert.equal(calls, 1);
    assert.deepEqual(names(states), ['connecting', 'authenticated', 'closed']);
  });

  it('stops for good on the terminal `revoked`, and later calls fail with that error', async (t) => {
    const logs = testLogger(t);
    const tickets = issuerTickets(server, 'carol', ['general'], logs);
    const client = clientFor(t, server, logs, tickets);
    await within(client.start(), 10_000, 'start');
    const closed = nextEvent(client, 'state', (s) => s.state === 'closed');

    await server.revoke('carol');
    const change = await closed;
    const late = await client.broadcast('after revocation').catch((e) => e);

    assert.equal(late, change.error);
    assert.equal(change.error.reason, CloseReasons.Revoked);
    assert.equal(change.error.terminal, true);
    assert.equal(tickets.issued.length, 1);
  });
});

describe('SecureHubClient across a server restart', () => {
  /** @type {import('./support/server.js').TestServer} */
  let server;

  before(async () => {
    server = await startServer();
  });

  after(async () => {
    await server?.stop();
  });

  it('reconnects, re-authenticates with fresh tickets and re-joins before sending the calls that waited', async (t) => {
    const logs = testLogger(t);
    const aliceTickets = issuerTickets(server, 'alice', ['general', 'ops'], logs);
    const bobTickets = issuerTickets(server, 'bob', ['general'], logs);
    const alice = clientFor(t, server, logs, aliceTickets);
    const bob = clientFor(t, server, logs, bobTickets);
    const aliceStates = record(alice, 'state');
    await within(Promise.all([alice.start(), bob.start()]), 10_000, 'both started');
    await alice.joinGroup('general');
    await alice.joinGroup('ops');
    await bob.joinGroup('general');
    const aliceLost = nextEvent(alice, 'state', (s) => s.state === 'reconnecting');
    const bobLost = nextEvent(bob, 'state', (s) => s.state === 'reconnecting');

    await server.kill();
    const lost = await aliceLost;
    await bobLost;
    // Sent while the server is down: it must wait for the new connection's Authenticate and re-joins.
    const waiting = alice.sendToGroup('general', 'sent during the outage');
    const bobGetsIt = nextEvent(bob, 'message', (m) => m.text === 'sent during the outage', 30_000);
    await server.relaunch();
    await within(waiting, 30_000, 'the waiting call');
    const delivered = await bobGetsIt;

    assert.equal(lost.reason, null);
    assert.equal(lost.error.terminal, false);
    assert.equal(delivered.from, 'alice');
    assert.equal(alice.state, 'authenticated');
    assert.deepEqual(alice.joinedGroups, ['general', 'ops']);
    assert.deepEqual((await alice.getGroupMembers('general')).sort(), ['alice', 'bob']);
    assert.deepEqual(await alice.getGroupMembers('ops'), ['alice']);
    assert.equal(names(aliceStates).at(-1), 'authenticated');
    assert.ok(aliceTickets.issued.length >= 2, 'a fresh ticket for the new connection');
    assert.equal(new Set(aliceTickets.issued).size, aliceTickets.issued.length);
  });

  it('gives up with a typed error after its last reconnect attempt', async (t) => {
    const logs = testLogger(t);
    const client = clientFor(t, server, logs, {
      ...issuerTickets(server, 'bob', ['general'], logs),
      reconnect: { maxAttempts: 2, initialDelay: 50, maxDelay: 100 },
    });
    await within(client.start(), 10_000, 'start');
    const closed = nextEvent(client, 'state', (s) => s.state === 'closed', 10_000);

    await server.kill();
    const change = await closed;
    await server.relaunch();

    assert.ok(change.error instanceof HubClosedError);
    assert.match(change.error.message, /gave up reconnecting after 2 attempts/);
  });
});

describe('SecureHubClient under the invocation rate limit', () => {
  /** @type {import('./support/server.js').TestServer} */
  let server;

  before(async () => {
    server = await startServer({
      SignalRSecure__Hub__InvocationsPerSecond: '2',
      SignalRSecure__Hub__InvocationBurst: '3',
      SignalRSecure__Hub__RateLimitStrikesBeforeClose: '3',
    });
  });

  after(async () => {
    await server?.stop();
  });

  it('reports `rate limited` answers, then reconnects after the retryable `rate limited` close', async (t) => {
    const logs = testLogger(t);
    const tickets = issuerTickets(server, 'alice', ['general'], logs);
    const client = clientFor(t, server, logs, tickets);
    await within(client.start(), 10_000, 'start');
    const reconnecting = nextEvent(client, 'state', (s) => s.state === 'reconnecting');

    const outcomes = await within(
      Promise.allSettled(Array.from({ length: 12 }, (_, i) => client.echo(`flood ${i}`))),
      10_000,
      'the flood',
    );
    const change = await reconnecting;
    await nextEvent(client, 'state', (s) => s.state === 'authenticated');

    const errors = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : []));
    assert.ok(errors.some((e) => e instanceof HubInvocationError && e.reason === HubErrors.RateLimited));
    // The calls still queued when the server gave up fail with the close, not with an error of their own.
    assert.ok(errors.every((e) => e instanceof HubClosedError
      || (e instanceof HubInvocationError && e.reason === HubErrors.RateLimited)), errors.map(String).join('\n'));
    assert.equal(change.reason, CloseReasons.RateLimited);
    assert.equal(change.error.terminal, false);
    assert.equal(tickets.issued.length, 2);
    assert.equal(await client.echo('calm again'), 'calm again');
  });
});
