import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const repositoryRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const serverProject = join(repositoryRoot, 'server', 'SignalRSecure.Server');

/**
 * The server dll the tests run: `SIGNALRSECURE_SERVER_DLL`, or the normal `dotnet build` output.
 */
export const serverDll = process.env.SIGNALRSECURE_SERVER_DLL
  ?? join(serverProject, 'bin', 'Debug', 'net10.0', 'SignalRSecure.Server.dll');

const startTimeout = 60_000;
const stopTimeout = 10_000;

/**
 * Builds the server with plain `dotnet build` when its dll is missing (as CI does on a fresh clone).
 */
export function ensureServerBuilt() {
  if (existsSync(serverDll)) {
    return;
  }

  if (process.env.SIGNALRSECURE_SERVER_DLL) {
    throw new Error(`SIGNALRSECURE_SERVER_DLL names a missing file: ${serverDll}`);
  }

  const build = spawnSync('dotnet', ['build', serverProject, '--nologo', '-v', 'quiet'], {
    cwd: repositoryRoot,
    env: childEnvironment(),
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (build.status !== 0 || !existsSync(serverDll)) {
    throw new Error(`dotnet build ${serverProject} failed (exit ${build.status}).`);
  }
}

/**
 * @typedef {object} TestServer
 * @property {string} url The base URL, `http://127.0.0.1:PORT`.
 * @property {number} port The port.
 * @property {string} hubUrl The chat hub URL.
 * @property {(user: string, groups: string[]) => Promise<string>} issueTicket A ticket from the issuer endpoint.
 * @property {(user: string) => Promise<void>} revoke Revokes a user through the issuer endpoint.
 * @property {() => Promise<void>} kill Kills the process, as a crash would: connections drop without a reason.
 * @property {() => Promise<void>} relaunch Starts a new process on the same port after `kill`.
 * @property {() => Promise<void>} restart Kills the process and starts a new one on the same port.
 * @property {() => Promise<void>} stop Stops the process.
 * @property {() => string} output What the process printed, for failure messages.
 * @property {(pattern: RegExp, ms?: number) => Promise<void>} waitForOutput Waits until the process printed a match.
 */

/**
 * Starts the real server on 127.0.0.1 with the demo users, an issuer key (so tests mint tickets without paying for
 * a PBKDF2 login each time), relaxed per-IP limits (tests fail authentication on purpose) and `settings`.
 * @param {Record<string, string>} [settings] Configuration as environment variables, `SignalRSecure__Hub__...`.
 * @returns {Promise<TestServer>}
 */
export async function startServer(settings = {}) {
  ensureServerBuilt();
  const issuerKey = randomBytes(24).toString('hex');
  const env = {
    ...childEnvironment(),
    ASPNETCORE_ENVIRONMENT: 'Development',
    DOTNET_NOLOGO: '1',
    DOTNET_CLI_TELEMETRY_OPTOUT: '1',
    SignalRSecure__Tickets__IssuerKey: issuerKey,
    SignalRSecure__Tickets__RequestsPerIpPerMinute: '10000',
    SignalRSecure__Protection__AuthenticationFailuresPerIp: '10000',
    SignalRSecure__Login__AttemptsPerUser: '100',
    SignalRSecure__Login__AttemptsPerIp: '100',
    ...settings,
  };

  let process_ = await launch(env, 0);
  const url = process_.url;
  const port = Number(new URL(url).port);

  /**
   * @param {string} path
   * @param {object} [body]
   */
  const issuer = async (path, body) => {
    const response = await fetch(new URL(path, url), {
      method: 'POST',
      headers: { Authorization: `Bearer ${issuerKey}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) {
      throw new Error(`POST ${path} answered ${response.status}`);
    }

    return response.status === 204 ? undefined : response.json();
  };

  return {
    url,
    port,
    hubUrl: new URL('/hubs/chat', url).href,
    async issueTicket(user, groups) {
      return (await issuer('/auth/tickets', { user, groups })).ticket;
    },
    async revoke(user) {
      await issuer(`/auth/users/${encodeURIComponent(user)}/revoke`);
    },
    async kill() {
      await process_.end('SIGKILL');
    },
    async relaunch() {
      process_ = await launch(env, port);
    },
    async restart() {
      await process_.end('SIGKILL');
      process_ = await launch(env, port);
    },
    async stop() {
      await process_.end('SIGTERM');
    },
    output() {
      return process_.output();
    },
    async waitForOutput(pattern, ms = 5_000) {
      // The console logger writes on a background thread: the line can trail the response that caused it.
      const deadline = Date.now() + ms;
      while (!pattern.test(process_.output())) {
        if (Date.now() > deadline) {
          throw new Error(`the server printed no match for ${pattern} within ${ms} ms:\n${process_.output()}`);
        }

        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}

/**
 * This process's environment for a child, less the variable by which node's test runner marks its own children:
 * a node started by the child (npm run build inside dotnet build) would take itself for a test file.
 * @returns {NodeJS.ProcessEnv}
 */
function childEnvironment() {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT;
  return env;
}

/**
 * @param {NodeJS.ProcessEnv} env
 * @param {number} port 0 for any free port.
 */
function launch(env, port) {
  // The project folder is the content root: appsettings*.json and wwwroot (the demo page) come from there.
  const child = spawn('dotnet', [serverDll, '--urls', `http://127.0.0.1:${port}`], {
    cwd: serverProject,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let printed = '';
  let exited = false;
  /** @type {Promise<void>} */
  const exit = new Promise((resolveExit) => child.once('exit', () => {
    exited = true;
    resolveExit();
  }));

  return new Promise((resolveStart, rejectStart) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rejectStart(new Error(`the server did not start within ${startTimeout} ms:\n${printed}`));
    }, startTimeout);
    /** @param {Buffer} chunk */
    const collect = (chunk) => {
      printed += chunk.toString();
      const match = /Now listening on: (http:\/\/127\.0\.0\.1:\d+)/.exec(printed);
      if (match) {
        clearTimeout(timer);
        resolveStart({
          url: match[1],
          output: () => printed,
          /** @param {NodeJS.Signals} signal */
          async end(signal) {
            if (!exited) {
              child.kill(signal);
              const forced = setTimeout(() => child.kill('SIGKILL'), stopTimeout);
              await exit;
              clearTimeout(forced);
            }
          },
        });
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.once('exit', (code) => {
      clearTimeout(timer);
      rejectStart(new Error(`the server exited with ${code} before listening:\n${printed}`));
    });
  });
}
