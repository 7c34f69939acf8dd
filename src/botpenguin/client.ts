// BotPenguin Partner API client: DELETE a customer (with retries) and list customers (best effort).
//
// Ground rules:
// - Public methods never throw; every outcome, including our own bugs, is a result value.
// - The API token never appears in a result, an onAttempt call or an error text. We never stringify
//   undici errors (only their `code`/`name`), and every text we hand out goes through `redact()`.
// - Every attempt is bounded by `timeoutMs`, and every response body is read (with a size cap) or
//   destroyed, so a slow or hostile server can neither hang us nor leak pooled connections.
import type { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import { z } from 'zod';

export interface BotPenguinClientOptions {
  /** e.g. https://api.v7.botpenguin.com; a trailing '/' is ignored and a path prefix is kept. */
  baseUrl: string;
  token: string;
  /** Bound on one attempt: connect, headers and the whole body. */
  timeoutMs: number;
  /** Attempts in all for deleteCustomer (default 5). */
  maxAttempts?: number;
  /** First backoff delay (default 250 ms); doubles per attempt, with jitter. */
  backoffBaseMs?: number;
  /** Largest backoff delay (default 8000 ms). A server's Retry-After may ask for more, up to 30 s. */
  backoffCapMs?: number;
  /** Injectable for tests; default setTimeout-based. */
  sleep?: (ms: number) => Promise<void>;
  /** Called once per DELETE attempt, for logging. Never given the token. */
  onAttempt?: (info: { attempt: number; status?: number; error?: string; retryInMs?: number }) => void;
}

export type DeleteFailureKind =
  | 'not_found'
  | 'unauthorized'
  | 'rejected'
  | 'rate_limited'
  | 'server_error'
  | 'timeout'
  | 'network'
  | 'bad_response';

export type DeleteResult =
  | { ok: true; status: number; attempts: number; message: string }
  | {
      ok: false;
      kind: DeleteFailureKind;
      status?: number;
      attempts: number;
      message: string;
      /**
       * Set on a not_found when an earlier attempt of this same call may have reached BotPenguin
       * (it timed out, lost its connection or got a 5xx): that attempt may be what deleted the customer.
       */
      earlierAttemptUncertain?: true;
    };

export interface CustomerSummary {
  id: string;
  name: string | null;
  email: string | null;
  status: string | null;
}

export type ListResult = { ok: true; customers: CustomerSummary[] } | { ok: false; message: string };

const DEFAULT_MAX_ATTEMPTS = 5;
const DEFAULT_BACKOFF_BASE_MS = 250;
const DEFAULT_BACKOFF_CAP_MS = 8000;
/** Upper bound on a server-requested Retry-After wait. */
const RETRY_AFTER_CAP_MS = 30_000;
/** Response bodies larger than this are not read (BotPenguin's answers are tiny JSON documents). */
const MAX_BODY_BYTES = 1024 * 1024;
/** BotPenguin message texts are cut to this length for display. */
const MAX_MESSAGE_CHARS = 500;

// BotPenguin's envelope. Only `success` must be right; the rest is optional and never fails the parse.
const DeleteBody = z.object({
  success: z.boolean(),
  message: z.string().optional().catch(undefined),
  code: z.number().optional().catch(undefined),
});

const ListBody = z.object({
  success: z.boolean(),
  message: z.string().optional().catch(undefined),
  data: z.array(z.unknown()).optional().catch(undefined),
});

// One customer entry: `_id` is required (entries without one are skipped); any other field that is
// missing or of an unexpected type becomes null rather than dropping the entry.
const CustomerEntry = z.object({
  _id: z.string().min(1),
  name: z.string().nullable().catch(null),
  contact: z
    .object({ email: z.string().nullable().catch(null) })
    .nullable()
    .catch(null),
  status: z.string().nullable().catch(null),
});

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

/** What one HTTP exchange produced. */
type Exchange =
  | { type: 'response'; status: number; retryAfter: string | undefined; body: Buffer | null /* null: over the cap */ }
  | { type: 'error'; kind: 'timeout' | 'network'; retryable: boolean; sent: boolean; description: string }
  | { type: 'cancelled' };

/** How one DELETE attempt ended. */
type AttemptVerdict =
  | { final: true; result: DeleteResult }
  | {
      final: false;
      kind: DeleteFailureKind;
      status?: number;
      message: string;
      retryAfterMs?: number;
      /** The request may have reached BotPenguin and taken effect. */
      uncertain: boolean;
    };

export class BotPenguinClient {
  private readonly base: string;
  private readonly token: string;
  private readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly backoffBaseMs: number;
  private readonly backoffCapMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly onAttempt?: BotPenguinClientOptions['onAttempt'];
  private readonly agent: Agent;
  private closing: Promise<void> | null = null;

  /** Throws (without echoing the token or URL) on invalid options: a configuration error, not a runtime one. */
  constructor(options: BotPenguinClientOptions) {
    let url: URL;
    try {
      url = new URL(options.baseUrl);
    } catch {
      throw new Error('BotPenguin baseUrl is not a valid URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('BotPenguin baseUrl must be http(s)');
    if (url.search || url.hash) throw new Error('BotPenguin baseUrl must not have a query or fragment');
    // A token with whitespace or control characters would be rejected by undici as a header value
    // (or worse, split the header); refuse it up front.
    if (!options.token || /[\s\x00-\x1f\x7f]/.test(options.token)) {
      throw new Error('BotPenguin token is empty or contains whitespace/control characters');
    }
    if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) throw new Error('timeoutMs must be > 0');
    const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new Error('maxAttempts must be an integer >= 1');

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

  async deleteCustomer(customerId: string): Promise<DeleteResult> {
    let attempts = 0;
    try {
      const path = customerPath(customerId);
      if (path === null) {
        return {
          ok: false,
          kind: 'rejected',
          attempts: 0,
          message: 'Invalid customer id: nothing was sent to BotPenguin',
        };
      }
      const url = `${this.base}${path}`;
      let uncertain = false;
      for (;;) {
        attempts++;
        const verdict = this.judgeDelete(await this.send('DELETE', url), uncertain);
        if (verdict.final) {
          const { result } = verdict;
          this.report({
            attempt: attempts,
            status: 'status' in result ? result.status : undefined,
            error: result.ok ? undefined : result.message,
          });
          return { ...result, attempts };
        }
        uncertain ||= verdict.uncertain;
        if (attempts >= this.maxAttempts) {
          this.report({ attempt: attempts, status: verdict.status, error: verdict.message });
          return { ok: false, kind: verdict.kind, status: verdict.status, attempts, message: verdict.message };
        }
        const wait = this.backoff(attempts, verdict.retryAfterMs);
        this.report({ attempt: attempts, status: verdict.status, error: verdict.message, retryInMs: wait });
        await this.sleep(wait);
      }
    } catch (err) {
      // Only a bug (ours, or a throwing injected sleep) gets here; the promise still must not reject.
      return {
        ok: false,
        kind: 'network',
        attempts,
        message: `Unexpected client error (${errorCode(err) ?? 'unknown'})`,
      };
    }
  }

  async listCustomers(page: number, opts: { signal?: AbortSignal } = {}): Promise<ListResult> {
    try {
      if (!Number.isInteger(page) || page < 0) return { ok: false, message: 'Invalid page number' };
      const exchange = await this.send('GET', `${this.base}/customer/list?page=${page}`, opts.signal);
      if (exchange.type === 'cancelled') return { ok: false, message: 'Customer lookup was cancelled' };
      if (exchange.type === 'error') return { ok: false, message: this.redact(exchange.description) };
      const { status, body } = exchange;
      const json = parseJson(body);
      if (status < 200 || status > 299) {
        return { ok: false, message: this.bpMessage(json) ?? `HTTP ${status} from BotPenguin` };
      }
      const parsed = ListBody.safeParse(json);
      if (!parsed.success) return { ok: false, message: `BotPenguin answered HTTP ${status} with an unexpected body` };
      if (!parsed.data.success) {
        return { ok: false, message: this.bpMessage(json) ?? 'BotPenguin could not list customers' };
      }
      if (!parsed.data.data) return { ok: false, message: 'BotPenguin answered without a customer list' };
      const customers: CustomerSummary[] = [];
      for (const raw of parsed.data.data) {
        const entry = CustomerEntry.safeParse(raw);
        if (!entry.success) continue;
        customers.push({
          id: entry.data._id,
          name: entry.data.name || null,
          email: entry.data.contact?.email || null,
          status: entry.data.status || null,
        });
      }
      return { ok: true, customers };
    } catch (err) {
      return { ok: false, message: `Unexpected client error (${errorCode(err) ?? 'unknown'})` };
    }
  }

  /** Closes the connection pool; waits for in-flight requests. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.agent.close().catch(() => undefined);
    return this.closing;
  }

  /**
   * Turns one exchange into "done" (success or a non-retryable failure) or "retry if attempts remain".
   * Final results carry `attempts: 0`; deleteCustomer fills in the real count.
   */
  private judgeDelete(exchange: Exchange, earlierUncertain: boolean): AttemptVerdict {
    if (exchange.type === 'cancelled') {
      // No external signal is passed for DELETE, so this is unreachable; handled for completeness.
      return { final: true, result: { ok: false, kind: 'network', attempts: 0, message: 'Request was cancelled' } };
    }
    if (exchange.type === 'error') {
      const message = this.redact(exchange.description);
      if (!exchange.retryable) return { final: true, result: { ok: false, kind: exchange.kind, attempts: 0, message } };
      return { final: false, kind: exchange.kind, message, uncertain: exchange.sent };
    }

    const { status, body } = exchange;
    const json = parseJson(body);
    const fail = (kind: DeleteFailureKind, fallback: string): AttemptVerdict => ({
      final: true,
      result: { ok: false, kind, status, attempts: 0, message: this.bpMessage(json) ?? fallback },
    });

    if (status >= 200 && status <= 299) {
      if (body === null) return fail('bad_response', `BotPenguin answered HTTP ${status} with an oversized body`);
      const parsed = DeleteBody.safeParse(json);
      if (!parsed.success)
        return fail('bad_response', `BotPenguin answered HTTP ${status} without the expected JSON body`);
      if (parsed.data.success) {
        return {
          final: true,
          result: {
            ok: true,
            status,
            attempts: 0,
            message: this.bpMessage(json) ?? 'BotPenguin confirmed the deletion',
          },
        };
      }
      // BotPenguin sometimes reports errors as HTTP 200 + success:false with the real code in the body.
      if (parsed.data.code === 404) return this.notFound(status, json, earlierUncertain);
      return fail('rejected', `BotPenguin refused the deletion (HTTP ${status}, success: false)`);
    }
    if (status === 404) return this.notFound(status, json, earlierUncertain);
    if (status === 401 || status === 403)
      return fail('unauthorized', `BotPenguin rejected the API token (HTTP ${status})`);
    if (status === 429 || status >= 500) {
      return {
        final: false,
        kind: status === 429 ? 'rate_limited' : 'server_error',
        status,
        message:
          this.bpMessage(json) ??
          (status === 429 ? 'BotPenguin is rate limiting requests (HTTP 429)' : `HTTP ${status} from BotPenguin`),
        retryAfterMs: parseRetryAfter(exchange.retryAfter, Date.now()),
        // A 5xx may come after the deletion happened (e.g. a proxy timing out); a 429 was not processed.
        uncertain: status >= 500,
      };
    }
    if (status >= 400) return fail('rejected', `BotPenguin rejected the request (HTTP ${status})`);
    // 1xx/3xx: undici follows no redirects here, and a redirect for a DELETE is not something to chase.
    return fail('bad_response', `Unexpected HTTP ${status} from BotPenguin`);
  }

  private notFound(status: number, json: unknown, earlierUncertain: boolean): AttemptVerdict {
    const base = this.bpMessage(json) ?? 'BotPenguin has no customer with this id (not found)';
    if (!earlierUncertain)
      return { final: true, result: { ok: false, kind: 'not_found', status, attempts: 0, message: base } };
    return {
      final: true,
      result: {
        ok: false,
        kind: 'not_found',
        status,
        attempts: 0,
        message: `${base} (an earlier attempt got no clear answer and may already have deleted it)`,
        earlierAttemptUncertain: true,
      },
    };
  }

  /** One HTTP exchange, bounded by timeoutMs, body read with a size cap. Never throws. */
  private async send(method: 'GET' | 'DELETE', url: string, external?: AbortSignal): Promise<Exchange> {
    if (external?.aborted) return { type: 'cancelled' };
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = external ? AbortSignal.any([timeout, external]) : timeout;
    try {
      const res = await request(url, {
        method,
        dispatcher: this.agent,
        signal,
        headers: { authorization: `Bearer ${this.token}`, authtype: 'Key', accept: 'application/json' },
      });
      const body = await readCapped(res.body, MAX_BODY_BYTES);
      const retryAfter = res.headers['retry-after'];
      return {
        type: 'response',
        status: res.statusCode,
        retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter,
        body,
      };
    } catch (err) {
      // Check our own signals first: undici rejects with the signal's reason, whose type we don't rely on.
      if (timeout.aborted) return this.timeoutError(err);
      if (external?.aborted) return { type: 'cancelled' };
      const code = errorCode(err);
      if (code !== undefined && (TIMEOUT_CODES.has(code) || code === 'TimeoutError')) return this.timeoutError(err);
      return {
        type: 'error',
        kind: 'network',
        retryable: code !== undefined && RETRYABLE_NETWORK_CODES.has(code),
        sent: code === undefined || !NOT_SENT_CODES.has(code),
        description: networkDescription(code),
      };
    }
  }

  private timeoutError(err: unknown): Exchange {
    return {
      type: 'error',
      kind: 'timeout',
      retryable: true,
      // A connect timeout means nothing was sent; any later timeout may have hit a working server.
      sent: errorCode(err) !== 'UND_ERR_CONNECT_TIMEOUT',
      description: `BotPenguin did not answer within ${formatMs(this.timeoutMs)}`,
    };
  }

  /** Exponential backoff with "equal jitter" (half fixed, half random), never below a Retry-After. */
  private backoff(failedAttempt: number, retryAfterMs: number | undefined): number {
    const exp = Math.min(this.backoffCapMs, this.backoffBaseMs * 2 ** (failedAttempt - 1));
    const jittered = exp / 2 + Math.random() * (exp / 2);
    const serverAsked = retryAfterMs === undefined ? 0 : Math.min(retryAfterMs, RETRY_AFTER_CAP_MS);
    return Math.round(Math.max(jittered, serverAsked));
  }

  private report(info: { attempt: number; status?: number; error?: string; retryInMs?: number }): void {
    if (!this.onAttempt) return;
    const clean: typeof info = { attempt: info.attempt };
    if (info.status !== undefined) clean.status = info.status;
    if (info.error !== undefined) clean.error = this.redact(info.error);
    if (info.retryInMs !== undefined) clean.retryInMs = info.retryInMs;
    try {
      this.onAttempt(clean);
    } catch {
      // A logging hook must not break a deletion.
    }
  }

  /** BotPenguin's own `message`, if it sent a non-empty one: redacted first, then cut (so no token prefix survives). */
  private bpMessage(json: unknown): string | undefined {
    if (typeof json !== 'object' || json === null) return undefined;
    const message = (json as { message?: unknown }).message;
    if (typeof message !== 'string' || message.trim() === '') return undefined;
    const clean = this.redact(message.trim());
    return clean.length > MAX_MESSAGE_CHARS ? `${clean.slice(0, MAX_MESSAGE_CHARS - 1)}…` : clean;
  }

  /** Belt and braces: no text we produce may contain the token, raw or URL-encoded. */
  private redact(text: string): string {
    let out = text;
    for (const secret of new Set([this.token, encodeURIComponent(this.token)]))
      out = out.split(secret).join('[redacted]');
    return out;
  }
}

/**
 * `/customer/<id>`, or null for an id that must not be sent. encodeURIComponent leaves '.' alone, and
 * URL parsing resolves `.`/`..` segments (even as %2E%2E), so `..` would turn into `DELETE {base}/`.
 */
function customerPath(customerId: string): string | null {
  if (typeof customerId !== 'string' || customerId.trim() === '') return null;
  if (customerId === '.' || customerId === '..') return null;
  try {
    return `/customer/${encodeURIComponent(customerId)}`;
  } catch {
    return null; // lone UTF-16 surrogate: encodeURIComponent throws URIError
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

function parseJson(body: Buffer | null): unknown {
  if (body === null || body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
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
function errorCode(err: unknown): string | undefined {
  const field = (e: unknown, key: 'code' | 'name'): string | undefined => {
    const v = typeof e === 'object' && e !== null ? (e as Record<string, unknown>)[key] : undefined;
    return typeof v === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(v) ? v : undefined;
  };
  const cause = typeof err === 'object' && err !== null ? (err as { cause?: unknown }).cause : undefined;
  return field(err, 'code') ?? field(cause, 'code') ?? field(err, 'name');
}

function networkDescription(code: string | undefined): string {
  const tag = code ? ` (${code})` : '';
  switch (code) {
    case 'ECONNREFUSED':
      return `BotPenguin refused the connection${tag}`;
    case 'ECONNRESET':
    case 'ECONNABORTED':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return `The connection to BotPenguin was closed unexpectedly${tag}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `Could not resolve BotPenguin's host name${tag}`;
    case 'UND_ERR_CLOSED':
    case 'UND_ERR_DESTROYED':
      return 'The BotPenguin client has been shut down';
    default:
      return `Could not talk to BotPenguin${tag}`;
  }
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Number((ms / 1000).toFixed(1))} s`;
}
