// What both sandbox fakes share: a loopback HTTP server, observers of each recorded call, and waiting
// until a condition over the recorded calls holds.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export abstract class RecordingServer<Call> {
  /** How long the server keeps an idle connection open (set before start). */
  keepAliveMs = 5_000;
  url = '';
  private server: http.Server | null = null;
  private readonly observers = new Set<(call: Call) => void>();
  private readonly waiters: { check: () => boolean; resolve: () => void }[] = [];

  protected abstract handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void>;

  async start(): Promise<string> {
    const server = http.createServer((req, res) => void this.handle(req, res));
    // Node's default (5 s), as real servers keep connections at least that long. Much shorter and undici
    // (which keeps a 2 s safety margin under the server's advertised timeout) closes every connection
    // after one request, and every call pays for a new TCP connection.
    server.keepAliveTimeout = this.keepAliveMs;
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
    return this.url;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Call `fn` when a call is recorded (before it is answered); returns a function that stops it. */
  observe(fn: (call: Call) => void): () => void {
    this.observers.add(fn);
    return () => this.observers.delete(fn);
  }

  /** Resolve once `check` holds (checked after every call), or reject after `timeoutMs`. */
  waitFor(check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = {
        check,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Tell observers of a new call, and wake the waiters whose condition now holds. */
  protected notify(call?: Call): void {
    if (call) for (const observer of this.observers) observer(call);
    for (const waiter of [...this.waiters]) {
      if (waiter.check()) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }
}
