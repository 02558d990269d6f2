import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HttpTransportType, HubConnectionBuilder, LogLevel } from '@microsoft/signalr';
import {
  AuthSession,
  CloseReasons,
  HubClosedError,
  HubErrors,
  HubInvocationError,
  SecureHubClient,
  isTerminalCloseReason,
  parseCloseReason,
} from '../src/index.js';
import { testLogger } from './support/logger.js';
import { startServer } from './support/server.js';
import { issuerTickets } from './support/tickets.js';
import { nextEvent, record, within } from './support/wait.js';

const authenticationTimeoutMs = 2_000;

describe('SecureHubClient', () => {
  /** @type {import('./support/server.js').TestServer} */
  let server;

  before(async () => {
    server = await startServer({ SignalRSecure__Hub__AuthenticationTimeout: '00:00:02' });
  });

  after(async () => {
    await server?.stop();
  });

  /**
   * @param {import('node:test').TestContext} t
   * @param {ReturnType<typeof testLogger>} logs
   * @param {Partial<import('../src/secure-hub-client.js').SecureHubClientOptions>} options
   */
  function clientFor(t, logs, options) {
    const client = new SecureHubClient({
      url: server.hubUrl,
      getTicket: async () => { throw new Error('no getTicket given'); },
      logger: logs.logger,
      logLevel: 'debug',
      ...options,
    });
    t.after(() => client.stop());
    return client;
  }

  describe('when the ticket is good', () => {
    it('authenticates first, then echoes, joins, lists members, and delivers group messages and broadcasts', async (t) => {
      const logs = testLogger(t);
      const session = new AuthSession({ baseUrl: server.url });
      await session.login('alice', 'alice-demo-password');
      /** @type {() => Promise<string>} */
      const getTicket = async () => {
        const ticket = await session.getTicket();
        logs.secret(ticket);
        return ticket;
      };
      const alice = clientFor(t, logs, { getTicket });
      const bob = clientFor(t, logs, issuerTickets(server, 'bob', ['general'], logs));
      const aliceStates = record(alice, 'state');
      const aliceMessages = record(alice, 'message');
      const bobMessages = record(bob, 'message');

      const result = await within(alice.start(), 10_000, 'alice authenticated');
      await within(bob.start(), 10_000, 'bob authenticated');
      const echoed = await within(alice.echo('hello <b>you</b>'), 5_000, 'echo');
      await within(alice.joinGroup('general'), 5_000, 'alice joins');
      const bobJoined = nextEvent(alice, 'userJoined', (p) => p.user === 'bob');
      await within(bob.joinGroup('general'), 5_000, 'bob joins');
      await bobJoined;
      const members = await within(alice.getGroupMembers('general'), 5_000, 'members');
      const bobGotGroup = nextEvent(bob, 'message', (m) => m.group === 'general');
      await alice.sendToGroup('general', 'hi bob');
      const aliceGotReply = nextEvent(alice, 'message', (m) => m.group === 'general' && m.from === 'bob');
      await bob.sendToGroup('general', 'hi alice');
      const bobGotBroadcast = nextEvent(bob, 'message', (m) => m.group === null);
      await alice.broadcast('to everyone');
      const bobLeft = nextEvent(alice, 'userLeft', (p) => p.user === 'bob');
      await bob.leaveGroup('general');

      assert.equal(result.user, 'alice');
      assert.deepEqual(result.groups, ['general', 'ops']);
      assert.ok(Date.parse(result.expiresAt) > Date.now());
      assert.equal(alice.user, 'alice');
      assert.equal(echoed, 'hello <b>you</b>');
      assert.deepEqual([...members].sort(), ['alice', 'bob']);
      assert.deepEqual(await bobGotGroup, { ...(await bobGotGroup), from: 'alice', text: 'hi bob', group: 'general' });
      assert.equal((await aliceGotReply).text, 'hi alice');
      assert.deepEqual((await bobGotBroadcast), { ...(await bobGotBroadcast), from: 'alice', text: 'to everyone', group: null });
      assert.deepEqual(await bobLeft, { group: 'general', user: 'bob' });
      assert.deepEqual(alice.joinedGroups, ['general']);
      assert.deepEqual(bob.joinedGroups, []);
      assert.ok(aliceMessages.some((m) => m.text === 'hi alice'));
      assert.ok(bobMessages.some((m) => m.text === 'to everyone'));

      await alice.stop();
      assert.deepEqual(aliceStates.map((s) => s.state), ['connecting', 'authenticated', 'closed']);
      assert.equal(aliceStates.at(-1).error, null);
      assert.equal(alice.closeError, null);
    });

    it('holds calls made while connecting until Authenticate has succeeded', async (t) => {
      const logs = testLogger(t);
      /** @type {() => void} */
      let release = () => {};
      const released = new Promise((resolve) => { release = () => resolve(undefined); });
      const tickets = issuerTickets(server, 'alice', ['general'], logs);
      const client = clientFor(t, logs, {
        getTicket: async () => {
          await released;
          return tickets.getTicket();
        },
      });

      const started = client.start();
      const echoed = client.echo('sent before authentication');
      const joined = client.joinGroup('general');
      release();

      // Had either call gone out first, the server would have closed with `authentication required`.
      await within(started, 10_000, 'start');
      assert.equal(await within(echoed, 5_000, 'echo'), 'sent before authentication');
      await within(joined, 5_000, 'join');
      assert.deepEqual(await client.getGroupMembers('general'), ['alice']);
    });

    it('reports refused calls as HubInvocationError with the server\'s reason and stays connected', async (t) => {
      const logs = testLogger(t);
      const bob = clientFor(t, logs, issuerTickets(server, 'bob', ['general'], logs));
      await within(bob.start(), 10_000, 'start');

      const forbidden = await bob.joinGroup('ops').catch((e) => e);
      const notMember = await bob.sendToGroup('general', 'not joined yet').catch((e) => e);
      const invalidGroup = await bob.joinGroup('no spaces allowed').catch((e) => e);
      const invalidMessage = await bob.broadcast('').catch((e) => e);
      const tooLong = await bob.echo('x'.repeat(4_097)).catch((e) => e);

      for (const [error, reason] of [
        [forbidden, HubErrors.Forbidden],
        [notMember, HubErrors.NotAMember],
        [invalidGroup, HubErrors.InvalidGroup],
        [invalidMessage, HubErrors.InvalidMessage],
        [tooLong, HubErrors.MessageTooLong],
      ]) {
        assert.ok(error instanceof HubInvocationError, String(error));
        assert.equal(error.reason, reason);
      }

      assert.equal(forbidden.method, 'JoinGroup');
      assert.deepEqual(bob.joinedGroups, []);
      assert.equal(bob.state, 'authenticated');
      assert.equal(await bob.echo('still here'), 'still here');
    });

    it('refuses calls with HubClosedError before start and after stop', async (t) => {
      const logs = testLogger(t);
      const client = clientFor(t, logs, issuerTickets(server, 'bob', ['general'], logs));

      const beforeStart = await client.echo('too early').catch((e) => e);
      await within(client.start(), 10_000, 'start');
      await client.stop();
      const afterStop = await client.echo('too late').catch((e) => e);

      assert.ok(beforeStart instanceof HubClosedError);
      assert.ok(afterStop instanceof HubClosedError);
      assert.equal(client.state, 'closed');
    });
  });

  describe('when the server refuses', () => {
    it('fails start with a terminal `authentication failed` for a made-up ticket, and does not reconnect', async (t) => {
      const logs = testLogger(t);
      let calls = 0;
      const client = clientFor(t, logs, {
        getTicket: async () => {
          calls += 1;
          return 'made-up-ticket-0123456789abcdefghijklmnopqrstuvwxyz';
        },
      });
      logs.secret('made-up-ticket-0123456789abcdefghijklmnopqrstuvwxyz');
      const states = record(client, 'state');

      const error = await within(client.start(), 10_000, 'start').catch((e) => e);

      assert.ok(error instanceof HubClosedError);
      assert.equal(error.reason, CloseReasons.AuthenticationFailed);
      assert.equal(error.terminal, true);
      assert.doesNotMatch(error.message, /made-up-ticket/);
      assert.equal(calls, 1);
      assert.deepEqual(states.map((s) => [s.state, s.reason]), [['connecting', null], ['closed', 'authentication failed']]);
    });

    it('refuses a replayed ticket: the second connection to redeem it fails', async (t) => {
      const logs = testLogger(t);
      const ticket = await server.issueTicket('alice', ['general']);
      logs.secret(ticket);
      const first = clientFor(t, logs, { getTicket: async () => ticket });
      const replay = clientFor(t, logs, { getTicket: async () => ticket });

      await within(first.start(), 10_000, 'first start');
      const error = await within(replay.start(), 10_000, 'replayed start').catch((e) => e);

      assert.ok(error instanceof HubClosedError);
      assert.equal(error.reason, CloseReasons.AuthenticationFailed);
      assert.equal(error.terminal, true);
      assert.equal(first.state, 'authenticated');
    });

    it('closes a connection whose first call is not Authenticate with the terminal `authentication required`', async () => {
      // SecureHubClient cannot be made to do this, so a bare SignalR connection shows what the server does.
      const raw = new HubConnectionBuilder()
        .withUrl(server.hubUrl, { skipNegotiation: true, transport: HttpTransportType.WebSockets })
        .configureLogging(LogLevel.None)
        .build();
      const closed = new Promise((resolve) => raw.onclose(resolve));
      await within(raw.start(), 10_000, 'raw start');

      const echo = await within(raw.invoke('Echo', 'hello'), 5_000, 'echo').catch((e) => e);
      const error = /** @type {Error} */ (await within(closed, 5_000, 'close'));

      assert.ok(echo instanceof Error);
      assert.equal(parseCloseReason(error.message), CloseReasons.AuthenticationRequired);
      assert.equal(isTerminalCloseReason(parseCloseReason(error.message)), true);
    });

    it('closes a connection that never authenticates with the terminal `authentication timeout`', async () => {
      const raw = new HubConnectionBuilder()
        .withUrl(server.hubUrl, { skipNegotiation: true, transport: HttpTransportType.WebSockets })
        .configureLogging(LogLevel.None)
        .build();
      const closed = new Promise((resolve) => raw.onclose(resolve));
      const opened = Date.now();
      await within(raw.start(), 10_000, 'raw start');

      const error = /** @type {Error} */ (await within(closed, authenticationTimeoutMs + 5_000, 'close'));
      const elapsed = Date.now() - opened;

      assert.equal(parseCloseReason(error.message), CloseReasons.AuthenticationTimeout);
      assert.equal(isTerminalCloseReason(CloseReasons.AuthenticationTimeout), true);
      assert.ok(elapsed >= authenticationTimeoutMs - 250, `closed after ${elapsed} ms`);
    });

    it('fails start with the ticket flow\'s own error when getTicket is refused, without connecting', async (t) => {
      const logs = testLogger(t);
      const session = new AuthSession({ baseUrl: server.url });
      const client = clientFor(t, logs, { getTicket: session.getTicket });

      const error = await within(client.start(), 10_000, 'start').catch((e) => e);

      assert.equal(error.name, 'AuthRequestError');
      assert.equal(error.status, 401);
      assert.equal(client.state, 'closed');
      assert.equal(client.closeError, error);
    });
  });

  describe('when a listener misbehaves', () => {
    it('logs a throwing listener at error level and still delivers to the others', async (t) => {
      const logs = testLogger(t);
      logs.expectError(/a 'message' listener threw: listener bug/);
      const client = clientFor(t, logs, issuerTickets(server, 'bob', ['general'], logs));
      client.on('message', () => { throw new Error('listener bug'); });
      const delivered = nextEvent(client, 'message');
      await within(client.start(), 10_000, 'start');

      await client.broadcast('still delivered');

      assert.equal((await delivered).text, 'still delivered');
      assert.ok(logs.records.some((r) => r.level === 'error' && r.message.includes('listener bug')));
    });
  });
});
