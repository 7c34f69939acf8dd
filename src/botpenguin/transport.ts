// The HTTP transport under the BotPenguin client: one bounded, redacted exchange at a time, and retries
// with backoff. Knows HTTP, timeouts and error codes, not what the API's JSON means (that is client.ts).
//
// Ground rules:
// - Nothing here throws at runtime; an exchange that fails is a value.
// - The token never appears in an exchange, an onAttempt call or an error text: we never stringify undici
//   errors (only their `code`/`name`), and `redact()` is there for every text the caller hands out.
// - Every attempt is bounded by `timeoutMs`, and every response body is read (with a size cap) or
//   destroyed, so a slow or hostile server can neither hang us nor leak pooled connections.
import type { Readable } from 'node:stream';
import { Agent, request } from 'undici';

export type AttemptInfo = {
  attempt: number;
  status?: number;
  error?: string;
  retryInMs?: number;
};

export interface TransportOptions {
  /** Who is at the other end, for error texts (e.g. "BotPenguin"). */
  name: string;
  /** A trailing '/' is ignored and a path prefix is kept. */
  baseUrl: string;
  /** Sent as a Bearer token. */
  token: string;
  /** Bound on one attempt: connect, headers and the whole body. */
  timeoutMs: number;
  /** Attempts in all for retry() (default 5). */
  maxAttempts?: number;
  /** First backoff delay (default 250 ms); doubles per attempt, with jitter. */
  backoffBaseMs?: number;
  /** Largest backoff delay (default 8000 ms). A server's Retry-After may ask for more, up to 30 s. */
  backoffCapMs?: number;
  /** Injectable for tests; default setTimeout-based. */
  sleep?: (ms: number) => Promise<void>;
  /** Called once per attempt of retry(), for logging. Never given the token. */
  onAttempt?: (info: AttemptInfo) => void;
}

/** What one HTTP exchange produced. */
export type Exchange =
  | {
      kind: 'response';
      status: number;
      /** The server's Retry-After, as a wait in ms. */
      retryAfterMs: number | undefined;
      body: Buffer | null /* null: over the cap */;
    }
  | { kind: 'timeout' | 'network'; retryable: boolean; sent: boolean; description: string };

/** What the caller made of one attempt: its answer, or worth another attempt (with the answer if none is left). */
export type Step<T> =
  | { kind: 'done'; value: T; status?: number; error?: string }
  | { kind: 'retry'; value: T; status?: number; error: string; retryAfterMs?: number };

const DEFAULT_MAX_ATTEMPTS = 5;
const DEFAULT_BACKOFF_BASE_MS = 250;
const DEFAULT_BACKOFF_CAP_MS = 8000;
/** Upper bound on a server-requested Retry-After wait. */
const RETRY_AFTER_CAP_MS = 30_000;
/** Response bodies larger than this are not read (the answers we expect are tiny JSON documents). */
const MAX_BODY_BYTES = 1024 * 1024;

// Error codes (from node:net / dns or undici) that mean the request never left this machine or
// never reached the server, so it cannot have had any effect.
const NOT_SENT_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTDOWN',
  'UND_ERR_CONNECT_TIMEOUT',
]);

// Transient connection failures worth another attempt. Anything else (TLS certificate problems,
// our own client being closed, invalid arguments...) will not get better by retrying.
const RETRYABLE_NETWORK_CODES = new Set([
  ...NOT_SENT_CODES,
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
]);

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

export class HttpTransport {
  private readonly name: string;
  private readonly base: string;
  private readonly token: string;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly backoffBaseMs: number;
  private readonly backoffCapMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly onAttempt?: TransportOptions['onAttempt'];
  private readonly agent: Agent;
  private closing: Promise<void> | null = null;

  /** Throws (without echoing the token or URL) on invalid options: a configuration error, not a runtime one. */
  constructor(options: TransportOptions) {
    const { name } = options;
    let url: URL;
    try {
      url = new URL(options.baseUrl);
    } catch {
      throw new Error(`${name} baseUrl is not a valid URL`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error(`${name} baseUrl must be http(s)`);
    if (url.search || url.hash) throw new Error(`${name} baseUrl must not have a query or fragment`);
    // A token with whitespace or control characters would be rejected by undici as a header value
    // (or worse, split the header); refuse it up front.
    if (!options.token || /[\s\x00-\x1f\x7f]/.test(options.token)) {
      throw new Error(`${name} token is empty or contains whitespace/control characters`);
    }
    if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) throw new Error('timeoutMs must be > 0');
    const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new Error('maxAttempts must be an integer >= 1');

    this.name = name;
    this.base = options.baseUrl.replace(/\/+$/, '');
    this.token = options.token;
    this.timeoutMs = options.timeoutMs;
    this.maxAttempts = maxAttempts;
    this.backoffBaseMs = Math.max(0, options.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS);
    this.backoffCapMs = Math.max(0, options.backoffCapMs ?? DEFAULT_BACKOFF_CAP_MS);
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.onAttempt = options.onAttempt;
    // Our own pool, so tests and shutdown don't depend on undici's global dispatcher. The agent-level
    // timeouts are a second line of defence; the per-attempt AbortSignal in send() is the main one,
    // as it also bounds slow-dripping bodies end to end.
    this.agent = new Agent({
      connections: 8,
      keepAliveTimeout: 10_000,
      connect: { timeout: options.timeoutMs },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  }

  /**
   * Calls `attempt` until it is done or maxAttempts are spent, waiting between attempts with backoff
   * (never less than the server's Retry-After, up to 30 s). Each attempt is reported to onAttempt, redacted.
   * A throwing `sleep` rejects: the caller turns that into a result.
   */
  async retry<T>(attempt: () => Promise<Step<T>>): Promise<T> {
    for (let n = 1; ; n++) {
      const step = await attempt();
      if (step.kind === 'done' || n >= this.maxAttempts) {
        this.report({ attempt: n, status: step.status, error: step.error });
        return step.value;
      }
      const wait = this.backoff(n, step.retryAfterMs);
      this.report({ attempt: n, status: step.status, error: step.error, retryInMs: wait });
      await this.sleep(wait);
    }
  }

  /** One HTTP exchange with `base + path`, bounded by timeoutMs, body read with a size cap. Never throws. */
  async send(method: 'GET' | 'DELETE', path: string): Promise<Exchange> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    try {
      const res = await request(`${this.base}${path}`, {
        method,
        dispatcher: this.agent,
        signal: timeout,
        headers: { authorization: `Bearer ${this.token}`, authtype: 'Key', accept: 'application/json' },
      });
      const body = await readCapped(res.body, MAX_BODY_BYTES);
      const retryAfter = res.headers['retry-after'];
      return {
        kind: 'response',
        status: res.statusCode,
        retryAfterMs: parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, Date.now()),
        body,
      };
    } catch (err) {
      // Check our own signal first: undici rejects with the signal's reason, whose type we don't rely on.
      if (timeout.aborted) return this.timeoutError(err);
      const code = errorCode(err);
      if (code !== undefined && (TIMEOUT_CODES.has(code) || code === 'TimeoutError')) return this.timeoutError(err);
      return {
        kind: 'network',
        retryable: code !== undefined && RETRYABLE_NETWORK_CODES.has(code),
        sent: code === undefined || !NOT_SENT_CODES.has(code),
        description: networkDescription(this.name, code),
      };
    }
  }

  /** Closes the connection pool; waits for in-flight requests. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.agent.close().catch(() => undefined);
    return this.closing;
  }

  /** Belt and braces: no text we produce may contain the token, raw or URL-encoded. */
  redact(text: string): string {
    let out = text;
    for (const secret of new Set([this.token, encodeURIComponent(this.token)]))
      out = out.split(secret).join('[redacted]');
    return out;
  }

  private timeoutError(err: unknown): Exchange {
    return {
      kind: 'timeout',
      retryable: true,
      // A connect timeout means nothing was sent; any later timeout may have hit a working server.
      sent: errorCode(err) !== 'UND_ERR_CONNECT_TIMEOUT',
      description: `${this.name} did not answer within ${formatMs(this.timeoutMs)}`,
    };
  }

  /** Exponential backoff with "equal jitter" (half fixed, half random), never below a Retry-After. */
  private backoff(failedAttempt: number, retryAfterMs: number | undefined): number {
    const exp = Math.min(this.backoffCapMs, this.backoffBaseMs * 2 ** (failedAttempt - 1));
    const jittered = exp / 2 + Math.random() * (exp / 2);
    const serverAsked = retryAfterMs === undefined ? 0 : Math.min(retryAfterMs, RETRY_AFTER_CAP_MS);
    return Math.round(Math.max(jittered, serverAsked));
  }

  private report(info: AttemptInfo): void {
    if (!this.onAttempt) return;
    const clean: AttemptInfo = { attempt: info.attempt };
    if (info.status !== undefined) clean.status = info.status;
    if (info.error !== undefined) clean.error = this.redact(info.error);
    if (info.retryInMs !== undefined) clean.retryInMs = info.retryInMs;
    try {
      this.onAttempt(clean);
    } catch {
      // A logging hook must not break a deletion.
    }
  }
}

/** Reads a body up to `cap` bytes; returns null (and destroys the stream) when it is larger. */
async function readCapped(body: Readable, cap: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    size += buf.length;
    if (size > cap) {
      body.destroy();
      return null;
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

/** Retry-After as delta-seconds or an HTTP-date; undefined when absent or unparseable. */
function parseRetryAfter(value: string | undefined, nowMs: number): number | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}

/**
 * A short identifier for an error, never its message (which we don't control): its string `code`,
 * else its cause's `code` (undici and Node sometimes wrap the socket error), else its `name`.
 */
export function errorCode(err: unknown): string | undefined {
  const field = (e: unknown, key: 'code' | 'name'): string | undefined => {
    const v = typeof e === 'object' && e !== null ? (e as Record<string, unknown>)[key] : undefined;
    return typeof v === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(v) ? v : undefined;
  };
  const cause = typeof err === 'object' && err !== null ? (err as { cause?: unknown }).cause : undefined;
  return field(err, 'code') ?? field(cause, 'code') ?? field(err, 'name');
}

function networkDescription(name: string, code: string | undefined): string {
  const tag = code ? ` (${code})` : '';
  switch (code) {
    case 'ECONNREFUSED':
      return `${name} refused the connection${tag}`;
    case 'ECONNRESET':
    case 'ECONNABORTED':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return `The connection to ${name} was closed unexpectedly${tag}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `Could not resolve ${name}'s host name${tag}`;
    case 'UND_ERR_CLOSED':
    case 'UND_ERR_DESTROYED':
      return `The ${name} client has been shut down`;
    default:
      return `Could not talk to ${name}${tag}`;
  }
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Number((ms / 1000).toFixed(1))} s`;
}
