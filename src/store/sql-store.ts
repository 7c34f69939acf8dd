// The Store, written once for SQLite and PostgreSQL: every statement is here, with `?` placeholders;
// what differs between the two databases is asked of the Dialect (dialect.ts).
import type { CustomerPreview, DeletionRequest, Pause, RequestEvent, RequestState } from '../requests/types';
import { OPEN_STATES, WAITING_STATES } from '../requests/types';
import { type Db, type Dialect, inList } from './dialect';
import { MIGRATIONS, migrationsTable } from './migrations';
import { patchAssignments } from './patch';
import { type EventRow, type RequestRow, toApproval, toEvent, toRequest } from './rows';
import type {
  ApprovalResult,
  AuditedRequest,
  AuditPageQuery,
  ClaimResult,
  CreateResult,
  ExecutionClaim,
  NewEvent,
  NewRequest,
  PauseChange,
  PauseResult,
  PolicyFloor,
  Quorum,
  RequestFilter,
  Store,
  TooManyOpen,
  TransitionPatch,
} from './types';

/** Any fixed 64-bit key; only this app's migrate() takes it ("bp-d"). */
const MIGRATION_LOCK_KEY = 0x62702d64;
/** Serialises execution claims across instances, so the daily deletion limit holds. */
const DAILY_LIMIT_LOCK_KEY = 0x62702d65;
const ONE_OPEN_PER_CUSTOMER = 'requests_one_open_per_customer';
// Written out, not bound: only then can the planners see that the partial index of open requests
// (requests_one_open_per_customer) covers the query. The states are our own constants.
const OPEN = `IN (${OPEN_STATES.map((state) => `'${state}'`).join(', ')})`;

interface PauseRow {
  paused: number | null;
  paused_by: string | null;
  reason: string | null;
  channel_id: string | null;
  at: number | null;
}
type RequestWithApprovals = RequestRow & { approvals_json: string | null } & {
  [K in keyof PauseRow as `pause_${K}`]: PauseRow[K];
};

const toPause = (row: PauseRow): Pause | null =>
  row.paused === 1 ? { by: row.paused_by ?? '', reason: row.reason, channelId: row.channel_id, at: row.at ?? 0 } : null;

const hydrate = (row: RequestWithApprovals): DeletionRequest => ({
  ...toRequest(row, (JSON.parse(row.approvals_json ?? '[]') as { user_id: string; at: number }[]).map(toApproval)),
  pause: toPause({
    paused: row.pause_paused,
    paused_by: row.pause_paused_by,
    reason: row.pause_reason,
    channel_id: row.pause_channel_id,
    at: row.pause_at,
  }),
});

/** Pending and approved: a pause or a stricter setting changes what becomes of them. */
const WAITING = `IN (${WAITING_STATES.map((state) => `'${state}'`).join(', ')})`;
/** One row of controls (migration 4). */
const CONTROLS_ID = 1;

export class SqlStore implements Store {
  readonly kind: 'sqlite' | 'postgres';
  /** A request with its approvals, read by one statement so both come from the same snapshot. */
  private readonly selectRequest: string;
  private readonly byId: string;

  constructor(private readonly dialect: Dialect) {
    this.kind = dialect.kind;
    const approvals = dialect.jsonRows({ user_id: 'a.user_id', at: 'a.at' }, `a.at, ${dialect.bytewise('a.user_id')}`);
    // The pause comes with every request read, so a message rendered from the request can say so.
    this.selectRequest = `SELECT r.*, (SELECT ${approvals} FROM approvals a WHERE a.request_id = r.id) AS approvals_json,
      c.paused AS pause_paused, c.paused_by AS pause_paused_by, c.reason AS pause_reason,
      c.channel_id AS pause_channel_id, c.at AS pause_at
      FROM requests r LEFT JOIN controls c ON c.id = ${CONTROLS_ID}`;
    this.byId = `${this.selectRequest} WHERE r.id = ?`;
  }

  async migrate(): Promise<void> {
    // The lock comes first: concurrent CREATE ... IF NOT EXISTS can still fail on a catalog unique index.
    await this.dialect.transaction(
      async (db) => {
        if (this.dialect.migrationPreamble) await db.exec(this.dialect.migrationPreamble);
        await db.exec(migrationsTable(this.kind));
        const done = new Set(
          (await db.all<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => r.version),
        );
        for (const m of MIGRATIONS) {
          if (done.has(m.version)) continue;
          await db.exec(m.sql(this.kind));
          await db.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
            m.version,
            m.name,
            Date.now(),
          ]);
        }
      },
      { lockKey: MIGRATION_LOCK_KEY },
    );
  }

  async ping(): Promise<void> {
    await this.dialect.all('SELECT 1');
  }

  async close(): Promise<void> {
    await this.dialect.close();
  }

  private async load(db: Db, id: string): Promise<DeletionRequest | null> {
    const [row] = await db.all<RequestWithApprovals>(this.byId, [id]);
    return row ? hydrate(row) : null;
  }

  private async many(sql: string, params: readonly unknown[]): Promise<DeletionRequest[]> {
    return (await this.dialect.all<RequestWithApprovals>(sql, params)).map(hydrate);
  }

  private async insertEvent(db: Db, requestId: string, event: NewEvent): Promise<void> {
    await db.run('INSERT INTO events (request_id, kind, actor_id, detail, at) VALUES (?, ?, ?, ?, ?)', [
      requestId,
      event.kind,
      event.actorId,
      event.detail,
      event.at,
    ]);
  }

  private async findOpen(db: Db, customerId: string): Promise<DeletionRequest | null> {
    const [row] = await db.all<RequestWithApprovals>(
      `${this.selectRequest} WHERE lower(r.customer_id) = lower(?) AND r.state ${OPEN}`,
      [customerId],
    );
    return row ? hydrate(row) : null;
  }

  createRequest(input: NewRequest, event: NewEvent): Promise<CreateResult>;
  createRequest(
    input: NewRequest,
    event: NewEvent,
    limit: { maxOpenPerRequester: number },
  ): Promise<CreateResult | TooManyOpen>;
  async createRequest(
    input: NewRequest,
    event: NewEvent,
    limit?: { maxOpenPerRequester: number },
  ): Promise<CreateResult | TooManyOpen> {
    // Where two instances insert for the same customer at once, the second fails on the partial unique
    // index; then the winner's request is the answer. Should it have closed in between, try again.
    // With a limit, the requester's lock makes their creates take turns, so each counts the others' inserts.
    const lock = limit ? { lockName: `requester:${input.requesterId}` } : {};
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.dialect.transaction(async (db): Promise<CreateResult | TooManyOpen> => {
          const existing = await this.findOpen(db, input.customerId);
          if (existing) return { ok: false, kind: 'already_open', existing };
          if (limit && (await this.openByRequester(db, input.requesterId)) >= limit.maxOpenPerRequester) {
            return { ok: false, kind: 'too_many_open', max: limit.maxOpenPerRequester };
          }
          await db.run(
            `INSERT INTO requests (id, team_id, channel_id, customer_id, reason, requester_id, state, approvals_required,
               created_at, expires_at, dry_run)
             VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)`,
            [
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
            ],
          );
          await this.insertEvent(db, input.id, event);
          return { ok: true, request: (await this.load(db, input.id)) as DeletionRequest };
        }, lock);
      } catch (error) {
        if (!this.dialect.isUniqueViolation(error, ONE_OPEN_PER_CUSTOMER) || attempt >= 2) throw error;
        const existing = await this.findOpen(this.dialect, input.customerId);
        if (existing) return { ok: false, kind: 'already_open', existing };
      }
    }
  }

  async getRequest(id: string): Promise<DeletionRequest | null> {
    return this.load(this.dialect, id);
  }

  async listRequests(filter: RequestFilter): Promise<DeletionRequest[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.channelId !== undefined) {
      where.push('r.channel_id = ?');
      params.push(filter.channelId);
    }
    if (filter.customerId !== undefined) {
      where.push('lower(r.customer_id) = lower(?)');
      params.push(filter.customerId);
    }
    if (filter.states) {
      // Written out, like OPEN: the list of open requests in a channel is then served by requests_open_by_channel.
      const states = filter.states.filter((state) => /^[a-z_]+$/.test(state));
      where.push(
        states.length === 0 ? 'r.state IN (NULL)' : `r.state IN (${states.map((st) => `'${st}'`).join(', ')})`,
      );
    }
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    return this.many(
      `${this.selectRequest} ${clause} ORDER BY r.created_at DESC, ${this.dialect.bytewise('r.id')} LIMIT ?`,
      [...params, filter.limit],
    );
  }

  async countOpenByRequester(requesterId: string): Promise<number> {
    return this.openByRequester(this.dialect, requesterId);
  }

  private async openByRequester(db: Db, requesterId: string): Promise<number> {
    const [{ n }] = await db.all<{ n: number }>(
      `SELECT COUNT(*) AS n FROM requests WHERE requester_id = ? AND state ${OPEN}`,
      [requesterId],
    );
    return n;
  }

  async countDeletionsSince(since: number): Promise<number> {
    return this.deletionsSince(this.dialect, since);
  }

  private async deletionsSince(db: Db, since: number): Promise<number> {
    const [{ n }] = await db.all<{ n: number }>(
      'SELECT COUNT(*) AS n FROM requests WHERE delete_started_at >= ? AND dry_run = 0',
      [since],
    );
    return n;
  }

  async addApproval(
    id: string,
    userId: string,
    at: number,
    executionDelayMs: number,
    quorum?: Quorum,
  ): Promise<ApprovalResult> {
    return this.dialect.transaction(async (db): Promise<ApprovalResult> => {
      // The row lock makes concurrent approvals (from any instance) take turns: the second one sees the
      // first one's count and state.
      const [row] = await db.all<RequestRow>(`SELECT * FROM requests WHERE id = ?${this.dialect.forUpdate}`, [id]);
      if (!row || row.state !== 'pending' || row.expires_at <= at) {
        return { kind: 'not_pending', request: row ? await this.load(db, id) : null };
      }
      const inserted = await db.run(
        'INSERT INTO approvals (request_id, user_id, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
        [id, userId, at],
      );
      if (inserted === 0) return { kind: 'duplicate', request: (await this.load(db, id)) as DeletionRequest };
      // Told who NOT to count (not who to count): an approval that raced this one still counts.
      const required = Math.max(row.approvals_required, quorum?.approvalsRequired ?? 0);
      await this.dropApprovals(db, id, quorum?.notCounted ?? [], at);
      const [{ n }] = await db.all<{ n: number }>('SELECT COUNT(*) AS n FROM approvals WHERE request_id = ?', [id]);
      const reached = n >= required;
      if (reached) {
        await db.run(
          `UPDATE requests SET state = 'approved', execute_at = ${this.dialect.nowMs} + ?, approvals_required = ?,
             version = version + 1 WHERE id = ?`,
          [executionDelayMs, required, id],
        );
      } else {
        await db.run('UPDATE requests SET approvals_required = ?, version = version + 1 WHERE id = ?', [required, id]);
      }
      await this.insertEvent(db, id, {
        kind: 'approved',
        actorId: userId,
        detail: `${n} of ${required}`,
        at,
      });
      return { kind: reached ? 'approved' : 'recorded', request: (await this.load(db, id)) as DeletionRequest };
    });
  }

  async transition(
    id: string,
    from: readonly RequestState[],
    to: RequestState,
    patch: TransitionPatch,
    event: NewEvent | null,
  ): Promise<DeletionRequest | null> {
    return this.move(id, from, to, patch, event, null);
  }

  async finishExecution(
    id: string,
    token: number,
    to: RequestState,
    patch: TransitionPatch,
    event: NewEvent | null,
  ): Promise<DeletionRequest | null> {
    return this.move(id, ['executing'], to, patch, event, token);
  }

  /** A conditional transition; with a token, only while the request's deleteStarts is still that token. */
  private async move(
    id: string,
    from: readonly RequestState[],
    to: RequestState,
    patch: TransitionPatch,
    event: NewEvent | null,
    token: number | null,
  ): Promise<DeletionRequest | null> {
    return this.dialect.transaction(async (db): Promise<DeletionRequest | null> => {
      const { sql, values } = patchAssignments(patch, () => '?', 0);
      const sets = ['state = ?', 'version = version + 1', ...sql].join(', ');
      const fenced = token === null ? '' : ' AND delete_starts = ?';
      const changed = await db.run(
        `UPDATE requests SET ${sets} WHERE id = ? AND state ${inList(from.length)}${fenced}`,
        [to, ...values, id, ...from, ...(token === null ? [] : [token])],
      );
      if (changed === 0) return null;
      if (event) await this.insertEvent(db, id, event);
      return this.load(db, id);
    });
  }

  async claimExecution(id: string, claim: ExecutionClaim): Promise<ClaimResult> {
    // Every instance's claims take turns on one lock, so the daily count and the claim are one step.
    return this.dialect.transaction(
      async (db): Promise<ClaimResult> => {
        const [row] = await db.all<Pick<RequestRow, 'state' | 'dry_run' | 'approvals_required'> & { due: number }>(
          `SELECT state, dry_run, approvals_required,
             CASE WHEN execute_at IS NULL OR execute_at <= ${this.dialect.nowMs} THEN 1 ELSE 0 END AS due
           FROM requests WHERE id = ?${this.dialect.forUpdate}`,
          [id],
        );
        if (!row || row.state !== 'approved' || row.due !== 1) {
          return { kind: 'not_due', request: row ? await this.load(db, id) : null };
        }
        // Under the same lock as setPause: once a pause is stored, no claim starts a DELETE.
        if (await this.pausedNow(db)) return { kind: 'paused', request: (await this.load(db, id)) as DeletionRequest };
        // The quorum is judged again only when the claim brings this instance's view of it (the executor does).
        const judged = claim.approvalsRequired !== undefined || claim.notCounted !== undefined;
        const required = Math.max(row.approvals_required, claim.approvalsRequired ?? 0);
        const dropped = await this.dropApprovals(db, id, claim.notCounted ?? [], claim.now);
        const [{ n }] = await db.all<{ n: number }>('SELECT COUNT(*) AS n FROM approvals WHERE request_id = ?', [id]);
        if (judged && n < required) {
          await db.run(
            "UPDATE requests SET state = 'pending', execute_at = NULL, approvals_required = ?, version = version + 1 WHERE id = ?",
            [required, id],
          );
          await this.insertEvent(db, id, {
            kind: 'reopened',
            actorId: null,
            detail: `Back to waiting for approval: ${n} of ${required} approvals count${dropped.length ? ` (no longer approvers: ${dropped.map((u) => `@${u}`).join(', ')})` : ''}, so no DELETE was sent.`,
            at: claim.now,
          });
          return { kind: 'reopened', request: (await this.load(db, id)) as DeletionRequest };
        }
        const dryRun = row.dry_run === 1 || claim.dryRun === true;
        if (!dryRun && (await this.deletionsSince(db, claim.dayStart)) >= claim.maxPerDay) {
          return { kind: 'daily_limit', request: (await this.load(db, id)) as DeletionRequest };
        }
        await db.run(
          `UPDATE requests SET state = 'executing', version = version + 1, lease_until = ${this.dialect.nowMs} + ?,
             delete_starts = delete_starts + 1, delete_started_at = COALESCE(delete_started_at, ?), dry_run = ?
           WHERE id = ? AND state = 'approved'`,
          [claim.leaseMs, claim.now, dryRun ? 1 : 0, id],
        );
        return { kind: 'claimed', request: (await this.load(db, id)) as DeletionRequest };
      },
      { lockKey: DAILY_LIMIT_LOCK_KEY },
    );
  }

  /** Remove the approvals of people who are no longer approvers, saying so in the thread; returns who. */
  private async dropApprovals(db: Db, id: string, userIds: readonly string[], at: number): Promise<string[]> {
    if (userIds.length === 0) return [];
    const rows = await db.all<{ user_id: string }>(
      `SELECT user_id FROM approvals WHERE request_id = ? AND user_id ${inList(userIds.length)}`,
      [id, ...userIds],
    );
    const dropped = rows.map((r) => r.user_id).sort();
    if (dropped.length === 0) return [];
    await db.run(`DELETE FROM approvals WHERE request_id = ? AND user_id ${inList(dropped.length)}`, [id, ...dropped]);
    await this.insertEvent(db, id, {
      kind: 'policy',
      actorId: null,
      detail: `No longer counted: the approval of ${dropped.map((u) => `@${u}`).join(', ')}, who ${dropped.length === 1 ? 'is' : 'are'} no longer an approver.`,
      at,
    });
    return dropped;
  }

  private async pausedNow(db: Db): Promise<boolean> {
    const [row] = await db.all<{ paused: number }>('SELECT paused FROM controls WHERE id = ?', [CONTROLS_ID]);
    return row?.paused === 1;
  }

  async applyPolicyFloor(floor: PolicyFloor): Promise<string[]> {
    return this.dialect.transaction(async (db): Promise<string[]> => {
      const rows = await db.all<{ id: string; dry_run: number; approvals_required: number }>(
        `SELECT id, dry_run, approvals_required FROM requests
         WHERE state ${WAITING} AND ((dry_run = 0 AND ? = 1) OR approvals_required < ?)${this.dialect.forUpdate}`,
        [floor.dryRun ? 1 : 0, floor.approvalsRequired],
      );
      for (const row of rows) {
        const dry = floor.dryRun && row.dry_run === 0;
        const raised = row.approvals_required < floor.approvalsRequired;
        await db.run('UPDATE requests SET dry_run = ?, approvals_required = ?, version = version + 1 WHERE id = ?', [
          dry ? 1 : row.dry_run,
          Math.max(row.approvals_required, floor.approvalsRequired),
          row.id,
        ]);
        const said = [
          dry ? 'DRY RUN is now on: no DELETE will be sent for this request' : '',
          raised ? `it now needs ${floor.approvalsRequired} approvals (was ${row.approvals_required})` : '',
        ].filter((s) => s !== '');
        await this.insertEvent(db, row.id, {
          kind: 'policy',
          actorId: null,
          detail: `The bot restarted with stricter settings: ${said.join('; ')}.`,
          at: floor.at,
        });
      }
      return rows.map((r) => r.id);
    });
  }

  async getPause(): Promise<Pause | null> {
    const [row] = await this.dialect.all<PauseRow>(
      'SELECT paused, paused_by, reason, channel_id, at FROM controls WHERE id = ?',
      [CONTROLS_ID],
    );
    return row ? toPause(row) : null;
  }

  async setPause(change: PauseChange): Promise<PauseResult> {
    // The claims' lock: a claim either finished before the pause or sees it.
    return this.dialect.transaction(
      async (db): Promise<PauseResult> => {
        const changed = await db.run(
          'UPDATE controls SET paused = ?, paused_by = ?, reason = ?, channel_id = ?, at = ? WHERE id = ? AND paused = ?',
          [
            change.paused ? 1 : 0,
            change.by,
            change.reason,
            change.channelId,
            change.at,
            CONTROLS_ID,
            change.paused ? 0 : 1,
          ],
        );
        const [row] = await db.all<PauseRow>(
          'SELECT paused, paused_by, reason, channel_id, at FROM controls WHERE id = ?',
          [CONTROLS_ID],
        );
        const pause = row ? toPause(row) : null;
        if (changed === 0) return { changed: false, pause, affected: [] };
        const expired: string[] = [];
        if (!change.paused) {
          // A DELETE held past its request's expiry is not sent on resume: it is asked for again if still wanted.
          const stale = await db.all<{ id: string }>(
            "SELECT id FROM requests WHERE state = 'approved' AND expires_at <= ?",
            [change.at],
          );
          for (const { id } of stale) {
            await db.run(
              "UPDATE requests SET state = 'expired', finished_at = ?, version = version + 1 WHERE id = ? AND state = 'approved'",
              [change.at, id],
            );
            await this.insertEvent(db, id, {
              kind: 'expired',
              actorId: null,
              detail: 'It expired while DELETEs were paused, so no DELETE was sent.',
              at: change.at,
            });
            expired.push(id);
          }
        }
        const open = await db.all<{ id: string }>(`SELECT id FROM requests WHERE state ${WAITING} ORDER BY id`);
        for (const { id } of open) {
          await db.run('UPDATE requests SET version = version + 1 WHERE id = ?', [id]);
          await this.insertEvent(db, id, {
            kind: change.paused ? 'paused' : 'resumed',
            actorId: change.by,
            detail: change.reason,
            at: change.at,
          });
        }
        return { changed: true, pause, affected: [...expired, ...open.map((r) => r.id)] };
      },
      { lockKey: DAILY_LIMIT_LOCK_KEY },
    );
  }

  async takeOverExecution(
    id: string,
    takeOver: { now: number; leaseMs: number; seenDeleteStarts: number },
  ): Promise<DeletionRequest | null> {
    const now = this.dialect.nowMs;
    const changed = await this.dialect.run(
      `UPDATE requests SET lease_until = ${now} + ?, delete_starts = delete_starts + 1,
         delete_started_at = COALESCE(delete_started_at, ?)
       WHERE id = ? AND state = 'executing' AND (lease_until IS NULL OR lease_until < ${now}) AND delete_starts = ?`,
      [takeOver.leaseMs, takeOver.now, id, takeOver.seenDeleteStarts],
    );
    return changed > 0 ? this.getRequest(id) : null;
  }

  async renewLease(id: string, token: number, leaseMs: number): Promise<boolean> {
    const changed = await this.dialect.run(
      `UPDATE requests SET lease_until = ${this.dialect.nowMs} + ?
       WHERE id = ? AND state = 'executing' AND delete_starts = ?`,
      [leaseMs, id, token],
    );
    return changed > 0;
  }

  async setPreview(id: string, preview: CustomerPreview): Promise<void> {
    await this.dialect.run('UPDATE requests SET preview = ?, version = version + 1 WHERE id = ?', [
      JSON.stringify(preview),
      id,
    ]);
  }

  async setMessageTs(id: string, ts: string): Promise<void> {
    await this.dialect.run('UPDATE requests SET message_ts = ? WHERE id = ? AND message_ts IS NULL', [ts, id]);
  }

  async claimSync(id: string, until: number, now: number): Promise<boolean> {
    const changed = await this.dialect.run(
      // A request whose sync Slack ended for good (sync_error) is never claimed again.
      'UPDATE requests SET sync_until = ? WHERE id = ? AND (sync_until IS NULL OR sync_until < ?) AND sync_error IS NULL',
      [until, id, now],
    );
    return changed > 0;
  }

  async releaseSync(id: string): Promise<void> {
    await this.dialect.run('UPDATE requests SET sync_until = NULL WHERE id = ?', [id]);
  }

  async deferSync(id: string, retryAt: (failures: number) => number): Promise<number> {
    return this.dialect.transaction(async (db) => {
      const [row] = await db.all<{ sync_failures: number }>(
        `SELECT sync_failures FROM requests WHERE id = ?${this.dialect.forUpdate}`,
        [id],
      );
      if (!row) return 0;
      const failures = row.sync_failures + 1;
      await db.run('UPDATE requests SET sync_failures = ?, sync_retry_at = ? WHERE id = ?', [
        failures,
        retryAt(failures),
        id,
      ]);
      return failures;
    });
  }

  async endSync(id: string, error: string): Promise<boolean> {
    const changed = await this.dialect.run('UPDATE requests SET sync_error = ? WHERE id = ? AND sync_error IS NULL', [
      error,
      id,
    ]);
    return changed > 0;
  }

  async syncSucceeded(id: string): Promise<void> {
    await this.dialect.run(
      'UPDATE requests SET sync_failures = 0, sync_retry_at = 0 WHERE id = ? AND (sync_failures <> 0 OR sync_retry_at <> 0)',
      [id],
    );
  }

  async finishSync(id: string, succeeded: boolean): Promise<void> {
    await this.dialect.run(
      `UPDATE requests SET sync_until = NULL${succeeded ? ', sync_failures = 0, sync_retry_at = 0' : ''} WHERE id = ?`,
      [id],
    );
  }

  async messagePosted(id: string, ts: string, version: number, finish: boolean): Promise<void> {
    // One statement where a new request's first sync used to make four (ts, version, succeeded, release).
    await this.dialect.run(
      `UPDATE requests SET message_ts = COALESCE(message_ts, ?),
         message_version = CASE WHEN message_version < ? THEN ? ELSE message_version END${
           finish ? ', sync_until = NULL, sync_failures = 0, sync_retry_at = 0' : ''
         }
       WHERE id = ?`,
      [ts, version, version, id],
    );
  }

  async syncError(id: string): Promise<string | null> {
    const [row] = await this.dialect.all<{ sync_error: string | null }>(
      'SELECT sync_error FROM requests WHERE id = ?',
      [id],
    );
    return row?.sync_error ?? null;
  }

  async markMessageVersion(id: string, version: number): Promise<void> {
    await this.dialect.run('UPDATE requests SET message_version = ? WHERE id = ? AND message_version < ?', [
      version,
      id,
      version,
    ]);
  }

  async listEvents(requestId: string): Promise<RequestEvent[]> {
    const rows = await this.dialect.all<EventRow>('SELECT * FROM events WHERE request_id = ? ORDER BY id', [requestId]);
    return rows.map(toEvent);
  }

  async markEventPosted(eventId: number, at: number): Promise<void> {
    await this.dialect.run('UPDATE events SET posted_at = ? WHERE id = ? AND posted_at IS NULL', [at, eventId]);
  }

  async listExpirable(now: number, limit: number): Promise<DeletionRequest[]> {
    return this.many(
      `${this.selectRequest} WHERE r.state = 'pending' AND r.expires_at <= ? ORDER BY r.expires_at LIMIT ?`,
      [now, limit],
    );
  }

  async listDueForExecution(limit: number): Promise<DeletionRequest[]> {
    return this.many(
      `${this.selectRequest} WHERE r.state = 'approved' AND r.execute_at <= ${this.dialect.nowMs}
       ORDER BY r.execute_at LIMIT ?`,
      [limit],
    );
  }

  async listStaleExecutions(limit: number): Promise<DeletionRequest[]> {
    // A request without a lease is the stalest.
    return this.many(
      `${this.selectRequest} WHERE r.state = 'executing' AND (r.lease_until IS NULL OR r.lease_until < ${this.dialect.nowMs})
       ORDER BY r.lease_until NULLS FIRST LIMIT ?`,
      [limit],
    );
  }

  async listUncertain(maxChecks: number, limit: number): Promise<DeletionRequest[]> {
    return this.many(
      `${this.selectRequest} WHERE r.state = 'uncertain' AND r.settle_checks < ?
         AND (r.settle_after IS NULL OR r.settle_after <= ${this.dialect.nowMs})
       ORDER BY r.finished_at LIMIT ?`,
      [maxChecks, limit],
    );
  }

  async claimSettleCheck(id: string, maxChecks: number, nextInMs: number): Promise<boolean> {
    const now = this.dialect.nowMs;
    const changed = await this.dialect.run(
      `UPDATE requests SET settle_checks = settle_checks + 1, settle_after = ${now} + ?
       WHERE id = ? AND state = 'uncertain' AND settle_checks < ? AND (settle_after IS NULL OR settle_after <= ${now})`,
      [nextInMs, id, maxChecks],
    );
    return changed > 0;
  }

  async listOutOfSync(limit: number, now = Number.MAX_SAFE_INTEGER): Promise<DeletionRequest[]> {
    // Two index-served reads, never a scan of the history: requests_needs_sync holds exactly the rows whose
    // message is behind (its predicate is that condition), events_unposted exactly the unposted replies.
    // Due-time order, so a request that keeps failing (pushed back by deferSync) never holds up another.
    const due = 'r.sync_error IS NULL AND r.sync_retry_at <= ?';
    const order = `ORDER BY r.sync_retry_at, r.created_at, ${this.dialect.bytewise('r.id')} LIMIT ?`;
    type Due = RequestWithApprovals & { sync_retry_at: number };
    const [behind, unposted] = await Promise.all([
      this.dialect.all<Due>(
        `${this.selectRequest} WHERE ${due} AND (r.message_ts IS NULL OR r.message_version < r.version) ${order}`,
        [now, limit],
      ),
      this.dialect.all<Due>(
        `${this.selectRequest} WHERE ${due}
           AND r.id IN (SELECT e.request_id FROM events e WHERE e.posted_at IS NULL) ${order}`,
        [now, limit],
      ),
    ]);
    const byId = new Map<string, Due>();
    for (const row of [...behind, ...unposted]) byId.set(row.id, row);
    return [...byId.values()]
      .sort(
        (a, b) =>
          a.sync_retry_at - b.sync_retry_at || a.created_at - b.created_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
      )
      .slice(0, limit)
      .map(hydrate);
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
