// The domain: a deletion request, its states, and what happened to it. Plain data, no framework.

/**
 * pending → approved → executing → succeeded | failed | uncertain
 * uncertain → failed (BotPenguin still lists the customer) | succeeded / failed (an approver closes it)
 * pending → denied | cancelled | expired
 * approved (during EXECUTION_DELAY) → aborted
 * approved → pending (its valid approvals fell below the quorum when the DELETE was claimed)
 * approved → expired (its time ran out while DELETEs were paused)
 */
export type RequestState =
  | 'pending'
  | 'approved'
  | 'executing'
  /** BotPenguin's answer to the DELETE is unknown: the customer may have been deleted. Still open. */
  | 'uncertain'
  | 'succeeded'
  | 'failed'
  | 'denied'
  | 'cancelled'
  | 'expired'
  | 'aborted';

/** States in which a request still holds its customer id (only one open request per customer). */
export const OPEN_STATES: readonly RequestState[] = ['pending', 'approved', 'executing', 'uncertain'];
export const FINAL_STATES: readonly RequestState[] = [
  'succeeded',
  'failed',
  'denied',
  'cancelled',
  'expired',
  'aborted',
];

export interface Approval {
  userId: string;
  at: number;
}

export interface CustomerPreview {
  /**
   * found: shown; not_found: not in the pages searched; unavailable: BotPenguin could not be asked;
   * erased: the name and email were shown while the request waited, and are kept no longer.
   */
  status: 'found' | 'not_found' | 'unavailable' | 'erased';
  name?: string | null;
  email?: string | null;
  customerStatus?: string | null;
  pagesSearched?: number;
  /** When BotPenguin was asked (none once erased). */
  checkedAt?: number;
  /**
   * Erased right before the DELETE: a hash of what was shown (never the name or email), so a DELETE re-sent
   * after a crash can still notice a changed customer. Dropped, with the rest, when the request leaves executing.
   */
  fingerprint?: string;
}

/**
 * States that keep no personal data of the customer: a move into one erases the preview's name and email
 * (the store does it in the same statement). What stays: customer id, ticket, who asked, approved and denied,
 * when, and what BotPenguin said.
 */
export const ERASED_STATES: readonly RequestState[] = ['uncertain', ...FINAL_STATES];
/** The preview of a request in ERASED_STATES that had one. */
export const ERASED_PREVIEW: CustomerPreview = { status: 'erased' };

export interface DeletionOutcome {
  ok: boolean;
  /**
   * 'deleted', 'already_gone', 'dry_run', a failure kind from the BotPenguin client / the pre-delete check,
   * 'uncertain' (the answer is unknown), 'still_listed' (an uncertain one found again in BotPenguin's list),
   * 'closed_deleted' / 'closed_kept' (an approver closed an uncertain one).
   */
  kind: string;
  message: string;
  /** Whose words `message` are: BotPenguin's own, or the bot's (migration 7 backfilled older outcomes). */
  said: 'botpenguin' | 'bot';
  httpStatus?: number;
  attempts?: number;
}

/**
 * States the requester may be told of by direct message (requester-news.ts says whether they are): once
 * a request reaches one, the sync owes a decision on that message, recorded as requester_told.
 */
export const NEWS_STATES: readonly RequestState[] = [
  'succeeded',
  'failed',
  'uncertain',
  'denied',
  'cancelled',
  'aborted',
  'expired',
];

/** Pending and not yet expired at `now`: it can still be approved, denied or cancelled. */
/** States whose DELETE is still ahead: a pause holds them, and stricter settings reach them. */
export const WAITING_STATES: readonly RequestState[] = ['pending', 'approved'];

/** A request a pause holds (and that shows the pause). */
export function isWaiting(request: DeletionRequest): boolean {
  return WAITING_STATES.includes(request.state);
}

export function isDecidable(request: DeletionRequest, now: number): boolean {
  return request.state === 'pending' && request.expiresAt > now;
}

/** Approved and waiting out EXECUTION_DELAY at `now`: its DELETE can still be aborted. */
export function isAbortable(request: DeletionRequest, now: number): boolean {
  return request.state === 'approved' && request.executeAt !== null && request.executeAt > now;
}

/** messageTs of a request whose message Slack would not let the bot post: there is nothing to update. */
export const NO_MESSAGE_TS = 'none';

export interface DeletionRequest {
  id: string;
  teamId: string;
  channelId: string;
  customerId: string;
  reason: string;
  /** The first match of TICKET_PATTERN in the reason; null when none was asked for. */
  ticket: string | null;
  /** TICKET_URL_TEMPLATE filled in when it was asked, so every rendering of it links the same way. */
  ticketUrl: string | null;
  requesterId: string;
  state: RequestState;
  approvalsRequired: number;
  approvals: Approval[];
  createdAt: number;
  expiresAt: number;
  /** When the DELETE may go out: set when the last approval arrives. */
  executeAt: number | null;
  /** Who denied, cancelled or aborted, and why. */
  closedBy: string | null;
  closeReason: string | null;
  outcome: DeletionOutcome | null;
  /** How many times a DELETE was started (a value above 1 means a re-send after a crash). */
  deleteStarts: number;
  /** When the first DELETE was started (null: never; a dry run's claim counts too). */
  deleteStartedAt?: number | null;
  /** While executing: until when the instance that claimed it owns the DELETE. */
  leaseUntil: number | null;
  dryRun: boolean;
  preview: CustomerPreview | null;
  messageTs: string | null;
  /** Bumped at every change a person should see; messageVersion is the last one shown in Slack. */
  version: number;
  messageVersion: number;
  finishedAt: number | null;
  /** Where a deny or cancel typed as a command came from, when not the request's own channel. */
  closedFrom?: string | null;
  /** Why Slack refused this request's message for good (its sync ended); null while it syncs. */
  syncError?: string | null;
  /** DELETEs paused for every request (read with the request, so its message can say so); null when not. */
  pause?: Pause | null;
  /** The state the requester was last sent a direct message about; null before any. */
  requesterTold?: RequestState | null;
  /** When the approvers are reminded next, while it waits for a decision; null: no reminder is due. */
  nextRemindAt?: number | null;
  /** Reminders posted so far. */
  remindersSent?: number;
  /** An approver clicked Deny and its modal is open: no approval is recorded until `until` or the modal closes. */
  denyHold?: DenyHold | null;
}

export interface DenyHold {
  by: string;
  until: number;
}

/** The deny hold still in force at `now`, or null. */
export function activeDenyHold(request: DeletionRequest, now: number): DenyHold | null {
  const hold = request.denyHold;
  return hold && request.state === 'pending' && hold.until > now ? hold : null;
}

/** A pause or resume of every DELETE, kept in the trail whether or not a request was open. */
export interface ControlEvent {
  id: number;
  kind: 'paused' | 'resumed';
  actorId: string;
  detail: string | null;
  channelId: string | null;
  at: number;
}

/** `/bp-delete pause`: every DELETE waits until an approver resumes. One for the whole store. */
export interface Pause {
  by: string;
  reason: string | null;
  channelId: string | null;
  at: number;
}

export type EventKind =
  | 'requested'
  | 'approved'
  /** A DELETE was started: the claim (start 1) or a take-over (start 2, 3, …; detail says which). */
  | 'delete_sent'
  | 'deleted'
  | 'failed'
  | 'uncertain'
  | 'denied'
  | 'cancelled'
  | 'expired'
  | 'aborted'
  /** Back to pending: its valid approvals fell below the quorum (detail says why). */
  | 'reopened'
  /** A stricter setting reached this open request (detail says which). */
  | 'policy'
  | 'paused'
  | 'resumed'
  /** The approvers were reminded of a request nobody had decided (detail: the user and group ids mentioned). */
  | 'reminded';

export interface RequestEvent {
  id: number;
  requestId: string;
  kind: EventKind;
  actorId: string | null;
  detail: string | null;
  at: number;
  postedAt: number | null;
}

/** Who did something, and where the click or command came from. */
export interface Actor {
  userId: string;
  teamId: string | undefined;
  channelId: string | undefined;
}
