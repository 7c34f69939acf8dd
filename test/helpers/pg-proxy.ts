// A TCP proxy between a pg client and PostgreSQL that makes the moments of a backend termination happen on cue.
// It reads the server's messages (type byte, then a length that counts itself; no TLS), learns each connection's
// backend pid from BackendKeyData, and can hold a connection at its next ReadyForQuery: the client has not yet
// heard that its connect or query is done. The test then terminates that backend (pg_terminate_backend), the
// server sends its FATAL and closes, and the proxy delivers ReadyForQuery and the FATAL in ONE write, as a client
// that was busy elsewhere reads them: the FATAL arrives in the very tick its connect or query completes.
import net from 'node:net';
import type { Client } from 'pg';

const BACKEND_KEY_DATA = 0x4b; // 'K'
const READY_FOR_QUERY = 0x5a; // 'Z'

export interface HeldConnection {
  /** The backend of the held connection. */
  pid: number;
  /** Terminates the backend, waits until PostgreSQL has closed its side, then delivers what it sent at once. */
  terminateAndDeliver(admin: Client): Promise<void>;
}

interface Hold {
  /** Only a connection's first ReadyForQuery (the end of its start-up), or any. */
  startup: boolean;
  resolve(held: HeldConnection): void;
}

export interface PgProxy {
  port: number;
  /** Connections the client still has open through the proxy. */
  open(): number;
  /** Resolves once a connection reaches its next ReadyForQuery (`startup`: a new connection's first one). */
  holdNextReady(options?: { startup?: boolean }): Promise<HeldConnection>;
  /** Forgets the holds that have not caught a connection yet (their promises never resolve). */
  cancelHolds(): void;
  /** Resolves once every connection that was open has been closed by the client. */
  allClosedByClient(): Promise<void>;
  close(): Promise<void>;
}

export async function pgProxy(target: { host: string; port: number }): Promise<PgProxy> {
  const holds: Hold[] = [];
  const closedByClient = new Map<net.Socket, Promise<void>>();
  const server = net.createServer((downstream) => {
    const upstream = net.connect(target.port, target.host);
    let pid = 0;
    let ready = 0;
    let pending = Buffer.alloc(0);
    let held: Buffer[] | null = null;
    const upstreamClosed = new Promise<void>((resolve) => upstream.once('close', () => resolve()));
    closedByClient.set(
      downstream,
      new Promise<void>((resolve) =>
        downstream.once('close', () => {
          closedByClient.delete(downstream);
          resolve();
        }),
      ),
    );
    downstream.on('error', () => upstream.destroy());
    upstream.on('error', () => downstream.destroy());
    downstream.on('close', () => upstream.destroy());
    upstream.on('close', () => {
      // The pipe from the client stopped with it: read on, so the client's own end (its Terminate and FIN, which
      // may come after this) is seen and the connection counts as closed by the client.
      downstream.resume();
      if (held === null) downstream.end();
    });
    downstream.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (held !== null) {
        held.push(chunk);
        return;
      }
      pending = Buffer.concat([pending, chunk]);
      let offset = 0;
      while (pending.length - offset >= 5) {
        const end = offset + 1 + pending.readInt32BE(offset + 1);
        if (end > pending.length) break;
        const type = pending[offset];
        if (type === BACKEND_KEY_DATA) pid = pending.readInt32BE(offset + 5);
        if (type === READY_FOR_QUERY) {
          ready += 1;
          const hold = holds.findIndex((h) => !h.startup || ready === 1);
          if (hold !== -1) {
            const [{ resolve }] = holds.splice(hold, 1);
            downstream.write(pending.subarray(0, offset));
            held = [pending.subarray(offset)];
            pending = Buffer.alloc(0);
            const buffered = held;
            resolve({
              pid,
              async terminateAndDeliver(admin) {
                await admin.query('SELECT pg_terminate_backend($1)', [pid]);
                await upstreamClosed;
                downstream.end(Buffer.concat(buffered));
              },
            });
            return;
          }
        }
        offset = end;
      }
      downstream.write(pending.subarray(0, offset));
      pending = pending.subarray(offset);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    open: () => closedByClient.size,
    holdNextReady: ({ startup = false } = {}) => new Promise((resolve) => holds.push({ startup, resolve })),
    cancelHolds: () => {
      holds.length = 0;
    },
    allClosedByClient: async () => {
      await Promise.all(closedByClient.values());
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of closedByClient.keys()) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
