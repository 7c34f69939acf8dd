// Paces Slack Web API calls as Slack counts them: chat.postMessage per channel (about one a second, short
// bursts tolerated), other methods per method. A 429 closes the whole bucket until its Retry-After, so no
// call of that bucket is sent into a limit Slack has announced. Waiters are served approval messages first.

/** `first`: a request's approval message; `rest`: thread replies and updates of messages already up. */
export type Priority = 'first' | 'rest';

/**
 * chat.postMessage's per-channel limit is the one Slack states as a rate (1 per second, short bursts). Slack
 * counts a call when it arrives, which we never see: an emptied bucket refills from the answer (`answered`),
 * by when Slack has surely counted the call, so our count never runs ahead of Slack's. Slack's
 * tiers (chat.update Tier 3, 50+ a minute; chat.postEphemeral Tier 4, 100+) are minimums that Slack lets
 * apps burst past, so those are paced only by the Retry-After Slack sends when it holds a method back.
 */
export const SLACK_POST_INTERVAL_MS = 1_000;
const POST_BURST = 3;
/** Buckets kept at most before idle ones (full, nobody waiting, not held back) are forgotten. */
const KEEP_BUCKETS = 1_000;

/** The bucket a call counts against. */
export function bucketOf(method: string, channel: string): string {
  return method === 'chat.postMessage' ? `${method} ${channel}` : method;
}

interface Bucket {
  /** Calls that may go now; null: not paced by rate (only by Retry-After). */
  tokens: number | null;
  refilledAt: number;
  /** No call of this bucket before this time (Slack's Retry-After). */
  closedUntil: number;
  waiting: Record<Priority, (() => void)[]>;
  timer: NodeJS.Timeout | null;
}

export class SlackPacer {
  private readonly buckets = new Map<string, Bucket>();
  private forgottenAt = 0;

  constructor(
    private readonly now: () => number = Date.now,
    /** chat.postMessage's refill interval per channel; tests of many posts in one channel shorten it. */
    private readonly postIntervalMs = SLACK_POST_INTERVAL_MS,
  ) {}

  /** A call may go now without overtaking anyone: take it (true), or false and the caller waits its turn. */
  tryTake(key: string): boolean {
    const bucket = this.bucket(key);
    if (bucket.waiting.first.length > 0 || bucket.waiting.rest.length > 0) return false;
    return this.takeNow(bucket);
  }

  /** Resolves when a call of this bucket may go (the turn is taken: make the call, or `giveBack`). */
  take(key: string, priority: Priority): Promise<void> {
    if (this.tryTake(key)) return Promise.resolve();
    const bucket = this.bucket(key);
    return new Promise((resolve) => {
      bucket.waiting[priority].push(resolve);
      this.schedule(bucket);
    });
  }

  /** A turn taken and not used. */
  giveBack(key: string): void {
    const bucket = this.buckets.get(key);
    if (!bucket || bucket.tokens === null) return;
    bucket.tokens = Math.min(POST_BURST, bucket.tokens + 1);
    this.serve(bucket);
  }

  /** Slack answered a call of this bucket (anything but a 429). */
  answered(key: string): void {
    const bucket = this.buckets.get(key);
    if (!bucket || bucket.tokens === null) return;
    this.refill(bucket, this.now());
    if (bucket.tokens < 1) bucket.refilledAt = Math.max(bucket.refilledAt, this.now());
  }

  /** Slack answered 429: nothing of this bucket goes before `retryAfterMs` from now. */
  rateLimited(key: string, retryAfterMs: number): void {
    const bucket = this.bucket(key);
    const now = this.now();
    bucket.closedUntil = Math.max(bucket.closedUntil, now + retryAfterMs);
    if (bucket.tokens !== null) {
      // Slack counted more than we did: start again from an empty bucket once it reopens.
      bucket.tokens = 0;
      bucket.refilledAt = bucket.closedUntil;
    }
    this.schedule(bucket);
  }

  private bucket(key: string): Bucket {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      // At most once a second, so a burst over many channels doesn't scan the map for each new one.
      if (this.buckets.size >= KEEP_BUCKETS && this.now() - this.forgottenAt >= this.postIntervalMs) this.forgetIdle();
      const paced = key.startsWith('chat.postMessage ');
      bucket = {
        tokens: paced ? POST_BURST : null,
        refilledAt: this.now(),
        closedUntil: 0,
        waiting: { first: [], rest: [] },
        timer: null,
      };
      this.buckets.set(key, bucket);
    }
    return bucket;
  }

  private refill(bucket: Bucket, now: number): void {
    if (bucket.tokens === null || now <= bucket.refilledAt) return;
    const earned = Math.floor((now - bucket.refilledAt) / this.postIntervalMs);
    if (earned === 0) return;
    bucket.tokens = Math.min(POST_BURST, bucket.tokens + earned);
    bucket.refilledAt = bucket.tokens === POST_BURST ? now : bucket.refilledAt + earned * this.postIntervalMs;
  }

  private takeNow(bucket: Bucket): boolean {
    const now = this.now();
    if (now < bucket.closedUntil) return false;
    if (bucket.tokens === null) return true;
    this.refill(bucket, now);
    if (bucket.tokens < 1) return false;
    bucket.tokens--;
    return true;
  }

  /** Hand out turns to waiters, approval messages first, each priority in order of arrival. */
  private serve(bucket: Bucket): void {
    for (;;) {
      const queue = bucket.waiting.first.length > 0 ? bucket.waiting.first : bucket.waiting.rest;
      if (queue.length === 0 || !this.takeNow(bucket)) break;
      queue.shift()?.();
    }
    this.schedule(bucket);
  }

  private schedule(bucket: Bucket): void {
    if (bucket.timer || (bucket.waiting.first.length === 0 && bucket.waiting.rest.length === 0)) return;
    const now = this.now();
    let at = bucket.closedUntil;
    if (bucket.tokens !== null && bucket.tokens < 1) at = Math.max(at, bucket.refilledAt + this.postIntervalMs);
    bucket.timer = setTimeout(
      () => {
        bucket.timer = null;
        this.serve(bucket);
      },
      Math.max(0, at - now),
    );
  }

  private forgetIdle(): void {
    const now = this.now();
    this.forgottenAt = now;
    for (const [key, bucket] of this.buckets) {
      this.refill(bucket, now);
      const idle = bucket.waiting.first.length === 0 && bucket.waiting.rest.length === 0 && bucket.timer === null;
      if (idle && now >= bucket.closedUntil && (bucket.tokens === null || bucket.tokens === POST_BURST))
        this.buckets.delete(key);
    }
  }
}
