// `/bp-delete …` as the rules see it: help, list, status, and asking for a deletion (who may ask,
// where, for which id, how many at once). Knows nothing of Slack: plain ids in, plain results out.
import { checkpoint } from '../checkpoints';
import type { Policy } from '../config';
import type { Logger } from '../logger';
import type { Store } from '../store/types';
import { isRequestId, isValidCustomerId, parseCommand } from './command-text';
import type { Controls } from './controls';
import type { Decisions } from './decisions';
import { newRequestId } from './ids';
import type { Permissions } from './permissions';
import type { ChangeNotifier } from './ports';
import type { Previewer } from './preview';
import { type Refusal, type Result, refuse } from './refusals';
import { nextReminderAt } from './reminders';
import { ticketOf } from './ticket';
import type { Actor, DeletionRequest, Pause, RequestEvent } from './types';
import { OPEN_STATES, WAITING_STATES } from './types';

export type CommandResult =
  | { kind: 'help'; pause: Pause | null }
  | { kind: 'paused'; changed: boolean; pause: Pause | null; inFlight: string[] }
  | { kind: 'resumed'; changed: boolean }
  /** Denied, cancelled or aborted by `/bp-delete deny|cancel|abort <id>`, maybe from another channel. */
  | { kind: 'decided'; request: DeletionRequest }
  | { kind: 'created'; request: DeletionRequest }
  | { kind: 'list'; requests: DeletionRequest[] }
  | { kind: 'status'; request: DeletionRequest; events: RequestEvent[] }
  /** An uncertain request closed by `/bp-delete close <id> deleted|kept`. */
  | { kind: 'closed'; request: DeletionRequest }
  | { kind: 'refused'; refusal: Refusal };

export interface CommandsDeps {
  store: Store;
  permissions: Permissions;
  policy: Policy;
  now: () => number;
  previewer: Previewer | null;
  onChange: ChangeNotifier;
  logger: Logger;
  decisions: Decisions;
  controls: Controls;
}

export class Commands {
  /** Preview lookups under way. */
  private readonly lookups = new Set<Promise<void>>();

  constructor(private readonly deps: CommandsDeps) {}

  async command(actor: Actor, text: string): Promise<CommandResult> {
    const parsed = parseCommand(text);
    switch (parsed.kind) {
      case 'help':
        return { kind: 'help', pause: await this.deps.controls.current() };
      case 'pause': {
        const r = await this.deps.controls.pause(actor, parsed.reason);
        return r.ok ? { kind: 'paused', ...r.value } : { kind: 'refused', refusal: r.refusal };
      }
      case 'resume': {
        const r = await this.deps.controls.resume(actor);
        return r.ok ? { kind: 'resumed', changed: r.value.changed } : { kind: 'refused', refusal: r.refusal };
      }
      case 'deny':
      case 'cancel': {
        if (!parsed.requestId)
          return { kind: 'refused', refusal: { kind: 'needs_request_id', subcommand: parsed.kind } };
        const r =
          parsed.kind === 'deny'
            ? await this.deps.decisions.deny(parsed.requestId, actor, parsed.reason, 'command')
            : await this.deps.decisions.cancel(parsed.requestId, actor, 'command');
        return r.ok ? { kind: 'decided', request: r.value } : { kind: 'refused', refusal: r.refusal };
      }
      case 'abort': {
        if (!parsed.requestId) return { kind: 'refused', refusal: { kind: 'needs_request_id', subcommand: 'abort' } };
        const r = await this.deps.decisions.abort(parsed.requestId, actor, 'command');
        return r.ok ? { kind: 'decided', request: r.value } : { kind: 'refused', refusal: r.refusal };
      }
      case 'list':
        return this.list(actor);
      case 'status':
        return this.status(actor, parsed.target);
      case 'close': {
        if (!parsed.requestId || !parsed.verdict) return { kind: 'refused', refusal: { kind: 'close_usage' } };
        const result = await this.deps.decisions.closeUncertain(parsed.requestId, actor, parsed.verdict, parsed.note);
        return result.ok ? { kind: 'closed', request: result.value } : { kind: 'refused', refusal: result.refusal };
      }
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
    if (!target) return { kind: 'refused', refusal: { kind: 'status_needs_target' } };
    const { store } = this.deps;
    const request = isRequestId(target)
      ? await store.getRequest(target.toUpperCase())
      : ((await store.listRequests({ customerId: target, channelId: actor.channelId, limit: 1 }))[0] ?? null);
    if (!request) return { kind: 'refused', refusal: { kind: 'status_not_found', target } };
    if (request.channelId !== actor.channelId) {
      return { kind: 'refused', refusal: { kind: 'status_elsewhere', channelId: request.channelId } };
    }
    return { kind: 'status', request, events: await store.listEvents(request.id) };
  }

  async create(actor: Actor, customerId: string, reason: string): Promise<Result<DeletionRequest>> {
    const { policy, permissions, store, now } = this.deps;
    const channelId = actor.channelId ?? '';
    if (!permissions.channelAllowed(channelId)) {
      return refuse({ kind: 'channel_not_allowed', allowedChannelIds: policy.allowedChannelIds });
    }
    if (!isValidCustomerId(customerId, policy.customerIdPattern)) {
      return refuse({ kind: 'invalid_customer_id', given: customerId, pattern: policy.customerIdPattern.source });
    }
    const ticket = ticketOf(reason, policy);
    if (!ticket.ok) return ticket;
    const membership = await permissions.requesterMembership(actor.userId);
    if (membership === 'unknown') return refuse({ kind: 'directory_unavailable' });
    if (membership === 'not_member') return refuse({ kind: 'requester_not_allowed' });
    const at = now();
    const created = await store.createRequest(
      {
        id: newRequestId(),
        teamId: actor.teamId ?? '',
        channelId,
        customerId,
        reason,
        ...ticket.value,
        requesterId: actor.userId,
        approvalsRequired: policy.approvalsRequired,
        createdAt: at,
        expiresAt: at + policy.requestTtlMs,
        dryRun: policy.dryRun,
        nextRemindAt: nextReminderAt(at, 0, policy.remindAfterMs, at + policy.requestTtlMs),
      },
      { kind: 'requested', actorId: actor.userId, detail: reason || null, at },
      // Counted by the store in the insert's own transaction: racing commands can't pass the limit.
      { maxOpenPerRequester: policy.maxPendingPerRequester },
    );
    if (!created.ok) {
      if (created.kind === 'too_many_open') return refuse({ kind: 'too_many_pending', max: created.max });
      const { existing } = created;
      // Another channel's request (maybe a private one): its id and how to end it, nothing else of it.
      return refuse(
        existing.channelId === channelId
          ? { kind: 'already_open', existing }
          : { kind: 'already_open_elsewhere', requestId: existing.id, customerId: existing.customerId },
      );
    }
    checkpoint('after-request-stored');
    const request = created.request;
    this.deps.logger.info('request created', {
      requestId: request.id,
      customerId,
      ticket: request.ticket,
      requesterId: actor.userId,
      channelId,
      state: request.state,
    });
    this.deps.onChange(request.id, 'created');
    this.lookUpPreview(request);
    return { ok: true, value: request };
  }

  /** Wait for every preview lookup under way (shutdown, tests): its result may still change a message. */
  async idle(): Promise<void> {
    while (this.lookups.size > 0) await Promise.all([...this.lookups]);
  }

  /** Started after the current answer has been sent: a lookup's first page request is not ack work. */
  private lookUpPreview(request: DeletionRequest): void {
    const { previewer, store, logger } = this.deps;
    if (!previewer) return;
    const { id, customerId } = request;
    const lookup = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => previewer.lookup(customerId))
      .then(async (preview) => {
        // Only while it waits: a request decided meanwhile keeps no name or email.
        if (await store.setPreview(id, preview, WAITING_STATES)) this.deps.onChange(id);
      })
      .catch((error: unknown) => logger.warn('preview failed', { requestId: id, error: String(error) }))
      .finally(() => this.lookups.delete(lookup));
    this.lookups.add(lookup);
  }
}
