import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ClientUserAgent, userAgentHeaders } from '../src/user-agent.js';

describe('the client User-Agent', () => {
  it('names this package and its version', () => {
    const { name, version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
    assert.equal(ClientUserAgent, `${name}/${version}`);
  });

  it('is the one header added in Node, to the ticket requests and the WebSocket alike', () => {
    assert.deepEqual(userAgentHeaders(), { 'User-Agent': ClientUserAgent });
  });
});
