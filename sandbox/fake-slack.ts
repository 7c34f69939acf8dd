// A local stand-in for the Slack Web API: records every call, keeps each channel's messages and
// threads as Slack would (updates replace, replies thread), and can be told to fail. Used by the
// integration tests, `npm run demo` and `npm run bench`; never by the bot itself.
import type http from 'node:http';
import { checkHomeView, checkMessage, checkModal } from './block-kit-limits';
import { FakeSocketMode } from './fake-socket-mode';
import { RecordingServer } from './recording-server';

export interface RecordedCall {
  method: string;
  /** Form or JSON fields; `blocks`, `view` and `attachments` are parsed from their JSON strings. */
  args: Record<string, unknown>;
  authorization: string | undefined;
  at: number;
  /** Arrival time in fractional epoch milliseconds (comparable across processes on one machine). */
  hrAt: number;
  /** In rate-limit mode: answered 429, and whether it came after a 429 of its bucket had been answered. */
  limited?: 'first' | 'into-retry-after';
  /** The HTTP status it was answered with, once answered. */
  status?: number;
}

export interface SlackMessage {
  channel: string;
  ts: string;
  threadTs: string | null;
  text: string;
  blocks: unknown[];
  /** Every version of this message, oldest first (updates append). */
  history: { text: string; blocks: unknown[] }[];
}

export interface Ephemeral {
  channel: string | null;
  user: string | null;
  text: string;
  via: 'chat.postEphemeral' | 'response_url' | 'command_response';
  /** Position among everything shown only to one person (ephemerals and command answers), from 1. */
  order: number;
}

/** Fractional epoch milliseconds: Date.now() with sub-millisecond resolution. */
export const preciseNow = (): number => performance.timeOrigin + performance.now();

export interface Failure {
  status: number;
  /** For 200 answers: Slack's error code, e.g. `channel_not_found`. */
  error?: string;
  retryAfterSeconds?: number;
  delayMs?: number;
}

/** Which calls a standing failure applies to; what is left out matches anything. */
export interface FailureMatch {
  method?: string;
  channel?: string;
  /** The message: a call's `ts` (chat.update) or `thread_ts` (a reply). */
  ts?: string;
}

/**
 * Slack's rate limits as its docs state them: chat.postMessage about 1 a second per channel with short bursts
 * (3 here), chat.update Tier 3 (50 a minute), chat.postEphemeral Tier 4 (100 a minute), each a bucket that
 * refills evenly; over it, HTTP 429 `ratelimited` with `Retry-After` in whole seconds, and while that runs
 * every call of the bucket is refused too.
 */
export const SLACK_RATE_LIMITS = {
  postMessagePerChannel: { burst: 3, perSecond: 1 },
  perMethod: {
    'chat.update': { burst: 50, perSecond: 50 / 60 },
    'chat.postEphemeral': { burst: 100, perSecond: 100 / 60 },
  } as Record<string, { burst: number; perSecond: number }>,
};

/** What the rate-limit mode saw, to judge a client by. */
export interface RateLimitRecord {
  /** Web API calls counted against a bucket. */
  calls: number;
  /** Calls answered 429. */
  limited: number;
  /** Calls that arrived after a 429 had been answered for their bucket, while its Retry-After ran. */
  intoRetryAfter: number;
  /** Calls received and not yet answered when the first 429 was answered (the client could not know yet). */
  inFlightAtFirst429: number | null;
}

interface LimitBucket {
  tokens: number;
  refilledAt: number;
  /** When the last 429 of this bucket was answered, and until when its Retry-After runs. */
  announcedAt: number;
  until: number;
}

export class FakeSlack extends RecordingServer<RecordedCall> {
  readonly calls: RecordedCall[] = [];
  readonly messages: SlackMessage[] = [];
  readonly ephemerals: Ephemeral[] = [];
  readonly usergroups = new Map<string, string[]>();
  readonly views: unknown[] = [];
  /** Every Home tab published (views.publish), oldest first. */
  readonly homeViews: { user: string; view: unknown }[] = [];
  /**
   * What slash commands answered over HTTP (Slack shows an ephemeral answer to the person who typed
   * it), recorded by whoever sent the command with `recordCommandAnswer`. Kept apart from `ephemerals`,
   * which holds only what the bot sent through the Web API.
   */
  readonly commandAnswers: Ephemeral[] = [];
  /** Slack's own answer time, added to every call (a slow Slack); per-method failures can add more. */
  latencyMs = 0;
  /** What auth.test says about the bot token's install: set `enterpriseId` and `orgWide` to play an org-wide one. */
  install: { teamId: string; enterpriseId: string | null; orgWide: boolean } = {
    teamId: 'T0000TEST',
    enterpriseId: null,
    orgWide: false,
  };
  /** The Socket Mode endpoint `apps.connections.open` points to, once `enableSocketMode()` has started it. */
  socketMode: FakeSocketMode | null = null;
  private readonly byTs = new Map<string, SlackMessage>();
  private order = 0;
  private readonly failures = new Map<string, Failure[]>();
  private readonly standing: { where: FailureMatch; failure: Failure }[] = [];
  private seq = 0;
  private limits: typeof SLACK_RATE_LIMITS | null = null;
  private readonly limitBuckets = new Map<string, LimitBucket>();
  private open = 0;
  private lastLimited: RecordedCall['limited'];
  readonly rateLimitRecord: RateLimitRecord = { calls: 0, limited: 0, intoRetryAfter: 0, inFlightAtFirst429: null };

  /** Base URL for SLACK_API_URL. */
  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  /** A response_url that records what the bot posts to it. */
  responseUrl(id = 'r1'): string {
    return `${this.url}/response/${id}`;
  }

  /** Enforce Slack's rate limits (SLACK_RATE_LIMITS) from now on, recording what the client does with them. */
  enforceRateLimits(limits = SLACK_RATE_LIMITS): void {
    this.limits = limits;
  }

  /** Counts the call against its bucket: null if it may go, or the Retry-After (seconds) to answer with. */
  private rateLimit(method: string, args: Record<string, unknown>, now: number): number | null {
    const limits = this.limits;
    if (!limits) return null;
    const limit = method === 'chat.postMessage' ? limits.postMessagePerChannel : limits.perMethod[method];
    if (!limit) return null;
    const key = method === 'chat.postMessage' ? `${method} ${String(args.channel)}` : method;
    let bucket = this.limitBuckets.get(key);
    if (!bucket) {
      bucket = { tokens: limit.burst, refilledAt: now, announcedAt: 0, until: 0 };
      this.limitBuckets.set(key, bucket);
    }
    const record = this.rateLimitRecord;
    record.calls++;
    if (now < bucket.until) {
      this.lastLimited = now >= bucket.announcedAt ? 'into-retry-after' : 'first';
      if (now >= bucket.announcedAt) record.intoRetryAfter++;
      record.limited++;
      return Math.max(1, Math.ceil((bucket.until - now) / 1000));
    }
    bucket.tokens = Math.min(limit.burst, bucket.tokens + ((now - bucket.refilledAt) / 1000) * limit.perSecond);
    bucket.refilledAt = now;
    if (bucket.tokens >= 1) {
      bucket.tokens--;
      return null;
    }
    record.limited++;
    this.lastLimited = 'first';
    const retryAfter = Math.max(1, Math.ceil((1 - bucket.tokens) / limit.perSecond));
    bucket.until = now + retryAfter * 1000;
    // Announced when answered; calls arriving before that were sent without the client knowing.
    bucket.announcedAt = Number.POSITIVE_INFINITY;
    return retryAfter;
  }

  /** Make the next `times` calls of `method` fail as described. */
  failNext(method: string, failure: Failure, times = 1): void {
    const list = this.failures.get(method) ?? [];
    for (let i = 0; i < times; i++) list.push(failure);
    this.failures.set(method, list);
  }

  /**
   * Fail every call that matches (a method, a channel, a message: `ts` matches `ts` or `thread_ts`) as
   * described, until cleared (or the returned function is called): an archived channel, a bot removed
   * from it, a message someone deleted.
   */
  failWhere(where: FailureMatch, failure: Failure): () => void {
    const entry = { where, failure };
    this.standing.push(entry);
    return () => {
      const at = this.standing.indexOf(entry);
      if (at >= 0) this.standing.splice(at, 1);
    };
  }

  /** Delete a message as a person would: it is gone from the channel, and chat.update on it fails. */
  deleteMessage(channel: string, ts: string): void {
    const message = this.byTs.get(`${channel}/${ts}`);
    if (!message) return;
    this.byTs.delete(`${channel}/${ts}`);
    this.messages.splice(this.messages.indexOf(message), 1);
  }

  /** Forget the failures not yet used and the standing ones: Slack answers normally again. */
  clearFailures(): void {
    this.failures.clear();
    this.standing.length = 0;
  }

  /** Start the Socket Mode endpoint (a WebSocket server) that apps.connections.open will hand out. */
  async enableSocketMode(): Promise<FakeSocketMode> {
    if (!this.socketMode) {
      this.socketMode = new FakeSocketMode();
      await this.socketMode.start();
    }
    return this.socketMode;
  }

  override async stop(): Promise<void> {
    await this.socketMode?.stop();
    this.socketMode = null;
    await super.stop();
  }

  /** The block_id of the block holding the button with this action_id in a posted message (what Slack sends back). */
  buttonBlockId(channel: string, ts: string, actionId: string): string | undefined {
    const message = this.message(channel, ts);
    for (const block of (message?.blocks ?? []) as { block_id?: string; elements?: { action_id?: string }[] }[]) {
      if (block.elements?.some((e) => e.action_id === actionId)) return block.block_id;
    }
    return undefined;
  }

  callsTo(method: string): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Top-level messages (not thread replies) in a channel, oldest first. */
  channelMessages(channel: string): SlackMessage[] {
    return this.messages.filter((m) => m.channel === channel && m.threadTs === null);
  }

  thread(channel: string, ts: string): SlackMessage[] {
    return this.messages.filter((m) => m.channel === channel && m.threadTs === ts);
  }

  /** The Home tab last published for a person, if any. */
  homeViewOf(user: string): unknown {
    return this.homeViews.filter((h) => h.user === user).at(-1)?.view;
  }

  ephemeralsFor(user: string): Ephemeral[] {
    return this.ephemerals.filter((e) => e.user === user || e.user === null);
  }

  /** The message with this ts in a channel (top-level or reply), if any. */
  message(channel: string, ts: string): SlackMessage | undefined {
    return this.byTs.get(`${channel}/${ts}`);
  }

  /** Record a slash command's HTTP answer as the ephemeral Slack would show to `user`; ignores non-text answers. */
  recordCommandAnswer(user: string, channel: string, answer: unknown): Ephemeral | null {
    const text = (answer as { text?: unknown } | null)?.text;
    if (typeof text !== 'string' || text === '') return null;
    const shown: Ephemeral = { channel, user, text, via: 'command_response', order: ++this.order };
    this.commandAnswers.push(shown);
    return shown;
  }

  /** Everything shown to one person only (Web API ephemerals, response_url posts, command answers), in order. */
  privateAnswers(): Ephemeral[] {
    return [...this.ephemerals, ...this.commandAnswers].sort((a, b) => a.order - b.order);
  }

  /** Drop what was recorded (calls, messages, ephemerals, views); failures and usergroups stay. */
  forget(): void {
    this.calls.length = 0;
    this.messages.length = 0;
    this.ephemerals.length = 0;
    this.commandAnswers.length = 0;
    this.views.length = 0;
    this.homeViews.length = 0;
    this.byTs.clear();
  }

  protected async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://localhost');
    const args = parseBody(raw, req.headers['content-type']);

    const hrAt = preciseNow();
    const method = url.pathname.replace(/^\/api\//, '');
    const retryAfter = url.pathname.startsWith('/api/') ? this.rateLimit(method, args, hrAt) : null;
    const limited = retryAfter === null ? undefined : this.lastLimited;
    this.open++;
    try {
      if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
      await this.respond(req, res, url, method, args, hrAt, retryAfter === null ? null : { retryAfter, limited });
    } finally {
      this.open--;
    }
  }

  private async respond(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    url: URL,
    method: string,
    args: Record<string, unknown>,
    hrAt: number,
    limit: { retryAfter: number; limited: RecordedCall['limited'] } | null,
  ): Promise<void> {
    if (url.pathname.startsWith('/response/')) {
      const call = { method: 'response_url', args, authorization: req.headers.authorization, at: Date.now(), hrAt };
      this.calls.push(call);
      this.ephemerals.push({
        channel: null,
        user: null,
        text: String(args.text ?? ''),
        via: 'response_url',
        order: ++this.order,
      });
      send(res, 200, { ok: true });
      this.notify(call);
      return;
    }
    const call: RecordedCall = { method, args, authorization: req.headers.authorization, at: Date.now(), hrAt };
    this.calls.push(call);
    if (limit) {
      call.limited = limit.limited;
      call.status = 429;
      send(res, 429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(limit.retryAfter) });
      const answeredAt = preciseNow();
      for (const bucket of this.limitBuckets.values())
        if (bucket.announcedAt === Number.POSITIVE_INFINITY) bucket.announcedAt = answeredAt;
      // This call is still counted as open: the others were in flight.
      this.rateLimitRecord.inFlightAtFirst429 ??= this.open - 1;
      this.notify(call);
      return;
    }

    const failure = this.failures.get(method)?.shift() ?? this.standingFailure(method, args);
    if (failure) {
      if (failure.delayMs) await new Promise((r) => setTimeout(r, failure.delayMs));
      const headers: Record<string, string> = {};
      if (failure.retryAfterSeconds !== undefined) headers['retry-after'] = String(failure.retryAfterSeconds);
      call.status = failure.status;
      send(
        res,
        failure.status,
        { ok: false, error: failure.error ?? (failure.status === 429 ? 'ratelimited' : 'internal_error') },
        headers,
      );
      this.notify(call);
      return;
    }
    call.status = 200;
    send(res, 200, this.answer(method, args, req.headers.authorization));
    this.notify(call);
  }

  private standingFailure(method: string, args: Record<string, unknown>): Failure | undefined {
    const ts = typeof args.ts === 'string' ? args.ts : typeof args.thread_ts === 'string' ? args.thread_ts : undefined;
    return this.standing.find(
      ({ where }) =>
        (where.method === undefined || where.method === method) &&
        (where.channel === undefined || where.channel === args.channel) &&
        (where.ts === undefined || where.ts === ts),
    )?.failure;
  }

  private answer(method: string, args: Record<string, unknown>, authorization?: string): Record<string, unknown> {
    const channel = typeof args.channel === 'string' ? args.channel : '';
    // Refused as Slack refuses them, before anything is posted or shown.
    const check = MESSAGE_METHODS.has(method)
      ? checkMessage(args)
      : method === 'views.open'
        ? checkModal(args.view)
        : method === 'views.publish'
          ? checkHomeView(args.view)
          : null;
    if (check && !check.ok) {
      return { ok: false, error: check.error, errors: check.errors, response_metadata: { messages: check.errors } };
    }
    switch (method) {
      case 'auth.test':
        return {
          ok: true,
          user_id: 'UBOT',
          bot_id: 'BBOT',
          team_id: this.install.teamId,
          user: 'bp-delete',
          ...(this.install.enterpriseId ? { enterprise_id: this.install.enterpriseId } : {}),
          is_enterprise_install: this.install.orgWide,
        };
      case 'apps.connections.open':
        // Only an app-level token (xapp-) may open a Socket Mode connection.
        if (!/^Bearer xapp-/.test(authorization ?? '')) return { ok: false, error: 'not_allowed_token_type' };
        return this.socketMode
          ? { ok: true, url: this.socketMode.connectionUrl() }
          : { ok: false, error: 'not_allowed_token_type' };
      case 'chat.postMessage': {
        const ts = `${1_700_000_000 + ++this.seq}.${String(this.seq).padStart(6, '0')}`;
        const text = String(args.text ?? '');
        const blocks = Array.isArray(args.blocks) ? args.blocks : [];
        const threadTs = typeof args.thread_ts === 'string' ? args.thread_ts : null;
        const message: SlackMessage = { channel, ts, threadTs, text, blocks, history: [{ text, blocks }] };
        this.messages.push(message);
        this.byTs.set(`${channel}/${ts}`, message);
        return { ok: true, channel, ts, message: { text, ts } };
      }
      case 'chat.update': {
        const message = this.byTs.get(`${channel}/${String(args.ts)}`);
        if (!message) return { ok: false, error: 'message_not_found' };
        message.text = String(args.text ?? '');
        message.blocks = Array.isArray(args.blocks) ? args.blocks : [];
        message.history.push({ text: message.text, blocks: message.blocks });
        return { ok: true, channel, ts: message.ts };
      }
      case 'chat.postEphemeral':
        this.ephemerals.push({
          channel,
          user: String(args.user ?? ''),
          text: String(args.text ?? ''),
          via: 'chat.postEphemeral',
          order: ++this.order,
        });
        return { ok: true, message_ts: `${Date.now() / 1000}` };
      case 'chat.getPermalink':
        return {
          ok: true,
          channel,
          permalink: `https://example.slack.com/archives/${channel}/p${String(args.message_ts).replace('.', '')}`,
        };
      case 'usergroups.users.list': {
        const users = this.usergroups.get(String(args.usergroup));
        return users ? { ok: true, users } : { ok: false, error: 'no_such_subteam' };
      }
      case 'views.open':
        this.views.push(args.view);
        return { ok: true, view: { id: `V${this.seq}` } };
      case 'views.publish': {
        if (typeof args.user_id !== 'string' || args.user_id === '') return { ok: false, error: 'invalid_arguments' };
        this.homeViews.push({ user: args.user_id, view: args.view });
        return { ok: true, view: { ...(args.view as object), id: `VHOME${args.user_id}`, type: 'home' } };
      }
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }
}

const MESSAGE_METHODS = new Set(['chat.postMessage', 'chat.update', 'chat.postEphemeral']);

function parseBody(raw: string, contentType: string | undefined): Record<string, unknown> {
  let fields: Record<string, unknown> = {};
  if (contentType?.includes('application/json')) {
    try {
      fields = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      fields = {};
    }
  } else {
    fields = Object.fromEntries(new URLSearchParams(raw));
  }
  for (const key of ['blocks', 'view', 'attachments']) {
    const value = fields[key];
    if (typeof value === 'string') {
      try {
        fields[key] = JSON.parse(value);
      } catch {
        // leave as sent
      }
    }
  }
  return fields;
}

function send(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}
