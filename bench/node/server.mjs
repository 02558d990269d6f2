// Benchmark peer N: the SignalRSecure gate written for Node with the `ws` package, speaking the same SignalR JSON
// framing as the real hub, so that the same load generator drives it. It mirrors what the gate does per connection:
// Origin check and per-IP caps at the door, a deadline, 2 KB frames and only Authenticate before authentication,
// single-use hashed tickets, a token bucket per connection, broadcasts and groups for authenticated connections only.
// Configuration comes from environment variables (see `config` below); the load generator sets the same raised
// limits as on the real server.
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { WebSocketServer } from 'ws';

const env = (name, fallback) => process.env[name] ?? fallback;

/** Limits, named after the real server's options. */
const config = {
  port: Number(env('PORT', '5200')),
  host: env('HOST', '127.0.0.1'),
  issuerKey: env('ISSUER_KEY', ''),
  ticketLifetimeMs: Number(env('TICKET_LIFETIME_MS', '30000')),
  authenticationTimeoutMs: Number(env('AUTHENTICATION_TIMEOUT_MS', '10000')),
  sessionLifetimeMs: Number(env('SESSION_LIFETIME_MS', '3600000')),
  preAuthenticationMaximumMessageSize: 2048,
  maximumReceiveMessageSize: 32768,
  maximumTextLength: 4096,
  invocationsPerSecond: Number(env('INVOCATIONS_PER_SECOND', '30')),
  invocationBurst: Number(env('INVOCATION_BURST', '60')),
  maxConnectionsPerIp: Number(env('MAX_CONNECTIONS_PER_IP', '200')),
  maxUnauthenticatedConnections: Number(env('MAX_UNAUTHENTICATED_CONNECTIONS', '5000')),
  probeSocket: env('BENCH_PROBE_SOCKET', ''),
};

if (config.issuerKey.length < 32) {
  throw new Error('ISSUER_KEY must be 32 characters or more.');
}

const RS = '\u001e';
const HUB_PATH = '/hubs/chat';
const GROUP_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const sha256 = (text) => crypto.createHash('sha256').update(text).digest();
const issuerKeyHash = sha256(config.issuerKey);

/** Tickets by the hash of their secret; a ticket is removed when redeemed, whatever the outcome. */
const tickets = new Map();
/** Authenticated connections, for broadcasts. */
const authenticated = new Set();
/** Members (connections) of each group. */
const groups = new Map();
const connectionsPerIp = new Map();
let unauthenticatedCount = 0;
let additions = 0;

function issueTicket(user, groupPatterns) {
  // Expired tickets are swept every 256 additions, as the real store does.
  if (++additions % 256 === 0) {
    const now = Date.now();
    for (const [hash, ticket] of tickets) {
      if (ticket.expiresAt <= now) tickets.delete(hash);
    }
  }

  const secret = crypto.randomBytes(32).toString('base64url');
  const expiresAt = Date.now() + config.ticketLifetimeMs;
  tickets.set(sha256(secret).toString('base64url'), { user, groups: groupPatterns, expiresAt });
  return { ticket: secret, expiresAt: new Date(expiresAt).toISOString() };
}

function redeemTicket(secret) {
  if (typeof secret !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(secret)) return null;
  const hash = sha256(secret).toString('base64url');
  const ticket = tickets.get(hash);
  if (ticket === undefined) return null;
  tickets.delete(hash);
  return ticket.expiresAt > Date.now() ? ticket : null;
}

function groupAllowed(patterns, group) {
  return patterns.some((pattern) => {
    const regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.]/g, '\\.')).join('.*')}$`);
    return regex.test(group);
  });
}

function readBody(request, limit) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    request.on('data', (chunk) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error('body too large'));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function json(response, status, body) {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  response.end(JSON.stringify(body));
}

async function handleHttp(request, response) {
  const path = request.url.split('?')[0];
  if (request.method === 'GET' && path === '/healthz') {
    response.writeHead(200, { 'content-type': 'text/plain' });
    response.end('ok');
    return;
  }

  if (request.method !== 'POST' || path !== '/auth/tickets') {
    json(response, 404, { error: 'not found' });
    return;
  }

  const header = request.headers.authorization ?? '';
  const presented = header.startsWith('Bearer ') ? header.slice(7) : '';
  if (!crypto.timingSafeEqual(sha256(presented), issuerKeyHash)) {
    json(response, 401, { error: 'invalid issuer key' });
    return;
  }

  let body;
  try {
    body = JSON.parse(await readBody(request, 4096));
  } catch {
    json(response, 400, { error: 'invalid request' });
    return;
  }

  const { user, groups: groupPatterns } = body ?? {};
  if (typeof user !== 'string' || !GROUP_NAME.test(user) || !Array.isArray(groupPatterns) || groupPatterns.length > 64
    || !groupPatterns.every((pattern) => typeof pattern === 'string' && /^[A-Za-z0-9_.*-]{1,64}$/.test(pattern))) {
    json(response, 400, { error: 'invalid request' });
    return;
  }

  json(response, 200, issueTicket(user, groupPatterns));
}

const server = http.createServer((request, response) => {
  handleHttp(request, response).catch(() => {
    if (!response.headersSent) json(response, 500, { error: 'internal error' });
  });
});

const wss = new WebSocketServer({ noServer: true, maxPayload: config.maximumReceiveMessageSize, perMessageDeflate: false });

function refuseUpgrade(socket, status, text) {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

server.on('upgrade', (request, socket, head) => {
  if (request.url.split('?')[0] !== HUB_PATH) {
    refuseUpgrade(socket, 404, 'Not Found');
    return;
  }

  const origin = request.headers.origin;
  if (origin !== undefined && origin !== `http://${request.headers.host}`) {
    refuseUpgrade(socket, 403, 'Forbidden');
    return;
  }

  const ip = socket.remoteAddress;
  const count = connectionsPerIp.get(ip) ?? 0;
  if (count >= config.maxConnectionsPerIp || unauthenticatedCount >= config.maxUnauthenticatedConnections) {
    refuseUpgrade(socket, 429, 'Too Many Requests');
    return;
  }

  connectionsPerIp.set(ip, count + 1);
  unauthenticatedCount++;
  wss.handleUpgrade(request, socket, head, (ws) => openConnection(ws, ip));
});

/** One hub connection behind the gate. */
class Connection {
  constructor(ws, ip) {
    this.ws = ws;
    this.ip = ip;
    this.state = 'handshaking';
    this.user = null;
    this.groups = new Set();
    this.tokens = config.invocationBurst;
    this.refilledAt = Date.now();
    this.deadline = setTimeout(() => this.close('authentication timeout'), config.authenticationTimeoutMs);
  }

  send(text) {
    this.ws.send(text);
  }

  complete(invocationId, result) {
    if (invocationId === undefined) return;
    this.send(result === undefined
      ? `{"type":3,"invocationId":${JSON.stringify(invocationId)}}${RS}`
      : `{"type":3,"invocationId":${JSON.stringify(invocationId)},"result":${JSON.stringify(result)}}${RS}`);
  }

  fail(invocationId, error) {
    if (invocationId === undefined) return;
    this.send(`{"type":3,"invocationId":${JSON.stringify(invocationId)},"error":${JSON.stringify(error)}}${RS}`);
  }

  close(reason) {
    if (this.state === 'closing') return;
    this.state = 'closing';
    this.send(`{"type":7,"error":${JSON.stringify(reason)},"allowReconnect":false}${RS}`);
    this.ws.close(1000);
  }

  takeToken() {
    const now = Date.now();
    this.tokens = Math.min(config.invocationBurst, this.tokens + ((now - this.refilledAt) * config.invocationsPerSecond) / 1000);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  onMessage(data, isBinary) {
    if (isBinary) {
      this.close('authentication required');
      return;
    }

    const text = data.toString('utf8');
    let start = 0;
    while (start < text.length && this.state !== 'closing') {
      const end = text.indexOf(RS, start);
      if (end < 0) {
        // SignalR clients end every message with the separator; a partial record is refused.
        this.close(this.state === 'authenticated' ? 'authentication required' : 'authentication failed');
        return;
      }

      const record = text.slice(start, end);
      start = end + 1;
      if (this.state !== 'authenticated' && Buffer.byteLength(record) > config.preAuthenticationMaximumMessageSize) {
        this.close('authentication failed');
        return;
      }

      let message;
      try {
        message = JSON.parse(record);
      } catch {
        this.close(this.state === 'authenticated' ? 'invalid message' : 'authentication required');
        return;
      }

      this.onRecord(message);
    }
  }

  onRecord(message) {
    if (this.state === 'handshaking') {
      if (message?.protocol !== 'json' || (message.version !== 1 && message.version !== 2)) {
        this.send(`{"error":"Requested protocol is not supported."}${RS}`);
        this.ws.close(1000);
        this.state = 'closing';
        return;
      }

      this.state = 'awaiting';
      this.send(`{}${RS}`);
      return;
    }

    if (message?.type === 6) return;
    if (message?.type === 7) {
      this.ws.close(1000);
      return;
    }

    if (this.state === 'awaiting') {
      this.authenticate(message);
      return;
    }

    this.invoke(message);
  }

  authenticate(message) {
    if (message?.type !== 1 || message.target !== 'Authenticate') {
      this.close('authentication required');
      return;
    }

    const args = message.arguments;
    const ticket = Array.isArray(args) && args.length === 1 ? redeemTicket(args[0]) : null;
    if (ticket === null) {
      this.fail(message.invocationId, 'authentication failed');
      this.close('authentication failed');
      return;
    }

    this.state = 'authenticated';
    this.user = ticket.user;
    this.groupPatterns = ticket.groups;
    clearTimeout(this.deadline);
    this.deadline = setTimeout(() => this.close('session expired'), config.sessionLifetimeMs);
    unauthenticatedCount--;
    authenticated.add(this);
    const expiresAt = new Date(Date.now() + config.sessionLifetimeMs).toISOString();
    this.complete(message.invocationId, { user: this.user, groups: this.groupPatterns, expiresAt });
  }

  invoke(message) {
    if (message?.type !== 1 || typeof message.target !== 'string' || !Array.isArray(message.arguments)) return;
    const id = message.invocationId;
    if (!this.takeToken()) {
      this.fail(id, 'rate limited');
      return;
    }

    const args = message.arguments;
    const validText = (text) => typeof text === 'string' && text.length > 0 && text.length <= config.maximumTextLength;
    switch (message.target) {
      case 'Echo':
        if (!validText(args[0])) return this.fail(id, 'invalid message');
        return this.complete(id, args[0]);
      case 'Broadcast': {
        if (!validText(args[0])) return this.fail(id, 'invalid message');
        const frame = receiveMessage(this.user, args[0], null);
        for (const connection of authenticated) connection.send(frame);
        return this.complete(id);
      }
      case 'JoinGroup': {
        const group = args[0];
        if (typeof group !== 'string' || !GROUP_NAME.test(group)) return this.fail(id, 'invalid group');
        if (!groupAllowed(this.groupPatterns, group)) return this.fail(id, 'forbidden');
        if (!this.groups.has(group)) {
          this.groups.add(group);
          let members = groups.get(group);
          if (members === undefined) groups.set(group, (members = new Set()));
          members.add(this);
          const frame = `{"type":1,"target":"UserJoined","arguments":[${JSON.stringify({ group, user: this.user })}]}${RS}`;
          for (const member of members) member.send(frame);
        }
        return this.complete(id);
      }
      case 'SendToGroup': {
        const [group, text] = args;
        if (typeof group !== 'string' || !GROUP_NAME.test(group)) return this.fail(id, 'invalid group');
        if (!validText(text)) return this.fail(id, 'invalid message');
        if (!this.groups.has(group)) return this.fail(id, 'not a member');
        const frame = receiveMessage(this.user, text, group);
        for (const member of groups.get(group)) member.send(frame);
        return this.complete(id);
      }
      default:
        return this.fail(id, `Unknown hub method '${message.target}'`);
    }
  }

  onClose() {
    clearTimeout(this.deadline);
    if (this.user === null) {
      unauthenticatedCount--;
    }
    authenticated.delete(this);
    for (const group of this.groups) {
      const members = groups.get(group);
      members.delete(this);
      if (members.size === 0) groups.delete(group);
    }
    const count = connectionsPerIp.get(this.ip) - 1;
    if (count === 0) connectionsPerIp.delete(this.ip);
    else connectionsPerIp.set(this.ip, count);
  }
}

function receiveMessage(from, text, group) {
  const message = { from, text, group, sentAt: new Date().toISOString() };
  return `{"type":1,"target":"ReceiveMessage","arguments":[${JSON.stringify(message)}]}${RS}`;
}

function openConnection(ws, ip) {
  const connection = new Connection(ws, ip);
  ws.on('message', (data, isBinary) => connection.onMessage(data, isBinary));
  ws.on('close', () => connection.onClose());
  ws.on('error', () => ws.terminate());
}

// The same memory probe as the .NET servers' startup hook: a full collection, then the heap in use.
if (config.probeSocket) {
  fs.rmSync(config.probeSocket, { force: true });
  net.createServer((socket) => {
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString('ascii');
      let newline;
      while ((newline = buffered.indexOf('\n')) >= 0) {
        const command = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        if (command === 'gc') {
          globalThis.gc?.();
          globalThis.gc?.();
          const memory = process.memoryUsage();
          socket.write(`${JSON.stringify({ heapBytes: memory.heapUsed + memory.external, committedBytes: memory.heapTotal, serverGc: false, processorCount: 1 })}\n`);
        } else {
          socket.write('{}\n');
        }
      }
    });
  }).listen(config.probeSocket);
}

server.listen(config.port, config.host);
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0));
}
