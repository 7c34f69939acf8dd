// The periodic backstop that keeps promises the moment can't: expiry within a minute, delayed
// DELETEs after a restart, recovery of a DELETE whose owner died, settle checks of uncertain outcomes,
// reminders to approvers of undecided requests, and Slack messages that fell behind.
// Every step is a conditional update, so several instances sweeping at once is safe.
import { errorFields, type Logger } from './logger';
import type { Requests } from './requests';
import type { Store } from './store/types';

export interface SweeperDeps {
  store: Store;
  requests: Requests;
  sync: (requestId: string) => Promise<void>;
  now: () => number;
  logger: Logger;
  intervalMs: number;
}

const BATCH = 50;

export class Sweeper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;

  constructor(private readonly deps: SweeperDeps) {}

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.sweep(), this.deps.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One pass; overlapping calls share the pass under way. */
  sweep(): Promise<void> {
    if (!this.running) {
      this.running = this.pass().finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  private started(work: Promise<void>): void {
    work.catch((error: unknown) => this.deps.logger.warn('sweep failed; will try again', errorFields(error)));
  }

  private async pass(): Promise<void> {
    const { store, requests, sync, now } = this.deps;
    const { decisions, executor } = requests;
    // Each step on its own: one that fails (the store away for a moment) doesn't skip the others.
    await this.step(async () => {
      const expirable = await store.listForSweep({ kind: 'expirable', now: now(), limit: BATCH });
      for (const request of expirable) await decisions.expire(request);
    });
    // DELETEs are started, not awaited: one slow BotPenguin call (retries and all) must not hold up expiry,
    // recovery or messages here. The executor tracks them (idle(), shutdown); a claimed one is not listed again.
    // Due and stale are the database's to say (its clock), not this instance's.
    await this.step(async () => {
      const due = await store.listForSweep({ kind: 'due', limit: BATCH });
      for (const request of due) this.started(executor.run(request.id));
    });
    await this.step(async () => {
      const stale = await store.listForSweep({ kind: 'stale', limit: BATCH });
      for (const request of stale) this.started(executor.recover(request));
    });
    this.started(executor.settleUncertain());
    await this.step(() => requests.reminders.remindDue());
    // Due-time order (a request whose sync keeps failing is pushed back), so nothing waits behind it.
    await this.step(async () => {
      await Promise.all((await store.listOutOfSync(BATCH, now())).map((request) => sync(request.id)));
    });
  }

  private async step(work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.deps.logger.warn('sweep failed; will try again', errorFields(error));
    }
  }
}
