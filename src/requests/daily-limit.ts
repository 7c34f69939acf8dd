// MAX_DELETIONS_PER_DAY, decided here only: a day is a UTC day, dry runs are never counted, the last
// approval is refused up front once the day's limit is spent (so the approver is told why), and a claim
// past it ends the request. The store counts the day's DELETEs under its claim lock, so racing claims on
// any instance can't overrun the limit.
import type { Store } from '../store/types';
import type { Refusal } from './refusals';
import type { DeletionOutcome } from './types';

const DAY_MS = 86_400_000;

export const startOfUtcDay = (ms: number) => ms - (ms % DAY_MS);

export class DailyLimit {
  constructor(
    private readonly store: Store,
    readonly max: number,
  ) {}

  /** The refusal of a DELETE that would start at `now` (a dry run never counts), or null. */
  async refusal(now: number, dryRun: boolean): Promise<Refusal | null> {
    if (dryRun) return null;
    const dayStart = startOfUtcDay(now);
    if ((await this.store.countDeletionsSince(dayStart)) < this.max) return null;
    return { kind: 'daily_limit', max: this.max, resetsAt: dayStart + DAY_MS };
  }

  /** What a claim at `now` is counted against. */
  claimWindow(now: number): { dayStart: number; maxPerDay: number } {
    return { dayStart: startOfUtcDay(now), maxPerDay: this.max };
  }

  /** The outcome of a request whose claim found the day's limit spent. */
  reached(): DeletionOutcome {
    return {
      ok: false,
      kind: 'daily_limit',
      said: 'bot',
      message: `The daily limit of ${this.max} deletions was reached before this one could run.`,
    };
  }
}
