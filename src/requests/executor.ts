// Sends the DELETE for an approved request, exactly once: the approved → executing claim is a
// conditional update, so only one click, timer, sweeper or instance ever wins it.
import type { DeleteResult } from '../botpenguin/client';
import type { Logger } from '../logger';
import type { Store } from '../store/types';
import { customerChanged, type Previewer } from './preview';
import type { DeletionOutcome, DeletionRequest } from './types';

export interface Deleter {
  deleteCustomer(customerId: string): Promise<DeleteResult>;
}

export interface ExecutorDeps {
  store: Store;
  deleter: Deleter;
  previewer: Previewer | null;
  now: () => number;
  /** How long one DELETE (all its attempts) may take before another instance may take it over. */
  leaseMs: number;
  maxDeletionsPerDay: number;
  onChange: (requestId: string) => void;
  logger: Logger;
}

export const startOfUtcDay = (ms: number) => ms - (ms % 86_400_000);

export class Executor {
  private readonly inflight = new Set<Promise<void>>();

  constructor(private readonly deps: ExecutorDeps) {}

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
    const request = await store.getRequest(requestId);
    if (!request || request.state !== 'approved' || (request.executeAt ?? 0) > now()) return;

    if (!request.dryRun && (await store.countDeletionsSince(startOfUtcDay(now()))) >= this.deps.maxDeletionsPerDay) {
      await this.finish(request, ['approved'], {
        ok: false,
        kind: 'daily_limit',
        message: `The daily limit of ${this.deps.maxDeletionsPerDay} deletions was reached before this one could run.`,
      });
      return;
    }
    const claimed = await store.transition(
      requestId,
      ['approved'],
      'executing',
      { leaseUntil: now() + this.deps.leaseMs, countDeleteStart: now() },
      null,
    );
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
    if (request.state !== 'executing' || (request.leaseUntil ?? 0) >= now()) return;
    // Conditional on the lease we saw, so two instances recovering at once can't both send.
    const claimed = await store.transition(
      request.id,
      ['executing'],
      'executing',
      { leaseUntil: now() + this.deps.leaseMs, countDeleteStart: now() },
      null,
    );
    if (!claimed || claimed.deleteStarts !== request.deleteStarts + 1) return;
    this.deps.logger.warn('resending a DELETE whose answer was never recorded', {
      requestId: request.id,
      customerId: request.customerId,
    });
    await this.send(claimed);
  }

  private async send(request: DeletionRequest): Promise<void> {
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
    await this.finish(request, ['executing'], toOutcome(result, request.deleteStarts > 1));
  }

  private async finish(request: DeletionRequest, from: DeletionRequest['state'][], outcome: DeletionOutcome) {
    const at = this.deps.now();
    const done = await this.deps.store.transition(
      request.id,
      from,
      outcome.ok ? 'succeeded' : 'failed',
      { outcome, finishedAt: at, leaseUntil: null },
      { kind: outcome.ok ? 'deleted' : 'failed', actorId: null, detail: outcome.message, at },
    );
    this.deps.logger.info('request finished', {
      requestId: request.id,
      customerId: request.customerId,
      state: done?.state ?? 'unchanged',
      outcome: outcome.kind,
      httpStatus: outcome.httpStatus,
    });
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
