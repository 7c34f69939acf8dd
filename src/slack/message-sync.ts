// Brings a request's Slack message and thread up to date with the store, which is the truth.
// Any failure leaves the store marked out of sync, and the sweeper tries again later.
import type { webApi } from '@slack/bolt';
import { renderRequestMessage, renderThreadReply } from '../blocks/request-message';
import { WorkQueue } from '../limiter';
import { errorFields, type Logger } from '../logger';
import { NO_MESSAGE_TS } from '../requests/types';
import type { Store } from '../store/types';

/** Slack errors that mean the bot can't post in that channel at all; trying again won't help. */
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

function slackErrorCode(error: unknown): string | undefined {
  const code = (error as { data?: { error?: unknown } } | null)?.data?.error;
  return typeof code === 'string' ? code : undefined;
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
  /** Slack refused to post a request's message for good (e.g. not_in_channel): end the request. */
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
   * One sync of one request, as a unit (the queue above calls it; it claims the request in the store itself,
   * never throws, and leaves a request it could not bring up to date marked out of sync for the sweeper).
   * `message`: stop once the approval message is posted (thread replies and updates come in a later run).
   */
  async syncOnce(requestId: string, scope: 'message' | 'all' = 'all'): Promise<void> {
    const { store, options } = this;
    const now = options.now();
    if (!(await store.claimSync(requestId, now + options.claimMs, now))) return;
    try {
      for (let round = 0; round < 5; round++) {
        const request = await store.getRequest(requestId);
        if (!request) return;
        const events = (await store.listEvents(requestId)).filter((e) => e.postedAt === null);
        if (request.messageTs !== null && request.messageVersion >= request.version && events.length === 0) return;
        if (request.messageTs === NO_MESSAGE_TS) {
          // Never posted and never will be: nothing in Slack to bring up to date.
          await store.markMessageVersion(requestId, request.version);
          for (const event of events) await store.markEventPosted(event.id, options.now());
          return;
        }
        let ts = request.messageTs;
        const rendered = renderRequestMessage(request, options.now());
        if (ts === null) {
          let posted: Awaited<ReturnType<typeof this.client.chat.postMessage>>;
          try {
            posted = await this.client.chat.postMessage({
              channel: request.channelId,
              text: rendered.text,
              blocks: rendered.blocks,
              unfurl_links: false,
              unfurl_media: false,
            });
          } catch (error) {
            const code = slackErrorCode(error);
            if (!code || !CANNOT_POST.has(code) || !options.onCannotPost) throw error;
            this.logger.warn('Slack will not let the bot post the approval message', {
              requestId,
              channelId: request.channelId,
              error: code,
            });
            await store.setMessageTs(requestId, NO_MESSAGE_TS);
            await options.onCannotPost(requestId, code);
            continue;
          }
          ts = typeof posted.ts === 'string' ? posted.ts : null;
          if (ts === null) throw new Error('chat.postMessage answered without a ts');
          await store.setMessageTs(requestId, ts);
          await store.markMessageVersion(requestId, request.version);
          this.logger.info('approval message posted', { requestId, channelId: request.channelId, ts });
          if (scope === 'message') {
            // The rest of this request (thread replies, updates) goes round again behind other new messages.
            this.queue.add(requestId, 'rest');
            return;
          }
        } else if (request.messageVersion < request.version) {
          await this.client.chat.update({
            channel: request.channelId,
            ts,
            text: rendered.text,
            blocks: rendered.blocks,
          });
          await store.markMessageVersion(requestId, request.version);
          this.logger.debug('approval message updated', { requestId, version: request.version, state: request.state });
        }
        for (const event of events) {
          await this.client.chat.postMessage({
            channel: request.channelId,
            thread_ts: ts,
            text: renderThreadReply(event, request),
            unfurl_links: false,
            unfurl_media: false,
          });
          await store.markEventPosted(event.id, options.now());
        }
      }
    } catch (error) {
      this.logger.warn('could not bring the Slack message up to date; will retry', {
        requestId,
        ...errorFields(error),
      });
    } finally {
      await store.releaseSync(requestId).catch(() => undefined);
    }
  }
}
