// One trail event as the JSON object the audit webhook POSTs (docs/AUDIT.md). Ids, Slack user
// ids, the ticket and the words of BotPenguin or of the bot; never a name, an email or text a person typed.
import type { DeletionOutcome, DeletionRequest, RequestEvent } from '../requests/types';
import { type AuditEventType, classifyEvent } from './event-type';

/** What the payload reads of an event; an event of no request (a pause, say) may come to have no request id. */
export type TrailEvent = Pick<RequestEvent, 'id' | 'kind' | 'actorId' | 'detail' | 'at'> & { requestId: string | null };

/** What the payload reads of the event's request (null for an event of no request). */
export type AuditedRequest = Pick<
  DeletionRequest,
  'id' | 'teamId' | 'channelId' | 'customerId' | 'requesterId' | 'dryRun' | 'outcome'
> & { ticket?: string | null };

export interface AuditWebhookPayload {
  type: AuditEventType;
  /** When the event happened (ISO 8601 UTC), as the trail records it. */
  timestamp: string;
  data: {
    eventId: number;
    requestId: string | null;
    customerId: string | null;
    teamId: string | null;
    channelId: string | null;
    requesterId: string | null;
    /** Who did it (a Slack user id); null when the bot did. */
    actorId: string | null;
    ticket: string | null;
    dryRun: boolean | null;
    /** `closed` only: what the approver said became of the customer. */
    verdict: 'deleted' | 'kept' | null;
    /** The trail's own words for events the bot writes (BotPenguin's answer, why it expired, …). */
    detail: string | null;
    /** BotPenguin's answer, on events that end a request with one. */
    outcome: {
      ok: boolean;
      kind: string;
      message: string;
      said: 'botpenguin' | 'bot' | null;
      httpStatus: number | null;
      attempts: number | null;
    } | null;
  };
}

/**
 * Events whose detail the bot writes (BotPenguin's words, or its own explanation). The others carry
 * what a person typed (a request's reason, a deny reason, a close note, a pause reason): free text may
 * name the customer, so it stays in the store and the export, joined by request id.
 */
const BOT_WORDS: ReadonlySet<AuditEventType> = new Set<AuditEventType>([
  'delete_sent',
  'deleted',
  'failed',
  'uncertain',
  'dry_run',
  'expired',
  'withdrawn',
  'reopened',
  'policy',
]);

/** Events that end a request with BotPenguin's (or the bot's) answer, which the request then keeps. */
const ENDS_WITH_OUTCOME: ReadonlySet<AuditEventType> = new Set<AuditEventType>([
  'deleted',
  'failed',
  'dry_run',
  'closed',
]);

function outcomeOf(outcome: DeletionOutcome | null, clean: (text: string) => string) {
  if (!outcome) return null;
  return {
    ok: outcome.ok,
    kind: outcome.kind,
    message: clean(outcome.message),
    said: outcome.said ?? null,
    httpStatus: outcome.httpStatus ?? null,
    attempts: outcome.attempts ?? null,
  };
}

/** `clean` redacts the bot's secrets from text (as the export does). */
export function toPayload(
  event: TrailEvent,
  request: AuditedRequest | null,
  clean: (text: string) => string,
): AuditWebhookPayload {
  const { type, verdict } = classifyEvent(event, request);
  return {
    type,
    timestamp: new Date(event.at).toISOString(),
    data: {
      eventId: event.id,
      requestId: event.requestId,
      customerId: request ? clean(request.customerId) : null,
      teamId: request?.teamId ?? null,
      channelId: request?.channelId ?? null,
      requesterId: request?.requesterId ?? null,
      actorId: event.actorId,
      ticket: request?.ticket ?? null,
      dryRun: request?.dryRun ?? null,
      verdict,
      detail: BOT_WORDS.has(type) && event.detail !== null ? clean(event.detail) : null,
      outcome: ENDS_WITH_OUTCOME.has(type) ? outcomeOf(request?.outcome ?? null, clean) : null,
    },
  };
}

/** The webhook-id of an event: the same on every retry, so a receiver can drop a repeat. */
export const webhookId = (eventId: number): string => `evt_${eventId}`;
