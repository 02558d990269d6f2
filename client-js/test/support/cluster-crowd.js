// The JS half of the cluster restart storm (tests/SignalRSecure.Tests/Functional/Redis/ClusterRestartStormTests.cs),
// which starts this script, kills a node under it and reads what it prints. Not a test of its own.
//
//   node cluster-crowd.js --url http://127.0.0.1:PORT/ --count N --group NAME
//   (the issuer key in SIGNALRSECURE_ISSUER_KEY, never on the command line)
//
// Standard output, one line each: `ready` once every client authenticated and joined the group; `recovered USER`
// when a client that was reconnecting has authenticated and re-joined again; on the line `check` from standard
// input, `checked USER OK|DETAILS` per client (an echo after the storm, its state and groups) then `checked-all`;
// on `stop`, every client stops and the script exits. Failures go to standard error.
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { SecureHubClient } from '../../src/index.js';

const { values } = parseArgs({
  options: { url: { type: 'string' }, count: { type: 'string' }, group: { type: 'string' } },
});
const base = new URL(values.url ?? '');
const count = Number(values.count);
const group = values.group ?? 'storm';
const issuerKey = process.env.SIGNALRSECURE_ISSUER_KEY ?? '';

/** @param {string} message */
const report = (message) => process.stderr.write(`${message}\n`);
const logger = { debug() {}, info() {}, warn() {}, error: report };

/** @param {string} user */
async function issueTicket(user) {
  const response = await fetch(new URL('/auth/tickets', base), {
    method: 'POST',
    headers: { Authorization: `Bearer ${issuerKey}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ user, groups: [group] }),
  });
  if (!response.ok) {
    throw new Error(`POST /auth/tickets answered ${response.status}`);
  }

  return (await response.json()).ticket;
}

const crowd = Array.from({ length: count }, (_, i) => {
  const user = `js-storm${i}`;
  const client = new SecureHubClient({
    url: new URL('/hubs/chat', base).href,
    getTicket: () => issueTicket(user),
    logger,
    // A 5 s ceiling keeps the herd spread by jitter yet well inside the storm's 30 s bound.
    reconnect: { maxDelay: 5_000 },
  });
  let reconnecting = false;
  client.on('state', ({ state }) => {
    if (state === 'reconnecting') {
      reconnecting = true;
    } else if (state === 'authenticated' && reconnecting) {
      reconnecting = false;
      // The client re-joins its groups before it reports authenticated, so recovered means re-joined too.
      process.stdout.write(`recovered ${user}\n`);
    }
  });
  return { user, client };
});

await Promise.all(crowd.map(async ({ client }) => {
  await client.start();
  await client.joinGroup(group);
}));
process.stdout.write('ready\n');

for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'check') {
    for (const { user, client } of crowd) {
      try {
        const echo = await client.echo(`${user} after the storm`);
        const problems = [
          echo === `${user} after the storm` ? '' : `echo ${echo}`,
          client.state === 'authenticated' ? '' : `state ${client.state}`,
          client.joinedGroups.join(',') === group ? '' : `groups ${client.joinedGroups.join(',')}`,
        ].filter(Boolean);
        process.stdout.write(`checked ${user} ${problems.length === 0 ? 'OK' : problems.join('; ')}\n`);
      } catch (error) {
        process.stdout.write(`checked ${user} ${String(error).replaceAll('\n', ' ')}\n`);
      }
    }

    process.stdout.write('checked-all\n');
  } else if (line === 'stop') {
    break;
  }
}

await Promise.allSettled(crowd.map(({ client }) => client.stop()));
process.exit(0);
