// The embedded store: better-sqlite3 in WAL mode. Synchronous underneath; each method is one transaction.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { CustomerPreview, DeletionRequest, RequestEvent, RequestState } from '../requests/types';
import { OPEN_STATES } from '../requests/types';
import { MIGRATIONS } from './migrations';
import { patchAssignments } from './patch';
import { type EventRow, type RequestRow, toApproval, toEvent, toRequest } from './rows';
import type {
  ApprovalResult,
  ClaimResult,
  CreateResult,
  ExecutionClaim,
  NewEvent,
  NewRequest,
  RequestFilter,
  Store,
  TransitionPatch,
} from './types';

const inList = (states: readonly RequestState[]) => states.map((s) => `'${s}'`).join(', ');
const OPEN = inList(OPEN_STATES);

export class SqliteStore implements Store {
  readonly kind = 'sqlite' as const;
  private readonly db: Database.Database;
  /** `prepare` once per SQL text: preparing costs more than running most of these one-row queries. */
  private readonly cached: { prepare(sql: string): Database.Statement };

  constructor(file: string) {
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
    const statements = new Map<string, Database.Statement>();
    this.cached = {
      prepare: (sql) => {
        let statement = statements.get(sql);
        if (!statement) {
          statement = this.db.prepare(sql);
          statements.set(sql, statement);
        }
        return statement;
      },
    };
  }

  async migrate(): Promise<void> {
    this.db.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
    );
    // IMMEDIATE takes the write lock first, so two processes starting at once apply each migration once.
    const apply = this.db.transaction(() => {
      const done = new Set(
        (this.db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) => r.version),
      );
      for (const m of MIGRATIONS) {
        if (done.has(m.version)) continue;
        this.db.exec(m.sql('sqlite'));
        this.db
          .prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)')
          .run(m.version, m.name, Date.now());
      }
    });
    apply.immediate();
  }

  async ping(): Promise<void> {
    this.cached.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private load(id: string): DeletionRequest | null {
    const row = this.cached.prepare('SELECT * FROM requests WHERE id = ?').get(id) as RequestRow | undefined;
    return row ? this.hydrate(row) : null;
  }

  private hydrate(row: RequestRow): DeletionRequest {
    const approvals = this.cached
      .prepare('SELECT user_id, at FROM approvals WHERE request_id = ? ORDER BY at, user_id')
      .all(row.id) as { user_id: string; at: number }[];
    return toRequest(row, approvals.map(toApproval));
  }

  private many(sql: string, ...params: unknown[]): DeletionRequest[] {
    return (this.cached.prepare(sql).all(...params) as RequestRow[]).map((row) => this.hydrate(row));
  }

  private insertEvent(requestId: string, event: NewEvent): void {
    this.cached
      .prepare('INSERT INTO events (request_id, kind, actor_id, detail, at) VALUES (?, ?, ?, ?, ?)')
      .run(requestId, event.kind, event.actorId, event.detail, event.at);
  }

  async createRequest(input: NewRequest, event: NewEvent): Promise<CreateResult> {
    return this.db
      .transaction((): CreateResult => {
        const existing = this.cached
          .prepare(`SELECT * FROM requests WHERE lower(customer_id) = lower(?) AND state IN (${OPEN})`)
          .get(input.customerId) as RequestRow | undefined;
        if (existing) return { created: false, existing: this.hydrate(existing) };
        this.cached
          .prepare(
            `INSERT INTO requests (id, team_id, channel_id, customer_id, reason, requester_id, state, approvals_required,
             created_at, expires_at, dry_run)
           VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)`,
          )
          .run(
            input.id,
            input.teamId,
            input.channelId,
            input.customerId,
            input.reason,
            input.requesterId,
            input.approvalsRequired,
            input.createdAt,
            input.expiresAt,
            input.dryRun ? 1 : 0,
          );
        this.insertEvent(input.id, event);
        return { created: true, request: this.load(input.id) as DeletionRequest };
      })
      .immediate();
  }

  async getRequest(id: string): Promise<DeletionRequest | null> {
    return this.load(id);
  }

  async listRequests(filter: RequestFilter): Promise<DeletionRequest[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.channelId !== undefined) {
      where.push('channel_id = ?');
      params.push(filter.channelId);
    }
    if (filter.customerId !== undefined) {
      where.push('lower(customer_id) = lower(?)');
      params.push(filter.customerId);
    }
    if (filter.states) where.push(`state IN (${inList(filter.states)})`);
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    return this.many(`SELECT * FROM requests ${clause} ORDER BY created_at DESC, id LIMIT ?`, ...params, filter.limit);
  }

  async countOpenByRequester(requesterId: string): Promise<number> {
    const row = this.cached
      .prepare(`SELECT COUNT(*) AS n FROM requests WHERE requester_id = ? AND state IN (${OPEN})`)
      .get(requesterId) as { n: number };
    return row.n;
  }

  async countDeletionsSince(since: number): Promise<number> {
    return this.deletionsSince(since);
  }

  private deletionsSince(since: number): number {
    const row = this.cached
      .prepare('SELECT COUNT(*) AS n FROM requests WHERE delete_started_at >= ? AND dry_run = 0')
      .get(since) as { n: number };
    return row.n;
  }

  async addApproval(id: string, userId: string, at: number, executionDelayMs: number): Promise<ApprovalResult> {
    return this.db
      .transaction((): ApprovalResult => {
        const row = this.cached.prepare('SELECT * FROM requests WHERE id = ?').get(id) as RequestRow | undefined;
        if (!row || row.state !== 'pending' || Number(row.expires_at) <= at) {
          return { result: 'not_pending', request: row ? this.hydrate(row) : null };
        }
        const inserted = this.cached
          .prepare('INSERT OR IGNORE INTO approvals (request_id, user_id, at) VALUES (?, ?, ?)')
          .run(id, userId, at);
        if (inserted.changes === 0) return { result: 'duplicate', request: this.hydrate(row) };
        const { n } = this.cached.prepare('SELECT COUNT(*) AS n FROM approvals WHERE request_id = ?').get(id) as {
          n: number;
        };
        const reached = n >= row.approvals_required;
        if (reached) {
          this.cached
            .prepare("UPDATE requests SET state = 'approved', execute_at = ?, version = version + 1 WHERE id = ?")
            .run(at + executionDelayMs, id);
        } else {
          this.cached.prepare('UPDATE requests SET version = version + 1 WHERE id = ?').run(id);
        }
        this.insertEvent(id, { kind: 'approved', actorId: userId, detail: `${n} of ${row.approvals_required}`, at });
        return { result: reached ? 'approved' : 'recorded', request: this.load(id) as DeletionRequest };
      })
      .immediate();
  }

  async transition(
    id: string,
    from: readonly RequestState[],
    to: RequestState,
    patch: TransitionPatch,
    event: NewEvent | null,
  ): Promise<DeletionRequest | null> {
    return this.db
      .transaction((): DeletionRequest | null => {
        const { sql, values } = patchAssignments(patch, () => '?', 0);
        const sets = ['state = ?', 'version = version + 1', ...sql].join(', ');
        const result = this.cached
          .prepare(`UPDATE requests SET ${sets} WHERE id = ? AND state IN (${inList(from)})`)
          .run(to, ...values, id);
        if (result.changes === 0) return null;
        if (event) this.insertEvent(id, event);
        return this.load(id);
      })
      .immediate();
  }

  async claimExecution(id: string, claim: ExecutionClaim): Promise<ClaimResult> {
    // IMMEDIATE: the write lock is taken first, so count and claim are one step for every process.
    return this.db
      .transaction((): ClaimResult => {
        const row = this.cached.prepare('SELECT * FROM requests WHERE id = ?').get(id) as RequestRow | undefined;
        if (!row || row.state !== 'approved' || Number(row.execute_at ?? 0) > claim.now) {
          return { result: 'not_due', request: row ? this.hydrate(row) : null };
        }
        if (row.dry_run === 0 && this.deletionsSince(claim.dayStart) >= claim.maxPerDay) {
          return { result: 'daily_limit', request: this.hydrate(row) };
        }
        this.cached
          .prepare(
            `UPDATE requests SET state = 'executing', version = version + 1, lease_until = ?,
               delete_starts = delete_starts + 1, delete_started_at = COALESCE(delete_started_at, ?)
             WHERE id = ? AND state = 'approved'`,
          )
          .run(claim.leaseUntil, claim.now, id);
        return { result: 'claimed', request: this.load(id) as DeletionRequest };
      })
      .immediate();
  }

  async takeOverExecution(
    id: string,
    takeOver: { now: number; leaseUntil: number; seenDeleteStarts: number },
  ): Promise<DeletionRequest | null> {
    const result = this.cached
      .prepare(
        `UPDATE requests SET lease_until = ?, delete_starts = delete_starts + 1,
           delete_started_at = COALESCE(delete_started_at, ?)
         WHERE id = ? AND state = 'executing' AND (lease_until IS NULL OR lease_until < ?) AND delete_starts = ?`,
      )
      .run(takeOver.leaseUntil, takeOver.now, id, takeOver.now, takeOver.seenDeleteStarts);
    return result.changes > 0 ? this.load(id) : null;
  }

  async renewLease(id: string, leaseUntil: number): Promise<boolean> {
    const result = this.cached
      .prepare("UPDATE requests SET lease_until = ? WHERE id = ? AND state = 'executing'")
      .run(leaseUntil, id);
    return result.changes > 0;
  }

  async setPreview(id: string, preview: CustomerPreview): Promise<void> {
    this.cached
      .prepare('UPDATE requests SET preview = ?, version = version + 1 WHERE id = ?')
      .run(JSON.stringify(preview), id);
  }

  async setMessageTs(id: string, ts: string): Promise<void> {
    this.cached.prepare('UPDATE requests SET message_ts = ? WHERE id = ? AND message_ts IS NULL').run(ts, id);
  }

  async claimSync(id: string, until: number, now: number): Promise<boolean> {
    const result = this.cached
      .prepare('UPDATE requests SET sync_until = ? WHERE id = ? AND (sync_until IS NULL OR sync_until < ?)')
      .run(until, id, now);
    return result.changes > 0;
  }

  async releaseSync(id: string): Promise<void> {
    this.cached.prepare('UPDATE requests SET sync_until = NULL WHERE id = ?').run(id);
  }

  async markMessageVersion(id: string, version: number): Promise<void> {
    this.cached
      .prepare('UPDATE requests SET message_version = ? WHERE id = ? AND message_version < ?')
      .run(version, id, version);
  }

  async listEvents(requestId: string): Promise<RequestEvent[]> {
    const rows = this.cached
      .prepare('SELECT * FROM events WHERE request_id = ? ORDER BY id')
      .all(requestId) as EventRow[];
    return rows.map(toEvent);
  }

  async markEventPosted(eventId: number, at: number): Promise<void> {
    this.cached.prepare('UPDATE events SET posted_at = ? WHERE id = ? AND posted_at IS NULL').run(at, eventId);
  }

  async listExpirable(now: number, limit: number): Promise<DeletionRequest[]> {
    return this.many(
      "SELECT * FROM requests WHERE state = 'pending' AND expires_at <= ? ORDER BY expires_at LIMIT ?",
      now,
      limit,
    );
  }

  async listDueForExecution(now: number, limit: number): Promise<DeletionRequest[]> {
    return this.many(
      "SELECT * FROM requests WHERE state = 'approved' AND execute_at <= ? ORDER BY execute_at LIMIT ?",
      now,
      limit,
    );
  }

  async listStaleExecutions(now: number, limit: number): Promise<DeletionRequest[]> {
    return this.many(
      "SELECT * FROM requests WHERE state = 'executing' AND (lease_until IS NULL OR lease_until < ?) ORDER BY lease_until LIMIT ?",
      now,
      limit,
    );
  }

  async listOutOfSync(limit: number): Promise<DeletionRequest[]> {
    return this.many(
      `SELECT * FROM requests r WHERE r.message_ts IS NULL OR r.message_version < r.version
         OR EXISTS (SELECT 1 FROM events e WHERE e.request_id = r.id AND e.posted_at IS NULL)
       ORDER BY r.created_at LIMIT ?`,
      limit,
    );
  }
}
