// What an event of the trail is called outside the bot: its type in pushed webhooks, and the outcome the
// metrics count it under. The store's kinds are the bot's own; these are the names receivers rely on.
import type { DeletionOutcome, RequestEvent } from '../requests/types';

export const AUDIT_EVENT_TYPES = [
  'requested',
  'approved',
  'denied',
  'cancelled',
  'aborted',
  'expired',
  'delete_sent',
  'deleted',
  'failed',
  'uncertain',
  'closed',
  'withdrawn',
  'paused',
  'resumed',
  'dry_run',
  'reopened',
  'policy',
  'reminded',
] as const;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

export interface EventClass {
  type: AuditEventType;
  /** Only for `closed`: what the approver who closed an uncertain request said became of the customer. */
  verdict: 'deleted' | 'kept' | null;
}

/**
 * The event's outside name. A person closing an uncertain request and the bot recording BotPenguin's
 * answer write the same kinds (deleted, failed); only the first has an actor. Likewise a cancel with no
 * actor is the bot withdrawing a request whose message could not be posted. A pause or resume kept with no
 * request (ControlEvent, table control_events) is classified with `request` null: `paused` / `resumed`.
 */
export function classifyEvent(
  event: Pick<RequestEvent, 'kind' | 'actorId'>,
  request: { outcome: Pick<DeletionOutcome, 'kind'> | null } | null,
): EventClass {
  const plain = (type: AuditEventType): EventClass => ({ type, verdict: null });
  switch (event.kind) {
    case 'deleted':
      if (event.actorId !== null) return { type: 'closed', verdict: 'deleted' };
      return plain(request?.outcome?.kind === 'dry_run' ? 'dry_run' : 'deleted');
    case 'failed':
      return event.actorId !== null ? { type: 'closed', verdict: 'kept' } : plain('failed');
    case 'cancelled':
      return plain(event.actorId === null ? 'withdrawn' : 'cancelled');
    case 'requested':
    case 'approved':
    case 'delete_sent':
    case 'uncertain':
    case 'denied':
    case 'expired':
    case 'aborted':
    case 'reopened':
    case 'policy':
    case 'paused':
    case 'resumed':
    case 'reminded':
      return plain(event.kind);
    default: {
      const unknown: never = event.kind;
      throw new Error(`no outside name for the event kind ${String(unknown)}`);
    }
  }
}
