import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium } from 'playwright-core';

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where the browser tests save their screenshots (gitignored). */
export const screenshotDirectory = join(packageRoot, 'test-output', 'screenshots');

/** Debian's Chromium: Playwright's own browser download does not work here. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * Launches headless Chromium with a fresh profile (Playwright creates and removes a temporary user-data dir).
 * @returns {Promise<import('playwright-core').Browser>}
 */
export function launchBrowser() {
  return chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/**
 * Watches a page's console and uncaught exceptions, and fails the test at its end on any console error or page
 * error that the test did not announce: CSP violations, failed loads and script errors all land there.
 * @param {import('node:test').TestContext} t
 * @param {import('playwright-core').Page} page
 * @param {RegExp[]} [expected] Console errors the test causes on purpose.
 */
export function watchConsole(t, page, expected = []) {
  /** @type {string[]} */
  const errors = [];
  page.on('console', (message) => {
    if (message.type() === 'error' && !expected.some((p) => p.test(message.text()))) {
      errors.push(`console: ${message.text()}`);
    }
  });
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  t.after(() => assert.deepEqual(errors, [], 'unexpected errors in the page'));
  return errors;
}

/**
 * Saves a screenshot of `page` as `name`.png.
 * @param {import('playwright-core').Page} page
 * @param {string} name
 * @param {{ fullPage?: boolean }} [options] `fullPage` for the whole scrollable page, not just the viewport.
 */
export async function screenshot(page, name, { fullPage = false } = {}) {
  mkdirSync(screenshotDirectory, { recursive: true });
  await page.screenshot({ path: join(screenshotDirectory, `${name}.png`), fullPage });
}

/**
 * Serves a second origin (another port on 127.0.0.1): a bare page and this package bundled for browsers, so that
 * a test can play a foreign site that uses the real client library against the server.
 * @returns {Promise<{ url: string, close(): Promise<void> }>}
 */
export async function startForeignSite() {
  const bundle = await build({
    entryPoints: [join(packageRoot, 'src', 'index.js')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'warning',
  });
  const script = bundle.outputFiles[0].contents;
  const page = '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Another site</title></head>'
    + '<body><h1>Another site</h1><p>This page is served from a different origin than the chat server.</p>'
    + '<pre id="out"></pre></body></html>';
  const server = createServer((request, response) => {
    if (request.url === '/client.js') {
      response.writeHead(200, { 'Content-Type': 'text/javascript' }).end(script);
    } else if (request.url === '/') {
      response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' }).end(page);
    } else {
      response.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
