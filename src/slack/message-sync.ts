// Brings a request's Slack message and thread up to date with the store, which is the truth.
// Any failure leaves the store marked out of sync, and the sweeper tries again later.
import type { webApi } from '@slack/bolt';
import { renderRequestMessage } from '../blocks/request-message';
import { renderThreadReply } from '../blocks/thread-replies';
import { WorkQueue } from '../limiter';
import { errorFields, type Logger } from '../logger';
import { NO_MESSAGE_TS } from '../requests/types';
import type { Store } from '../store/types';
import { TOKEN_REFUSED } from './verify-token';

/** Slack errors that mean the bot can't post in that channel at all (part of PERMANENT). */
const CANNOT_POST = new Set([
  'not_in_channel',
  'channel_not_found',
  'is_archived',
  'restricted_action',
  'restricted_action_read_only_channel',
  'restricted_action_thread_only_channel',
  'ekm_access_denied',
  'team_access_not_granted',
  'no_permission',
]);

/**
 * Answers of chat.postMessage / chat.update (their error tables in Slack's method docs) that will be the same
 * however often the same call is made: the message or channel is gone or closed to the bot, or Slack refuses
 * the content. The sync of that request ends (recorded as sync_error) instead of being retried forever.
 * Not here, so retried with backoff: rate limits, Slack's own failures (internal_error, fatal_error,
 * service_unavailable, request_timeout), network errors and timeouts, and the token's errors (invalid_auth,
 * token_revoked, account_inactive, missing_scope…), which concern every request alike and are fixed by
 * the operator, after which everything must catch up.
 */
const PERMANENT = new Set([
  ...CANNOT_POST,
  'message_not_found', // chat.update: the approval message was deleted
  'cant_update_message', // chat.update: not a message the bot may edit
  'edit_window_closed',
  'thread_not_found',
  'is_inactive',
  'restricted_action_non_threadable_channel',
  'invalid_blocks', // our rendering of this request: the same blocks would be refused again
  'invalid_blocks_format',
  'msg_too_long',
  'no_text',
  'too_many_attachments',
  'invalid_attachments',
  'messages_tab_disabled',
]);

/** A Slack Web API call that failed, as the sync decides what to do next. */
export type SlackFailure =
  | { kind: 'permanent'; error: string }
  | { kind: 'transient'; error: string; retryAfterMs: number };

function slackErrorCode(error: unknown): string | undefined {
  const code = (error as { data?: { error?: unknown } } | null)?.data?.error;
  return typeof code === 'string' ? code : undefined;
}

/** What a failed Web API call means for this request's sync. */
export function classifySlackError(error: unknown): SlackFailure {
  const code = slackErrorCode(error);
  if (code && PERMANENT.has(code)) return { kind: 'permanent', error: code };
  const e = error as { retryAfter?: unknown; message?: unknown; code?: unknown } | null;
  // The WebClient gives up on a 429 with "A rate limit was exceeded (…, retry-after: N)", or a rate-limited error.
  let retryAfterS = typeof e?.retryAfter === 'number' ? e.retryAfter : undefined;
  const said = typeof e?.message === 'string' ? /retry-after: (\d+)/.exec(e.message) : null;
  if (retryAfterS === undefined && said) retryAfterS = Number(said[1]);
  return {
    kind: 'transient',
    error:
      code ?? (typeof e?.code === 'string' ? e.code : retryAfterS !== undefined ? 'ratelimited' : 'request_failed'),
    retryAfterMs: (retryAfterS ?? 0) * 1000,
  };
}

/** Thrown inside the sync when a Slack call failed, so its handling is told apart from the store's failures. */
class SlackCallFailed extends Error {
  constructor(readonly failure: SlackFailure) {
    super(`Slack: ${failure.error}`);
  }
}

async function slackCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new SlackCallFailed(classifySlackError(error));
  }
}

/** The first failure is retried at the next sweep; then 5 s, 10 s, 20 s … up to the cap (default 10 min). */
export function syncRetryDelayMs(failures: number, baseMs: number, capMs: number): number {
  if (failures <= 1) return 0;
  return Math.min(capMs, baseMs * 2 ** Math.min(failures - 2, 30));
}

export interface MessageSyncOptions {
  /** How long one sync may hold a request before another instance may take over. */
  claimMs: number;
  now: () => number;
  /** Requests synced at once (default 8); the rest wait their turn, so a burst of commands can't starve the acks. */
  concurrency?: number;
  /**
   * Requests waiting at most (default 10,000). Past it a request is left to the sweeper: the store still says
   * its message is behind. Only request ids wait, so this is a bound on memory, not on work.
   */
  maxWaiting?: number;
  /** Backoff of a request whose sync keeps failing (default 5 s, doubling per failure after the second). */
  retryBaseMs?: number;
  /** Longest backoff (default 10 min). */
  retryCapMs?: number;
  /** Slack refused the bot token for good (invalid_auth, token_revoked…): the app ends the process. */
  onTokenRefused?: (slackError: string) => void;
  /** Slack refused the first post of a request's message for good (not_in_channel, msg_too_long…): end it. */
  onCannotPost?: (requestId: string, slackError: string) => Promise<void>;
}

/**
 * `post`: a new request's approval message, ahead of everything else; `update`: the rest (message updates,
 * thread replies, previews shown, the sweeper's catch-up).
 */
export type SyncPriority = 'post' | 'update';

export class MessageSync {
  private readonly queue: WorkQueue;
  private refused = 0;

  constructor(
    private readonly client: webApi.WebClient,
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly options: MessageSyncOptions,
  ) {
    this.queue = new WorkQueue({
      concurrency: options.concurrency ?? 8,
      maxWaiting: options.maxWaiting ?? 10_000,
      // A new request's first run posts only its message; its thread replies and updates queue behind
      // every other new request's message (the id goes round again, in the `rest` lane).
      work: (requestId, lane) => this.syncOnce(requestId, lane === 'first' ? 'message' : 'all'),
    });
  }

  /**
   * Ask for a sync; never throws, and does no work before the current answer has been sent. Asking again for a
   * request that waits is free (one sync does both); asking while it syncs runs it once more afterwards. The
   * returned promise settles when the request is in step (or gave up, or was left to the sweeper).
   */
  request(requestId: string, priority: SyncPriority = 'update'): Promise<void> {
    const done = this.queue.add(requestId, priority === 'post' ? 'first' : 'rest');
    if (done) {
      this.refused = 0;
      return done;
    }
    if (this.refused++ === 0) {
      this.logger.warn('message sync queue full; the sweeper will bring these messages up to date', {
        requestId,
        waiting: this.queue.size,
      });
    }
    return Promise.resolve();
  }

  /** Wait for every sync under way or waiting (tests, shutdown). */
  async idle(): Promise<void> {
    await this.queue.idle();
  }

  /**
   * One sync of one request, as a unit (the queue above calls it; it claims the request in the store itself).
   * Never rejects: whatever fails (Slack, the store) is logged and left to the sweeper. `message`: stop once the
   * approval message is posted (thread replies and updates come in a later run).
   */
  async syncOnce(requestId: string, scope: 'message' | 'all' = 'all'): Promise<void> {
    const { store, options } = this;
    /** Still holding the claim: released in `finally` unless the end of the sync already did. */
    let held = false;
    try {
      const now = options.now();
      held = await store.claimSync(requestId, now + options.claimMs, now);
      if (!held) return;
      const outcome = await this.bringUpToDate(requestId, scope);
      if (outcome !== 'finished') await store.endSync(requestId, { kind: outcome });
      held = false;
    } catch (error) {
      await this.failed(requestId, error).catch((again: unknown) =>
        this.logger.warn('could not record a failed Slack sync; the sweeper will try again', {
          requestId,
          ...errorFields(again),
        }),
      );
    } finally {
      if (held) await store.endSync(requestId, { kind: 'behind' }).catch(() => undefined);
    }
  }

  private async failed(requestId: string, error: unknown): Promise<void> {
    const { store, options } = this;
    if (!(error instanceof SlackCallFailed)) {
      // The store (a failover, a reset connection, a busy file): nothing to hold against the request.
      this.logger.warn('could not bring the Slack message up to date (store); will retry', {
        requestId,
        ...errorFields(error),
      });
      return;
    }
    const { failure } = error;
    if (TOKEN_REFUSED.has(failure.error)) options.onTokenRefused?.(failure.error);
    if (failure.kind === 'permanent') {
      if ((await store.endSync(requestId, { kind: 'ended', error: failure.error })).ended) {
        this.logger.warn('Slack refuses this request’s message for good; its sync has ended', {
          requestId,
          error: failure.error,
        });
      }
      return;
    }
    const base = options.retryBaseMs ?? 5_000;
    const cap = options.retryCapMs ?? 600_000;
    const now = options.now();
    let retryInMs = 0;
    const { failures } = await store.endSync(requestId, {
      kind: 'retry',
      retryAt: (n) => {
        retryInMs = Math.max(syncRetryDelayMs(n, base, cap), Math.min(failure.retryAfterMs, cap));
        return now + retryInMs;
      },
    });
    this.logger.warn('could not bring the Slack message up to date; will retry', {
      requestId,
      error: failure.error,
      failures,
      retryInMs,
    });
  }

  /**
   * Posts and updates until the message and thread show the stored request: `in-step`, or `behind` when it ran
   * out of rounds, or `finished` when the write that recorded the post also ended the sync (claim released).
   */
  private async bringUpToDate(requestId: string, scope: 'message' | 'all'): Promise<'in-step' | 'behind' | 'finished'> {
    const { store, options, client } = this;
    for (let round = 0; round < 5; round++) {
      const request = await store.getRequest(requestId);
      if (!request) return 'in-step';
      // A first post of scope `message` doesn't use the thread's replies: they aren't read for it.
      const firstPostOnly = scope === 'message' && request.messageTs === null;
      const events = firstPostOnly ? [] : (await store.listEvents(requestId)).filter((e) => e.postedAt === null);
      if (request.messageTs !== null && request.messageVersion >= request.version && events.length === 0)
        return 'in-step';
      if (request.messageTs === NO_MESSAGE_TS) {
        // Never posted and never will be: nothing in Slack to bring up to date.
        await store.recordMessage(requestId, {
          version: request.version,
          postedEvents: { ids: events.map((e) => e.id), at: options.now() },
        });
        return 'in-step';
      }
      let ts = request.messageTs;
      // Rendered only when the message itself is posted or updated, not for thread replies alone.
      if (ts === null) {
        const rendered = renderRequestMessage(request, options.now());
        let posted: Awaited<ReturnType<typeof client.chat.postMessage>>;
        try {
          posted = await client.chat.postMessage({
            channel: request.channelId,
            text: rendered.text,
            blocks: rendered.blocks,
            unfurl_links: false,
            unfurl_media: false,
          });
        } catch (error) {
          const code = slackErrorCode(error);
          // Any refusal for good of the first post (not only "can't post here"): a request nobody can see
          // would hold its customer until it expires, so it is withdrawn and the requester told.
          if (!code || !PERMANENT.has(code) || !options.onCannotPost)
            throw new SlackCallFailed(classifySlackError(error));
          this.logger.warn('Slack will not let the bot post the approval message', {
            requestId,
            channelId: request.channelId,
            error: code,
          });
          // Withdrawn first: should the store fail in between, the next sync meets the same refusal and
          // withdraws again (a no-op once done) before it records that there is no message.
          await options.onCannotPost(requestId, code);
          await store.recordMessage(requestId, { ts: NO_MESSAGE_TS });
          continue;
        }
        ts = typeof posted.ts === 'string' ? posted.ts : null;
        if (ts === null) throw new SlackCallFailed({ kind: 'transient', error: 'no_ts', retryAfterMs: 0 });
        // One write records the post; for scope `message` it also ends this sync (nothing else is done in it).
        await store.recordMessage(requestId, { ts, version: request.version, inStep: scope === 'message' });
        this.logger.info('approval message posted', { requestId, channelId: request.channelId, ts });
        if (scope === 'message') {
          // The rest of this request (thread replies, updates) goes round again behind other new messages.
          this.queue.add(requestId, 'rest');
          return 'finished';
        }
      } else if (request.messageVersion < request.version) {
        const messageTs = ts;
        const rendered = renderRequestMessage(request, options.now());
        await slackCall(() =>
          client.chat.update({
            channel: request.channelId,
            ts: messageTs,
            text: rendered.text,
            blocks: rendered.blocks,
          }),
        );
        await store.recordMessage(requestId, { version: request.version });
        this.logger.debug('approval message updated', { requestId, version: request.version, state: request.state });
      }
      for (const event of events) {
        const threadTs = ts;
        await slackCall(() =>
          client.chat.postMessage({
            channel: request.channelId,
            thread_ts: threadTs,
            text: renderThreadReply(event, request),
            unfurl_links: false,
            unfurl_media: false,
          }),
        );
        await store.recordMessage(requestId, { postedEvents: { ids: [event.id], at: options.now() } });
      }
    }
    return 'behind';
  }
}
