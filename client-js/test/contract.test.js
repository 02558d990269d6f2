import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  ChatClientMethods,
  ChatHubMethods,
  CloseReasons,
  HubErrors,
  SecureEndpoints,
  isTerminalCloseReason,
  parseCloseReason,
  parseHubError,
} from '../src/index.js';
import { repositoryRoot } from './support/server.js';

const contracts = join(repositoryRoot, 'server', 'SignalRSecure.Contracts');
const chatContracts = join(repositoryRoot, 'server', 'SignalRSecure.Chat.Contracts');

/** @param {string} file */
function constantsOf(file, folder = contracts) {
  const source = readFileSync(join(folder, file), 'utf8');
  return Object.fromEntries([...source.matchAll(/public const string (\w+) = "([^"]*)";/g)].map((m) => [m[1], m[2]]));
}

/** @param {string} file */
function methodsOf(file, folder = contracts) {
  const source = readFileSync(join(folder, file), 'utf8');
  return [...source.matchAll(/^\s+Task(?:<[^>]+(?:<[^>]+>)?>)? (\w+)\(/gm)].map((m) => m[1]).sort();
}

describe('the contract mirror', () => {
  it('has the close reasons of CloseReasons.cs, with the same names and texts', () => {
    assert.deepEqual({ ...CloseReasons }, constantsOf('CloseReasons.cs'));
  });

  it('marks the same close reasons terminal as CloseReasons.IsTerminalByReason', () => {
    const source = readFileSync(join(contracts, 'CloseReasons.cs'), 'utf8');
    /** @type {Record<string, string>} */
    const byName = { ...CloseReasons };
    const table = Object.fromEntries(
      [...source.matchAll(/\[(\w+)\] = (true|false),/g)].map((m) => [byName[m[1]], m[2] === 'true']),
    );
    assert.equal(Object.keys(table).length, Object.keys(CloseReasons).length);
    for (const [reason, terminal] of Object.entries(table)) {
      assert.equal(isTerminalCloseReason(reason), terminal, reason);
    }
  });

  it('has the hub errors of HubErrors.cs', () => {
    assert.deepEqual({ ...HubErrors }, constantsOf('HubErrors.cs'));
  });

  it('has the hub methods of ISecureHub.cs and IChatHub.cs, and the callbacks of IChatClient.cs', () => {
    const methods = [...methodsOf('ISecureHub.cs'), ...methodsOf('IChatHub.cs', chatContracts)].sort();
    assert.deepEqual(Object.values(ChatHubMethods).sort(), methods);
    assert.deepEqual(Object.values(ChatClientMethods).sort(), methodsOf('IChatClient.cs', chatContracts));
  });

  it('has the paths and header of SecureEndpoints.cs and the chat hub path of ChatEndpoints.cs', () => {
    /** @type {Record<string, string>} */
    const server = { ...constantsOf('SecureEndpoints.cs'), ChatHub: constantsOf('ChatEndpoints.cs', chatContracts).Hub };
    for (const [name, value] of Object.entries(SecureEndpoints)) {
      assert.equal(value, server[name], name);
    }
  });

  it('finds the close reason at the end of whatever prefix the SignalR client puts before it', () => {
    assert.equal(parseCloseReason('Server returned an error on close: logged out'), CloseReasons.LoggedOut);
    assert.equal(parseCloseReason('Server returned an error on close: Connection closed with an error. revoked'), CloseReasons.Revoked);
    assert.equal(parseCloseReason('WebSocket closed with status code: 1006 ().'), undefined);
    assert.equal(parseCloseReason(undefined), undefined);
  });

  it('treats unknown close reasons and reasonless drops as retryable', () => {
    assert.equal(isTerminalCloseReason('server restarting'), false);
    assert.equal(isTerminalCloseReason(null), false);
  });

  it('extracts the hub error after the HubException marker, and only an exact one', () => {
    assert.equal(parseHubError("An unexpected error occurred invoking 'JoinGroup' on the server. HubException: forbidden"), HubErrors.Forbidden);
    assert.equal(parseHubError('rate limited'), HubErrors.RateLimited);
    assert.equal(parseHubError("An unexpected error occurred invoking 'Echo' on the server."), undefined);
    assert.equal(parseHubError('HubException: forbidden, and more'), undefined);
  });
});
