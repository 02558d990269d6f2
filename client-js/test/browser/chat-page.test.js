import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { launchBrowser, screenshot, startForeignSite, watchConsole } from '../support/browser.js';
import { startServer } from '../support/server.js';

const actionTimeout = 10_000;
const xssPayload = '<img src=x onerror="window.__xssRan = true">';

/** A failed sign-in answers 401, which Chromium logs as a failed resource load. */
const unauthorizedLoad = /Failed to load resource: the server responded with a status of 401/;

/** @type {import('playwright-core').Browser} */
let browser;

before(async () => {
  // The server serves wwwroot from the project folder: bundle the page's current sources into it first
  // (importing the build script runs it).
  await import('../../scripts/build.mjs');
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

/**
 * A new browser context (its own cookies) with one page on the chat.
 * @param {import('node:test').TestContext} t
 * @param {import('../support/server.js').TestServer} server
 * @param {{ expectedConsoleErrors?: RegExp[], viewport?: { width: number, height: number }, colorScheme?: 'light' | 'dark' }} [options]
 */
async function openChat(t, server, { expectedConsoleErrors = [], viewport = { width: 1180, height: 760 }, colorScheme = 'light' } = {}) {
  const context = await browser.newContext({ viewport, colorScheme });
  t.after(() => context.close());
  const page = await context.newPage();
  page.setDefaultTimeout(actionTimeout);
  watchConsole(t, page, expectedConsoleErrors);
  const response = await page.goto(server.url);
  return { context, page, response };
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
  assert.equal(await page.locator('#account-name').textContent(), user);
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
 * Types into the composer and presses Enter, as a person would, and waits until it was sent.
 * @param {import('playwright-core').Page} page
 * @param {string} label
 * @param {string} text
 */
async function say(page, label, text) {
  const composer = page.getByLabel(label);
  await composer.fill(text);
  await composer.press('Enter');
  await page.waitForFunction(() => /** @type {HTMLInputElement} */ (document.getElementById('message-text')).value === '');
}

/**
 * Where a visible element is drawn. The group list is drawn anew whenever its members change, so a button found a
 * moment ago can be replaced before it is measured (Playwright then answers null); it is found and measured again.
 * @param {import('playwright-core').Locator} locator
 */
async function visibleBox(locator) {
  const deadline = Date.now() + actionTimeout;
  for (;;) {
    await locator.waitFor({ state: 'visible' });
    const box = await locator.boundingBox();
    if (box || Date.now() > deadline) {
      return box;
    }
  }
}

/**
 * The header's height in pixels, which must not change with the connection's state.
 * @param {import('playwright-core').Page} page
 */
async function headerHeight(page) {
  const box = await page.locator('header.topbar').boundingBox();
  return box?.height ?? -1;
}

/**
 * @param {import('playwright-core').Page} page
 * @param {string} text
 */
function events(page, text) {
  return page.locator('.messages .event', { hasText: text });
}

/**
 * @param {import('playwright-core').Page} page
 * @param {string} text
 */
function messageWithText(page, text) {
  return page.locator('.messages:visible .message-text', { hasText: text });
}

describe('the chat page in Chromium', () => {
  /** @type {import('../support/server.js').TestServer} */
  let server;

  before(async () => {
    server = await startServer();
  });

  after(async () => {
    await server?.stop();
  });

  it('serves the page with its security headers, refuses a wrong password and signs in', async (t) => {
    const { page, response } = await openChat(t, server, { expectedConsoleErrors: [unauthorizedLoad] });
    const headers = response?.headers() ?? {};
    await screenshot(page, '01-sign-in');

    await page.getByLabel('User name').fill('alice');
    await page.getByLabel('Password').fill('wrong password');
    await page.getByLabel('Password').press('Enter');
    await page.getByText('Wrong user name or password.').waitFor();
    await screenshot(page, '02-sign-in-refused');
    await signIn(page, 'alice');

    assert.match(headers['content-security-policy'], /script-src 'self'/);
    assert.match(headers['content-security-policy'], /frame-ancestors 'none'/);
    assert.equal(headers['x-content-type-options'], 'nosniff');
    assert.equal(headers['referrer-policy'], 'no-referrer');
    assert.equal(await page.locator('.account-name').textContent(), 'Signed in as alice');
  });

  it('lets alice and bob join general, see who is online and exchange messages both ways', async (t) => {
    const alice = (await openChat(t, server)).page;
    const bob = (await openChat(t, server)).page;
    await signIn(alice, 'alice');
    await signIn(bob, 'bob');

    await join(alice, 'general');
    await join(bob, 'general');
    await alice.getByText('Online: alice, bob').first().waitFor();
    await say(alice, 'Message to # general', 'Hi Bob, this is Alice.');
    await messageWithText(bob, 'Hi Bob, this is Alice.').waitFor();
    await say(bob, 'Message to # general', 'Hello Alice!');
    await messageWithText(alice, 'Hello Alice!').waitFor();
    await screenshot(alice, '03-alice-and-bob-in-general');

    assert.equal(await alice.locator('.messages:visible .message.own .message-text').first().textContent(), 'Hi Bob, this is Alice.');
    assert.equal(await bob.locator('.messages:visible .message:not(.own) .message-from').first().textContent(), 'alice');
  });

  it('refuses bob the ops group and shows why', async (t) => {
    const bob = (await openChat(t, server)).page;
    await signIn(bob, 'bob');

    await bob.getByLabel('Join a group by name').fill('ops');
    await bob.getByLabel('Join a group by name').press('Enter');
    const alert = bob.getByRole('alert').filter({ hasText: 'Could not join ops' });
    await alert.waitFor();
    await screenshot(bob, '04-bob-refused-ops');

    assert.match(await alert.textContent() ?? '', /not allowed in that group/);
    assert.equal(await bob.getByRole('button', { name: '# ops' }).count(), 0);
  });

  it('delivers alice\'s broadcast to bob', async (t) => {
    const alice = (await openChat(t, server)).page;
    // Bob prefers a dark color scheme, so that the screenshot shows the page's dark theme too.
    const bob = (await openChat(t, server, { colorScheme: 'dark' })).page;
    await signIn(alice, 'alice');
    await signIn(bob, 'bob');

    await say(alice, 'Message to everyone', 'Maintenance at 18:00, everyone.');
    await messageWithText(bob, 'Maintenance at 18:00, everyone.').waitFor();
    await screenshot(bob, '05-bob-receives-broadcast');

    assert.equal(await bob.getByRole('heading', { name: 'Everyone' }).count(), 1);
  });

  it('shows an HTML payload as text and runs nothing', async (t) => {
    const alice = (await openChat(t, server)).page;
    const bob = (await openChat(t, server)).page;
    await signIn(alice, 'alice');
    await signIn(bob, 'bob');
    await join(alice, 'general');
    await join(bob, 'general');

    await say(alice, 'Message to # general', xssPayload);
    await messageWithText(bob, xssPayload).waitFor();
    await screenshot(bob, '06-xss-shown-as-text');

    for (const page of [alice, bob]) {
      assert.equal(await page.evaluate(() => /** @type {any} */ (window).__xssRan), undefined);
      assert.equal(await page.locator('.messages img').count(), 0);
      assert.equal(await messageWithText(page, xssPayload).textContent(), xssPayload);
    }
  });

  it('closes the connection on logout, and every page of the user says so', async (t) => {
    const { context, page: first } = await openChat(t, server);
    await signIn(first, 'alice');
    await join(first, 'general');
    await say(first, 'Message to # general', 'Signing out in another tab.');
    const second = await context.newPage();
    second.setDefaultTimeout(actionTimeout);
    watchConsole(t, second);
    await second.goto(server.url);
    await signIn(second, 'alice');

    await second.getByRole('button', { name: 'Sign out' }).click();
    await second.getByText('You signed out. The server closed the connection: “logged out”.').waitFor();
    await first.getByRole('status').filter({ hasText: 'Disconnected: logged out' }).waitFor();
    const closed = first.getByRole('alert').filter({ hasText: 'Disconnected' });
    await screenshot(first, '07-other-tab-logged-out');
    await screenshot(second, '08-signed-out');

    assert.match(await closed.textContent() ?? '', /The server closed the connection: “logged out”/);
    assert.equal(await first.locator('.account-name').textContent(), 'Was signed in as alice');
    assert.equal(await first.getByLabel('Message to # general').isDisabled(), true);
    assert.equal(await second.getByRole('button', { name: 'Sign in' }).isVisible(), true);
  });

  it('shows a join by the same user in another window as that window\'s, and this window\'s own join once', async (t) => {
    const { context, page: first } = await openChat(t, server);
    await signIn(first, 'alice');
    await join(first, 'general');
    const second = await context.newPage();
    second.setDefaultTimeout(actionTimeout);
    watchConsole(t, second);
    await second.goto(server.url);
    await signIn(second, 'alice');

    await join(second, 'general');
    await events(first, 'alice (you, in another window) joined general.').waitFor();
    await events(second, 'You joined general.').waitFor();
    await screenshot(first, '09-same-user-other-window-joined');

    assert.equal(await events(first, 'You joined general.').count(), 1);
    assert.equal(await events(second, 'You joined general.').count(), 1);
    assert.equal(await events(second, 'another window').count(), 0);
  });

  it('is usable at phone width without sideways scrolling, with the groups above the conversation', async (t) => {
    const viewport = { width: 390, height: 844 };
    const alice = (await openChat(t, server, { viewport })).page;
    await screenshot(alice, '10-phone-sign-in');
    const signedOutHeader = await headerHeight(alice);
    await signIn(alice, 'alice');
    const toggle = alice.getByRole('button', { name: 'Groups you may join' });
    const toggleBox = await toggle.boundingBox();
    const conversationBox = await alice.locator('.conversation').boundingBox();
    await toggle.click();
    await join(alice, 'general');
    const joinOpsBox = await visibleBox(alice.getByRole('button', { name: 'Join ops' }));
    await say(alice, 'Message to # general', 'Typed on a phone, with a long word: Donaudampfschifffahrtsgesellschaftskapitän.');

    await alice.evaluate(() => window.scrollTo(0, 0));
    await screenshot(alice, '11-phone-chat');
    await screenshot(alice, '12-phone-chat-full', { fullPage: true });
    const overflow = await alice.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

    assert.ok(overflow <= 0, `the page is ${overflow} px wider than the screen`);
    assert.equal(await headerHeight(alice), signedOutHeader);
    assert.ok(toggleBox && conversationBox && toggleBox.y + toggleBox.height <= conversationBox.y,
      'the groups panel is above the conversation');
    assert.ok(joinOpsBox && joinOpsBox.y + joinOpsBox.height <= viewport.height,
      `the unfolded groups are on the first screen (Join ops at y=${joinOpsBox?.y})`);
  });

  it('keeps a page from another origin from getting a ticket or an authenticated connection', async (t) => {
    const foreign = await startForeignSite();
    t.after(() => foreign.close());
    const foreignOrigin = foreign.url;
    // The other origin is the same site (127.0.0.1), so the browser does send alice's SameSite=Strict cookie.
    const { context, page: chat } = await openChat(t, server);
    await signIn(chat, 'alice');
    const stolenTicket = await chat.evaluate(async () => {
      const response = await fetch('/auth/ticket', { method: 'POST', headers: { 'X-SignalRSecure': '1' } });
      return (await response.json()).ticket;
    });
    const page = await context.newPage();
    page.setDefaultTimeout(actionTimeout);
    watchConsole(t, page, [/CORS policy/, /Failed to load resource/, /WebSocket connection to .* failed/]);
    await page.goto(foreignOrigin);

    const outcome = await page.evaluate(async ({ serverUrl, ticket }) => {
      // The foreign site serves the client library there; a variable keeps the type checker from resolving it.
      const library = '/client.js';
      const { AuthSession, SecureHubClient } = await import(library);
      const session = new AuthSession({ baseUrl: serverUrl });
      const ticketError = await session.getTicket().then(() => null, (/** @type {any} */ e) => ({ name: e.name, status: e.status }));
      // Without the custom header the request is "simple" and goes out with the cookie; the server must refuse it.
      await fetch(`${serverUrl}/auth/ticket`, { method: 'POST', mode: 'no-cors', credentials: 'include' });
      const client = new SecureHubClient({ url: `${serverUrl}/hubs/chat`, getTicket: async () => ticket, reconnect: false });
      const startError = await client.start().then(() => null, (/** @type {any} */ e) => ({ name: e.name, reason: e.reason }));
      const out = /** @type {HTMLElement} */ (document.getElementById('out'));
      out.textContent = `ticket request: ${JSON.stringify(ticketError)}\nhub connection: ${JSON.stringify(startError)}\nstate: ${client.state}`;
      return { ticketError, startError, state: client.state };
    }, { serverUrl: server.url, ticket: stolenTicket });
    await screenshot(page, '13-foreign-origin-refused');

    assert.deepEqual(outcome.ticketError, { name: 'AuthRequestError', status: 0 });
    assert.deepEqual(outcome.startError, { name: 'HubClosedError', reason: null });
    assert.equal(outcome.state, 'closed');
    const refused = new RegExp(`Request to /auth/ticket from \\S+ refused: origin ${foreignOrigin.replace(/[.:/]/g, '\\$&')} is not allowed`);
    await server.waitForOutput(refused);
    await server.waitForOutput(new RegExp(`Request to /hubs/chat from \\S+ refused: origin ${foreignOrigin.replace(/[.:/]/g, '\\$&')}`));
  });
});

describe('the chat page when the server pushes back', () => {
  /** @type {import('../support/server.js').TestServer} */
  let server;

  before(async () => {
    server = await startServer({
      SignalRSecure__Hub__InvocationsPerSecond: '1',
      SignalRSecure__Hub__InvocationBurst: '3',
      SignalRSecure__Hub__RateLimitStrikesBeforeClose: '100',
    });
  });

  after(async () => {
    await server?.stop();
  });

  it('says `rate limited` when messages go out too fast, and keeps the text to send again', async (t) => {
    const bob = (await openChat(t, server)).page;
    await signIn(bob, 'bob');
    const composer = bob.getByLabel('Message to everyone');

    for (let i = 1; i <= 5; i += 1) {
      await composer.fill(`burst ${i}`);
      await composer.press('Enter');
    }

    const alert = bob.getByRole('alert').filter({ hasText: 'Not sent' });
    await alert.waitFor();
    await screenshot(bob, '14-rate-limited');

    assert.match(await alert.textContent() ?? '', /Slow down/);
    assert.equal(await bob.locator('#status').textContent(), 'Connected');
    assert.match(await composer.inputValue(), /^burst \d$/);
  });

  it('shows the reconnect, then asks to sign in again when the restarted server forgot the session', async (t) => {
    const alice = (await openChat(t, server, {
      // While the server is down the ticket request and the WebSocket fail; after it, the old cookie gets 401.
      expectedConsoleErrors: [/Failed to load resource/, /WebSocket connection to .* failed/],
    })).page;
    const signedOutHeader = await headerHeight(alice);
    await signIn(alice, 'alice');
    const connectedHeader = await headerHeight(alice);

    await server.kill();
    await alice.getByRole('status').filter({ hasText: /^Reconnecting/ }).waitFor();
    await alice.getByRole('alert').filter({ hasText: 'The connection was lost. Reconnecting…' }).waitFor();
    await screenshot(alice, '15-reconnecting');
    const reconnecting = {
      header: await headerHeight(alice),
      account: await alice.locator('.account-name').textContent(),
      send: await alice.getByRole('button', { name: 'Send' }).isDisabled(),
      composer: await alice.getByLabel('Message to everyone').isDisabled(),
    };
    await server.relaunch();
    const closed = alice.getByRole('alert').filter({ hasText: 'Disconnected' });
    await closed.waitFor({ timeout: 30_000 });
    await screenshot(alice, '16-session-gone-after-restart');

    assert.match(await closed.textContent() ?? '', /Your sign-in session has ended\. Sign in again\./);
    assert.equal(await alice.locator('#status').textContent(), 'Disconnected');
    assert.deepEqual(reconnecting, { header: signedOutHeader, account: 'Reconnecting as alice', send: true, composer: true });
    assert.equal(connectedHeader, signedOutHeader);
    assert.equal(await headerHeight(alice), signedOutHeader);
    assert.equal(await alice.locator('.account-name').textContent(), 'Was signed in as alice');
    assert.equal(await alice.getByRole('button', { name: 'Send' }).isDisabled(), true);
  });
});
