// Why something was refused: every refusal the rules can give, and the helpers that pick one.
// blocks/replies.ts turns each into words.
import type { Membership } from './permissions';
import type { DeletionRequest } from './types';

export type Refusal =
  | { kind: 'unknown_request' }
  | { kind: 'wrong_place' }
  | { kind: 'channel_not_allowed'; allowedChannelIds: string[] }
  | { kind: 'invalid_customer_id'; given: string; pattern: string }
  /** REASON_REQUIRED and no reason given. */
  | { kind: 'reason_required' }
  /** TICKET_PATTERN and no match in the reason: what a ticket looks like, and an example if the operator gave one. */
  | { kind: 'ticket_required'; pattern: string; example: string | null }
  | { kind: 'requester_not_allowed' }
  | { kind: 'directory_unavailable' }
  | { kind: 'too_many_pending'; max: number }
  | { kind: 'already_open'; existing: DeletionRequest }
  /** The open request lives in another channel (maybe private): only its id, nothing else of it. */
  | { kind: 'already_open_elsewhere'; requestId: string; customerId: string }
  | { kind: 'needs_request_id'; subcommand: 'deny' | 'cancel' | 'abort' }
  | { kind: 'only_requester_or_approver_cancels' }
  | { kind: 'self_approval' }
  | { kind: 'not_approver' }
  | { kind: 'already_approved' }
  /** An approver clicked Deny and its modal is open: nothing is approved meanwhile. */
  | { kind: 'being_denied'; by: string }
  | { kind: 'decided'; request: DeletionRequest }
  | { kind: 'expired'; request: DeletionRequest }
  | { kind: 'only_requester_cancels' }
  | { kind: 'not_abortable'; request: DeletionRequest }
  | { kind: 'not_allowed_to_abort' }
  | { kind: 'daily_limit'; max: number; resetsAt: number }
  | { kind: 'status_needs_target' }
  | { kind: 'status_not_found'; target: string }
  | { kind: 'status_elsewhere'; channelId: string }
  | { kind: 'close_usage' }
  | { kind: 'not_uncertain'; request: DeletionRequest };

export type Result<T> = { ok: true; value: T } | { ok: false; refusal: Refusal };

export const refuse = (refusal: Refusal) => ({ ok: false as const, refusal });

/** Why a request that is no longer decidable can't be decided: it expired, or someone decided first. */
export function stateRefusal(request: DeletionRequest, now: () => number): Refusal {
  if (request.state === 'pending' && request.expiresAt <= now()) return { kind: 'expired', request };
  if (request.state === 'expired') return { kind: 'expired', request };
  return { kind: 'decided', request };
}

/** An approver's membership as a refusal, or null when they are one (unknown fails closed). */
export function approverRefusal(membership: Membership): Refusal | null {
  if (membership === 'unknown') return { kind: 'directory_unavailable' };
  if (membership === 'not_member') return { kind: 'not_approver' };
  return null;
}
