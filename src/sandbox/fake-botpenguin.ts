// A local stand-in for BotPenguin's Partner API: DELETE /customer/:id and GET /customer/list, recording
// every request. Customers it knows are deleted for real (a second DELETE gets 404); it can be told to
// fail, slow down or answer `success:false`.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { preciseNow } from './fake-slack';

export interface BotPenguinCall {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  at: number;
  /** Arrival time in fractional epoch milliseconds (comparable across processes on one machine). */
  hrAt: number;
  /** The HTTP status answered (unset while the answer is pending, or when the connection was dropped). */
  status?: number;
}

export interface FakeCustomer {
  _id: string;
  name: string;
  contact: { email: string };
  status: string;
}

export interface ScriptedAnswer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  delayMs?: number;
  /** Close the connection without answering. */
  destroy?: boolean;
}

export class FakeBotPenguin {
  readonly calls: BotPenguinCall[] = [];
  readonly customers: FakeCustomer[] = [];
  readonly pageSize = 10;
  /** Delay every answer by this much (a slow BotPenguin). */
  latencyMs = 0;
  private readonly scripted: { method: string; answer: ScriptedAnswer }[] = [];
  private readonly waiters: { check: () => boolean; resolve: () => void }[] = [];
  private readonly observers = new Set<(call: BotPenguinCall) => void>();
  private server: http.Server | null = null;
  /** How long the server keeps an idle connection open (set before start). */
  keepAliveMs = 5_000;
  url = '';

  async start(): Promise<string> {
    this.server = http.createServer((req, res) => void this.handle(req, res));
    // Node's default (5 s), as real servers keep connections at least that long. Much shorter and undici
    // (which keeps a 2 s safety margin under the server's advertised timeout) closes every connection
    // after one request, and every call pays for a new TCP connection.
    this.server.keepAliveTimeout = this.keepAliveMs;
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
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

  addCustomer(
    id: string,
    name = `Customer ${id.slice(-4)}`,
    email = `${id.slice(-6)}@example.com`,
    status = 'active',
    options: { first?: boolean } = {},
  ): FakeCustomer {
    const customer = { _id: id, name, contact: { email }, status };
    if (options.first) this.customers.unshift(customer);
    else this.customers.push(customer);
    return customer;
  }

  /** Call `fn` when a request arrives (before it is answered); returns a function that stops it. */
  observe(fn: (call: BotPenguinCall) => void): () => void {
    this.observers.add(fn);
    return () => this.observers.delete(fn);
  }

  /** Drop the recorded calls (customers and scripted answers stay). */
  forget(): void {
    this.calls.length = 0;
  }

  /** The next request with this method gets this answer instead of the normal one. */
  answerNext(method: 'DELETE' | 'GET', answer: ScriptedAnswer, times = 1): void {
    for (let i = 0; i < times; i++) this.scripted.push({ method, answer });
  }

  deletes(): BotPenguinCall[] {
    return this.calls.filter((c) => c.method === 'DELETE');
  }

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

  private notify(call?: BotPenguinCall): void {
    if (call) for (const observer of this.observers) observer(call);
    for (const waiter of [...this.waiters]) {
      if (waiter.check()) {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    for await (const _ of req) {
      // drain the body; the API takes none
    }
    const method = req.method ?? 'GET';
    const url = new URL(req.url ?? '/', 'http://localhost');
    const call: BotPenguinCall = {
      method,
      path: req.url ?? '/',
      headers: req.headers,
      at: Date.now(),
      hrAt: preciseNow(),
    };
    this.calls.push(call);
    this.notify(call);
    const answer = (status: number, body: unknown, headers?: Record<string, string>) => {
      call.status = status;
      send(res, status, body, headers);
    };

    const index = this.scripted.findIndex((s) => s.method === method);
    const scripted = index >= 0 ? this.scripted.splice(index, 1)[0]?.answer : undefined;
    const delay = scripted?.delayMs ?? this.latencyMs;
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    if (scripted?.destroy) {
      req.socket.destroy();
      return;
    }
    if (scripted) {
      answer(scripted.status, scripted.body ?? {}, scripted.headers);
      return;
    }
    if (req.headers.authtype !== 'Key' || !/^Bearer \S+/.test(req.headers.authorization ?? '')) {
      answer(401, { success: false, message: 'Unauthorized', code: 401 });
      return;
    }
    const deleteMatch = /^\/customer\/([^/]+)$/.exec(url.pathname);
    if (method === 'DELETE' && deleteMatch) {
      const id = decodeURIComponent(deleteMatch[1] ?? '');
      const at = this.customers.findIndex((c) => c._id === id);
      if (at < 0) {
        answer(404, { success: false, message: 'Customer not found', code: 404 });
        return;
      }
      this.customers.splice(at, 1);
      answer(200, { success: true, message: '', code: 200 });
      return;
    }
    if (method === 'GET' && url.pathname === '/customer/list') {
      const page = Math.max(1, Number(url.searchParams.get('page') ?? '1') || 1);
      const data = this.customers.slice((page - 1) * this.pageSize, page * this.pageSize);
      answer(200, { success: true, data, code: 200 });
      return;
    }
    answer(404, { success: false, message: 'Not found', code: 404 });
  }
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}
