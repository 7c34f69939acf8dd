// The Store, written once for SQLite and PostgreSQL: every statement is in this class and the ones it extends
// (sql/base.ts, sql/requests.ts, sql/execution.ts), with `?` placeholders; what differs between the two
// databases is asked of the Dialect (dialect.ts). Here: keeping Slack in step, the sweeper's lists, the audit.
import { createSqlOutbox } from '../audit-webhook/sql-outbox';
import type { AuditOutbox } from '../audit-webhook/worker';
import type { ControlEvent, DeletionRequest, RequestState } from '../requests/types';
import { inList } from './dialect';
import { type EventRow, toEvent } from './rows';
import { hydrate, NEWS, OPEN, type RequestWithApprovals } from './sql/base';
import { SqlExecution } from './sql/execution';
import type {
  AuditedRequest,
  AuditPageQuery,
  HoldsAndTrail,
  MessageShown,
  Store,
  StoreInstruments,
  SweepQuery,
  SyncEnd,
  SyncEnded,
} from './types';

const FORGET_FAILURES = 'sync_failures = 0, sync_retry_at = 0';

export class SqlStore extends SqlExecution implements Store, StoreInstruments, HoldsAndTrail {
  readonly auditOutbox: AuditOutbox = createSqlOutbox(this.dialect, this.dialect.nowMs);

  async countOpenByState(): Promise<Partial<Record<RequestState, number>>> {
    const rows = await this.dialect.all<{ state: RequestState; n: number | string }>(
      `SELECT state, COUNT(*) AS n FROM requests WHERE state ${OPEN} GROUP BY state`,
    );
    return Object.fromEntries(rows.map((row) => [row.state, Number(row.n)]));
  }

  async holdForDeny(
    id: string,
    hold: { by: string; now: number; until: number },
  ): ReturnType<HoldsAndTrail['holdForDeny']> {
    const changed = await this.dialect.run(
      `UPDATE requests SET deny_hold_by = ?, deny_hold_until = ?, version = version + 1
       WHERE id = ? AND state = 'pending' AND (deny_hold_until IS NULL OR deny_hold_until <= ? OR deny_hold_by = ?)`,
      [hold.by, hold.until, id, hold.now, hold.by],
    );
    const request = await this.getRequest(id);
    if (changed > 0) return { kind: 'held', request };
    return request?.state === 'pending' ? { kind: 'held_by_other', request } : { kind: 'not_pending', request };
  }

  async releaseDenyHold(id: string, by: string): Promise<boolean> {
    const changed = await this.dialect.run(
      `UPDATE requests SET deny_hold_by = NULL, deny_hold_until = NULL, version = version + 1
       WHERE id = ? AND deny_hold_by = ? AND state = 'pending'`,
      [id, by],
    );
    return changed > 0;
  }

  async listControlEvents(since: number, until: number): Promise<ControlEvent[]> {
    const rows = await this.dialect.all<{
      id: number;
      kind: ControlEvent['kind'];
      actor_id: string;
      detail: string | null;
      channel_id: string | null;
      at: number;
    }>('SELECT * FROM control_events WHERE at >= ? AND at < ? ORDER BY at, id', [since, until]);
    return rows.map((r) => ({
      id: Number(r.id),
      kind: r.kind,
      actorId: r.actor_id,
      detail: r.detail,
      channelId: r.channel_id,
      at: Number(r.at),
    }));
  }

  async claimSync(id: string, until: number, now: number): Promise<boolean> {
    const changed = await this.dialect.run(
      // A request whose sync Slack ended for good (sync_error) is never claimed again.
      'UPDATE requests SET sync_until = ? WHERE id = ? AND (sync_until IS NULL OR sync_until < ?) AND sync_error IS NULL',
      [until, id, now],
    );
    return changed > 0;
  }

  async endSync(id: string, end: SyncEnd): Promise<SyncEnded> {
    switch (end.kind) {
      case 'in-step':
        if (end.version !== undefined) {
          // Served by the primary key and events_unposted: one statement instead of reading the request again.
          const changed = await this.dialect.run(
            `UPDATE requests SET sync_until = NULL, ${FORGET_FAILURES} WHERE id = ? AND version = ?
               AND NOT EXISTS (SELECT 1 FROM events e WHERE e.request_id = ? AND e.posted_at IS NULL)`,
            [id, end.version, id],
          );
          return { failures: 0, ended: false, released: changed > 0 };
        }
        await this.dialect.run(`UPDATE requests SET sync_until = NULL, ${FORGET_FAILURES} WHERE id = ?`, [id]);
        return { failures: 0, ended: false, released: true };
      case 'behind':
        await this.dialect.run('UPDATE requests SET sync_until = NULL WHERE id = ?', [id]);
        return { failures: 0, ended: false, released: true };
      case 'ended': {
        const changed = await this.dialect.run(
          'UPDATE requests SET sync_error = ? WHERE id = ? AND sync_error IS NULL',
          [end.error, id],
        );
        return { failures: 0, ended: changed > 0, released: false };
      }
      case 'retry':
        return this.transaction(async (db) => {
          const [row] = await db.all<{ sync_failures: number }>(
            `SELECT sync_failures FROM requests WHERE id = ?${this.dialect.forUpdate}`,
            [id],
          );
          if (!row) return { failures: 0, ended: false, released: false };
          const failures = row.sync_failures + 1;
          await db.run('UPDATE requests SET sync_failures = ?, sync_retry_at = ? WHERE id = ?', [
            failures,
            end.retryAt(failures),
            id,
          ]);
          return { failures, ended: false, released: false };
        });
    }
  }

  async recordMessage(id: string, shown: MessageShown): Promise<void> {
    const sets: string[] = [];
    const params: unknown[] = [];
    if (shown.ts !== undefined) {
      sets.push('message_ts = COALESCE(message_ts, ?)');
      params.push(shown.ts);
    }
    if (shown.version !== undefined) {
      sets.push('message_version = CASE WHEN message_version < ? THEN ? ELSE message_version END');
      params.push(shown.version, shown.version);
    }
    if (shown.requesterTold !== undefined) {
      sets.push('requester_told = ?');
      params.push(shown.requesterTold);
    }
    if (sets.length > 0) await this.dialect.run(`UPDATE requests SET ${sets.join(', ')} WHERE id = ?`, [...params, id]);
    const posted = shown.postedEvents;
    if (posted && posted.ids.length > 0) {
      await this.dialect.run(
        `UPDATE events SET posted_at = ? WHERE request_id = ? AND id ${inList(posted.ids.length)} AND posted_at IS NULL`,
        [posted.at, id, ...posted.ids],
      );
    }
  }

  async listOutOfSync(limit: number, now = Number.MAX_SAFE_INTEGER): Promise<DeletionRequest[]> {
    // Three index-served reads, never a scan of the history: requests_needs_sync holds exactly the rows whose
    // message is behind (its predicate is that condition), events_unposted exactly the unposted replies,
    // requests_requester_untold exactly those whose requester's direct message is still to be settled.
    // Due-time order, so a request that keeps failing (pushed back by a 'retry') never holds up another.
    const due = 'r.sync_error IS NULL AND r.sync_retry_at <= ?';
    const order = `ORDER BY r.sync_retry_at, r.created_at, ${this.dialect.bytewise('r.id')} LIMIT ?`;
    type Due = RequestWithApprovals & { sync_retry_at: number };
    const [behind, unposted, untold] = await Promise.all([
      this.dialect.all<Due>(
        `${this.selectRequest} WHERE ${due} AND (r.message_ts IS NULL OR r.message_version < r.version) ${order}`,
        [now, limit],
      ),
      this.dialect.all<Due>(
        `${this.selectRequest} WHERE ${due}
           AND r.id IN (SELECT e.request_id FROM events e WHERE e.posted_at IS NULL) ${order}`,
        [now, limit],
      ),
      this.dialect.all<Due>(
        `${this.selectRequest} WHERE ${due} AND r.state ${NEWS}
           AND (r.requester_told IS NULL OR r.requester_told <> r.state) ${order}`,
        [now, limit],
      ),
    ]);
    const byId = new Map<string, Due>();
    for (const row of [...behind, ...unposted, ...untold]) byId.set(row.id, row);
    return [...byId.values()]
      .sort(
        (a, b) =>
          a.sync_retry_at - b.sync_retry_at || a.created_at - b.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
      )
      .slice(0, limit)
      .map(hydrate);
  }

  async listForSweep(query: SweepQuery): Promise<DeletionRequest[]> {
    const dbNow = this.dialect.nowMs;
    switch (query.kind) {
      case 'expirable':
        return this.many(
          `${this.selectRequest} WHERE r.state = 'pending' AND r.expires_at <= ? ORDER BY r.expires_at LIMIT ?`,
          [query.now, query.limit],
        );
      case 'due':
        return this.many(
          `${this.selectRequest} WHERE r.state = 'approved' AND r.execute_at <= ${dbNow} ORDER BY r.execute_at LIMIT ?`,
          [query.limit],
        );
      case 'stale':
        // A request without a lease is the stalest.
        return this.many(
          `${this.selectRequest} WHERE r.state = 'executing' AND (r.lease_until IS NULL OR r.lease_until < ${dbNow})
           ORDER BY r.lease_until NULLS FIRST LIMIT ?`,
          [query.limit],
        );
      case 'uncertain':
        return this.many(
          `${this.selectRequest} WHERE r.state = 'uncertain' AND r.settle_checks < ?
             AND (r.settle_after IS NULL OR r.settle_after <= ${dbNow})
           ORDER BY r.finished_at LIMIT ?`,
          [query.maxChecks, query.limit],
        );
      case 'remindable':
        // Served by requests_remind; none while DELETEs are paused (the pause is the controls row joined in).
        return this.many(
          `${this.selectRequest} WHERE r.state = 'pending' AND r.next_remind_at IS NOT NULL AND r.next_remind_at <= ?
             AND r.expires_at > ? AND (c.paused IS NULL OR c.paused = 0)
           ORDER BY r.next_remind_at LIMIT ?`,
          [query.now, query.now, query.limit],
        );
    }
  }

  async listAuditPage(page: AuditPageQuery): Promise<AuditedRequest[]> {
    // Keyset pagination: each page starts where the last one ended, so a page costs the same however deep
    // it is and no request is skipped or repeated. Requests and events come from one statement (one snapshot).
    const d = this.dialect;
    const events = d.jsonRows(
      {
        id: 'e.id',
        request_id: 'e.request_id',
        kind: 'e.kind',
        actor_id: 'e.actor_id',
        detail: 'e.detail',
        at: 'e.at',
        posted_at: 'e.posted_at',
      },
      'e.id',
    );
    const rows = await d.all<RequestWithApprovals & { events_json: string | null }>(
      `SELECT q.*, (SELECT ${events} FROM events e WHERE e.request_id = q.id) AS events_json
       FROM (${this.selectRequest}
         WHERE r.created_at >= ? AND r.created_at < ? AND (r.created_at, ${d.bytewise('r.id')}) > (?, ?)
         ORDER BY r.created_at, ${d.bytewise('r.id')} LIMIT ?) q
       ORDER BY q.created_at, ${d.bytewise('q.id')}`,
      [page.since, page.until, page.after?.createdAt ?? page.since - 1, page.after?.id ?? '', page.limit],
    );
    return rows.map((row) => ({
      request: hydrate(row),
      events: (JSON.parse(row.events_json ?? '[]') as EventRow[]).map(toEvent),
    }));
  }
}
