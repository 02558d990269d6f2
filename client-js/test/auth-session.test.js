import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { AuthRequestError, AuthSession, HubClosedError, SecureHubClient } from '../src/index.js';
import { testLogger } from './support/logger.js';
import { startServer } from './support/server.js';
import { within } from './support/wait.js';

const foreignOrigin = 'http://evil.example';

describe('AuthSession', () => {
  /** @type {import('./support/server.js').TestServer} */
  let server;

  before(async () => {
    server = await startServer();
  });

  after(async () => {
    await server?.stop();
  });

  it('signs in, keeps the session cookie itself in Node, and gets single-use tickets', async () => {
    const session = new AuthSession({ baseUrl: server.url });

    const account = await within(session.login('alice', 'alice-demo-password'), 10_000, 'login');
    const first = await within(session.requestTicket(), 10_000, 'a ticket');
    const second = await within(session.getTicket(), 10_000, 'another ticket');

    assert.deepEqual(account, { user: 'alice', groups: ['general', 'ops'] });
    assert.deepEqual(session.account, account);
    assert.equal(typeof first.ticket, 'string');
    assert.ok(Date.parse(first.expiresAt) > Date.now());
    assert.notEqual(second, first.ticket);
  });

  it('refuses wrong credentials with a typed, non-retryable error that names neither password nor user', async () => {
    const session = new AuthSession({ baseUrl: server.url });

    const error = await session.login('alice', 'not-the-password').catch((e) => e);

    assert.ok(error instanceof AuthRequestError);
    assert.equal(error.status, 401);
    assert.equal(error.error, 'invalid credentials');
    assert.equal(error.retryable, false);
    assert.doesNotMatch(error.message, /not-the-password/);
    assert.equal(session.account, null);
  });

  it('gets no ticket without a session, and none after logout', async () => {
    const session = new AuthSession({ baseUrl: server.url });
    const before = await session.getTicket().catch((e) => e);
    await session.login('bob', 'bob-demo-password');

    await session.logout();
    const afterLogout = await session.getTicket().catch((e) => e);

    for (const error of [before, afterLogout]) {
      assert.ok(error instanceof AuthRequestError);
      assert.equal(error.status, 401);
      assert.equal(error.retryable, false);
    }

    assert.equal(session.account, null);
  });

  it('is refused sign-in and tickets from a foreign origin, even with a valid session cookie', async () => {
    let origin = /** @type {string | null} */ (null);
    /** @type {typeof fetch} */
    const fetchFrom = (url, init = {}) => fetch(url, {
      ...init,
      headers: { ...(/** @type {Record<string, string>} */ (init.headers)), ...(origin ? { Origin: origin } : {}) },
    });
    const session = new AuthSession({ baseUrl: server.url, fetch: fetchFrom });
    await session.login('bob', 'bob-demo-password');

    origin = foreignOrigin;
    const ticketError = await session.getTicket().catch((e) => e);
    const loginError = await session.login('bob', 'bob-demo-password').catch((e) => e);

    for (const error of [ticketError, loginError]) {
      assert.ok(error instanceof AuthRequestError);
      assert.equal(error.status, 403);
      assert.equal(error.retryable, false);
    }
  });

  it('hands getTicket to SecureHubClient as it is, and a foreign Origin on the upgrade never connects', async (t) => {
    const logs = testLogger(t);
    const session = new AuthSession({ baseUrl: server.url });
    await session.login('bob', 'bob-demo-password');
    const ticket = await session.getTicket();
    logs.secret(ticket);
    const foreign = new SecureHubClient({
      url: session.hubUrl,
      getTicket: async () => ticket,
      headers: { Origin: foreignOrigin },
      logger: logs.logger,
      logLevel: 'debug',
    });
    const client = new SecureHubClient({ url: session.hubUrl, getTicket: session.getTicket, logger: logs.logger, logLevel: 'debug' });

    const refused = await within(foreign.start(), 10_000, 'the foreign start').catch((e) => e);
    const result = await within(client.start(), 10_000, 'start');
    await client.stop();

    assert.ok(refused instanceof HubClosedError);
    assert.equal(refused.reason, null);
    assert.equal(foreign.state, 'closed');
    assert.equal(result.user, 'bob');
    await server.waitForOutput(/Request to \/hubs\/chat from \S+ refused: origin http:\/\/evil\.example is not allowed/);
  });
});
