// The rules of a deletion request: who may ask, approve, deny, cancel or abort, and in which state.
// Knows nothing of Slack: it gets plain ids, returns plain results, and reports changes through onChange.
import type { CheckpointHook } from '../checkpoints';
import type { PolicyConfig } from '../config';
import type { Logger } from '../logger';
import type { Store } from '../store/types';
import { isRequestId, isValidCustomerId, parseCommand } from './command';
import { type Executor, startOfUtcDay } from './executor';
import type { Policy } from './policy';
import type { Previewer } from './preview';
import type { DeletionRequest, RequestEvent } from './types';
import { isAbortable, isDecidable, OPEN_STATES } from './types';

/** Who did something, and where the click or command came from. */
export interface Actor {
  userId: string;
  teamId: string | undefined;
  channelId: string | undefined;
}

/** Why something was refused; blocks/replies.ts turns each into words. */
export type Refusal =
  | { code: 'unknown_request' }
  | { code: 'wrong_place' }
  | { code: 'channel_not_allowed'; allowedChannelIds: string[] }
  | { code: 'invalid_customer_id'; given: string; pattern: string }
  | { code: 'requester_not_allowed' }
  | { code: 'directory_unavailable' }
  | { code: 'too_many_pending'; max: number }
  | { code: 'already_open'; existing: DeletionRequest }
  | { code: 'self_approval' }
  | { code: 'not_approver' }
  | { code: 'already_approved' }
  | { code: 'decided'; request: DeletionRequest }
  | { code: 'expired'; request: DeletionRequest }
  | { code: 'only_requester_cancels' }
  | { code: 'not_abortable'; request: DeletionRequest }
  | { code: 'not_allowed_to_abort' }
  | { code: 'daily_limit'; max: number; resetsAt: number }
  | { code: 'status_needs_target' }
  | { code: 'status_not_found'; target: string }
  | { code: 'status_elsewhere'; channelId: string };

export type Result<T> = { ok: true; value: T } | { ok: false; refusal: Refusal };

export type CommandResult =
  | { kind: 'help' }
  | { kind: 'created'; request: DeletionRequest }
  | { kind: 'list'; requests: DeletionRequest[] }
  | { kind: 'status'; request: DeletionRequest; events: RequestEvent[] }
  | { kind: 'refused'; refusal: Refusal };

export interface ServiceDeps {
  store: Store;
  policy: Policy;
  settings: PolicyConfig;
  now: () => number;
  newId: () => string;
  executor: Executor;
  previewer: Previewer | null;
  /** Called after every change the channel should see; must not throw. */
  onChange: (requestId: string) => void;
  logger: Logger;
  /** Called at each checkpoint (see checkpoints.ts); the process tests kill the bot there. */
  checkpoint?: CheckpointHook;
}

const refuse = (refusal: Refusal) => ({ ok: false as const, refusal });

export class RequestService {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(private readonly deps: ServiceDeps) {}

  async command(actor: Actor, text: string): Promise<CommandResult> {
    const parsed = parseCommand(text);
    switch (parsed.kind) {
      case 'help':
        return { kind: 'help' };
      case 'list':
        return this.list(actor);
      case 'status':
        return this.status(actor, parsed.target);
      case 'request': {
        const result = await this.create(actor, parsed.customerId, parsed.reason);
        return result.ok ? { kind: 'created', request: result.value } : { kind: 'refused', refusal: result.refusal };
      }
    }
  }

  private async list(actor: Actor): Promise<CommandResult> {
    const requests = await this.deps.store.listRequests({
      channelId: actor.channelId,
      states: OPEN_STATES,
      limit: 20,
    });
    return { kind: 'list', requests };
  }

  /** A request's history is shown in its own channel only: a private channel's reasons stay there. */
  private async status(actor: Actor, target: string | null): Promise<CommandResult> {
    if (!target) return { kind: 'refused', refusal: { code: 'status_needs_target' } };
    const { store } = this.deps;
    const request = isRequestId(target)
      ? await store.getRequest(target.toUpperCase())
      : ((await store.listRequests({ customerId: target, channelId: actor.channelId, limit: 1 }))[0] ?? null);
    if (!request) return { kind: 'refused', refusal: { code: 'status_not_found', target } };
    if (request.channelId !== actor.channelId) {
      return { kind: 'refused', refusal: { code: 'status_elsewhere', channelId: request.channelId } };
    }
    return { kind: 'status', request, events: await store.listEvents(request.id) };
  }

  async create(actor: Actor, customerId: string, reason: string): Promise<Result<DeletionRequest>> {
    const { settings, policy, store, now } = this.deps;
    const channelId = actor.channelId ?? '';
    if (!policy.channelAllowed(channelId)) {
      return refuse({ code: 'channel_not_allowed', allowedChannelIds: settings.allowedChannelIds });
    }
    if (!isValidCustomerId(customerId, settings.customerIdPattern)) {
      return refuse({ code: 'invalid_customer_id', given: customerId, pattern: settings.customerIdPattern.source });
    }
    const membership = await policy.requesterMembership(actor.userId);
    if (membership === 'unknown') return refuse({ code: 'directory_unavailable' });
    if (membership === 'not_member') return refuse({ code: 'requester_not_allowed' });
    if ((await store.countOpenByRequester(actor.userId)) >= settings.maxPendingPerRequester) {
      return refuse({ code: 'too_many_pending', max: settings.maxPendingPerRequester });
    }
    const at = now();
    const created = await store.createRequest(
      {
        id: this.deps.newId(),
        teamId: actor.teamId ?? '',
        channelId,
        customerId,
        reason,
        requesterId: actor.userId,
        approvalsRequired: settings.approvalsRequired,
        createdAt: at,
        expiresAt: at + settings.requestTtlMs,
        dryRun: settings.dryRun,
      },
      { kind: 'requested', actorId: actor.userId, detail: reason || null, at },
    );
    if (!created.created) return refuse({ code: 'already_open', existing: created.existing });
    this.deps.checkpoint?.('after-request-stored');
    const request = created.request;
    this.deps.logger.info('request created', {
      requestId: request.id,
      customerId,
      requesterId: actor.userId,
      channelId,
      state: request.state,
    });
    this.deps.onChange(request.id);
    this.lookUpPreview(request);
    return { ok: true, value: request };
  }

  /** Find the request a click names, and check the click comes from where the request lives. */
  private async locate(requestId: string, actor: Actor): Promise<Result<DeletionRequest>> {
    const request = isRequestId(requestId) ? await this.deps.store.getRequest(requestId) : null;
    if (!request) return refuse({ code: 'unknown_request' });
    if (
      // A click that names no channel can't be tied to the request's message: refused, not waved through.
      actor.channelId !== request.channelId ||
      (actor.teamId !== undefined && request.teamId !== '' && actor.teamId !== request.teamId)
    ) {
      return refuse({ code: 'wrong_place' });
    }
    return { ok: true, value: request };
  }

  private stateRefusal(request: DeletionRequest): Refusal {
    if (request.state === 'pending' && request.expiresAt <= this.deps.now()) return { code: 'expired', request };
    if (request.state === 'expired') return { code: 'expired', request };
    return { code: 'decided', request };
  }

  private async mayApprove(userId: string): Promise<Refusal | null> {
    const membership = await this.deps.policy.approverMembership(userId);
    if (membership === 'unknown') return { code: 'directory_unavailable' };
    if (membership === 'not_member') return { code: 'not_approver' };
    return null;
  }

  async approve(requestId: string, actor: Actor): Promise<Result<DeletionRequest>> {
    const { store, settings, now } = this.deps;
    const found = await this.locate(requestId, actor);
    if (!found.ok) return found;
    const request = found.value;
    if (!isDecidable(request, now())) return refuse(this.stateRefusal(request));
    if (request.requesterId === actor.userId) return refuse({ code: 'self_approval' });
    const notApprover = await this.mayApprove(actor.userId);
    if (notApprover) return refuse(notApprover);
    if (request.approvals.some((a) => a.userId === actor.userId)) return refuse({ code: 'already_approved' });
    // Refuse the last approval up front when the day's limit is already spent, so the approver is told
    // why; Store.claimExecution is what guarantees the limit when approvals race.
    const last = request.approvals.length + 1 >= request.approvalsRequired;
    if (last && !request.dryRun) {
      const dayStart = startOfUtcDay(now());
      if ((await store.countDeletionsSince(dayStart)) >= settings.maxDeletionsPerDay) {
        return refuse({ code: 'daily_limit', max: settings.maxDeletionsPerDay, resetsAt: dayStart + 86_400_000 });
      }
    }

    const result = await store.addApproval(request.id, actor.userId, now(), settings.executionDelayMs);
    switch (result.result) {
      case 'duplicate':
        return refuse({ code: 'already_approved' });
      case 'not_pending':
        return refuse(result.request ? this.stateRefusal(result.request) : { code: 'unknown_request' });
      case 'recorded':
      case 'approved':
        break;
    }
    if (result.result === 'approved') this.deps.checkpoint?.('after-approval');
    this.deps.logger.info('approval recorded', {
      requestId: request.id,
      approverId: actor.userId,
      state: result.request.state,
      approvals: result.request.approvals.length,
    });
    this.deps.onChange(request.id);
    if (result.result === 'approved') this.schedule(result.request);
    return { ok: true, value: result.request };
  }

  /** Whether this person may deny the request now (checked before a reason is asked for). */
  async checkDeny(requestId: string, actor: Actor): Promise<Result<DeletionRequest>> {
    const found = await this.locate(requestId, actor);
    if (!found.ok) return found;
    const request = found.value;
    if (!isDecidable(request, this.deps.now())) return refuse(this.stateRefusal(request));
    const notApprover = await this.mayApprove(actor.userId);
    if (notApprover) return refuse(notApprover);
    return found;
  }

  async deny(requestId: string, actor: Actor, reason: string | null): Promise<Result<DeletionRequest>> {
    const allowed = await this.checkDeny(requestId, actor);
    if (!allowed.ok) return allowed;
    return this.close(allowed.value, ['pending'], 'denied', actor.userId, reason);
  }

  async cancel(requestId: string, actor: Actor): Promise<Result<DeletionRequest>> {
    const found = await this.locate(requestId, actor);
    if (!found.ok) return found;
    const request = found.value;
    if (request.requesterId !== actor.userId) return refuse({ code: 'only_requester_cancels' });
    if (!isDecidable(request, this.deps.now())) return refuse(this.stateRefusal(request));
    return this.close(request, ['pending'], 'cancelled', actor.userId, null);
  }

  async abort(requestId: string, actor: Actor): Promise<Result<DeletionRequest>> {
    const found = await this.locate(requestId, actor);
    if (!found.ok) return found;
    const request = found.value;
    if (!isAbortable(request, this.deps.now())) {
      return refuse({ code: 'not_abortable', request });
    }
    if (request.requesterId !== actor.userId) {
      const notApprover = await this.mayApprove(actor.userId);
      if (notApprover)
        return refuse(notApprover.code === 'not_approver' ? { code: 'not_allowed_to_abort' } : notApprover);
    }
    const closed = await this.close(request, ['approved'], 'aborted', actor.userId, null);
    if (closed.ok) this.unschedule(request.id);
    return closed;
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
  ): Promise<Result<DeletionRequest>> {
    const at = this.deps.now();
    const kind = to;
    const done = await this.deps.store.transition(
      request.id,
      from,
      to,
      { closedBy: userId, closeReason: reason, finishedAt: at },
      { kind, actorId: userId, detail: reason, at },
    );
    if (!done) {
      const current = await this.deps.store.getRequest(request.id);
      return refuse(current ? this.stateRefusal(current) : { code: 'unknown_request' });
    }
    this.deps.logger.info(`request ${to}`, {
      requestId: request.id,
      customerId: request.customerId,
      userId,
      state: to,
    });
    this.deps.onChange(request.id);
    return { ok: true, value: done };
  }

  /** Run now, or at executeAt (the sweeper is the backstop if this process dies first). */
  schedule(request: DeletionRequest): void {
    const delay = (request.executeAt ?? 0) - this.deps.now();
    const run = () => {
      this.timers.delete(request.id);
      this.deps.executor.run(request.id).catch((error: unknown) => {
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

  private unschedule(requestId: string): void {
    const timer = this.timers.get(requestId);
    if (timer) clearTimeout(timer);
    this.timers.delete(requestId);
  }

  stopTimers(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  private lookUpPreview(request: DeletionRequest): void {
    const { previewer, store, logger } = this.deps;
    if (!previewer) return;
    previewer
      .lookup(request.customerId)
      .then(async (preview) => {
        await store.setPreview(request.id, preview);
        this.deps.onChange(request.id);
      })
      .catch((error: unknown) => logger.warn('preview failed', { requestId: request.id, error: String(error) }));
  }
}
