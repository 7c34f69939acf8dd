// The outbox in the store's database (migration 8): a row per trail event not yet acknowledged, written by
// the store in the same transaction as the event (so no event is recorded unqueued), removed on
// acknowledgement. The store exposes it as StoreInstruments.auditOutbox.

import type { DeletionOutcome, EventKind } from '../requests/types';
import type { AuditedRequest } from './payload';
import type { AuditOutbox, OutboxEntry } from './worker';

/** The store's statement runner (`?` placeholders, integers as numbers): src/store/dialect.ts's Db fits. */
export interface SqlRunner {
  all<R>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  run(sql: string, params?: readonly unknown[]): Promise<number>;
}

interface EntryRow {
  id: number | string;
  request_id: string | null;
  kind: EventKind;
  actor_id: string | null;
  detail: string | null;
  at: number | string;
  attempts: number | string;
  team_id: string | null;
  channel_id: string | null;
  customer_id: string | null;
  requester_id: string | null;
  dry_run: number | boolean | null;
  outcome: string | null;
  ticket: string | null;
}

function toEntry(row: EntryRow): OutboxEntry {
  const request: AuditedRequest | null =
    row.request_id !== null && row.customer_id !== null
      ? {
          id: row.request_id,
          teamId: row.team_id ?? '',
          channelId: row.channel_id ?? '',
          customerId: row.customer_id,
          requesterId: row.requester_id ?? '',
          dryRun: Boolean(row.dry_run),
          outcome: row.outcome === null ? null : (JSON.parse(row.outcome) as DeletionOutcome),
          ticket: row.ticket ?? null,
        }
      : null;
  return {
    event: {
      id: Number(row.id),
      requestId: row.request_id,
      kind: row.kind,
      actorId: row.actor_id,
      detail: row.detail,
      at: Number(row.at),
    },
    request,
    attempts: Number(row.attempts),
  };
}

/**
 * `nowMs`: the database's clock as an SQL expression (the dialect's), so leases mean the same on every
 * instance. Each statement is atomic on its own; none needs a transaction.
 */
export function createSqlOutbox(db: SqlRunner, nowMs: string): AuditOutbox {
  const free = `(lease_until IS NULL OR lease_until <= ${nowMs})`;
  return {
    async claim(owner, leaseMs, limit) {
      // The outer `free` is checked again on each row as it is locked: of two instances that picked the same
      // row, the second finds it leased and skips it (PostgreSQL re-reads a row updated under it; SQLite
      // runs one writer at a time).
      const claimed = await db.all<{ event_id: number | string }>(
        `UPDATE audit_outbox SET lease_owner = ?, lease_until = ${nowMs} + ?
          WHERE event_id IN (
            SELECT o.event_id FROM audit_outbox o
             WHERE o.retry_at <= ${nowMs} AND (o.lease_until IS NULL OR o.lease_until <= ${nowMs})
               AND NOT EXISTS (SELECT 1 FROM audit_outbox p WHERE p.stream = o.stream AND p.event_id < o.event_id)
             ORDER BY o.event_id LIMIT ?)
            AND ${free}
          RETURNING event_id`,
        [owner, leaseMs, limit],
      );
      if (claimed.length === 0) return [];
      const ids = claimed.map((row) => Number(row.event_id));
      const rows = await db.all<EntryRow>(
        `SELECT e.id, e.request_id, e.kind, e.actor_id, e.detail, e.at, o.attempts,
                r.team_id, r.channel_id, r.customer_id, r.requester_id, r.dry_run, r.outcome, r.ticket
           FROM audit_outbox o
           JOIN events e ON e.id = o.event_id
           LEFT JOIN requests r ON r.id = e.request_id
          WHERE o.event_id IN (${ids.map(() => '?').join(', ')}) AND o.lease_owner = ?
          ORDER BY e.id`,
        [...ids, owner],
      );
      return rows.map(toEntry);
    },
    async ack(owner, eventId) {
      await db.run('DELETE FROM audit_outbox WHERE event_id = ? AND lease_owner = ?', [eventId, owner]);
    },
    async retryLater(owner, eventId, delayMs) {
      await db.run(
        `UPDATE audit_outbox SET attempts = attempts + 1, retry_at = ${nowMs} + ?, lease_owner = NULL, lease_until = NULL
          WHERE event_id = ? AND lease_owner = ?`,
        [delayMs, eventId, owner],
      );
    },
    async backlog() {
      const [row] = await db.all<{ n: number | string }>('SELECT COUNT(*) AS n FROM audit_outbox');
      return Number(row?.n ?? 0);
    },
  };
}
