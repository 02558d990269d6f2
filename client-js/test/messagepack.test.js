import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HubClosedError, HubProtocols, SecureHubClient } from '../src/index.js';
import { testLogger } from './support/logger.js';
import { startServer } from './support/server.js';
import { issuerTickets } from './support/tickets.js';
import { nextEvent, within } from './support/wait.js';

describe('SecureHubClient over MessagePack', () => {
  /** @type {import('./support/server.js').TestServer} */
  let server;

  before(async () => {
    server = await startServer({ SignalRSecure__Hub__Protocols: 'json,messagepack' });
  });

  after(async () => {
    await server?.stop();
  });

  /**
   * @param {import('node:test').TestContext} t
   * @param {ReturnType<typeof testLogger>} logs
   * @param {string} user
   * @param {string} protocol
   * @param {string} [url]
   */
  function clientFor(t, logs, user, protocol, url = server.hubUrl) {
    const client = new SecureHubClient({
      url,
      ...issuerTickets(server, user, ['general'], logs),
      protocol: /** @type {any} */ (protocol),
      logger: logs.logger,
      logLevel: 'debug',
      reconnect: false,
    });
    t.after(() => client.stop());
    return client;
  }

  it('authenticates, echoes and talks in a group with a JSON client, in the same shapes as JSON', async (t) => {
    const logs = testLogger(t);
    const alice = clientFor(t, logs, 'alice', HubProtocols.MessagePack);
    const bob = clientFor(t, logs, 'bob', HubProtocols.Json);

    const result = await within(alice.start(), 10_000, 'alice authenticated');
    await within(bob.start(), 10_000, 'bob authenticated');
    const echoed = await within(alice.echo('hello in binary'), 5_000, 'echo');
    await within(alice.joinGroup('general'), 5_000, 'alice joins');
    const bobJoined = nextEvent(alice, 'userJoined', (p) => p.user === 'bob');
    await within(bob.joinGroup('general'), 5_000, 'bob joins');
    const joined = await bobJoined;
    const members = await within(alice.getGroupMembers('general'), 5_000, 'members');
    const bobGotGroup = nextEvent(bob, 'message', (m) => m.group === 'general');
    await alice.sendToGroup('general', 'hi bob');
    const aliceGotReply = nextEvent(alice, 'message', (m) => m.group === 'general' && m.from === 'bob');
    await bob.sendToGroup('general', 'hi alice');
    const reply = await aliceGotReply;

    assert.equal(result.user, 'alice');
    assert.deepEqual(result.groups, ['general']);
    assert.equal(typeof result.expiresAt, 'string');
    assert.ok(Date.parse(result.expiresAt) > Date.now());
    assert.equal(echoed, 'hello in binary');
    assert.deepEqual(joined, { group: 'general', user: 'bob' });
    assert.deepEqual([...members].sort(), ['alice', 'bob']);
    assert.equal((await bobGotGroup).text, 'hi bob');
    assert.deepEqual(Object.keys(reply).sort(), ['from', 'group', 'id', 'sentAt', 'text']);
    assert.match(reply.id, /^\d+-\d+$/);
    assert.deepEqual({ from: reply.from, text: reply.text, group: reply.group }, { from: 'bob', text: 'hi alice', group: 'general' });
    assert.ok(Math.abs(Date.parse(reply.sentAt) - Date.now()) < 60_000, `sentAt ${reply.sentAt}`);
  });

  it('fails to start against a server that enables JSON only', async (t) => {
    const logs = testLogger(t);
    const jsonOnly = await startServer();
    t.after(() => jsonOnly.stop());
    const client = new SecureHubClient({
      url: jsonOnly.hubUrl,
      ...issuerTickets(jsonOnly, 'alice', ['general'], logs),
      protocol: HubProtocols.MessagePack,
      logger: logs.logger,
      reconnect: false,
    });
    t.after(() => client.stop());

    await assert.rejects(within(client.start(), 10_000, 'start'), HubClosedError);
  });

  it('refuses a protocol it does not know when constructed', () => {
    assert.throws(
      () => new SecureHubClient({ url: server.hubUrl, getTicket: async () => 'x', protocol: /** @type {any} */ ('xml') }),
      TypeError);
  });
});
