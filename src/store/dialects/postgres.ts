// The shared database: PostgreSQL through a pg Pool, for several instances (or Heroku dynos) at once.
// Transactions run on one checked-out client; races are settled by row locks, advisory locks,
// conditional UPDATEs and unique indexes.
import type { Pool, PoolClient, PoolConfig } from 'pg';
import { types } from 'pg';
import { type Db, type Dialect, transact } from '../dialect';
import { SqlStore } from '../sql-store';
import { checkOut, createPool } from './pg-pool';

export interface PostgresStoreOptions {
  connectionString: string;
  /** Schema to create and use (search_path) instead of the default one. A plain identifier. */
  schema?: string;
  poolMax?: number;
  /** Passed to pg as is; takes precedence over `sslmode` in the connection string. */
  ssl?: PoolConfig['ssl'];
}

/** The store's settings (see config.ts) as pool options. */
export function postgresStoreOptions(settings: {
  databaseUrl: string;
  poolMax?: number;
  sslRejectUnauthorized?: boolean;
}): PostgresStoreOptions {
  const options: PostgresStoreOptions = { connectionString: settings.databaseUrl, poolMax: settings.poolMax ?? 10 };
  // `false` connects with TLS without verifying the server's certificate, as Heroku Postgres needs
  // (self-signed). `true` or unset: no explicit ssl option, so the URL's sslmode / PGSSLMODE decide.
  if (settings.sslRejectUnauthorized === false) options.ssl = { rejectUnauthorized: false };
  return options;
}

const UNIQUE_VIOLATION = '23505';
/** The first key of the two-key advisory locks taken by name ("bp-n"); apart from the one-key locks anyway. */
const NAMED_LOCK_SPACE = 0x62702d6e;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const INT8 = 20;
// Timestamps and counts are BIGINT, which pg returns as strings by default; all of them are far below 2^53.
const typeParsers = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 ? Number : types.getTypeParser(oid, format)) as typeof types.getTypeParser,
};

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

/** `?` placeholders as pg's `$1, $2, …`, translated once per SQL text. None of our SQL has a `?` in a literal. */
const numbered = new Map<string, string>();
function numberPlaceholders(sql: string): string {
  let text = numbered.get(sql);
  if (text === undefined) {
    let n = 0;
    text = sql.replace(/\?/g, () => `$${++n}`);
    numbered.set(sql, text);
  }
  return text;
}

type Queryable = Pick<PoolClient, 'query'>;

function on(target: Queryable): Db {
  return {
    all: async <R>(sql: string, params: readonly unknown[] = []) =>
      (await target.query(numberPlaceholders(sql), params as unknown[])).rows as R[],
    run: async (sql, params = []) => (await target.query(numberPlaceholders(sql), params as unknown[])).rowCount ?? 0,
    exec: async (script) => {
      await target.query(script); // no parameters: the simple protocol, which allows several statements
    },
  };
}

export class PostgresDialect implements Dialect {
  readonly kind = 'postgres' as const;
  readonly forUpdate = ' FOR UPDATE';
  // clock_timestamp(), not now(): now() is the transaction's start, which a long wait for a lock leaves behind.
  readonly nowMs = '(extract(epoch from clock_timestamp()) * 1000)::bigint';
  readonly migrationPreamble: string | null;
  readonly all: Db['all'];
  readonly run: Db['run'];
  readonly exec: Db['exec'];
  private readonly pool: Pool;

  constructor(options: PostgresStoreOptions) {
    if (options.schema !== undefined && !IDENTIFIER.test(options.schema)) {
      throw new Error(`PostgreSQL schema name must be a plain identifier, got "${options.schema}"`);
    }
    this.migrationPreamble = options.schema ? `CREATE SCHEMA IF NOT EXISTS "${options.schema}"` : null;
    const config: PoolConfig = {
      connectionString: options.ssl === undefined ? options.connectionString : withoutSslMode(options.connectionString),
      max: options.poolMax ?? 10,
      types: typeParsers,
      // Names the bot's sessions in pg_stat_activity; an application_name in the URL takes precedence.
      application_name: 'bp-delete',
    };
    if (options.ssl !== undefined) config.ssl = options.ssl;
    // Set at connection start-up, so every pooled connection resolves table names in the schema.
    if (options.schema) config.options = `-c search_path=${options.schema}`;
    this.pool = createPool(config);
    ({ all: this.all, run: this.run, exec: this.exec } = on(this.pool));
  }

  async transaction<T>(
    work: (db: Db) => Promise<T>,
    options: { lockKey?: number; lockName?: string } = {},
  ): Promise<T> {
    const { client, release } = await checkOut(this.pool);
    let broken: Error | undefined;
    try {
      const db = on(client);
      const begin = async () => {
        await db.run('BEGIN');
        if (options.lockKey !== undefined) await db.all('SELECT pg_advisory_xact_lock(?)', [options.lockKey]);
        if (options.lockName !== undefined) {
          await db.all('SELECT pg_advisory_xact_lock(?, hashtext(?))', [NAMED_LOCK_SPACE, options.lockName]);
        }
      };
      return await transact(
        db,
        begin,
        () => work(db),
        (rollbackError) => {
          // The connection is unusable: destroy it instead of returning it to the pool.
          broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
        },
      );
    } finally {
      release(broken);
    }
  }

  bytewise(expr: string): string {
    return `${expr} COLLATE "C"`; // SQLite's order for ties, whatever the database's locale
  }

  jsonRows(fields: Record<string, string>, orderBy: string): string {
    const pairs = Object.entries(fields).map(([key, expr]) => `'${key}', ${expr}`);
    return `json_agg(json_build_object(${pairs.join(', ')}) ORDER BY ${orderBy})::text`;
  }

  isUniqueViolation(error: unknown, index: string): boolean {
    if (typeof error !== 'object' || error === null) return false;
    const e = error as { code?: unknown; constraint?: unknown };
    return e.code === UNIQUE_VIOLATION && e.constraint === index;
  }

  async forgetOverwritten(): Promise<void> {
    // The UPDATE is all the store does: old row versions live until VACUUM, and the WAL as long as the
    // operator's retention keeps it (docs/SECURITY.md says so).
  }

  async close(): Promise<void> {
    if (!this.pool.ended) await this.pool.end();
  }
}

/** The store on a PostgreSQL database, shared by every instance that uses the same URL and schema. */
export class PostgresStore extends SqlStore {
  constructor(options: PostgresStoreOptions) {
    super(new PostgresDialect(options));
  }
}
