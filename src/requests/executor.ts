// Sends the DELETE for an approved request, exactly once: the approved → executing claim is a
// conditional update, so only one click, timer, sweeper or instance ever wins it. Lease and due times are
// the database's; the claim's fencing token (the count of starts) fences a holder off once another took over. An answer
// that never came is recorded as uncertain, then settled by looking the customer up again.
import { checkpoint } from '../checkpoints';
import type { Policy } from '../config';
import { errorFields, type Logger } from '../logger';
import type { FencingToken, Store } from '../store/types';
import type { DailyLimit } from './daily-limit';
import { deleteSentEvent, formerApproversDrop, reopenedEvent } from './event-details';
import { holdLease, persist } from './holding';
import {
  eventFor,
  type Hold,
  heldEvent,
  heldOutcome,
  SETTLE_WINDOW_MS,
  stateFor,
  toOutcome,
  tooManyStartsOutcome,
} from './outcomes';
import { approvalsRequired, type Permissions } from './permissions';
import type { ChangeNotifier, Deleter } from './ports';
import { customerChanged, erasedBeforeDelete, type Previewer } from './preview';
import type { DeletionOutcome, DeletionRequest } from './types';

/** DELETEs started for one request, across crashes, after which a take-over records uncertain instead. */
export const MAX_DELETE_STARTS = 3;
/** Settle checks of an uncertain request (the first right away, then by the sweeper) and their spacing. */
const MAX_SETTLE_CHECKS = 6;
const SETTLE_CHECK_EVERY_MS = 2.5 * 60_000;
/** Looks at the lease and the pause before a DELETE attempt when the store fails (0.1 s, then 0.2 s apart). */
const GATE_CHECKS = 3;
const GATE_CHECK_DELAY_MS = 100;

export interface ExecutorDeps {
  store: Store;
  deleter: Deleter;
  previewer: Previewer | null;
  now: () => number;
  /**
   * How long an execution stays ours without renewal. While its DELETE (with retries) is under way we renew
   * the lease every leaseMs / 3, so after a crash another instance (or this one, restarted) takes over
   * within about one lease, and never while we are alive and renewing. Measured on the database's clock.
   */
  leaseMs: number;
  dailyLimit: DailyLimit;
  /** Whether Slack can reach the bot now (in Socket Mode: the socket is connected). */
  hearsSlack: () => boolean;
  /** This instance's settings: a stricter DRY_RUN or APPROVALS_REQUIRED applies to older requests too. */
  policy: Pick<Policy, 'dryRun' | 'approvalsRequired' | 'executionDelayMs'>;
  /** Which approvals still count when the DELETE is claimed (group lookups cached 60 s). */
  permissions: Pick<Permissions, 'approvalsThatCount'>;
  onChange: ChangeNotifier;
  logger: Logger;
}

/** Each start of a DELETE (a claim, a take-over) is a new token; the store refuses writes of an older one. */
const fencingToken = (request: DeletionRequest): FencingToken => request.deleteStarts;

export class Executor {
  private readonly inflight = new Set<Promise<void>>();
  /** Requests whose DELETE this process is sending: never "recovered" by our own sweeper. */
  private readonly sending = new Set<string>();
  private accepting = true;
  /** The delay timers of requests approved in this process; the sweeper is the backstop if it dies first. */
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly deps: ExecutorDeps) {}

  /** Shutdown: start no new DELETE. Approved requests stay due in the store for any instance; those under way finish. */
  stopAccepting(): void {
    this.accepting = false;
  }

  /** Run a just-approved request now, or at its executeAt. */
  schedule(request: DeletionRequest): void {
    const delay = (request.executeAt ?? 0) - this.deps.now();
    const run = () => {
      this.timers.delete(request.id);
      this.run(request.id).catch((error: unknown) => {
        this.deps.logger.error('execution failed unexpectedly', { requestId: request.id, error: String(error) });
      });
    };
    if (delay <= 0) {
      run();
      return;
    }
    this.unschedule(request.id);
    const timer = setTimeout(run, delay);
    timer.unref();
    this.timers.set(request.id, timer);
  }

  /** Forget an aborted request's timer. */
  unschedule(requestId: string): void {
    const timer = this.timers.get(requestId);
    if (timer) clearTimeout(timer);
    this.timers.delete(requestId);
  }

  /** Shutdown (and tests): drop every delay timer; the store still says what is due. */
  stopTimers(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
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
    const { store, now, policy, logger } = this.deps;
    if (!this.accepting) return;
    const due = await store.getRequest(requestId);
    if (!due || due.state !== 'approved' || (due.executeAt ?? 0) > now()) return;
    // Its Abort could not reach us while Slack can't: an Abort window's DELETE waits for the socket to be back.
    if (policy.executionDelayMs > 0 && !this.deps.hearsSlack()) {
      logger.warn('Slack can’t reach the bot: a due DELETE that could be aborted waits until it can', { requestId });
      return; // it stays approved and due: the sweeper tries again
    }
    // An approval counts only if its giver is still an approver when the DELETE is claimed.
    const approvals = await this.deps.permissions.approvalsThatCount(due);
    if (approvals === null) {
      logger.warn('could not check the approvers of a due DELETE; will try again', { requestId });
      return; // it stays approved and due: the sweeper tries again
    }
    // While DELETEs are paused nothing is judged: the claim below says so, in one step with the pause.
    const required = approvalsRequired(due, policy);
    if (!due.pause && approvals.counted.length < required) {
      await this.reopen(due, approvals.counted.length, required, approvals.formerApprovers);
      return;
    }
    const claim = await store.claimExecution(requestId, {
      now: now(),
      leaseMs: this.deps.leaseMs,
      ...this.deps.dailyLimit.claimWindow(now()),
      dryRun: policy.dryRun,
      drop: formerApproversDrop(approvals.formerApprovers, now()),
      sent: deleteSentEvent(due.deleteStarts + 1, now()),
    });
    if (claim.kind === 'paused') {
      logger.debug('DELETE waits: DELETEs are paused', { requestId, pausedBy: claim.request.pause?.by });
      return;
    }
    // The store decides whether it is approved and due, so this is the only check.
    if (claim.kind === 'daily_limit') {
      await this.finish(claim.request, null, this.deps.dailyLimit.reached());
      return;
    }
    const claimed = claim.kind === 'claimed' ? claim.request : null;
    if (!claimed) return; // another click, timer or instance has it, or it was aborted
    this.deps.onChange(requestId);
    await this.send(claimed);
  }

  /** Back to pending: fewer approvals count than it needs (approvers were removed since they approved). */
  private async reopen(request: DeletionRequest, counted: number, required: number, formerApprovers: string[]) {
    const at = this.deps.now();
    const reopened = await this.deps.store.transition(
      request.id,
      ['approved'],
      'pending',
      {
        executeAt: null,
        approvalsRequired: required,
        dropApprovals: formerApproversDrop(formerApprovers, at),
      },
      reopenedEvent(counted, required, formerApprovers, at),
    );
    if (!reopened) return; // claimed, aborted or reopened by another click, timer or instance
    this.deps.logger.warn('approved request back to pending: too few valid approvals', {
      requestId: request.id,
      approvals: reopened.approvals.length,
      approvalsRequired: reopened.approvalsRequired,
      notCounted: formerApprovers,
    });
    this.deps.onChange(request.id);
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
      // The sweeper's list may be a while old: look again. Whether the lease ran out is the store's to say,
      // on the database's clock (ours may be off), in the same step as the take-over.
      const current = await store.getRequest(request.id);
      if (!current || current.state !== 'executing' || fencingToken(current) !== fencingToken(request)) return;
      // A re-send is a DELETE too: it waits while DELETEs are paused (the lease stays run out for later).
      if (await store.getPause()) return;
      // Conditional on the lease having run out and on nobody having taken over since we looked.
      // The trail's delete_sent, unless this start sends nothing (a dry run, or one started too often).
      const start = current.deleteStarts + 1;
      const sends = !current.dryRun && !this.deps.policy.dryRun && start <= MAX_DELETE_STARTS;
      const claimed = await store.takeOverExecution(request.id, {
        now: now(),
        leaseMs: this.deps.leaseMs,
        seenToken: fencingToken(current),
        sent: sends ? deleteSentEvent(start, now()) : null,
      });
      if (!claimed) return;
      if (claimed.deleteStarts > MAX_DELETE_STARTS) {
        // Every start so far may have reached BotPenguin: sending yet again would only add risk.
        this.deps.logger.warn('not re-sending a DELETE started too often; recording it as uncertain', {
          requestId: request.id,
          customerId: request.customerId,
          starts: claimed.deleteStarts - 1,
        });
        await this.finish(claimed, fencingToken(claimed), tooManyStartsOutcome(claimed.deleteStarts - 1));
        return;
      }
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
    const heartbeat = holdLease(this.deps, request.id, fencingToken(request));
    try {
      await this.sendClaimed(request);
    } finally {
      heartbeat.stop();
      this.sending.delete(request.id);
    }
  }

  private async sendClaimed(request: DeletionRequest): Promise<void> {
    const { deps } = this;
    const token = fencingToken(request);
    // Claimed as a dry run (asked under DRY_RUN, or claimed by an instance that runs with it): no start sent one.
    if (request.dryRun) {
      await this.finish(request, token, {
        ok: true,
        kind: 'dry_run',
        said: 'bot',
        message: 'DRY RUN: no DELETE was sent.',
      });
      return;
    }
    // A dry-run instance that took over a DELETE started for real: it sends none, and can't say none was sent.
    if (deps.policy.dryRun) {
      await this.finish(request, token, heldOutcome('dry_run', request, 0));
      return;
    }
    const shown = request.preview;
    if (deps.previewer && (shown?.status === 'found' || shown?.fingerprint)) {
      const again = await deps.previewer.lookup(request.customerId, true);
      if (customerChanged(request.id, shown, again)) {
        await this.finish(request, token, {
          ok: false,
          kind: 'customer_changed',
          said: 'bot',
          message: 'The customer’s name or email changed since the request was shown, so nothing was deleted.',
        });
        return;
      }
    }
    // Whether it is still ours is the gate's first question (holdBefore), before the first attempt.
    await this.eraseBeforeDelete(request);
    deps.logger.info('sending DELETE', {
      requestId: request.id,
      customerId: request.customerId,
      attempt: request.deleteStarts,
    });
    // Asked before every attempt, retries included: still ours, not paused, not a dry run.
    let hold: Hold | null = null;
    const result = await deps.deleter.deleteCustomer(request.customerId, async () => {
      hold = await this.holdBefore(request.id, token);
      return hold === null;
    });
    checkpoint('after-delete-answered');
    if (!result.ok && result.kind === 'held' && hold !== null) {
      await this.held(request, token, hold, result.attempts, result.answerUnknown === true);
      return;
    }
    await this.finish(request, token, toOutcome(result, request.deleteStarts > 1));
  }

  /**
   * The last look is done: the name and email leave the store (and the message) before the DELETE goes out, tried
   * again while the store fails (our lease is held meanwhile); if it keeps failing, nothing is sent (it throws).
   */
  private async eraseBeforeDelete({ id, preview }: DeletionRequest): Promise<void> {
    const erased = erasedBeforeDelete(id, preview);
    if (!erased) return;
    const write = () => this.deps.store.setPreview(id, erased, ['executing']);
    if (await persist(this.deps.logger, id, write, 'the erasure')) this.deps.onChange(id);
  }

  /**
   * Why the next attempt of a DELETE we hold with `token` must not be sent, or null to send it. A store that
   * fails for a moment (a failover cuts the connection) is asked again, briefly, before the DELETE is held.
   */
  private async holdBefore(requestId: string, token: FencingToken): Promise<Hold | null> {
    const { store, policy, leaseMs, logger } = this.deps;
    if (policy.dryRun) return { kind: 'dry_run' };
    for (let check = 1; ; check++) {
      try {
        // Renewing is the check that it is still ours: a holder that stalled past its lease and was taken over
        // must not send a second DELETE.
        if (!(await store.renewLease(requestId, token, leaseMs))) return { kind: 'not_ours' };
        const pause = await store.getPause();
        return pause ? { kind: 'paused', pause } : null;
      } catch (error) {
        // Whether DELETEs are paused can't be known: not sending is the side that keeps every promise.
        const last = check >= GATE_CHECKS;
        const fields = { requestId, check, ...errorFields(error) };
        const then = last ? 'holding it' : 'checking again';
        logger.warn(`could not check the pause before a DELETE attempt; ${then}`, fields);
        if (last) return { kind: 'unchecked' };
        await new Promise((resolve) => setTimeout(resolve, GATE_CHECK_DELAY_MS * check));
      }
    }
  }

  /**
   * The gate held the DELETE after `attempts` attempts of this call. If one of them, or a start before a
   * take-over, may have reached BotPenguin, it is uncertain; else it waits, approved and due, for resume.
   */
  private async held(request: DeletionRequest, token: FencingToken, hold: Hold, attempts: number, unknown: boolean) {
    const { store, logger, now } = this.deps;
    const fields = { requestId: request.id, customerId: request.customerId, token, attempts, hold: hold.kind };
    if (hold.kind === 'not_ours') {
      logger.warn('not sending the DELETE: this execution was taken over by another holder', fields);
      return;
    }
    logger.warn('DELETE held before an attempt', fields);
    if (unknown || request.deleteStarts > 1 || hold.kind === 'dry_run') {
      await this.finish(request, token, heldOutcome(hold.kind, request, attempts, unknown));
      return;
    }
    // Nothing was sent: as if never claimed, so a resume claims it again (and it counts as a first start).
    const at = now();
    const back = await persist(this.deps.logger, request.id, () =>
      store.transition(
        request.id,
        ['executing'],
        'approved',
        { leaseUntil: null, unclaimed: true },
        heldEvent(hold, at),
        token,
      ),
    );
    if (back) this.deps.onChange(request.id);
  }

  /**
   * Record the outcome: of the execution we hold with `token` (refused, and logged, when another instance
   * took it over meanwhile), or of a claim that never started (null: approved → failed).
   */
  private async finish(request: DeletionRequest, token: FencingToken | null, outcome: DeletionOutcome) {
    const { store, logger } = this.deps;
    const at = this.deps.now();
    const to = stateFor(outcome);
    const patch = { outcome, finishedAt: at, leaseUntil: null };
    const event = { kind: eventFor(to), actorId: null, detail: outcome.message, at } as const;
    // The answer is known only here: tried again while the store fails, or recovery would send the DELETE again.
    const done = await persist(this.deps.logger, request.id, () =>
      token === null
        ? store.transition(request.id, ['approved'], to, patch, event)
        : store.transition(request.id, ['executing'], to, patch, event, token),
    );
    if (!done && token !== null) {
      logger.warn('outcome not recorded: this execution was taken over by another holder', {
        requestId: request.id,
        customerId: request.customerId,
        token,
        outcome: outcome.kind,
      });
      return;
    }
    logger.info('request finished', {
      requestId: request.id,
      customerId: request.customerId,
      state: done?.state ?? 'unchanged',
      outcome: outcome.kind,
      httpStatus: outcome.httpStatus,
    });
    checkpoint('after-delete-recorded');
    this.deps.onChange(request.id);
    if (done?.state === 'uncertain') await this.settleNow(done);
  }

  /** Settle checks due for uncertain requests (the sweeper calls this); a few at a time. */
  async settleUncertain(limit = 5): Promise<void> {
    if (!this.accepting) return;
    const uncertain = await this.deps.store.listForSweep({ kind: 'uncertain', maxChecks: MAX_SETTLE_CHECKS, limit });
    for (const request of uncertain) await this.settleNow(request);
  }

  /**
   * Look an uncertain request's customer up again. Still listed once SETTLE_WINDOW_MS have passed: the DELETE
   * did not delete it, so the request fails and frees the customer (before that, it proves nothing). Not listed (or BotPenguin can't be asked): it stays uncertain for an
   * approver to close (`/bp-delete close`), since a customer missing from the pages searched proves nothing.
   */
  private async settleNow(request: DeletionRequest): Promise<void> {
    const { store, previewer, logger } = this.deps;
    if (!previewer) return;
    if (!(await store.claimSettleCheck(request.id, MAX_SETTLE_CHECKS, SETTLE_CHECK_EVERY_MS))) return;
    const seen = await previewer.lookup(request.customerId, true);
    logger.info('settle check of an uncertain deletion', {
      requestId: request.id,
      customerId: request.customerId,
      found: seen.status,
    });
    if (seen.status !== 'found') return;
    const at = this.deps.now();
    // Too soon to say: a DELETE BotPenguin's backend is still carrying out leaves the customer listed a while.
    if (at - (request.finishedAt ?? at) < SETTLE_WINDOW_MS) return;
    const outcome: DeletionOutcome = {
      ok: false,
      kind: 'still_listed',
      said: 'bot',
      message: `BotPenguin still lists the customer ${SETTLE_WINDOW_MS / 60_000} minutes after the DELETE, so it was not deleted; you can ask again.`,
      attempts: request.outcome?.attempts,
    };
    const done = await store.transition(
      request.id,
      ['uncertain'],
      'failed',
      { outcome, finishedAt: at },
      { kind: 'failed', actorId: null, detail: outcome.message, at },
    );
    if (done) this.deps.onChange(request.id);
  }
}
