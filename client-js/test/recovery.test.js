import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HubErrors, HubInvocationError, SecureHubClient, compareMessageIds } from '../src/index.js';
import { testLogger } from './support/logger.js';
import { startServer } from './support/server.js';
import { startTcpProxy } from './support/tcp-proxy.js';
import { issuerTickets } from './support/tickets.js';
import { nextEvent, record, within } from './support/wait.js';

const historyLength = 25;

/**
 * @param {import('node:test').TestContext} t
 * @param {string} url
 * @param {ReturnType<typeof testLogger>} logs
 * @param {() => Promise<string>} getTicket
 */
function clientFor(t, url, logs, getTicket) {
  const client = new SecureHubClient({
    url,
    getTicket,
    logger: logs.logger,
    logLevel: 'debug',
    reconnect: { initialDelay: 50, maxDelay: 200 },
  });
  t.after(() => client.stop());
  return client;
}

/**
 * A getTicket that waits while `closed` is true: the test decides when a dropped client may come back.
 * @param {() => Promise<string>} getTicket
 */
function gatedTickets(getTicket) {
  /** @type {(() => void) | null} */
  let open = null;
  /** @type {Promise<void> | null} */
  let gate = null;
  return {
    async getTicket() {
      await gate;
      return getTicket();
    },
    close() {
      gate = new Promise((resolve) => {
        open = () => resolve(undefined);
      });
    },
    open() {
      open?.();
      gate = null;
    },
  };
}

/** @param {{ text: string }[]} messages */
const texts = (messages) => messages.map((m) => m.text);

describe('SecureHubClient recovery after a dropped transport', () => {
  /** @type {import('./support/server.js').TestServer} */
  let server;
  /** @type {import('./support/tcp-proxy.js').TcpProxy} */
  let proxy;

  before(async () => {
    server = await startServer({ SignalRSecure__Chat__HistoryLength: String(historyLength) });
    proxy = await startTcpProxy(server.port);
  });

  after(async () => {
    await proxy?.close();
    await server?.stop();
  });

  /**
   * Alice through the proxy (her transport can be dropped) with tickets the test lets through, bob directly; both in
   * `general`, and alice has delivered one message of it and one broadcast.
   * @param {import('node:test').TestContext} t
   * @param {ReturnType<typeof testLogger>} logs
   */
  async function aliceAndBob(t, logs) {
    const gate = gatedTickets(issuerTickets(server, 'alice', ['general'], logs).getTicket);
    const alice = clientFor(t, `http://127.0.0.1:${proxy.port}/hubs/chat`, logs, gate.getTicket);
    const bob = clientFor(t, server.hubUrl, logs, issuerTickets(server, 'bob', ['general'], logs).getTicket);
    await within(Promise.all([alice.start(), bob.start()]), 10_000, 'both started');
    await alice.joinGroup('general');
    await bob.joinGroup('general');
    const seen = nextEvent(alice, 'message', (m) => m.text === 'broadcast before');
    await bob.sendToGroup('general', 'before');
    await bob.broadcast('broadcast before');
    await seen;
    return { alice, bob, gate };
  }

  /**
   * Drops alice's transport and keeps her away until `whileAway` is done.
   * @param {SecureHubClient} alice
   * @param {{ close(): void, open(): void }} gate
   * @param {() => Promise<void>} whileAway
   */
  async function dropAlice(alice, gate, whileAway) {
    gate.close();
    const away = nextEvent(alice, 'state', (s) => s.state === 'reconnecting');
    proxy.drop();
    await away;
    await whileAway();
    const back = nextEvent(alice, 'state', (s) => s.state === 'authenticated');
    gate.open();
    await back;
  }

  it('delivers the 20 messages bob sent while alice was away, in order, each once, then the live ones', async (t) => {
    const logs = testLogger(t);
    const { alice, bob, gate } = await aliceAndBob(t, logs);
    const received = record(alice, 'message');
    const gaps = record(alice, 'gap');
    const sent = Array.from({ length: 20 }, (_, i) => `missed ${i}`);

    await dropAlice(alice, gate, async () => {
      for (const text of sent) {
        await bob.sendToGroup('general', text);
      }

      await bob.broadcast('broadcast missed');
    });
    const live = nextEvent(alice, 'message', (m) => m.text === 'after');
    await bob.sendToGroup('general', 'after');
    await live;

    // 'before', delivered before the drop, is not delivered again.
    const general = received.filter((m) => m.group === 'general');
    assert.deepEqual(texts(general), [...sent, 'after']);
    assert.deepEqual(texts(received.filter((m) => m.group === null)), ['broadcast missed']);
    assert.deepEqual([...general].sort((a, b) => compareMessageIds(a.id, b.id)), general);
    assert.deepEqual(gaps, []);
  });

  it('emits `gap` when more was sent meanwhile than the history holds, and delivers what it still holds', async (t) => {
    const logs = testLogger(t);
    const { alice, bob, gate } = await aliceAndBob(t, logs);
    const received = record(alice, 'message');
    const gaps = record(alice, 'gap');
    const sent = Array.from({ length: historyLength + 5 }, (_, i) => `missed ${i}`);

    await dropAlice(alice, gate, async () => {
      for (const text of sent) {
        await bob.sendToGroup('general', text);
      }
    });
    const live = nextEvent(alice, 'message', (m) => m.text === 'after');
    await bob.sendToGroup('general', 'after');
    await live;

    assert.deepEqual(gaps, [{ group: 'general' }]);
    assert.deepEqual(texts(received), [...sent.slice(-historyLength), 'after']);
  });

  it('reads history by page, and refuses a group the caller is not a member of', async (t) => {
    const logs = testLogger(t);
    const { alice, bob } = await aliceAndBob(t, logs);
    for (let i = 0; i < 5; i += 1) {
      await bob.sendToGroup('general', `page ${i}`);
    }

    const newest = await alice.history('general', { limit: 3 });
    const older = await alice.history('general', { beforeId: newest[0].id, limit: 2 });
    const broadcasts = await alice.history(null, { limit: 1 });
    const refused = await alice.history('ops').catch((e) => e);
    const malformed = await alice.history('general', { beforeId: '1-0\n' }).catch((e) => e);

    assert.deepEqual(texts(newest), ['page 2', 'page 3', 'page 4']);
    assert.deepEqual(texts(older), ['page 0', 'page 1']);
    assert.deepEqual(texts(broadcasts), ['broadcast before']);
    assert.ok(refused instanceof HubInvocationError);
    assert.equal(refused.reason, HubErrors.NotAMember);
    assert.ok(malformed instanceof HubInvocationError);
    assert.equal(malformed.reason, HubErrors.InvalidMessage);
  });
});
