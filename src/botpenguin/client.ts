// BotPenguin's Partner API: DELETE a customer (with retries) and list customers (best effort), as typed
// results. What BotPenguin's answers mean lives here; the HTTP underneath is transport.ts.
// Public methods never throw; every outcome, including our own bugs, is a result value, and every text
// handed out is redacted (no token, raw or URL-encoded).
import { z } from 'zod';
import type {
  AnsweredFailureKind,
  AttemptGate,
  CustomerLister,
  CustomerSummary,
  DeleteResult,
  Deleter,
  ListResult,
} from '../requests/ports';
import { type Exchange, errorCode, HttpTransport, type Step, type TransportOptions } from './transport';

/** The transport's options (base URL such as https://api.v7.botpenguin.com, token, timeouts, retries); its name is ours. */
/** How one HTTP attempt ended, as the metrics count it. */
export type CallResult = 'ok' | AnsweredFailureKind;

export interface BotPenguinClientOptions extends Omit<TransportOptions, 'name'> {
  /** After each HTTP attempt (a retried DELETE reports each): how it ended and how long it took. */
  onCall?: (operation: 'delete_customer' | 'list_customers', result: CallResult, seconds: number) => void;
}

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

/** What one sent attempt came to: never `held` (a held attempt is not sent). */
type AnsweredResult =
  | Extract<DeleteResult, { ok: true }>
  | (Extract<DeleteResult, { ok: false }> & { kind: AnsweredFailureKind });

/** How one DELETE attempt ended. */
type AttemptVerdict =
  | { kind: 'done'; result: AnsweredResult }
  | {
      kind: 'retry';
      failure: AnsweredFailureKind;
      status?: number;
      message: string;
      retryAfterMs?: number;
      /** The request may have reached BotPenguin and taken effect. */
      uncertain: boolean;
      /** `message` is BotPenguin's own text. */
      fromBotPenguin?: boolean;
    };

export class BotPenguinClient implements Deleter, CustomerLister {
  private readonly http: HttpTransport;
  private readonly onCall: NonNullable<BotPenguinClientOptions['onCall']>;

  /** Throws (without echoing the token or URL) on invalid options: a configuration error, not a runtime one. */
  constructor({ onCall, ...options }: BotPenguinClientOptions) {
    this.http = new HttpTransport({ name: 'BotPenguin', ...options });
    this.onCall = onCall ?? (() => undefined);
  }

  /** One exchange, timed and reported under `operation` with the result `judge` makes of it. */
  private async timed<V>(
    operation: 'delete_customer' | 'list_customers',
    send: () => Promise<Exchange>,
    judge: (exchange: Exchange) => { verdict: V; result: CallResult },
  ): Promise<V> {
    const started = performance.now();
    const { verdict, result } = judge(await send());
    this.onCall(operation, result, (performance.now() - started) / 1000);
    return verdict;
  }

  async deleteCustomer(customerId: string, mayAttempt: AttemptGate): Promise<DeleteResult> {
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
      let uncertain = false;
      const unknown = () => (uncertain ? { answerUnknown: true as const } : {});
      return await this.http.retry(async (): Promise<Step<DeleteResult>> => {
        if (!(await mayAttempt(attempts + 1))) {
          const message = `Held before attempt ${attempts + 1}: no further DELETE was sent`;
          return { kind: 'done', value: { ok: false, kind: 'held', attempts, message, ...unknown() }, error: message };
        }
        attempts++;
        const verdict = await this.timed(
          'delete_customer',
          () => this.http.send('DELETE', path),
          (exchange) => {
            const judged = this.judgeDelete(exchange, uncertain);
            const result = judged.kind === 'retry' ? judged.failure : judged.result.ok ? 'ok' : judged.result.kind;
            return { verdict: judged, result };
          },
        );
        if (verdict.kind === 'done') {
          const { result } = verdict;
          // A refusal proves nothing about an earlier attempt that may have deleted the customer (a not found
          // is judged apart: it says the customer is gone).
          const refusedAfterUnknown = !result.ok && result.kind !== 'not_found';
          return {
            kind: 'done',
            value: { ...result, attempts, ...(refusedAfterUnknown ? unknown() : {}) },
            status: 'status' in result ? result.status : undefined,
            error: result.ok ? undefined : result.message,
          };
        }
        uncertain ||= verdict.uncertain;
        return {
          kind: 'retry',
          // What this call answers if no attempt is left: unknown when any attempt may have been acted on.
          value: {
            ok: false,
            kind: verdict.failure,
            status: verdict.status,
            attempts,
            message: verdict.message,
            ...(verdict.fromBotPenguin ? { fromBotPenguin: true } : {}),
            ...unknown(),
          },
          status: verdict.status,
          error: verdict.message,
          retryAfterMs: verdict.retryAfterMs,
        };
      });
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

  async listCustomers(page: number): Promise<ListResult> {
    try {
      if (!Number.isInteger(page) || page < 0) return { ok: false, message: 'Invalid page number' };
      const exchange = await this.timed(
        'list_customers',
        () => this.http.send('GET', `/customer/list?page=${page}`),
        (sent) => ({ verdict: sent, result: listResult(sent) }),
      );
      if (exchange.kind !== 'response') return { ok: false, message: this.http.redact(exchange.description) };
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
    return this.http.close();
  }

  /**
   * Turns one exchange into "done" (success or a non-retryable failure) or "retry if attempts remain".
   * Done results carry `attempts: 0`; deleteCustomer fills in the real count.
   */
  private judgeDelete(exchange: Exchange, earlierUncertain: boolean): AttemptVerdict {
    if (exchange.kind !== 'response') {
      const message = this.http.redact(exchange.description);
      if (!exchange.retryable)
        return { kind: 'done', result: { ok: false, kind: exchange.kind, attempts: 0, message } };
      return { kind: 'retry', failure: exchange.kind, message, uncertain: exchange.sent };
    }

    const { status, body } = exchange;
    const json = parseJson(body);
    const said = this.bpMessage(json);
    const fail = (kind: AnsweredFailureKind, fallback: string): AttemptVerdict => ({
      kind: 'done',
      result: { ok: false, kind, status, attempts: 0, message: said ?? fallback, ...fromBp(said) },
    });

    if (status >= 200 && status <= 299) {
      if (body === null) return fail('bad_response', `BotPenguin answered HTTP ${status} with an oversized body`);
      const parsed = DeleteBody.safeParse(json);
      if (!parsed.success)
        return fail('bad_response', `BotPenguin answered HTTP ${status} without the expected JSON body`);
      if (parsed.data.success) {
        return {
          kind: 'done',
          result: {
            ok: true,
            status,
            attempts: 0,
            message: said ?? 'BotPenguin confirmed the deletion',
            ...fromBp(said),
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
        kind: 'retry',
        failure: status === 429 ? 'rate_limited' : 'server_error',
        status,
        message:
          said ??
          (status === 429 ? 'BotPenguin is rate limiting requests (HTTP 429)' : `HTTP ${status} from BotPenguin`),
        ...fromBp(said),
        retryAfterMs: exchange.retryAfterMs,
        // A 5xx may come after the deletion happened (e.g. a proxy timing out); a 429 was not processed.
        uncertain: status >= 500,
      };
    }
    if (status >= 400) return fail('rejected', `BotPenguin rejected the request (HTTP ${status})`);
    // 1xx/3xx: undici follows no redirects here, and a redirect for a DELETE is not something to chase.
    return fail('bad_response', `Unexpected HTTP ${status} from BotPenguin`);
  }

  private notFound(status: number, json: unknown, earlierUncertain: boolean): AttemptVerdict {
    const said = this.bpMessage(json);
    const base = said ?? 'BotPenguin has no customer with this id (not found)';
    if (!earlierUncertain) {
      const result = { ok: false as const, kind: 'not_found' as const, status, attempts: 0, message: base };
      return { kind: 'done', result: { ...result, ...fromBp(said) } };
    }
    return {
      kind: 'done',
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

  /** BotPenguin's own `message`, if it sent a non-empty one: redacted first, then cut (so no token prefix survives). */
  private bpMessage(json: unknown): string | undefined {
    if (typeof json !== 'object' || json === null) return undefined;
    const message = (json as { message?: unknown }).message;
    if (typeof message !== 'string' || message.trim() === '') return undefined;
    const clean = this.http.redact(message.trim());
    return clean.length > MAX_MESSAGE_CHARS ? `${clean.slice(0, MAX_MESSAGE_CHARS - 1)}…` : clean;
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

/** Marks a result whose message is BotPenguin's own text (only then: our fallbacks carry no mark). */
const fromBp = (said: string | undefined) => (said === undefined ? {} : { fromBotPenguin: true });

function parseJson(body: Buffer | null): unknown {
  if (body === null || body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** A list call's result for the metrics: the exchange's failure, or what its status says. */
function listResult(exchange: Exchange): CallResult {
  if (exchange.kind !== 'response') return exchange.kind;
  const { status } = exchange;
  if (status >= 200 && status <= 299) return 'ok';
  if (status === 401 || status === 403) return 'unauthorized';
  if (status === 404) return 'not_found';
  if (status === 429) return 'rate_limited';
  return status >= 500 ? 'server_error' : 'rejected';
}
