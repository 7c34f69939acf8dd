// The shared store: PostgreSQL through a pg Pool, for running several instances (or Heroku dynos) at once.
// Same contract and semantics as SqliteStore; every multi-statement method is one transaction on one
// checked-out client, and races are settled by row locks, conditional UPDATEs and unique indexes.
//
// Environment (read by postgresOptionsFromEnv, used when DATABASE_URL is set):
//   DATABASE_URL               postgres:// or postgresql:// URL. pg honours `sslmode` in it
//                              (e.g. ?sslmode=no-verify, ?sslmode=verify-full).
//   PGSSL_REJECT_UNAUTHORIZED  Optional. `false` connects with TLS but does not verify the server
//                              certificate (ssl: { rejectUnauthorized: false }), as Heroku Postgres needs
//                              (self-signed certificates). `true` or unset: no explicit ssl option, so the
//                              URL's sslmode / PGSSLMODE decide. An explicit ssl option takes precedence over
//                              sslmode in the URL.
//   DATABASE_POOL_MAX          Optional. Most connections this instance opens (default 10, 1 to 100).
import type { PoolClient, PoolConfig, QueryResultRow } from 'pg';
import { Pool } from 'pg';
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

export interface PostgresStoreOptions {
  connectionString: string;
  /** Schema to create and use (search_path) instead of the default one. A plain identifier. */
  schema?: string;
  poolMax?: number;
  /** Passed to pg as is; takes precedence over `sslmode` in the connection string. */
  ssl?: PoolConfig['ssl'];
}

/** Any fixed 64-bit key; only this app's migrate() takes it ("bp-d"). */
const MIGRATION_LOCK_KEY = 0x62702d64;
/** Serialises execution claims across instances, so the daily deletion limit holds. */
const DAILY_LIMIT_LOCK_KEY = 0x62702d65;
const UNIQUE_VIOLATION = '23505';
const ONE_OPEN_PER_CUSTOMER = 'requests_one_open_per_customer';
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Pool options from DATABASE_URL and the optional variables documented at the top of this file. */
export function postgresOptionsFromEnv(url: string, env: NodeJS.ProcessEnv): PostgresStoreOptions {
  const options: PostgresStoreOptions = { connectionString: url, poolMax: 10 };
  const reject = env.PGSSL_REJECT_UNAUTHORIZED?.trim().toLowerCase();
  if (reject === 'false' || reject === '0') options.ssl = { rejectUnauthorized: false };
  else if (reject && reject !== 'true' && reject !== '1') {
    throw new Error(`PGSSL_REJECT_UNAUTHORIZED must be true or false, got "${env.PGSSL_REJECT_UNAUTHORIZED}"`);
  }
  const poolMax = env.DATABASE_POOL_MAX?.trim();
  if (poolMax) {
    const n = Number(poolMax);
    if (!Number.isInteger(n) || n < 1 || n > 100) {
      throw new Error(`DATABASE_POOL_MAX must be an integer from 1 to 100, got "${env.DATABASE_POOL_MAX}"`);
    }
    options.poolMax = n;
  }
  return options;
}

/** pg lets `sslmode` in the URL override an explicit ssl option; drop it so the explicit option wins. */
function withoutSslMode(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    if (!url.searchParams.has('sslmode')) return connectionString;
    url.searchParams.delete('sslmode');
    return url.toString();
  } catch {
    return connectionString;
  }
}

type ApprovalRow = { user_id: string; at: number | string };
type HydratedRow = RequestRow & { approvals_json: ApprovalRow[] };

// One statement reads a request with its approvals, so the two come from the same snapshot.
// COLLATE "C" keeps SQLite's byte order for ties, whatever the database's locale.
const SELECT_REQUEST = `SELECT r.*, COALESCE(
    (SELECT json_agg(json_build_object('user_id', a.user_id, 'at', a.at) ORDER BY a.at, a.user_id COLLATE "C")
       FROM approvals a WHERE a.request_id = r.id),
    '[]'::json) AS approvals_json
  FROM requests r`;

const hydrate = (row: HydratedRow): DeletionRequest => toRequest(row, row.approvals_json.map(toApproval));

type Queryable = Pick<PoolClient, 'query'>;

export class PostgresStore implements Store {
  readonly kind = 'postgres' as const;
  private readonly pool: Pool;
  private readonly schema: string | undefined;

  constructor(options: PostgresStoreOptions) {
    if (options.schema !== undefined && !IDENTIFIER.test(options.schema)) {
      throw new Error(`PostgreSQL schema name must be a plain identifier, got "${options.schema}"`);
    }
    this.schema = options.schema;
    const config: PoolConfig = {
      connectionString: options.ssl === undefined ? options.connectionString : withoutSslMode(options.connectionString),
      max: options.poolMax ?? 10,
    };
    if (options.ssl !== undefined) config.ssl = options.ssl;
    // Set at connection start-up, so every pooled connection resolves table names in the schema.
    if (this.schema) config.options = `-c search_path=${this.schema}`;
    this.pool = new Pool(config);
    // An idle client that loses its connection emits 'error' on the pool; without a listener that would
    // crash the process. The pool discards that client and the next query opens a new connection.
    this.pool.on('error', () => {});
  }

  private async tx<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: unknown;
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        broken = rollbackError; // the connection is unusable: destroy it instead of returning it
      }
      throw error;
    } finally {
      client.release(broken instanceof Error ? broken : undefined);
    }
  }

  private async rows<R extends QueryResultRow>(db: Queryable, sql: string, params: unknown[] = []): Promise<R[]> {
    return (await db.query<R>(sql, params)).rows;
  }

  private async load(db: Queryable, id: string): Promise<DeletionRequest | null> {
    const [row] = await this.rows<HydratedRow>(db, `${SELECT_REQUEST} WHERE r.id = $1`, [id]);
    return row ? hydrate(row) : null;
  }

  private async many(sql: string, params: unknown[]): Promise<DeletionRequest[]> {
    return (await this.rows<HydratedRow>(this.pool, sql, params)).map(hydrate);
  }

  private async insertEvent(db: Queryable, requestId: string, event: NewEvent): Promise<void> {
    await db.query('INSERT INTO events (request_id, kind, actor_id, detail, at) VALUES ($1, $2, $3, $4, $5)', [
      requestId,
      event.kind,
      event.actorId,
      event.detail,
      event.at,
    ]);
  }

  private async findOpen(db: Queryable, customerId: string): Promise<DeletionRequest | null> {
    const [row] = await this.rows<HydratedRow>(
      db,
      `${SELECT_REQUEST} WHERE lower(r.customer_id) = lower($1) AND r.state = ANY($2::text[])`,
      [customerId, OPEN_STATES],
    );
    return row ? hydrate(row) : null;
  }

  async migrate(): Promise<void> {
    await this.tx(async (client) => {
      // The lock comes first: concurrent CREATE ... IF NOT EXISTS can still fail on a catalog unique index.
      await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
      if (this.schema) await client.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
      await client.query(
        'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
      );
      const done = new Set(
        (await this.rows<{ version: number }>(client, 'SELECT version FROM schema_migrations')).map((r) => r.version),
      );
      for (const m of MIGRATIONS) {
        if (done.has(m.version)) continue;
        await client.query(m.sql('postgres'));
        await client.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [
          m.version,
          m.name,
          Date.now(),
        ]);
      }
    });
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  async close(): Promise<void> {
    if (!this.pool.ended) await this.pool.end();
  }

  async createRequest(input: NewRequest, event: NewEvent): Promise<CreateResult> {
    // A concurrent insert for the same customer makes ours fail on the partial unique index; then the
    // winner's request is the answer. Should it have closed in between, try again.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.tx(async (client): Promise<CreateResult> => {
          const existing = await this.findOpen(client, input.customerId);
          if (existing) return { created: false, existing };
          await client.query(
            `INSERT INTO requests (id, team_id, channel_id, customer_id, reason, requester_id, state, approvals_required,
               created_at, expires_at, dry_run)
             VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $9, $10)`,
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
          await this.insertEvent(client, input.id, event);
          return { created: true, request: (await this.load(client, input.id)) as DeletionRequest };
        });
      } catch (error) {
        if (!isUniqueViolation(error, ONE_OPEN_PER_CUSTOMER) || attempt >= 2) throw error;
        const existing = await this.findOpen(this.pool, input.customerId);
        if (existing) return { created: false, existing };
      }
    }
  }

  async getRequest(id: string): Promise<DeletionRequest | null> {
    return this.load(this.pool, id);
  }

  async listRequests(filter: RequestFilter): Promise<DeletionRequest[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.channelId !== undefined) {
      params.push(filter.channelId);
      where.push(`r.channel_id = $${params.length}`);
    }
    if (filter.customerId !== undefined) {
      params.push(filter.customerId);
      where.push(`lower(r.customer_id) = lower($${params.length})`);
    }
    if (filter.states) {
      params.push(filter.states);
      where.push(`r.state = ANY($${params.length}::text[])`);
    }
    params.push(filter.limit);
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    return this.many(
      `${SELECT_REQUEST} ${clause} ORDER BY r.created_at DESC, r.id COLLATE "C" LIMIT $${params.length}`,
      params,
    );
  }

  async countOpenByRequester(requesterId: string): Promise<number> {
    const [row] = await this.rows<{ n: number }>(
      this.pool,
      'SELECT COUNT(*)::int AS n FROM requests WHERE requester_id = $1 AND state = ANY($2::text[])',
      [requesterId, OPEN_STATES],
    );
    return row.n;
  }

  async countDeletionsSince(since: number): Promise<number> {
    return this.deletionsSince(this.pool, since);
  }

  private async deletionsSince(db: Queryable, since: number): Promise<number> {
    const [row] = await this.rows<{ n: number }>(
      db,
      'SELECT COUNT(*)::int AS n FROM requests WHERE delete_started_at >= $1 AND dry_run = 0',
      [since],
    );
    return row.n;
  }

  async addApproval(id: string, userId: string, at: number, executionDelayMs: number): Promise<ApprovalResult> {
    return this.tx(async (client): Promise<ApprovalResult> => {
      // The row lock makes concurrent approvals (from any instance) take turns: the second one sees the
      // first one's count and state.
      const [row] = await this.rows<RequestRow>(client, 'SELECT * FROM requests WHERE id = $1 FOR UPDATE', [id]);
      if (!row || row.state !== 'pending' || Number(row.expires_at) <= at) {
        return { result: 'not_pending', request: row ? await this.load(client, id) : null };
      }
      const inserted = await client.query(
        'INSERT INTO approvals (request_id, user_id, at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
        [id, userId, at],
      );
      if (inserted.rowCount === 0)
        return { result: 'duplicate', request: (await this.load(client, id)) as DeletionRequest };
      const [{ n }] = await this.rows<{ n: number }>(
        client,
        'SELECT COUNT(*)::int AS n FROM approvals WHERE request_id = $1',
        [id],
      );
      const reached = n >= row.approvals_required;
      if (reached) {
        await client.query(
          "UPDATE requests SET state = 'approved', execute_at = $1, version = version + 1 WHERE id = $2",
          [at + executionDelayMs, id],
        );
      } else {
        await client.query('UPDATE requests SET version = version + 1 WHERE id = $1', [id]);
      }
      await this.insertEvent(client, id, {
        kind: 'approved',
        actorId: userId,
        detail: `${n} of ${row.approvals_required}`,
        at,
      });
      return { result: reached ? 'approved' : 'recorded', request: (await this.load(client, id)) as DeletionRequest };
    });
  }

  async transition(
    id: string,
    from: readonly RequestState[],
    to: RequestState,
    patch: TransitionPatch,
    event: NewEvent | null,
  ): Promise<DeletionRequest | null> {
    return this.tx(async (client): Promise<DeletionRequest | null> => {
      // $1 is the new state; the patch's placeholders follow; then id and the from-states.
      const { sql, values } = patchAssignments(patch, (i) => `$${i}`, 2);
      const sets = ['state = $1', 'version = version + 1', ...sql].join(', ');
      const idAt = values.length + 2;
      const result = await client.query(
        `UPDATE requests SET ${sets} WHERE id = $${idAt} AND state = ANY($${idAt + 1}::text[]) RETURNING id`,
        [to, ...values, id, from],
      );
      if (result.rowCount === 0) return null;
      if (event) await this.insertEvent(client, id, event);
      return this.load(client, id);
    });
  }

  async claimExecution(id: string, claim: ExecutionClaim): Promise<ClaimResult> {
    return this.tx(async (client): Promise<ClaimResult> => {
      // Every instance's claims queue on one advisory lock, so the daily count and the claim are one step.
      await client.query('SELECT pg_advisory_xact_lock($1)', [DAILY_LIMIT_LOCK_KEY]);
      const [row] = await this.rows<{ state: string; execute_at: string | null; dry_run: number }>(
        client,
        'SELECT state, execute_at, dry_run FROM requests WHERE id = $1 FOR UPDATE',
        [id],
      );
      if (!row || row.state !== 'approved' || Number(row.execute_at ?? 0) > claim.now) {
        return { result: 'not_due', request: row ? await this.load(client, id) : null };
      }
      if (row.dry_run === 0 && (await this.deletionsSince(client, claim.dayStart)) >= claim.maxPerDay) {
        return { result: 'daily_limit', request: (await this.load(client, id)) as DeletionRequest };
      }
      await client.query(
        `UPDATE requests SET state = 'executing', version = version + 1, lease_until = $1,
           delete_starts = delete_starts + 1, delete_started_at = COALESCE(delete_started_at, $2)
         WHERE id = $3 AND state = 'approved'`,
        [claim.leaseUntil, claim.now, id],
      );
      return { result: 'claimed', request: (await this.load(client, id)) as DeletionRequest };
    });
  }

  async takeOverExecution(
    id: string,
    takeOver: { now: number; leaseUntil: number; seenDeleteStarts: number },
  ): Promise<DeletionRequest | null> {
    const result = await this.pool.query(
      `UPDATE requests SET lease_until = $1, delete_starts = delete_starts + 1,
         delete_started_at = COALESCE(delete_started_at, $2)
       WHERE id = $3 AND state = 'executing' AND (lease_until IS NULL OR lease_until < $2) AND delete_starts = $4`,
      [takeOver.leaseUntil, takeOver.now, id, takeOver.seenDeleteStarts],
    );
    return (result.rowCount ?? 0) > 0 ? this.getRequest(id) : null;
  }

  async renewLease(id: string, leaseUntil: number): Promise<boolean> {
    const result = await this.pool.query("UPDATE requests SET lease_until = $1 WHERE id = $2 AND state = 'executing'", [
      leaseUntil,
      id,
    ]);
    return (result.rowCount ?? 0) > 0;
  }

  async setPreview(id: string, preview: CustomerPreview): Promise<void> {
    await this.pool.query('UPDATE requests SET preview = $1, version = version + 1 WHERE id = $2', [
      JSON.stringify(preview),
      id,
    ]);
  }

  async setMessageTs(id: string, ts: string): Promise<void> {
    await this.pool.query('UPDATE requests SET message_ts = $1 WHERE id = $2 AND message_ts IS NULL', [ts, id]);
  }

  async claimSync(id: string, until: number, now: number): Promise<boolean> {
    const result = await this.pool.query(
      'UPDATE requests SET sync_until = $1 WHERE id = $2 AND (sync_until IS NULL OR sync_until < $3)',
      [until, id, now],
    );
    return (result.rowCount ?? 0) > 0;
  }

  async releaseSync(id: string): Promise<void> {
    await this.pool.query('UPDATE requests SET sync_until = NULL WHERE id = $1', [id]);
  }

  async markMessageVersion(id: string, version: number): Promise<void> {
    await this.pool.query('UPDATE requests SET message_version = $1 WHERE id = $2 AND message_version < $1', [
      version,
      id,
    ]);
  }

  async listEvents(requestId: string): Promise<RequestEvent[]> {
    const rows = await this.rows<EventRow>(this.pool, 'SELECT * FROM events WHERE request_id = $1 ORDER BY id', [
      requestId,
    ]);
    return rows.map(toEvent);
  }

  async markEventPosted(eventId: number, at: number): Promise<void> {
    await this.pool.query('UPDATE events SET posted_at = $1 WHERE id = $2 AND posted_at IS NULL', [at, eventId]);
  }

  async listExpirable(now: number, limit: number): Promise<DeletionRequest[]> {
    return this.many(
      `${SELECT_REQUEST} WHERE r.state = 'pending' AND r.expires_at <= $1 ORDER BY r.expires_at LIMIT $2`,
      [now, limit],
    );
  }

  async listDueForExecution(now: number, limit: number): Promise<DeletionRequest[]> {
    return this.many(
      `${SELECT_REQUEST} WHERE r.state = 'approved' AND r.execute_at <= $1 ORDER BY r.execute_at LIMIT $2`,
      [now, limit],
    );
  }

  async listStaleExecutions(now: number, limit: number): Promise<DeletionRequest[]> {
    // NULLS FIRST as in SQLite: a request without a lease is the stalest.
    return this.many(
      `${SELECT_REQUEST} WHERE r.state = 'executing' AND (r.lease_until IS NULL OR r.lease_until < $1)
       ORDER BY r.lease_until NULLS FIRST LIMIT $2`,
      [now, limit],
    );
  }

  async listOutOfSync(limit: number): Promise<DeletionRequest[]> {
    return this.many(
      `${SELECT_REQUEST} WHERE r.message_ts IS NULL OR r.message_version < r.version
         OR EXISTS (SELECT 1 FROM events e WHERE e.request_id = r.id AND e.posted_at IS NULL)
       ORDER BY r.created_at LIMIT $1`,
      [limit],
    );
  }
}

function isUniqueViolation(error: unknown, constraint: string): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; constraint?: unknown };
  return e.code === UNIQUE_VIOLATION && e.constraint === constraint;
}
