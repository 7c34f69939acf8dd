// Brings a request's Slack message and thread up to date with the store, which is the truth.
// Calls are paced as Slack counts them (pacer.ts); any other failure leaves the store marked out of sync, and
// the sweeper tries again later.
import type { webApi } from '@slack/bolt';
import { renderRequestMessage } from '../blocks/request-message';
import { renderRequesterDm } from '../blocks/requester-dm';
import { renderThreadReply } from '../blocks/thread-replies';
import { type Lane, Limiter } from '../limiter';
import { errorFields, type Logger } from '../logger';
import { requesterNews, requesterNewsPending } from '../requests/requester-news';
import { type DeletionRequest, NO_MESSAGE_TS, type RequestEvent } from '../requests/types';
import type { Store } from '../store/types';
import { bucketOf, SlackPacer } from './pacer';
import {
  classifySlackError,
  DM_TRANSIENT,
  PERMANENT,
  recordSyncFailure,
  SlackCallFailed,
  slackErrorCode,
  type Turn,
} from './slack-errors';

export { classifySlackError, type SlackFailure, syncRetryDelayMs } from './slack-errors';

/** Requests synced at once; waits for Slack's pace are outside it (a reply backlog never holds up a message). */
const SYNCS_AT_ONCE = 8;

export interface MessageSyncOptions {
  /** How long one sync may hold a request before another instance may take over. */
  claimMs: number;
  now: () => number;
  /** Slack refused the bot token for good (invalid_auth, token_revoked…): the app ends the process. */
  onTokenRefused?: (slackError: string) => void;
  /** Slack refused the first post of a request's message for good (not_in_channel, msg_too_long…): end it. */
  onCannotPost?: (requestId: string, slackError: string) => Promise<void>;
  /** Tell requesters what became of their request by direct message (NOTIFY_REQUESTER), linking its message. */
  requesterDm?: { permalink: (channelId: string, ts: string) => Promise<string | null> } | null;
  /** chat.postMessage's pace per channel (default Slack's one a second); only tests set it. */
  postIntervalMs?: number;
}

/** A sync that stopped to wait for its turn, and the claim it kept meanwhile (null: released). */
interface Wait {
  turn: Turn;
  claimedUntil: number | null;
}

interface Run {
  /** Asked for again while running: run once more (unless the sync under way covered the ask). */
  again: boolean;
  /** Asks so far: an ask made before a sync's final check (endSync) is covered by it (what changed is read). */
  asks: number;
  /** Slack refused the approval message for good (the request was withdrawn). */
  refused: boolean;
  /** `first` until its approval message is up; then replies and updates wait behind other approval messages. */
  lane: Lane;
  /** Wakes a run that waits for its turn: a change (an update) need not wait behind its thread replies. */
  wake: () => void;
  done: Promise<void>;
}

/**
 * The client must reject rate-limited calls (`rejectRateLimitedCalls`): the pacer waits out a Retry-After for
 * the whole bucket, so the WebClient's own wait-and-retry would be a second layer sending calls into it.
 */
export class MessageSync {
  private readonly runs = new Map<string, Run>();
  private readonly limiter = new Limiter(SYNCS_AT_ONCE);
  private readonly pacer: SlackPacer;

  constructor(
    private readonly client: webApi.WebClient,
    private readonly store: Store,
    private readonly logger: Logger,
    private readonly options: MessageSyncOptions,
  ) {
    this.pacer = new SlackPacer(Date.now, options.postIntervalMs);
  }

  /**
   * Ask for a sync; never throws, and does no work before the current answer has been sent. Asking again for a
   * request that waits or syncs runs it once more afterwards. The returned promise settles when the request is
   * in step (or gave up, or was left to the sweeper).
   */
  request(requestId: string): Promise<void> {
    const run = this.runs.get(requestId);
    if (run) {
      run.again = true;
      run.asks++;
      run.wake();
      return run.done;
    }
    const started: Run = {
      again: false,
      asks: 0,
      refused: false,
      lane: 'first',
      wake: () => undefined,
      done: Promise.resolve(),
    };
    started.done = this.run(requestId, started);
    this.runs.set(requestId, started);
    return started.done;
  }

  /** Once the sync under way (if any) has settled, without asking for another: true if Slack refused the message. */
  async postRefused(requestId: string): Promise<boolean> {
    const run = this.runs.get(requestId);
    if (!run) return false;
    await run.done;
    return run.refused;
  }

  /** Wait for every sync under way or waiting (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.runs.size > 0) await Promise.all([...this.runs.values()].map((r) => r.done));
  }

  private async run(requestId: string, run: Run): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    /** A turn the pacer granted while waiting, for the next run's first call. */
    let granted: Turn | null = null;
    let claimedUntil: number | null = null;
    /** The turn being waited for, kept across runs woken early so the request keeps its place. */
    let waiting: { turn: Turn; given: Promise<void> } | null = null;
    try {
      do {
        run.again = false;
        const turn: Turn | null = granted;
        const claim: number | null = claimedUntil;
        granted = null;
        const wait: Wait | null = await this.limiter.run(
          (): Promise<Wait | null> => this.syncOnce(run, requestId, turn, claim),
          run.lane,
        );
        claimedUntil = wait?.claimedUntil ?? null;
        if (waiting && waiting.turn.bucket !== wait?.turn.bucket) {
          const unused = waiting.turn.bucket;
          void waiting.given.then(() => this.pacer.giveBack(unused));
          waiting = null;
        }
        if (!wait) continue;
        waiting ??= { turn: wait.turn, given: this.pacer.take(wait.turn.bucket, wait.turn.priority) };
        // A change came while this run synced (the outcome of a DELETE, say): bring the message up to date
        // now, keeping our place in the queue, rather than after the turn we would otherwise wait for.
        if (run.again) continue;
        const woken = new Promise<'woken'>((resolve) => {
          run.wake = () => resolve('woken');
        });
        if ((await Promise.race([waiting.given, woken])) !== 'woken') {
          granted = waiting.turn;
          waiting = null;
        }
        run.wake = () => undefined;
        run.again = true;
      } while (run.again);
    } catch (error) {
      this.logger.warn('message sync stopped unexpectedly; the sweeper will try again', {
        requestId,
        ...errorFields(error),
      });
    } finally {
      this.runs.delete(requestId);
    }
  }

  /**
   * One sync of one request under its claim in the store. Never rejects: whatever fails (Slack, the store) is
   * logged and left to the sweeper. When the next call must wait for Slack's pace, returns the turn to wait
   * for and keeps the claim (until `claimedUntil`), so another instance's sweeper doesn't post it meanwhile
   * behind this instance's pacing. `granted`: a turn already taken for this run's first call; `claimedUntil`:
   * the claim the previous run kept.
   */
  private async syncOnce(
    run: Run,
    requestId: string,
    granted: Turn | null,
    claimedUntil: number | null,
  ): Promise<Wait | null> {
    const { store, options } = this;
    const turns = { granted };
    /** Still holding the claim: released in `finally` unless the end of the sync already did. */
    let held = false;
    try {
      const now = options.now();
      const until = now + options.claimMs;
      // Taking over our own claim: it matches only while the claim there is still the one we kept.
      held = await store.claimSync(requestId, until, Math.max(now, (claimedUntil ?? 0) + 1));
      if (!held) return null;
      const outcome = await this.bringUpToDate(run, requestId, turns);
      held = false;
      if (typeof outcome === 'object') return { turn: outcome, claimedUntil: until };
      if (outcome !== 'released') await store.endSync(requestId, { kind: outcome });
      return null;
    } catch (error) {
      await recordSyncFailure({ store, logger: this.logger, options }, requestId, error).catch((again: unknown) =>
        this.logger.warn('could not record a failed Slack sync; the sweeper will try again', {
          requestId,
          ...errorFields(again),
        }),
      );
      // Rate limited: wait here for the bucket to reopen rather than for the next sweep (the store's backoff
      // keeps the other instances' sweepers off it meanwhile).
      if (error instanceof SlackCallFailed && error.failure.kind === 'transient' && error.failure.retryAfterMs > 0)
        return { turn: error.turn, claimedUntil: null };
      return null;
    } finally {
      if (turns.granted) this.pacer.giveBack(turns.granted.bucket);
      if (held) await store.endSync(requestId, { kind: 'behind' }).catch(() => undefined);
    }
  }

  /**
   * Once a run's approval message is up it belongs in the `rest` lane; the first time, it hands its slot to a
   * request waiting in `first` (if any) and waits for a slot again, keeping its claim meanwhile.
   */
  private async leaveFirstLane(run: Run): Promise<void> {
    if (run.lane === 'rest') return;
    run.lane = 'rest';
    await this.limiter.makeWay();
  }

  /** Whether this call may go now: the turn granted for it, or one free without overtaking anyone. */
  private mayCall(turn: Turn, turns: { granted: Turn | null }): boolean {
    if (turns.granted?.bucket === turn.bucket) {
      turns.granted = null;
      return true;
    }
    return this.pacer.tryTake(turn.bucket);
  }

  private async slackCall<T>(turn: Turn, call: () => Promise<T>): Promise<T> {
    try {
      const result = await call();
      this.pacer.answered(turn.bucket);
      return result;
    } catch (error) {
      const failure = classifySlackError(error);
      if (failure.kind === 'transient' && failure.retryAfterMs > 0)
        this.pacer.rateLimited(turn.bucket, failure.retryAfterMs);
      else this.pacer.answered(turn.bucket);
      throw new SlackCallFailed(failure, turn, slackErrorCode(error));
    }
  }

  /**
   * Posts and updates until the message and thread show the stored request, then ends the sync in the same
   * step (`released`); `in-step` when there is no such request, `behind` when it ran out of rounds, or the turn
   * to wait for when Slack's pace holds the next call back.
   */
  private async bringUpToDate(
    run: Run,
    requestId: string,
    turns: { granted: Turn | null },
  ): Promise<'released' | 'in-step' | 'behind' | Turn> {
    const { store } = this;
    for (let round = 0; round < 5; round++) {
      const request = await store.getRequest(requestId);
      if (!request) return 'in-step';
      const events = (await store.listEvents(requestId)).filter((e) => e.postedAt === null);
      const waitFor = await this.showRound(run, request, events, turns);
      if (waitFor === 'withdrawn') continue;
      if (waitFor) return waitFor;
      // Released only if nothing changed since the read (its version, no new reply): else read it again. So an
      // ask made before this check (a change already stored: a preview, say) needs no run of its own.
      const asks = run.asks;
      if ((await store.endSync(requestId, { kind: 'in-step', version: request.version })).released) {
        if (run.asks === asks) run.again = false;
        return 'released';
      }
    }
    return 'behind';
  }

  /**
   * One round: shows `request` (as read) and its unposted replies in Slack, or says which turn to wait for, or
   * that the request was withdrawn because its message can never be posted (read it again).
   */
  private async showRound(
    run: Run,
    request: DeletionRequest,
    events: readonly RequestEvent[],
    turns: { granted: Turn | null },
  ): Promise<Turn | 'withdrawn' | null> {
    const { store, options, client } = this;
    const requestId = request.id;
    // In a burst, approval messages (what approvers act on) go before replies and updates, across channels:
    // a run whose message is up leaves the first lane, handing its slot to one waiting there. The endSync
    // check below catches a change made meanwhile.
    if (request.messageTs !== null) await this.leaveFirstLane(run);
    if (request.messageTs === NO_MESSAGE_TS) {
      // Never posted and never will be: only the requester is left to tell.
      const waitFor = await this.tellRequester(request, null, turns);
      if (waitFor) return waitFor;
      if (request.messageVersion < request.version || events.length > 0) {
        await store.recordMessage(requestId, {
          version: request.version,
          postedEvents: { ids: events.map((e) => e.id), at: options.now() },
        });
      }
      return null;
    }
    const channel = request.channelId;
    const post: Turn = { bucket: bucketOf('chat.postMessage', channel), priority: 'rest' };
    let ts = request.messageTs;
    // Rendered only when the message itself is posted or updated, not for thread replies alone.
    if (ts === null) {
      const first = await this.postApprovalMessage(request, turns);
      if (first === 'withdrawn' || typeof first === 'object') return first;
      ts = first;
      await this.leaveFirstLane(run);
    } else if (request.messageVersion < request.version) {
      const update: Turn = { bucket: bucketOf('chat.update', channel), priority: 'rest' };
      if (!this.mayCall(update, turns)) return update;
      const messageTs = ts;
      const rendered = renderRequestMessage(request, options.now());
      await this.slackCall(update, () =>
        client.chat.update({ channel, ts: messageTs, text: rendered.text, blocks: rendered.blocks }),
      );
      await store.recordMessage(requestId, { version: request.version });
      this.logger.debug('approval message updated', { requestId, version: request.version, state: request.state });
    }
    const waitFor = await this.tellRequester(request, ts, turns);
    if (waitFor) return waitFor;
    for (const event of events) {
      // In order, one at a time: a reply that must wait holds back the ones after it.
      if (!this.mayCall(post, turns)) return post;
      const threadTs = ts;
      await this.slackCall(post, () =>
        client.chat.postMessage({
          channel,
          thread_ts: threadTs,
          text: renderThreadReply(event, request),
          unfurl_links: false,
          unfurl_media: false,
        }),
      );
      await store.recordMessage(requestId, { postedEvents: { ids: [event.id], at: options.now() } });
    }
    return null;
  }

  /**
   * Posts the approval message (first in its channel's queue): its ts, the turn to wait for, or `withdrawn`
   * when Slack will never let the bot post there (the request is ended, saying why).
   */
  private async postApprovalMessage(
    request: DeletionRequest,
    turns: { granted: Turn | null },
  ): Promise<string | Turn | 'withdrawn'> {
    const { store, options, client } = this;
    const { id: requestId, channelId: channel } = request;
    const first: Turn = { bucket: bucketOf('chat.postMessage', channel), priority: 'first' };
    if (!this.mayCall(first, turns)) return first;
    const rendered = renderRequestMessage(request, options.now());
    let posted: Awaited<ReturnType<typeof client.chat.postMessage>>;
    try {
      posted = await this.slackCall(first, () =>
        client.chat.postMessage({
          channel,
          text: rendered.text,
          blocks: rendered.blocks,
          unfurl_links: false,
          unfurl_media: false,
        }),
      );
    } catch (error) {
      const code = error instanceof SlackCallFailed ? error.failure.error : undefined;
      // Any refusal for good of the first post (not only "can't post here"): a request nobody can see would
      // hold its customer until it expires, so it is withdrawn and the requester told.
      if (!code || !PERMANENT.has(code) || !options.onCannotPost) throw error;
      this.logger.warn('Slack will not let the bot post the approval message', {
        requestId,
        channelId: channel,
        error: code,
      });
      // Withdrawn first: should the store fail in between, the next sync meets the same refusal and
      // withdraws again (a no-op once done) before it records that there is no message.
      await options.onCannotPost(requestId, code);
      await store.recordMessage(requestId, { ts: NO_MESSAGE_TS });
      const run = this.runs.get(requestId);
      if (run) run.refused = true;
      return 'withdrawn';
    }
    const ts = typeof posted.ts === 'string' ? posted.ts : null;
    if (ts === null) throw new SlackCallFailed({ kind: 'transient', error: 'no_ts', retryAfterMs: 0 }, first);
    await store.recordMessage(requestId, { ts, version: request.version });
    this.logger.info('approval message posted', { requestId, channelId: channel, ts });
    return ts;
  }

  /**
   * The requester's direct message about the request's state, if one is owed (requesterNews), settled once:
   * posted, then recorded (requesterTold), under this sync's claim, so no other instance sends it meanwhile;
   * a crash in between sends it once more, as it would a thread reply. Not owed (off, or their own cancel):
   * recorded all the same, so the request is in step. chat.postMessage to a user id lands in the app's
   * Messages tab. Paced like any post (the DM is its own channel); returns the turn to wait for, if any.
   */
  private async tellRequester(
    request: DeletionRequest,
    ts: string | null,
    turns: { granted: Turn | null },
  ): Promise<Turn | null> {
    if (!requesterNewsPending(request)) return null;
    const dm = this.options.requesterDm;
    const news = dm ? requesterNews(request) : null;
    if (!dm || news === null) {
      await this.store.recordMessage(request.id, { requesterTold: request.state });
      return null;
    }
    const turn: Turn = { bucket: bucketOf('chat.postMessage', request.requesterId), priority: 'rest' };
    if (!this.mayCall(turn, turns)) return turn;
    const permalink = ts !== null && ts !== NO_MESSAGE_TS ? await dm.permalink(request.channelId, ts) : null;
    try {
      await this.slackCall(turn, () =>
        this.client.chat.postMessage({
          channel: request.requesterId,
          text: renderRequesterDm(request, permalink, this.options.now()),
          unfurl_links: false,
          unfurl_media: false,
        }),
      );
      this.logger.info('requester told', { requestId: request.id, state: news });
    } catch (error) {
      const code = error instanceof SlackCallFailed ? error.slackCode : undefined;
      if (!code || DM_TRANSIENT.has(code)) throw error;
      this.logger.warn('Slack refused the direct message to the requester; the request goes on', {
        requestId: request.id,
        error: code,
      });
    }
    await this.store.recordMessage(request.id, { requesterTold: news });
    return null;
  }
}
