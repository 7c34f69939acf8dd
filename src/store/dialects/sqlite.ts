// The embedded database: better-sqlite3 in WAL mode, one connection, synchronous underneath.
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { type Db, type Dialect, transact } from '../dialect';
import { SqlStore } from '../sql-store';
import { type Checkpointer, startCheckpointer } from './sqlite-checkpointer';

/**
 * Turns on one database file, shared by every connection of this process to that file. A transaction's
 * statements are awaited one by one, so without it another handler's statement could run inside it (and
 * be rolled back with it); and a second connection waiting for SQLite's write lock would block the event
 * loop (better-sqlite3 waits synchronously) while the holder can never finish.
 */
class Turns {
  /** Set while someone's turn is running; everyone else waits. */
  busy = false;
  users = 0;
  /** The file's checkpoint worker, shared like the turns. */
  checkpointer: Checkpointer | null = null;
  private tail: Promise<void> = Promise.resolve();

  async take<T>(work: () => Promise<T>): Promise<T> {
    let release = () => {};
    const turn = new Promise<void>((resolve) => {
      release = resolve;
    });
    const previous = this.tail;
    this.tail = previous.then(() => turn);
    await previous;
    this.busy = true;
    try {
      return await work();
    } finally {
      this.busy = false;
      release();
    }
  }
}

const turnsByFile = new Map<string, Turns>();

export class SqliteDialect implements Dialect {
  readonly kind = 'sqlite' as const;
  readonly migrationPreamble = null;
  readonly forUpdate = ''; // BEGIN IMMEDIATE already holds the database's write lock
  readonly nowMs: string;
  private readonly db: Database.Database;
  /** Prepared once per SQL text: preparing costs more than running most of these one-row queries. */
  private readonly statements = new Map<string, Database.Statement>();
  /** Statements that run directly on the connection, for the holder of the lock. */
  private readonly direct: Db;
  private readonly file: string;
  private readonly turns: Turns;

  constructor(file: string, options: SqliteStoreOptions = {}) {
    this.file = file === ':memory:' ? file : path.resolve(file);
    if (file !== ':memory:') fs.mkdirSync(path.dirname(this.file), { recursive: true });
    this.db = new Database(file);
    const shared = file === ':memory:' ? undefined : turnsByFile.get(this.file);
    this.turns = shared ?? new Turns();
    if (file !== ':memory:' && !shared) turnsByFile.set(this.file, this.turns);
    this.turns.users += 1;
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    if (file !== ':memory:') {
      // Checkpoints run in a worker (sqlite-checkpointer.ts), not inside this connection's commits.
      this.db.pragma('wal_autocheckpoint = 0');
      this.turns.checkpointer ??= startCheckpointer(this.file, () => {
        if (this.db.open) this.db.pragma('wal_autocheckpoint = 1000');
      });
    }
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
    // Deleted and overwritten content is zeroed in the file, not left in free space: a customer's erased name
    // and email must not be readable from the file afterwards (forgetOverwritten empties the WAL).
    this.db.pragma('secure_delete = ON');
    // One file, one machine, one clock: the machine's (what julianday('now') reads), unless one is given.
    if (options.now) {
      const now = options.now;
      this.db.function('bp_now_ms', { deterministic: false }, () => Math.floor(now()));
      this.nowMs = 'bp_now_ms()';
    } else {
      this.nowMs = "CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER)";
    }
    this.direct = {
      all: async <R>(sql: string, params: readonly unknown[] = []) => this.prepare(sql).all(...params) as R[],
      run: async (sql, params = []) => this.prepare(sql).run(...params).changes,
      exec: async (script) => {
        this.db.exec(script);
      },
    };
  }

  private prepare(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  // Outside transactions a statement runs at once unless a turn is running (a transaction is open); then it waits.
  all<R>(sql: string, params?: readonly unknown[]): Promise<R[]> {
    return this.turns.busy ? this.turns.take(() => this.direct.all<R>(sql, params)) : this.direct.all<R>(sql, params);
  }

  run(sql: string, params?: readonly unknown[]): Promise<number> {
    return this.turns.busy ? this.turns.take(() => this.direct.run(sql, params)) : this.direct.run(sql, params);
  }

  exec(script: string): Promise<void> {
    return this.turns.take(() => this.direct.exec(script));
  }

  transaction<T>(work: (db: Db) => Promise<T>): Promise<T> {
    const db = this.direct;
    // IMMEDIATE takes the write lock first, so transactions of other processes on the file take turns too.
    const begin = () => db.run('BEGIN IMMEDIATE').then(() => {});
    return this.turns.take(() =>
      transact(
        db,
        begin,
        () => work(db),
        (error) => {
          if (this.db.inTransaction) throw error; // else SQLite had already rolled back
        },
      ),
    );
  }

  bytewise(expr: string): string {
    return expr; // SQLite's default collation is already byte order
  }

  jsonRows(fields: Record<string, string>, orderBy: string): string {
    const pairs = Object.entries(fields).map(([key, expr]) => `'${key}', ${expr}`);
    return `json_group_array(json_object(${pairs.join(', ')}) ORDER BY ${orderBy})`;
  }

  isUniqueViolation(error: unknown, index: string): boolean {
    if (!(error instanceof Database.SqliteError)) return false;
    return error.code === 'SQLITE_CONSTRAINT_UNIQUE' && error.message.includes(index);
  }

  async forgetOverwritten(): Promise<void> {
    if (this.file === ':memory:') return;
    // TRUNCATE: every frame goes into the file (where secure_delete zeroed the old bytes) and the WAL file is
    // emptied, so no earlier version of a page stays in it. Busy while another process reads an older
    // snapshot: then that process's next erasure (or this one's) completes it.
    await this.turns.take(async () => {
      this.db.pragma('wal_checkpoint(TRUNCATE)');
    });
  }

  async close(): Promise<void> {
    if (!this.db.open) return;
    await this.turns.take(async () => {
      if (!this.db.open) return;
      this.db.close();
      this.turns.users -= 1;
      if (this.turns.users === 0) {
        await this.turns.checkpointer?.stop();
        this.turns.checkpointer = null;
        if (turnsByFile.get(this.file) === this.turns) turnsByFile.delete(this.file);
      }
    });
  }
}

export interface SqliteStoreOptions {
  /**
   * The clock lease and due times are read from (epoch ms); default the machine's, read by SQLite itself.
   * Every connection to one file must use the same one (tests pass their fake clock to their one store).
   */
  now?: () => number;
}

/** The store on a SQLite file (created with its directory if missing), or ':memory:'. */
export class SqliteStore extends SqlStore {
  constructor(file: string, options: SqliteStoreOptions = {}) {
    super(new SqliteDialect(file, options));
  }
}
