// The load generator: signed slash commands, as Slack sends them, at a fixed concurrency over kept-alive
// connections; latency is from sending the request to reading the whole answer.
import { Pool } from 'undici';
import { signSlackRequest } from '../../sandbox/slack-sender';

export interface SignedRequest {
  body: string;
  headers: Record<string, string>;
}

export interface LoadResult {
  latenciesMs: number[];
  /** When each request was sent, in ms from the round's start (same order as latenciesMs). */
  sentAtMs: number[];
  wallMs: number;
  statuses: Record<number, number>;
  errors: number;
}

export function sign(secret: string, body: string): SignedRequest {
  return {
    body,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...signSlackRequest(secret, body) },
  };
}

export class Loader {
  private readonly pool: Pool;

  constructor(
    readonly origin: string,
    connections: number,
  ) {
    this.pool = new Pool(origin, { connections, pipelining: 1, keepAliveTimeout: 30_000 });
  }

  /** One request; resolves with its status and latency, or throws on a connection error. */
  async send(request: SignedRequest): Promise<{ status: number; ms: number; text: string }> {
    const started = performance.now();
    const res = await this.pool.request({
      path: '/slack/events',
      method: 'POST',
      headers: request.headers,
      body: request.body,
    });
    const text = await res.body.text();
    return { status: res.statusCode, ms: performance.now() - started, text };
  }

  /** Open (or keep) `count` connections with a cheap GET each, so a round doesn't start on cold sockets. */
  async warmConnections(count: number): Promise<void> {
    await Promise.all(
      Array.from({ length: count }, async () => {
        const res = await this.pool.request({ path: '/healthz', method: 'GET' });
        await res.body.text();
      }),
    );
  }

  /** Send every request, `concurrency` at a time. */
  async run(requests: readonly SignedRequest[], concurrency: number): Promise<LoadResult> {
    const latenciesMs: number[] = [];
    const sentAtMs: number[] = [];
    const statuses: Record<number, number> = {};
    let errors = 0;
    let next = 0;
    const started = performance.now();
    const worker = async () => {
      for (;;) {
        const i = next++;
        const request = requests[i];
        if (!request) return;
        try {
          const sentAt = performance.now() - started;
          const { status, ms } = await this.send(request);
          statuses[status] = (statuses[status] ?? 0) + 1;
          latenciesMs.push(ms);
          sentAtMs.push(sentAt);
        } catch {
          errors++;
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return { latenciesMs, sentAtMs, wallMs: performance.now() - started, statuses, errors };
  }

  close(): Promise<void> {
    return this.pool.close();
  }
}
