// What can become of a request once asked: approve, deny, cancel, abort, close an uncertain one (by people,
// with who-may and in-which-state checks), withdraw and expire (by the bot). Knows nothing of Slack.
import { checkpoint } from '../checkpoints';
import type { Policy } from '../config';
import type { Logger } from '../logger';
import type { BotStore } from '../store/types';
import { isRequestId } from './command-text';
import type { DailyLimit } from './daily-limit';
import { approvalEvent, formerApproversDrop } from './event-details';
import type { Executor } from './executor';
import { approvalsRequired, type Permissions } from './permissions';
import type { ChangeNotifier } from './ports';
import { approverRefusal, type Refusal, type Result, refuse, stateRefusal } from './refusals';
import type { Actor, DeletionRequest } from './types';
import { activeDenyHold, isAbortable, isDecidable } from './types';

/** How long a Deny click holds a request when its modal never reports back (neither submitted nor closed). */
export const DENY_HOLD_MS = 10 * 60_000;

export interface DecisionsDeps {
  store: BotStore;
  permissions: Permissions;
  policy: Policy;
  now: () => number;
  executor: Executor;
  dailyLimit: DailyLimit;
  onChange: ChangeNotifier;
  logger: Logger;
}

/**
 * How a decision arrived: a button on the request's message (so from its channel), a button on the person's
 * own Home tab (which the bot publishes to them alone, so no channel), or a command that names the request by
 * id (`/bp-delete deny|cancel|abort <id>`), from any channel of the team; its message says from where.
 */
export type Via = 'button' | 'home' | 'command';

export class Decisions {
  constructor(private readonly deps: DecisionsDeps) {}

  /**
   * Find the request a click names, and check the click comes from where the request lives: a button on the
   * request's message from its channel. A Home tab button or a command that names the request by id
   * (`/bp-delete deny <id>`) may come from anywhere in the team.
   */
  private async locate(requestId: string, actor: Actor, via: Via): Promise<Result<DeletionRequest>> {
    const request = isRequestId(requestId) ? await this.deps.store.getRequest(requestId) : null;
    if (!request) return refuse({ kind: 'unknown_request' });
    if (
      // A message click that names no channel can't be tied to the request's message: refused, not waved through.
      (via === 'button' && actor.channelId !== request.channelId) ||
      (actor.teamId !== undefined && request.teamId !== '' && actor.teamId !== request.teamId)
    ) {
      return refuse({ kind: 'wrong_place' });
    }
    return { ok: true, value: request };
  }

  private async mayApprove(userId: string): Promise<Refusal | null> {
    return approverRefusal(await this.deps.permissions.approverMembership(userId));
  }

  async approve(
    requestId: string,
    actor: Actor,
    via: Exclude<Via, 'command'> = 'button',
  ): Promise<Result<DeletionRequest>> {
    const { store, policy, now } = this.deps;
    const found = await this.locate(requestId, actor, via);
    if (!found.ok) return found;
    const request = found.value;
    if (!isDecidable(request, now())) return refuse(stateRefusal(request, now));
    if (request.requesterId === actor.userId) return refuse({ kind: 'self_approval' });
    const notApprover = await this.mayApprove(actor.userId);
    if (notApprover) return refuse(notApprover);
    if (request.approvals.some((a) => a.userId === actor.userId)) return refuse({ kind: 'already_approved' });
    const hold = activeDenyHold(request, now());
    if (hold) return refuse({ kind: 'being_denied', by: hold.by });
    // The store is told whom NOT to count, so an approval racing this one still counts.
    const earlier = await this.deps.permissions.approvalsThatCount(request);
    if (earlier === null) return refuse({ kind: 'directory_unavailable' });
    const required = approvalsRequired(request, policy);
    // Refuse the last approval up front when the day's limit is already spent, so the approver is told
    // why; Store.claimExecution is what guarantees the limit when approvals race.
    if (earlier.counted.length + 1 >= required) {
      const spent = await this.deps.dailyLimit.refusal(now(), request.dryRun || policy.dryRun);
      if (spent) return refuse(spent);
    }
    const at = now();
    const result = await store.addApproval(request.id, {
      userId: actor.userId,
      at,
      approvalsRequired: required,
      executionDelayMs: policy.executionDelayMs,
      drop: formerApproversDrop(earlier.formerApprovers, at),
      event: approvalEvent(actor.userId, at),
    });
    switch (result.kind) {
      case 'duplicate':
        return refuse({ kind: 'already_approved' });
      case 'being_denied':
        return refuse({ kind: 'being_denied', by: result.request.denyHold?.by ?? '' });
      case 'not_pending':
        return refuse(result.request ? stateRefusal(result.request, now) : { kind: 'unknown_request' });
      case 'recorded':
      case 'approved':
        break;
    }
    if (result.kind === 'approved') checkpoint('after-approval');
    this.deps.logger.info('approval recorded', {
      requestId: request.id,
      approverId: actor.userId,
      state: result.request.state,
      approvals: result.request.approvals.length,
    });
    this.deps.onChange(request.id);
    if (result.kind === 'approved') this.deps.executor.schedule(result.request);
    return { ok: true, value: result.request };
  }

  /** Whether this person may deny the request now (checked before a reason is asked for). */
  async checkDeny(requestId: string, actor: Actor, via: Via): Promise<Result<DeletionRequest>> {
    const found = await this.locate(requestId, actor, via);
    if (!found.ok) return found;
    const request = found.value;
    if (!isDecidable(request, this.deps.now())) return refuse(stateRefusal(request, this.deps.now));
    const notApprover = await this.mayApprove(actor.userId);
    if (notApprover) return refuse(notApprover);
    return found;
  }

  /**
   * A Deny click: hold the request for this approver at once (no approval is recorded while it holds), before
   * the modal asks for a reason. Another approver's hold in force refuses it.
   */
  async startDeny(requestId: string, actor: Actor, via: Via = 'button'): Promise<Result<DeletionRequest>> {
    const allowed = await this.checkDeny(requestId, actor, via);
    if (!allowed.ok) return allowed;
    const at = this.deps.now();
    const held = await this.deps.store.holdForDeny(requestId, { by: actor.userId, now: at, until: at + DENY_HOLD_MS });
    if (held.kind === 'held_by_other') return refuse({ kind: 'being_denied', by: held.request.denyHold?.by ?? '' });
    if (held.kind === 'not_pending' || !held.request) {
      return refuse(held.request ? stateRefusal(held.request, this.deps.now) : { kind: 'unknown_request' });
    }
    this.deps.logger.info('deny started: request held', { requestId, userId: actor.userId });
    this.deps.onChange(requestId);
    return { ok: true, value: held.request };
  }

  /** The deny modal was closed without denying: its hold is released (only the holder's). */
  async releaseDenyHold(requestId: string, userId: string): Promise<boolean> {
    if (!isRequestId(requestId)) return false;
    const released = await this.deps.store.releaseDenyHold(requestId, userId);
    if (released) {
      this.deps.logger.info('deny hold released', { requestId, userId });
      this.deps.onChange(requestId);
    }
    return released;
  }

  async deny(requestId: string, actor: Actor, reason: string | null, via: Via): Promise<Result<DeletionRequest>> {
    const allowed = await this.checkDeny(requestId, actor, via);
    if (!allowed.ok) return allowed;
    return this.close(allowed.value, ['pending'], 'denied', actor.userId, reason, elsewhere(allowed.value, actor));
  }

  /** By the requester; by command, an approver may cancel too. */
  async cancel(requestId: string, actor: Actor, via: Via): Promise<Result<DeletionRequest>> {
    const found = await this.locate(requestId, actor, via);
    if (!found.ok) return found;
    const request = found.value;
    if (request.requesterId !== actor.userId) {
      if (via === 'button') return refuse({ kind: 'only_requester_cancels' });
      const notApprover = await this.mayApprove(actor.userId);
      if (notApprover) {
        return refuse(
          notApprover.kind === 'not_approver' ? { kind: 'only_requester_or_approver_cancels' } : notApprover,
        );
      }
    }
    if (!isDecidable(request, this.deps.now())) return refuse(stateRefusal(request, this.deps.now));
    return this.close(request, ['pending'], 'cancelled', actor.userId, null, elsewhere(request, actor));
  }

  /** By the requester or an approver, while EXECUTION_DELAY runs; by command (`abort <id>`) from any channel. */
  async abort(requestId: string, actor: Actor, via: Via): Promise<Result<DeletionRequest>> {
    const found = await this.locate(requestId, actor, via);
    if (!found.ok) return found;
    const request = found.value;
    if (!isAbortable(request, this.deps.now())) {
      return refuse({ kind: 'not_abortable', request });
    }
    if (request.requesterId !== actor.userId) {
      const notApprover = await this.mayApprove(actor.userId);
      if (notApprover)
        return refuse(notApprover.kind === 'not_approver' ? { kind: 'not_allowed_to_abort' } : notApprover);
    }
    const closed = await this.close(request, ['approved'], 'aborted', actor.userId, null, elsewhere(request, actor));
    if (closed.ok) this.deps.executor.unschedule(request.id);
    return closed;
  }

  /**
   * An approver's word on an uncertain request (BotPenguin's answer to its DELETE never came): `deleted`
   * ends it succeeded, `kept` ends it failed (freeing the customer for a new request). Who and the note are
   * kept. From any channel, like the other operators' subcommands.
   */
  async closeUncertain(
    requestId: string,
    actor: Actor,
    verdict: 'deleted' | 'kept',
    note: string,
  ): Promise<Result<DeletionRequest>> {
    const { store } = this.deps;
    const request = isRequestId(requestId) ? await store.getRequest(requestId.toUpperCase()) : null;
    if (!request) return refuse({ kind: 'unknown_request' });
    const notApprover = await this.mayApprove(actor.userId);
    if (notApprover) return refuse(notApprover);
    if (request.state !== 'uncertain') return refuse({ kind: 'not_uncertain', request });
    const at = this.deps.now();
    const deleted = verdict === 'deleted';
    const outcome = {
      ...request.outcome,
      ok: deleted,
      kind: deleted ? 'closed_deleted' : 'closed_kept',
      said: 'bot' as const,
      message: `Closed by an approver as ${deleted ? 'deleted' : 'not deleted'} after an unknown answer.`,
    };
    const done = await store.transition(
      request.id,
      ['uncertain'],
      deleted ? 'succeeded' : 'failed',
      { outcome, closedBy: actor.userId, closeReason: note || null, finishedAt: at },
      { kind: deleted ? 'deleted' : 'failed', actorId: actor.userId, detail: note || null, at },
    );
    if (!done) {
      const current = await store.getRequest(request.id);
      return refuse(current ? { kind: 'not_uncertain', request: current } : { kind: 'unknown_request' });
    }
    this.deps.logger.info('uncertain request closed', {
      requestId: request.id,
      customerId: request.customerId,
      userId: actor.userId,
      verdict,
      state: done.state,
    });
    this.deps.onChange(request.id);
    return { ok: true, value: done };
  }

  /** A request as stored (for the Slack layer to check what became of it). */
  find(requestId: string): Promise<DeletionRequest | null> {
    return this.deps.store.getRequest(requestId);
  }

  /** End a pending request that can't go on (its message can't be posted), saying why; deletes nothing. */
  async withdraw(requestId: string, reason: string): Promise<boolean> {
    const at = this.deps.now();
    const done = await this.deps.store.transition(
      requestId,
      ['pending'],
      'cancelled',
      { closedBy: null, closeReason: reason, finishedAt: at },
      { kind: 'cancelled', actorId: null, detail: reason, at },
    );
    if (done) {
      this.deps.logger.warn('request withdrawn', { requestId, customerId: done.customerId, state: done.state, reason });
      this.deps.onChange(requestId);
    }
    return done !== null;
  }

  /** Mark a pending request whose time ran out (the sweeper calls this). */
  async expire(request: DeletionRequest): Promise<boolean> {
    const at = this.deps.now();
    if (request.state !== 'pending' || request.expiresAt > at) return false;
    const done = await this.deps.store.transition(
      request.id,
      ['pending'],
      'expired',
      { finishedAt: at },
      {
        kind: 'expired',
        actorId: null,
        detail: null,
        at,
      },
    );
    if (done) {
      this.deps.logger.info('request expired', { requestId: request.id, customerId: request.customerId });
      this.deps.onChange(request.id);
    }
    return done !== null;
  }

  private async close(
    request: DeletionRequest,
    from: DeletionRequest['state'][],
    to: 'denied' | 'cancelled' | 'aborted',
    userId: string,
    reason: string | null,
    closedFrom: string | null = null,
  ): Promise<Result<DeletionRequest>> {
    const at = this.deps.now();
    const kind = to;
    const done = await this.deps.store.transition(
      request.id,
      from,
      to,
      { closedBy: userId, closeReason: reason, finishedAt: at, ...(closedFrom ? { closedFrom } : {}) },
      { kind, actorId: userId, detail: reason, at },
    );
    if (!done) {
      const current = await this.deps.store.getRequest(request.id);
      return refuse(current ? stateRefusal(current, this.deps.now) : { kind: 'unknown_request' });
    }
    this.deps.logger.info(`request ${to}`, {
      requestId: request.id,
      customerId: request.customerId,
      userId,
      state: to,
      fromChannelId: closedFrom ?? undefined,
    });
    this.deps.onChange(request.id);
    return { ok: true, value: done };
  }
}

/** The channel a command came from, when it is not the request's own (the message says so). */
const elsewhere = (request: DeletionRequest, actor: Actor): string | null =>
  actor.channelId && actor.channelId !== request.channelId ? actor.channelId : null;
