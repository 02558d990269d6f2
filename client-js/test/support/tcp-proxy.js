import { createServer, connect } from 'node:net';

/**
 * @typedef {object} TcpProxy
 * @property {number} port The port on 127.0.0.1 that forwards to the target.
 * @property {() => void} drop Resets every open connection (TCP RST both ways), as a lost network would; new
 *   connections still go through.
 * @property {(refusing: boolean) => void} refuse While true, resets every new connection at once, as an unreachable
 *   server would.
 * @property {() => Promise<void>} close Stops listening and resets what is left.
 */

/**
 * A TCP forwarder on 127.0.0.1 in front of `targetPort`: lets a test drop one client's transport while the server and
 * every other client carry on.
 * @param {number} targetPort
 * @returns {Promise<TcpProxy>}
 */
export async function startTcpProxy(targetPort) {
  /** @type {Set<import('node:net').Socket>} */
  const sockets = new Set();
  /** @param {import('node:net').Socket} socket */
  const track = (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    // A reset is the point of this proxy; its errors are expected.
    socket.on('error', () => {});
  };

  let refusing = false;
  const server = createServer((inbound) => {
    if (refusing) {
      inbound.on('error', () => {});
      inbound.resetAndDestroy();
      return;
    }

    const outbound = connect(targetPort, '127.0.0.1');
    track(inbound);
    track(outbound);
    inbound.pipe(outbound);
    outbound.pipe(inbound);
    inbound.once('close', () => outbound.destroy());
    outbound.once('close', () => inbound.destroy());
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
  const address = server.address();
  if (address === null || typeof address === 'string') {
    throw new Error('the proxy has no port');
  }

  const drop = () => {
    for (const socket of [...sockets]) {
      socket.resetAndDestroy();
    }
  };

  return {
    port: address.port,
    drop,
    refuse(value) {
      refusing = value;
    },
    async close() {
      const closed = new Promise((resolve) => server.close(() => resolve(undefined)));
      drop();
      await closed;
    },
  };
}
