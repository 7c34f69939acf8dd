// Row ↔ domain mapping shared by both stores (columns are the same in SQLite and PostgreSQL).
import type { Approval, DeletionRequest, EventKind, RequestEvent, RequestState } from '../requests/types';

export interface RequestRow {
  id: string;
  team_id: string;
  channel_id: string;
  customer_id: string;
  reason: string;
  requester_id: string;
  state: string;
  approvals_required: number;
  created_at: number | string;
  expires_at: number | string;
  execute_at: number | string | null;
  closed_by: string | null;
  close_reason: string | null;
  outcome: string | null;
  delete_starts: number;
  lease_until: number | string | null;
  dry_run: number;
  preview: string | null;
  message_ts: string | null;
  version: number;
  message_version: number;
  finished_at: number | string | null;
}

export interface EventRow {
  id: number | string;
  request_id: string;
  kind: string;
  actor_id: string | null;
  detail: string | null;
  at: number | string;
  posted_at: number | string | null;
}

// PostgreSQL returns BIGINT as a string; both are millisecond timestamps well inside 2^53.
const num = (v: number | string): number => (typeof v === 'string' ? Number(v) : v);
const numOrNull = (v: number | string | null): number | null => (v === null ? null : num(v));

export function toRequest(row: RequestRow, approvals: Approval[]): DeletionRequest {
  return {
    id: row.id,
    teamId: row.team_id,
    channelId: row.channel_id,
    customerId: row.customer_id,
    reason: row.reason,
    requesterId: row.requester_id,
    state: row.state as RequestState,
    approvalsRequired: row.approvals_required,
    approvals,
    createdAt: num(row.created_at),
    expiresAt: num(row.expires_at),
    executeAt: numOrNull(row.execute_at),
    closedBy: row.closed_by,
    closeReason: row.close_reason,
    outcome: row.outcome ? JSON.parse(row.outcome) : null,
    deleteStarts: row.delete_starts,
    leaseUntil: numOrNull(row.lease_until),
    dryRun: row.dry_run === 1,
    preview: row.preview ? JSON.parse(row.preview) : null,
    messageTs: row.message_ts,
    version: row.version,
    messageVersion: row.message_version,
    finishedAt: numOrNull(row.finished_at),
  };
}

export function toEvent(row: EventRow): RequestEvent {
  return {
    id: num(row.id),
    requestId: row.request_id,
    kind: row.kind as EventKind,
    actorId: row.actor_id,
    detail: row.detail,
    at: num(row.at),
    postedAt: numOrNull(row.posted_at),
  };
}

export function toApproval(row: { user_id: string; at: number | string }): Approval {
  return { userId: row.user_id, at: num(row.at) };
}
