// A bound on background work: at most N pieces at once, the rest wait in order, in two lanes.

/** `first` waiters get a freed slot before any `rest` waiter; each lane is first come, first served. */
export type Lane = 'first' | 'rest';

/** At most N pieces of background work at once; a freed slot goes straight to the longest waiter of the best lane. */
export class Limiter {
  private active = 0;
  private readonly waiting: Record<Lane, (() => void)[]> = { first: [], rest: [] };

  constructor(private readonly max: number) {}

  /**
   * Inside `run`: if work waits in the `first` lane, hand it this slot and wait for the next free one in the
   * `rest` lane; else keep the slot.
   */
  async makeWay(): Promise<void> {
    const next = this.waiting.first.shift();
    if (!next) return;
    next();
    await new Promise<void>((resolve) => this.waiting.rest.push(resolve));
  }

  async run<T>(work: () => Promise<T>, lane: Lane = 'rest'): Promise<T> {
    if (this.active < this.max) this.active++;
    else await new Promise<void>((resolve) => this.waiting[lane].push(resolve));
    try {
      return await work();
    } finally {
      const next = this.waiting.first.shift() ?? this.waiting.rest.shift();
      if (next) next();
      else this.active--;
    }
  }
}
