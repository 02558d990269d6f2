import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SecureHubClient } from '../../src/index.js';
import { launchBrowser, screenshot, watchConsole } from '../support/browser.js';
import { testLogger } from '../support/logger.js';
import { startServer } from '../support/server.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { issuerTickets } from '../support/tickets.js';
import { nextEvent, within } from '../support/wait.js';

const actionTimeout = 10_000;

/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  // The server serves wwwroot from the project folder: bundle the page's current sources into it first.
  await import('../../scripts/build.mjs');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

/**
 * A new browser context with one page on the chat at `url`, and every URL the page requested.
 * @param {import('node:test').TestContext} t
 * @param {string} url
 * @param {RegExp[]} [expectedConsoleErrors]
 */
async function openChat(t, url, expectedConsoleErrors = []) {
  const context = await browser.newContext({ viewport: { width: 1180, height: 760 } });
  t.after(() => context.close());
  const page = await context.newPage();
  page.setDefaultTimeout(actionTimeout);
  watchConsole(t, page, expectedConsoleErrors);
  /** @type {string[]} */
  const requested = [];
  page.on('request', (request) => requested.push(request.url()));
  await page.goto(url);
  return { page, requested };
}

/**
 * @param {import('playwright-core').Page} page
 * @param {string} user
 */
async function signIn(page, user) {
  await page.getByLabel('User name').fill(user);
  await page.getByLabel('Password').fill(`${user}-demo-password`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('status').filter({ hasText: /^Connected$/ }).waitFor();
}

/**
 * @param {import('playwright-core').Page} page
 * @param {string} group
 */
async function join(page, group) {
  await page.getByRole('button', { name: `Join ${group}` }).click();
  await page.getByRole('button', { name: `Leave ${group}` }).waitFor();
}

/**
 * The texts of the messages in the channel on screen, top to bottom.
 * @param {import('playwright-core').Page} page
 */
function shownTexts(page) {
  return page.locator('.messages:visible .message-text').allTextContents();
}

describe('the chat page with history', () => {
  /** @type {import('../support/server.js').TestServer} */
  let server;

  before(async () => {
    server = await startServer();
  });

  after(async () => {
    await server?.stop();
  });

  /**
   * Bob as a Node client in `general`.
   * @param {import('node:test').TestContext} t
   */
  async function startBob(t) {
    const logs = testLogger(t);
    const bob = new SecureHubClient({ url: server.hubUrl, ...issuerTickets(server, 'bob', ['general'], logs), logger: logs.logger });
    t.after(() => bob.stop());
    await within(bob.start(), 10_000, 'bob started');
    await bob.joinGroup('general');
    return bob;
  }

  it('shows the last messages of `general` and of the broadcast channel again after alice reloads, each once', async (t) => {
    const bob = await startBob(t);
    const said = ['reload 1', 'reload 2', 'reload 3'];
    for (const text of said) {
      await bob.sendToGroup('general', text);
    }

    await bob.broadcast('reload broadcast');
    const { page: alice, requested } = await openChat(t, server.url);
    await signIn(alice, 'alice');
    await alice.locator('.messages:visible .message-text', { hasText: 'reload broadcast' }).waitFor();
    await join(alice, 'general');
    await alice.locator('.messages:visible .message-text', { hasText: 'reload 3' }).waitFor();
    const firstVisit = await shownTexts(alice);

    await alice.reload();
    await signIn(alice, 'alice');
    const broadcasts = await shownTexts(alice);
    await join(alice, 'general');
    await alice.locator('.messages:visible .message-text', { hasText: 'reload 3' }).waitFor();
    await bob.sendToGroup('general', 'live after reload');
    await alice.locator('.messages:visible .message-text', { hasText: 'live after reload' }).waitFor();
    await screenshot(alice, '20-history-after-reload');
    const afterReload = await shownTexts(alice);

    assert.deepEqual(firstVisit.filter((text) => text.startsWith('reload ')), said);
    assert.deepEqual(broadcasts.filter((text) => text === 'reload broadcast'), ['reload broadcast']);
    assert.deepEqual(afterReload.filter((text) => text.startsWith('reload ') || text === 'live after reload'), [...said, 'live after reload']);
    // The JSON page never asks for the MessagePack protocol's chunk.
    assert.deepEqual(requested.filter((url) => /messagepack/i.test(url)), []);
  });

  it('loses nothing on screen and shows nothing twice when the page\'s transport drops while bob talks', async (t) => {
    const proxy = await startTcpProxy(server.port);
    t.after(() => proxy.close());
    const bob = await startBob(t);
    const { page: alice } = await openChat(t, `http://127.0.0.1:${proxy.port}`, [
      // While the proxy refuses, the ticket request and the WebSocket fail.
      /Failed to load resource/, /WebSocket connection to .* failed/,
    ]);
    await signIn(alice, 'alice');
    await join(alice, 'general');
    await bob.sendToGroup('general', 'drop before');
    await alice.locator('.messages:visible .message-text', { hasText: 'drop before' }).waitFor();
    const talk = Array.from({ length: 20 }, (_, i) => `drop ${i}`);

    proxy.refuse(true);
    proxy.drop();
    await alice.getByRole('status').filter({ hasText: /^Reconnecting/ }).waitFor();
    for (const text of talk.slice(0, 15)) {
      await bob.sendToGroup('general', text);
    }

    proxy.refuse(false);
    for (const text of talk.slice(15)) {
      await bob.sendToGroup('general', text);
    }

    await alice.getByRole('status').filter({ hasText: /^Connected$/ }).waitFor({ timeout: 30_000 });
    await alice.locator('.messages:visible .message-text', { hasText: 'drop 19' }).waitFor({ timeout: 30_000 });
    const live = nextEvent(bob, 'message', (m) => m.text === 'drop after');
    await bob.sendToGroup('general', 'drop after');
    await live;
    await alice.locator('.messages:visible .message-text', { hasText: 'drop after' }).waitFor();
    await screenshot(alice, '21-nothing-lost-after-drop');

    const shown = (await shownTexts(alice)).filter((text) => text.startsWith('drop '));
    assert.deepEqual(shown, ['drop before', ...talk, 'drop after']);
    assert.equal(await alice.locator('.messages:visible .gap').count(), 0);
  });
});

describe('the chat page when recovery cannot fill the gap', () => {
  /** @type {import('../support/server.js').TestServer} */
  let server;

  before(async () => {
    server = await startServer({ SignalRSecure__Chat__HistoryLength: '5' });
  });

  after(async () => {
    await server?.stop();
  });

  it('marks where messages may be missing, and shows what the history still held after it', async (t) => {
    const proxy = await startTcpProxy(server.port);
    t.after(() => proxy.close());
    const logs = testLogger(t);
    const bob = new SecureHubClient({ url: server.hubUrl, ...issuerTickets(server, 'bob', ['general'], logs), logger: logs.logger });
    t.after(() => bob.stop());
    await within(bob.start(), 10_000, 'bob started');
    await bob.joinGroup('general');
    const { page: alice } = await openChat(t, `http://127.0.0.1:${proxy.port}`, [/Failed to load resource/, /WebSocket connection to .* failed/]);
    await signIn(alice, 'alice');
    await join(alice, 'general');
    await bob.sendToGroup('general', 'gap before');
    await alice.locator('.messages:visible .message-text', { hasText: 'gap before' }).waitFor();
    const missed = Array.from({ length: 10 }, (_, i) => `gap ${i}`);

    proxy.refuse(true);
    proxy.drop();
    await alice.getByRole('status').filter({ hasText: /^Reconnecting/ }).waitFor();
    for (const text of missed) {
      await bob.sendToGroup('general', text);
    }

    proxy.refuse(false);
    await alice.locator('.messages:visible .gap').waitFor({ timeout: 30_000 });
    await alice.locator('.messages:visible .message-text', { hasText: 'gap 9' }).waitFor();
    await screenshot(alice, '22-gap-marked');
    const items = await alice.locator('.messages:visible > li:not(.event), .messages:visible > li.gap').evaluateAll(
      (nodes) => nodes.map((node) => (node.classList.contains('gap') ? 'GAP' : node.querySelector('.message-text')?.textContent)),
    );

    assert.deepEqual(items, ['gap before', 'GAP', ...missed.slice(-5)]);
    assert.equal(await alice.locator('.messages:visible .gap').textContent(), 'Some messages may be missing here.');
  });
});
