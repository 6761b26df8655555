/**
 * Shutdown for a Node HTTP server that answers instead of resetting: stop listening, answer every request that
 * still arrives on an open connection with `Connection: close` (Node then closes that connection), close the
 * connections that stay idle for `idleGraceMs` after the drain began, and destroy what is left after `limitMs`.
 *
 * Node's own server.close() destroys every connection it sees idle at once. Under a WASM inference load that is
 * wrong: the event loop is blocked for a whole batch, so a kept-alive connection whose next request already sits
 * unread in the socket looks idle and is reset. Hence the grace, and an idle sweep that runs only right after an
 * I/O phase of an event loop that was not blocked (what arrived before it has been read).
 */
import type { Server, ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';

export interface DrainOptions {
  idleGraceMs?: number;
  limitMs?: number;
}

interface Connection {
  active: number;
  idleSince: number;
}

export function gracefulClose(server: Server, { idleGraceMs = 250, limitMs = 10_000 }: DrainOptions = {}): () => Promise<void> {
  const connections = new Map<Socket, Connection>();
  const unanswered = new Set<ServerResponse>();
  let drainingSince: number | null = null;

  server.on('connection', (socket: Socket) => {
    connections.set(socket, { active: 0, idleSince: performance.now() });
    socket.once('close', () => connections.delete(socket));
  });
  server.prependListener('request', (req, res) => {
    const connection = connections.get(req.socket);
    if (connection) connection.active++;
    if (drainingSince !== null) res.setHeader('Connection', 'close');
    unanswered.add(res);
    res.once('close', () => {
      unanswered.delete(res);
      if (connection) {
        connection.active--;
        connection.idleSince = performance.now();
      }
    });
  });

  const sweep = () => {
    const now = performance.now();
    for (const [socket, connection] of connections) {
      if (connection.active === 0 && now - Math.max(connection.idleSince, drainingSince!) >= idleGraceMs) socket.destroy();
    }
  };
  // setImmediate runs after the I/O phase; if it comes late, a batch blocked the loop in between and bytes may
  // have arrived unread since: wait for another turn.
  const sweepAfterIo = (done: () => void) => {
    const scheduled = performance.now();
    setImmediate(() => {
      if (performance.now() - scheduled > 5) return sweepAfterIo(done);
      sweep();
      done();
    });
  };

  return () => new Promise<void>((resolve) => {
    if (drainingSince !== null) return resolve();
    drainingSince = performance.now();
    for (const res of unanswered) if (!res.headersSent) res.setHeader('Connection', 'close');
    let sweeping = false;
    const idle = setInterval(() => {
      if (sweeping) return;
      sweeping = true;
      sweepAfterIo(() => (sweeping = false));
    }, Math.max(10, idleGraceMs / 5));
    const limit = setTimeout(() => server.closeAllConnections(), limitMs);
    // net.Server's close stops listening and calls back once every connection has closed, without http.Server's
    // immediate closeIdleConnections (see above).
    NetServer.prototype.close.call(server, () => {
      clearInterval(idle);
      clearTimeout(limit);
      resolve();
    });
  });
}
