// What a failed Slack Web API call means for a request's sync (can't post here, refused for good, or worth
// another try, and after how long) and what the store keeps of it (recordSyncFailure); and which failures of
// the requester's direct message are worth a retry.
import { errorFields, type Logger } from '../logger';
import type { Store } from '../store/types';
import type { Priority } from './pacer';
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
export const PERMANENT = new Set([
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

/**
 * Failures of the requester's direct message worth another try: Slack busy or failing, and the token's
 * errors, which the operator fixes. Any other answer (no such user, the Messages tab off, …) is Slack
 * refusing that message: logged, and the request goes on.
 */
export const DM_TRANSIENT = new Set([
  'ratelimited',
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
  'invalid_auth',
  'not_authed',
  'token_revoked',
  'token_expired',
  'account_inactive',
  'missing_scope',
]);

/** A Slack Web API call that failed, as the sync decides what to do next. */
export type SlackFailure =
  | { kind: 'permanent'; error: string }
  | { kind: 'transient'; error: string; retryAfterMs: number };

export function slackErrorCode(error: unknown): string | undefined {
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
export class SlackCallFailed extends Error {
  constructor(
    readonly failure: SlackFailure,
    /** The call that failed, so a 429 sends this request back to wait for that bucket to reopen. */
    readonly turn: Turn,
    /** Slack's own error code, when Slack answered (not a network failure or a timeout). */
    readonly slackCode?: string,
  ) {
    super(`Slack: ${failure.error}`);
  }
}

/** A call's place in the pacer: its bucket and whether it posts an approval message. */
export interface Turn {
  bucket: string;
  priority: Priority;
}

/** Backoff of a request whose sync keeps failing: 5 s, doubling per failure after the second, up to 10 min. */
const RETRY_BASE_MS = 5_000;
const RETRY_CAP_MS = 600_000;
/**
 * The first failure is retried at the next sweep; then 5 s, 10 s, 20 s … up to 10 min; never before Slack's
 * Retry-After (capped the same).
 */
export function syncRetryDelayMs(failures: number, retryAfterMs = 0): number {
  const backoff = failures <= 1 ? 0 : Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** Math.min(failures - 2, 30));
  return Math.max(backoff, Math.min(retryAfterMs, RETRY_CAP_MS));
}

/**
 * What a failed sync leaves in the store: nothing for the store's own failures, the end of the sync for a refusal
 * for good, else the next try's time (so another instance's sweeper leaves the request alone until it is due).
 */
export async function recordSyncFailure(
  sync: { store: Store; logger: Logger; options: { now: () => number; onTokenRefused?: (error: string) => void } },
  requestId: string,
  error: unknown,
): Promise<void> {
  const { store, options, logger } = sync;
  if (!(error instanceof SlackCallFailed)) {
    // The store (a failover, a reset connection, a busy file): nothing to hold against the request.
    logger.warn('could not bring the Slack message up to date (store); will retry', {
      requestId,
      ...errorFields(error),
    });
    return;
  }
  const { failure } = error;
  if (TOKEN_REFUSED.has(failure.error)) options.onTokenRefused?.(failure.error);
  if (failure.kind === 'permanent') {
    if ((await store.endSync(requestId, { kind: 'ended', error: failure.error })).ended) {
      logger.warn('Slack refuses this request’s message for good; its sync has ended', {
        requestId,
        error: failure.error,
      });
    }
    return;
  }
  const now = options.now();
  let retryInMs = 0;
  // Recorded in the store, so another instance's sweeper leaves the request alone until it is due.
  const { failures } = await store.endSync(requestId, {
    kind: 'retry',
    retryAt: (n) => {
      retryInMs = syncRetryDelayMs(n, failure.retryAfterMs);
      return now + retryInMs;
    },
  });
  logger.warn('could not bring the Slack message up to date; will retry', {
    requestId,
    error: failure.error,
    failures,
    retryInMs,
  });
}
