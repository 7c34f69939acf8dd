// Bounds on background work: a Limiter runs at most N pieces at once, the rest wait in order; a WorkQueue
// does the same for work named by an id, in two lanes, holding only ids while they wait.

/** At most N pieces of background work at once; a freed slot goes straight to the longest waiter. */
export class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly max: number) {}

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active < this.max) this.active++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

/** `first` runs before anything in `rest`; each lane is first come, first served. */
export type Lane = 'first' | 'rest';

export interface WorkQueueOptions {
  /** Ids worked on at once. */
  concurrency: number;
  /** Ids waiting at most; past it new ids are refused (the caller has a backstop for them). */
  maxWaiting: number;
  /** The work for one id; should not throw (a throw is swallowed). */
  work: (id: string, lane: Lane) => Promise<void>;
  /** How work is started: after the current turn of the event loop, so never before a pending answer is sent. */
  defer?: (start: () => void) => void;
}

interface Entry {
  lane: Lane;
  running: boolean;
  /** Asked for again while running: queue it once more (in `rest`) when this run ends. */
  again: boolean;
  done: Promise<void>;
  settle: () => void;
}

/** First in, first out over an array, without shifting it (a burst can hold thousands of ids). */
class Fifo {
  private items: string[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(id: string): void {
    this.items.push(id);
  }

  shift(): string | undefined {
    if (this.head >= this.items.length) return undefined;
    const id = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return id;
  }
}

/**
 * Work named by an id: an id asked for while it waits is still one job (in the better of the two lanes);
 * asked for while it runs, it runs once more afterwards. What waits is the id, never a closure over a payload.
 */
export class WorkQueue {
  private readonly entries = new Map<string, Entry>();
  private readonly lanes: Record<Lane, Fifo> = { first: new Fifo(), rest: new Fifo() };
  private waiting = 0;
  private active = 0;
  private startScheduled = false;
  private readonly defer: (start: () => void) => void;

  constructor(private readonly options: WorkQueueOptions) {
    this.defer = options.defer ?? ((start) => setImmediate(start));
  }

  /** Ids waiting or running. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Ask for work on an id. Resolves when the id has no work left (never rejects); null when refused because
   * `maxWaiting` ids already wait.
   */
  add(id: string, lane: Lane = 'rest'): Promise<void> | null {
    const entry = this.entries.get(id);
    if (entry) {
      if (entry.running) entry.again = true;
      else if (lane === 'first' && entry.lane === 'rest') {
        // Promoted: the copy left in `rest` is skipped when it comes up.
        entry.lane = 'first';
        this.lanes.first.push(id);
      }
      return entry.done;
    }
    if (this.waiting >= this.options.maxWaiting) return null;
    let settle = () => {};
    const done = new Promise<void>((resolve) => {
      settle = resolve;
    });
    this.entries.set(id, { lane, running: false, again: false, done, settle });
    this.enqueue(id, lane);
    return done;
  }

  /** Resolves once nothing waits or runs (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.entries.size > 0) await Promise.all([...this.entries.values()].map((e) => e.done));
  }

  private enqueue(id: string, lane: Lane): void {
    this.waiting++;
    this.lanes[lane].push(id);
    if (this.startScheduled) return;
    this.startScheduled = true;
    this.defer(() => {
      this.startScheduled = false;
      this.fill();
    });
  }

  /** The next waiting id, skipping copies left behind by a promotion or by an id that already ran. */
  private next(): { id: string; entry: Entry } | null {
    for (const lane of ['first', 'rest'] as const) {
      for (let id = this.lanes[lane].shift(); id !== undefined; id = this.lanes[lane].shift()) {
        const entry = this.entries.get(id);
        if (entry && !entry.running && entry.lane === lane) return { id, entry };
      }
    }
    return null;
  }

  private fill(): void {
    while (this.active < this.options.concurrency) {
      const next = this.next();
      if (!next) return;
      this.waiting--;
      this.active++;
      void this.runOne(next.id, next.entry);
    }
  }

  private async runOne(id: string, entry: Entry): Promise<void> {
    entry.running = true;
    try {
      await this.options.work(id, entry.lane);
    } catch {
      // The work reports its own failures; a slot must never be lost to one.
    } finally {
      this.active--;
      entry.running = false;
      if (entry.again) {
        entry.again = false;
        entry.lane = 'rest';
        this.enqueue(id, 'rest');
      } else {
        this.entries.delete(id);
        entry.settle();
      }
      this.fill();
    }
  }
}
