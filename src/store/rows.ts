// Row ↔ domain mapping (columns are the same in SQLite and PostgreSQL; both dialects return integers as numbers).
import type { Approval, DeletionRequest, EventKind, RequestEvent, RequestState } from '../requests/types';

export interface RequestRow {
  id: string;
  team_id: string;
  channel_id: string;
  customer_id: string;
  reason: string;
  ticket?: string | null;
  ticket_url?: string | null;
  requester_id: string;
  state: string;
  approvals_required: number;
  created_at: number;
  expires_at: number;
  execute_at: number | null;
  closed_by: string | null;
  close_reason: string | null;
  outcome: string | null;
  delete_starts: number;
  delete_started_at?: number | null;
  lease_until: number | null;
  dry_run: number;
  preview: string | null;
  message_ts: string | null;
  version: number;
  message_version: number;
  finished_at: number | null;
  closed_from?: string | null;
  sync_error?: string | null;
  requester_told?: string | null;
  next_remind_at?: number | null;
  reminders_sent?: number;
  deny_hold_by?: string | null;
  deny_hold_until?: number | null;
}

export interface EventRow {
  id: number;
  request_id: string;
  kind: string;
  actor_id: string | null;
  detail: string | null;
  at: number;
  posted_at: number | null;
}

export function toRequest(row: RequestRow, approvals: Approval[]): DeletionRequest {
  return {
    id: row.id,
    teamId: row.team_id,
    channelId: row.channel_id,
    customerId: row.customer_id,
    reason: row.reason,
    ticket: row.ticket ?? null,
    ticketUrl: row.ticket_url ?? null,
    requesterId: row.requester_id,
    state: row.state as RequestState,
    approvalsRequired: row.approvals_required,
    approvals,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    executeAt: row.execute_at,
    closedBy: row.closed_by,
    closeReason: row.close_reason,
    outcome: row.outcome ? JSON.parse(row.outcome) : null,
    deleteStarts: row.delete_starts,
    deleteStartedAt: row.delete_started_at ?? null,
    leaseUntil: row.lease_until,
    dryRun: row.dry_run === 1,
    preview: row.preview ? JSON.parse(row.preview) : null,
    messageTs: row.message_ts,
    version: row.version,
    messageVersion: row.message_version,
    finishedAt: row.finished_at,
    closedFrom: row.closed_from ?? null,
    syncError: row.sync_error ?? null,
    requesterTold: (row.requester_told ?? null) as RequestState | null,
    nextRemindAt: row.next_remind_at ?? null,
    remindersSent: row.reminders_sent ?? 0,
    denyHold:
      row.deny_hold_by && row.deny_hold_until != null ? { by: row.deny_hold_by, until: row.deny_hold_until } : null,
  };
}

export function toEvent(row: EventRow): RequestEvent {
  return {
    id: row.id,
    requestId: row.request_id,
    kind: row.kind as EventKind,
    actorId: row.actor_id,
    detail: row.detail,
    at: row.at,
    postedAt: row.posted_at,
  };
}

export function toApproval(row: { user_id: string; at: number }): Approval {
  return { userId: row.user_id, at: row.at };
}
