// What every part of SqlStore shares: the dialect, reading a request with its approvals and the pause,
// writing an event, and the schema's migration.
import type { DeletionRequest, Pause } from '../../requests/types';
import { ERASED_PREVIEW, NEWS_STATES, OPEN_STATES, WAITING_STATES } from '../../requests/types';
import type { DatabaseKind, Db, Dialect } from '../dialect';
import { MIGRATIONS, migrationsTable } from '../migrations';
import { type RequestRow, toApproval, toRequest } from '../rows';
import type { CommittedEvent, NewEvent } from '../types';

/** Any fixed 64-bit key; only this app's migrate() takes it ("bp-d"). */
const MIGRATION_LOCK_KEY = 0x62702d64;
/** Serialises execution claims (and pauses) across instances, so the daily deletion limit holds. */
export const DAILY_LIMIT_LOCK_KEY = 0x62702d65;
// Written out, not bound: only then can the planners see that the partial index of open requests
// (requests_one_open_per_customer) covers the query. The states are our own constants.
export const OPEN = `IN (${OPEN_STATES.map((state) => `'${state}'`).join(', ')})`;
/** States the requester may be told of; written out so that requests_requester_untold serves the query. */
export const NEWS = `IN (${NEWS_STATES.map((state) => `'${state}'`).join(', ')})`;
/** Pending and approved: a pause or a stricter setting changes what becomes of them. */
export const WAITING = `IN (${WAITING_STATES.map((state) => `'${state}'`).join(', ')})`;
/** Set with every move into ERASED_STATES: the preview's name and email leave the row in that very statement. */
export const ERASE_PREVIEW = `preview = CASE WHEN preview IS NULL THEN NULL ELSE '${JSON.stringify(ERASED_PREVIEW)}' END`;
/** One row of controls (migration 4). */
export const CONTROLS_ID = 1;

export interface PauseRow {
  paused: number | null;
  paused_by: string | null;
  reason: string | null;
  channel_id: string | null;
  at: number | null;
}
export type RequestWithApprovals = RequestRow & { approvals_json: string | null } & {
  [K in keyof PauseRow as `pause_${K}`]: PauseRow[K];
};

export const toPause = (row: PauseRow): Pause | null =>
  row.paused === 1 ? { by: row.paused_by ?? '', reason: row.reason, channelId: row.channel_id, at: row.at ?? 0 } : null;

export const hydrate = (row: RequestWithApprovals): DeletionRequest => ({
  ...toRequest(row, (JSON.parse(row.approvals_json ?? '[]') as { user_id: string; at: number }[]).map(toApproval)),
  pause: toPause({
    paused: row.pause_paused,
    paused_by: row.pause_paused_by,
    reason: row.pause_reason,
    channel_id: row.pause_channel_id,
    at: row.pause_at,
  }),
});

export class SqlBase {
  readonly kind: DatabaseKind;
  /** A request with its approvals, read by one statement so both come from the same snapshot. */
  protected readonly selectRequest: string;
  private readonly byId: string;
  /** The events each open transaction has written, by the handle its work was given. */
  private readonly written = new WeakMap<Db, CommittedEvent[]>();
  private readonly committedListeners: Array<(events: readonly CommittedEvent[]) => void> = [];

  constructor(protected readonly dialect: Dialect) {
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

  onEventsCommitted(listener: (events: readonly CommittedEvent[]) => void): () => void {
    this.committedListeners.push(listener);
    return () => {
      const at = this.committedListeners.indexOf(listener);
      if (at >= 0) this.committedListeners.splice(at, 1);
    };
  }

  /** The dialect's transaction; once it commits, the listeners hear of the events it wrote. */
  protected async transaction<T>(
    work: (db: Db) => Promise<T>,
    options?: { lockKey?: number; lockName?: string },
  ): Promise<T> {
    const events: CommittedEvent[] = [];
    const result = await this.dialect.transaction((db) => {
      // A handle of this transaction's own, so insertEvent knows whose events it writes.
      const handle: Db = { all: (sql, p) => db.all(sql, p), run: (sql, p) => db.run(sql, p), exec: (x) => db.exec(x) };
      this.written.set(handle, events);
      return work(handle);
    }, options);
    if (events.length > 0) this.committed(events);
    return result;
  }

  private committed(events: readonly CommittedEvent[]): void {
    for (const listener of this.committedListeners) {
      try {
        listener(events);
      } catch {
        // An instrument's failure is its own: the write has committed and its caller must hear so.
      }
    }
  }

  async ping(): Promise<void> {
    await this.dialect.all('SELECT 1');
  }

  async close(): Promise<void> {
    await this.dialect.close();
  }

  async getRequest(id: string): Promise<DeletionRequest | null> {
    return this.load(this.dialect, id);
  }

  protected async load(db: Db, id: string): Promise<DeletionRequest | null> {
    const [row] = await db.all<RequestWithApprovals>(this.byId, [id]);
    return row ? hydrate(row) : null;
  }

  /** Read inside a transaction right after a write to it: the request is there. */
  protected async loaded(db: Db, id: string): Promise<DeletionRequest> {
    return (await this.load(db, id)) as DeletionRequest;
  }

  protected async many(sql: string, params: readonly unknown[]): Promise<DeletionRequest[]> {
    return (await this.dialect.all<RequestWithApprovals>(sql, params)).map(hydrate);
  }

  /** The event, queued for the audit webhook in the same transaction (so none is recorded unqueued). */
  protected async insertEvent(db: Db, requestId: string, event: NewEvent): Promise<void> {
    const [row] = await db.all<{ id: number }>(
      'INSERT INTO events (request_id, kind, actor_id, detail, at) VALUES (?, ?, ?, ?, ?) RETURNING id',
      [requestId, event.kind, event.actorId, event.detail, event.at],
    );
    const id = Number(row?.id);
    await db.run('INSERT INTO audit_outbox (event_id, stream) VALUES (?, ?)', [id, requestId ?? '']);
    // Only the bot's own "deleted" can be a dry run's; the metrics tell the two apart by the outcome.
    const [request] =
      event.kind === 'deleted' && event.actorId === null
        ? await db.all<{ outcome: string | null }>('SELECT outcome FROM requests WHERE id = ?', [requestId])
        : [];
    const outcomeKind = request?.outcome ? (JSON.parse(request.outcome) as { kind: string }).kind : null;
    const committed: CommittedEvent = { id, requestId, kind: event.kind, actorId: event.actorId, outcomeKind };
    const written = this.written.get(db);
    if (written) written.push(committed);
    else this.committed([committed]); // a statement of its own commits at once
  }
}
