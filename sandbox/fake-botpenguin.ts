// A local stand-in for BotPenguin's Partner API: DELETE /customer/:id and GET /customer/list, recording
// every request. Customers it knows are deleted for real (a second DELETE gets 404); it can be told to
// fail, slow down or answer `success:false`, and to play a gateway that answers while its backend still works.
import type http from 'node:http';
import { preciseNow } from './fake-slack';
import { RecordingServer } from './recording-server';

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
  /**
   * A DELETE answered this way (a gateway's 504, a timeout) still reaches the backend: the customer is deleted
   * this long after the DELETE arrived (0: at once), whatever the answer says. `finishBackendWork()` hurries it.
   */
  takesEffectAfterMs?: number;
}

export class FakeBotPenguin extends RecordingServer<BotPenguinCall> {
  readonly calls: BotPenguinCall[] = [];
  readonly customers: FakeCustomer[] = [];
  readonly pageSize = 10;
  /** Delay every answer by this much (a slow BotPenguin). */
  latencyMs = 0;
  private readonly scripted: { method: string; answer: ScriptedAnswer }[] = [];
  /** While set, DELETEs are received (and recorded) but not answered until it resolves. */
  private deleteGate: Promise<void> | null = null;
  /** Deletions the backend has yet to finish (takesEffectAfterMs), by their timer. */
  private readonly backendWork = new Map<NodeJS.Timeout, () => void>();

  /** Hold every DELETE's answer until `release()`: a test can change the world while one is in flight. */
  holdDeletes(): { release(): void } {
    let release = () => {};
    this.deleteGate = new Promise<void>((resolve) => {
      release = () => {
        this.deleteGate = null;
        resolve();
      };
    });
    return { release };
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

  /** Drop the recorded calls (customers and scripted answers stay). */
  forget(): void {
    this.calls.length = 0;
  }

  /** The next request with this method gets this answer instead of the normal one. */
  answerNext(method: 'DELETE' | 'GET', answer: ScriptedAnswer, times = 1): void {
    for (let i = 0; i < times; i++) this.scripted.push({ method, answer });
  }

  /** The backend finishes now every DELETE it is still working on (see takesEffectAfterMs). */
  finishBackendWork(): void {
    for (const [timer, work] of [...this.backendWork]) {
      clearTimeout(timer);
      this.backendWork.delete(timer);
      work();
    }
  }

  /** Deletions the backend is still working on. */
  get backendWorkLeft(): number {
    return this.backendWork.size;
  }

  override async stop(): Promise<void> {
    for (const timer of this.backendWork.keys()) clearTimeout(timer);
    this.backendWork.clear();
    await super.stop();
  }

  deletes(): BotPenguinCall[] {
    return this.calls.filter((c) => c.method === 'DELETE');
  }

  private deleteInBackend(id: string, afterMs: number): void {
    if (afterMs <= 0) {
      removeCustomer(this.customers, id);
      return;
    }
    const work = () => removeCustomer(this.customers, id);
    const timer = setTimeout(() => {
      this.backendWork.delete(timer);
      work();
    }, afterMs);
    timer.unref();
    this.backendWork.set(timer, work);
  }

  protected async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
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
      this.notify(); // waiters on an answer (a call's status) wake too
    };

    const index = this.scripted.findIndex((s) => s.method === method);
    const scripted = index >= 0 ? this.scripted.splice(index, 1)[0]?.answer : undefined;
    const deleteMatch = /^\/customer\/([^/]+)$/.exec(url.pathname);
    if (method === 'DELETE' && deleteMatch && scripted?.takesEffectAfterMs !== undefined) {
      this.deleteInBackend(decodeURIComponent(deleteMatch[1] ?? ''), scripted.takesEffectAfterMs);
    }
    const delay = scripted?.delayMs ?? this.latencyMs;
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    if (method === 'DELETE' && this.deleteGate) await this.deleteGate;
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

function removeCustomer(customers: FakeCustomer[], id: string): void {
  const at = customers.findIndex((c) => c._id === id);
  if (at >= 0) customers.splice(at, 1);
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}
