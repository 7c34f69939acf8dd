// Sends the DELETE for an approved request, exactly once: the approved → executing claim is a
// conditional update, so only one click, timer, sweeper or instance ever wins it.
import type { CheckpointHook } from '../checkpoints';
import { errorFields, type Logger } from '../logger';
import type { Store } from '../store/types';
import type { ChangeNotifier, DeleteResult, Deleter } from './ports';
import { customerChanged, type Previewer } from './preview';
import { Scheduler } from './scheduler';
import type { DeletionOutcome, DeletionRequest } from './types';

export interface ExecutorDeps {
  store: Store;
  deleter: Deleter;
  previewer: Previewer | null;
  now: () => number;
  /**
   * How long an execution stays ours without renewal. While its DELETE (with retries) is under way we renew
   * the lease every leaseMs / 3, so after a crash another instance (or this one, restarted) takes over
   * within about one lease, and never while we are alive and renewing.
   */
  leaseMs: number;
  maxDeletionsPerDay: number;
  onChange: ChangeNotifier;
  logger: Logger;
  /** Called at each checkpoint (see checkpoints.ts); the process tests kill the bot there. */
  checkpoint?: CheckpointHook;
}

/** Attempts at recording a DELETE's outcome before giving up (recovery then re-sends it). */
const PERSIST_ATTEMPTS = 20;

export const startOfUtcDay = (ms: number) => ms - (ms % 86_400_000);

export class Executor {
  private readonly inflight = new Set<Promise<void>>();
  /** Requests whose DELETE this process is sending: never "recovered" by our own sweeper. */
  private readonly sending = new Set<string>();
  private accepting = true;
  /** The delay timers of requests approved in this process. */
  private readonly scheduler: Scheduler;

  constructor(private readonly deps: ExecutorDeps) {
    this.scheduler = new Scheduler({ run: (requestId) => this.run(requestId), now: deps.now, logger: deps.logger });
  }

  /** Shutdown: start no new DELETE. Approved requests stay due in the store for any instance; those under way finish. */
  stopAccepting(): void {
    this.accepting = false;
  }

  /** Run a just-approved request now, or at its executeAt. */
  schedule(request: DeletionRequest): void {
    this.scheduler.schedule(request);
  }

  /** Forget an aborted request's timer. */
  unschedule(requestId: string): void {
    this.scheduler.unschedule(requestId);
  }

  /** Shutdown (and tests): drop every delay timer; the store still says what is due. */
  stopTimers(): void {
    this.scheduler.stop();
  }

  /** Run an approved request whose time has come. Resolves when it is decided (or not ours). */
  run(requestId: string): Promise<void> {
    return this.track(this.runNow(requestId));
  }

  /** Wait for every DELETE under way (shutdown, tests). */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  private track(work: Promise<void>): Promise<void> {
    this.inflight.add(work);
    return work.finally(() => this.inflight.delete(work));
  }

  private async runNow(requestId: string): Promise<void> {
    const { store, now } = this.deps;
    if (!this.accepting) return;
    const claim = await store.claimExecution(requestId, {
      now: now(),
      leaseUntil: now() + this.deps.leaseMs,
      dayStart: startOfUtcDay(now()),
      maxPerDay: this.deps.maxDeletionsPerDay,
    });
    // The store decides whether it is approved and due, so this is the only check.
    if (claim.result === 'daily_limit') {
      await this.finish(claim.request, ['approved'], {
        ok: false,
        kind: 'daily_limit',
        message: `The daily limit of ${this.deps.maxDeletionsPerDay} deletions was reached before this one could run.`,
      });
      return;
    }
    const claimed = claim.result === 'claimed' ? claim.request : null;
    if (!claimed) return; // another click, timer or instance has it, or it was aborted
    this.deps.onChange(requestId);
    await this.send(claimed);
  }

  /** Take over an executing request whose DELETE never got its answer recorded (its owner died). */
  recover(request: DeletionRequest): Promise<void> {
    return this.track(this.recoverNow(request));
  }

  private async recoverNow(request: DeletionRequest): Promise<void> {
    const { store, now } = this.deps;
    if (!this.accepting || this.sending.has(request.id)) return;
    this.sending.add(request.id); // one attempt at a time in this process
    try {
      // The sweeper's list may be a while old: look again, so an owner that renewed meanwhile keeps its DELETE.
      const current = await store.getRequest(request.id);
      if (
        !current ||
        current.state !== 'executing' ||
        (current.leaseUntil ?? 0) >= now() ||
        current.deleteStarts !== request.deleteStarts
      ) {
        return;
      }
      // Conditional on the lease having run out and on nobody having taken over since we looked.
      const claimed = await store.takeOverExecution(request.id, {
        now: now(),
        leaseUntil: now() + this.deps.leaseMs,
        seenDeleteStarts: current.deleteStarts,
      });
      if (!claimed) return;
      this.deps.logger.warn('resending a DELETE whose answer was never recorded', {
        requestId: request.id,
        customerId: request.customerId,
      });
      await this.send(claimed);
    } finally {
      this.sending.delete(request.id);
    }
  }

  /** Send the DELETE of a request we just claimed, holding its lease until the outcome is recorded. */
  private async send(request: DeletionRequest): Promise<void> {
    this.sending.add(request.id);
    const heartbeat = this.holdLease(request.id);
    try {
      await this.sendClaimed(request);
    } finally {
      heartbeat.stop();
      this.sending.delete(request.id);
    }
  }

  private holdLease(requestId: string): { stop(): void } {
    const { store, now, leaseMs, logger } = this.deps;
    let renewing = false;
    const timer = setInterval(
      () => {
        if (renewing) return;
        renewing = true;
        store
          .renewLease(requestId, now() + leaseMs)
          .then(
            (renewed) => {
              if (!renewed) clearInterval(timer); // no longer executing: decided, nothing left to hold
            },
            (error: unknown) =>
              logger.warn('could not renew the execution lease; will try again', { requestId, ...errorFields(error) }),
          )
          .finally(() => {
            renewing = false;
          });
      },
      Math.max(10, Math.floor(leaseMs / 3)),
    );
    timer.unref();
    return { stop: () => clearInterval(timer) };
  }

  private async sendClaimed(request: DeletionRequest): Promise<void> {
    const { deps } = this;
    if (request.dryRun) {
      await this.finish(request, ['executing'], {
        ok: true,
        kind: 'dry_run',
        message: 'DRY RUN: no DELETE was sent.',
      });
      return;
    }
    if (deps.previewer && request.preview?.status === 'found') {
      const again = await deps.previewer.lookup(request.customerId, true);
      if (customerChanged(request.preview, again)) {
        await this.finish(request, ['executing'], {
          ok: false,
          kind: 'customer_changed',
          message: 'The customer’s name or email changed since the request was shown, so nothing was deleted.',
        });
        return;
      }
    }
    deps.logger.info('sending DELETE', {
      requestId: request.id,
      customerId: request.customerId,
      attempt: request.deleteStarts,
    });
    const result = await deps.deleter.deleteCustomer(request.customerId);
    this.deps.checkpoint?.('after-delete-answered');
    await this.finish(request, ['executing'], toOutcome(result, request.deleteStarts > 1));
  }

  /** `write`, tried again with backoff (about 80 s in all) while it fails. */
  private async persist<T>(requestId: string, write: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await write();
      } catch (error) {
        if (attempt >= PERSIST_ATTEMPTS) throw error;
        this.deps.logger.warn('could not record the outcome; will try again', {
          requestId,
          attempt,
          ...errorFields(error),
        });
        await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 100 * 2 ** attempt)));
      }
    }
  }

  private async finish(request: DeletionRequest, from: DeletionRequest['state'][], outcome: DeletionOutcome) {
    const at = this.deps.now();
    // The answer is known only here: a store that fails for a moment (a failover) must not lose it, or
    // recovery would send the DELETE again. Tried again while our lease heartbeat keeps the request ours.
    const done = await this.persist(request.id, () =>
      this.deps.store.transition(
        request.id,
        from,
        outcome.ok ? 'succeeded' : 'failed',
        { outcome, finishedAt: at, leaseUntil: null },
        { kind: outcome.ok ? 'deleted' : 'failed', actorId: null, detail: outcome.message, at },
      ),
    );
    this.deps.logger.info('request finished', {
      requestId: request.id,
      customerId: request.customerId,
      state: done?.state ?? 'unchanged',
      outcome: outcome.kind,
      httpStatus: outcome.httpStatus,
    });
    this.deps.checkpoint?.('after-delete-recorded');
    this.deps.onChange(request.id);
  }
}

/** A BotPenguin answer as the request's outcome; a "not found" on a re-send means our first DELETE worked. */
export function toOutcome(result: DeleteResult, resend: boolean): DeletionOutcome {
  if (result.ok)
    return { ok: true, kind: 'deleted', message: result.message, httpStatus: result.status, attempts: result.attempts };
  // A "not found" after a re-send (a crash lost the first answer), or after an earlier attempt of this
  // call went unanswered, means our own DELETE got there first.
  if (result.kind === 'not_found' && (resend || result.earlierAttemptUncertain)) {
    return {
      ok: true,
      kind: 'already_gone',
      message: result.message,
      httpStatus: result.status,
      attempts: result.attempts,
    };
  }
  return {
    ok: false,
    kind: result.kind,
    message: result.message,
    httpStatus: result.status,
    attempts: result.attempts,
  };
}
