// Brings a request's Slack message and thread up to date with the store, which is the truth.
// Any failure leaves the store marked out of sync, and the sweeper tries again later.
import type { webApi } from '@slack/bolt';
import { renderRequestMessage, renderThreadReply } from '../blocks/request-message';
import { Limiter } from '../limiter';
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
  /** Slack refused to post a request's message for good (e.g. not_in_channel): end the request. */
  onCannotPost?: (requestId: string, slackError: string) => Promise<void>;
}

export class MessageSync {
  /** One sync at a time per request in this process; later calls chain behind it. */
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  private readonly limiter: Limiter;

  constructor(
    private readonly client: webApi.WebClient,
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly options: MessageSyncOptions,
  ) {
    this.limiter = new Limiter(options.concurrency ?? 8);
  }

  /** Ask for a sync; never throws. The returned promise settles when this request is in step (or gave up). */
  request(requestId: string): Promise<void> {
    const current = this.running.get(requestId);
    if (current) {
      this.again.add(requestId);
      return current;
    }
    const run = (async () => {
      // Never on the way to an answer: start after the current command's or click's ack has been sent.
      await new Promise((resolve) => setImmediate(resolve));
      await this.limiter.run(async () => {
        do {
          this.again.delete(requestId);
          await this.syncOnce(requestId);
        } while (this.again.has(requestId));
      });
    })().finally(() => this.running.delete(requestId));
    this.running.set(requestId, run);
    return run;
  }

  /** Wait for every sync under way (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running.values()]);
  }

  private async syncOnce(requestId: string): Promise<void> {
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
