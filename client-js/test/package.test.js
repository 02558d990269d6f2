import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { repositoryRoot, startServer } from './support/server.js';
import { within } from './support/wait.js';

const run = promisify(execFile);
const packageRoot = join(repositoryRoot, 'client-js');
const manifest = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8'));

// What a user of the package needs, and nothing else: no tests, scripts, build or editor files.
const shipped = ['LICENSE', 'README.md', 'package.json', ...readdirSync(join(packageRoot, 'src'))
  .filter((file) => file.endsWith('.js') || file === 'index.d.ts')
  .map((file) => `src/${file}`)].sort();

// A Node program of a user's own, outside the repository: it sees only what `npm install` of the .tgz put beside it.
const consumerProgram = `
import { AuthSession, SecureHubClient } from 'signalr-secure-client';

const session = new AuthSession({ baseUrl: process.env.SERVER_URL });
await session.login(process.env.CONSUMER_USER, process.env.CONSUMER_PASSWORD);
const client = new SecureHubClient({ url: session.hubUrl, getTicket: session.getTicket });
await client.start();
const echo = await client.echo('hello from the package');
console.log(JSON.stringify({ user: client.user, state: client.state, echo }));
await client.stop();
`;

/**
 * This process's environment for a child, less the variable by which node's test runner marks its own children.
 * @param {Record<string, string>} [extra]
 * @returns {NodeJS.ProcessEnv}
 */
function childEnvironment(extra = {}) {
  const env = { ...process.env, ...extra };
  delete env.NODE_TEST_CONTEXT;
  return env;
}

/**
 * `npm install` of the .tgz into `directory`: from npm's cache alone (npm ci has put @microsoft/signalr there), or,
 * on a machine whose cache lacks it, from the registry for what is missing.
 * @param {string} directory
 * @param {string} tarball
 */
async function installOffline(directory, tarball) {
  const common = ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock', tarball];
  try {
    await run('npm', ['--offline', ...common], { cwd: directory, env: childEnvironment(), timeout: 120_000 });
  } catch {
    await run('npm', ['--prefer-offline', ...common], { cwd: directory, env: childEnvironment(), timeout: 120_000 });
  }
}

describe('the npm package', () => {
  /** @type {string} */
  let work;
  /** @type {string} */
  let tarball;
  /** @type {string[]} */
  let packed;

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'signalr-secure-client-consumer-'));
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', work], {
      cwd: packageRoot,
      env: childEnvironment(),
      timeout: 60_000,
    });
    const [result] = JSON.parse(stdout);
    tarball = join(work, result.filename);
    packed = result.files.map((/** @type {{ path: string }} */ file) => file.path).sort();
  });

  after(() => {
    if (work) {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('packs as signalr-secure-client-<version>.tgz with only the sources, the types, the README and the licence', () => {
    assert.equal(tarball, join(work, `signalr-secure-client-${manifest.version}.tgz`));
    assert.deepEqual(packed, shipped);
  });

  it('has the version of the .NET packages (Directory.Build.props)', () => {
    const props = readFileSync(join(repositoryRoot, 'Directory.Build.props'), 'utf8');
    const version = /<Version>([^<]+)<\/Version>/.exec(props)?.[1];

    assert.equal(manifest.version, version);
  });

  it('installs from the .tgz into a project of its own, and a Node script there connects, authenticates and echoes', async () => {
    // Arrange: the consumer project, then the real server.
    const consumer = join(work, 'consumer');
    mkdirSync(consumer);
    writeFileSync(join(consumer, 'package.json'), `${JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2)}\n`);
    writeFileSync(join(consumer, 'consumer.js'), consumerProgram);
    await within(installOffline(consumer, tarball), 150_000, 'npm install of the .tgz');
    const server = await startServer();
    try {
      // Act
      const { stdout } = await within(run('node', ['consumer.js'], {
        cwd: consumer,
        env: childEnvironment({
          SERVER_URL: server.url,
          CONSUMER_USER: 'alice',
          CONSUMER_PASSWORD: 'alice-demo-password',
        }),
        timeout: 30_000,
      }), 35_000, 'the consumer script');

      // Assert: the installed copy is the packed one, with its dependency, and it works against the server.
      const installed = join(consumer, 'node_modules', 'signalr-secure-client');
      assert.equal(JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')).version, manifest.version);
      assert.equal(existsSync(join(installed, 'test')), false);
      assert.equal(existsSync(join(consumer, 'node_modules', '@microsoft', 'signalr', 'package.json')), true);
      assert.deepEqual(JSON.parse(stdout.trim().split('\n').at(-1) ?? ''), {
        user: 'alice',
        state: 'authenticated',
        echo: 'hello from the package',
      });
    } finally {
      await server.stop();
    }
  });
});
