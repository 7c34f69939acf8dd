// What SqlStore needs from a database: the driver, transactions with their locks, and the few spellings
// that differ between SQLite and PostgreSQL. Implemented by dialects/sqlite.ts and dialects/postgres.ts.

/** Statements are written with `?` placeholders; a dialect translates them if its driver wants others. */
export interface Db {
  /** The rows a statement returns; integers come back as numbers (BIGINT included). */
  all<R>(sql: string, params?: readonly unknown[]): Promise<R[]>;
  /** Runs a statement that returns no rows; resolves to the number of rows it changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
  /** Runs a script of several statements without parameters (a migration). */
  exec(script: string): Promise<void>;
}

/** Which database a store or migration is for. */
export type DatabaseKind = 'sqlite' | 'postgres';

export interface Dialect extends Db {
  readonly kind: DatabaseKind;
  /**
   * Runs `work` in one transaction that commits when it resolves and rolls back when it throws. Nothing
   * else of this process runs inside it. `lockKey` (a number) or `lockName` (any text, e.g. a user id)
   * also serialises it with every other process's transaction that takes the same lock (SQLite's write
   * lock already serialises all writers).
   */
  transaction<T>(work: (db: Db) => Promise<T>, options?: { lockKey?: number; lockName?: string }): Promise<T>;
  /**
   * The database's clock as epoch milliseconds, an SQL expression. Lease and due times are read and written
   * with it only, so the instances sharing the store agree on them whatever their own clocks say.
   */
  readonly nowMs: string;
  /** SQL run first when migrating, e.g. creating the schema the connection uses; null when none. */
  readonly migrationPreamble: string | null;
  /** Appended to a SELECT that must lock its rows until the transaction ends ('' where a write lock is held). */
  readonly forUpdate: string;
  /** `expr` compared byte by byte, whatever the database's locale. */
  bytewise(expr: string): string;
  /** An aggregate: the group's rows as JSON text `[{"key": value}, …]` in `orderBy` order ('[]' or NULL when none). */
  jsonRows(fields: Record<string, string>, orderBy: string): string;
  /** Whether `error` is a violation of the unique index `index`. */
  isUniqueViolation(error: unknown, index: string): boolean;
  /**
   * After personal data was overwritten: leave no earlier copy of it in the database's own files, as far as
   * the database allows (SQLite: its write-ahead log is folded into the file and emptied).
   */
  forgetOverwritten(): Promise<void>;
  close(): Promise<void>;
}

/** `IN (?, ?, …)` for `count` values, the same spelling on both databases; `IN (NULL)` matches nothing. */
export const inList = (count: number): string =>
  count === 0 ? 'IN (NULL)' : `IN (${Array.from({ length: count }, () => '?').join(', ')})`;

/**
 * `work` after `begin` (which opens the transaction, as the dialect spells it), then COMMIT; on an error,
 * ROLLBACK and rethrow. A failed ROLLBACK is handed to `rollbackFailed` (it may rethrow).
 */
export async function transact<T>(
  db: Db,
  begin: () => Promise<void>,
  work: () => Promise<T>,
  rollbackFailed: (error: unknown) => void,
): Promise<T> {
  try {
    await begin(); // in the try: a transaction opened by a half-failed begin must be rolled back too
    const result = await work();
    await db.run('COMMIT');
    return result;
  } catch (error) {
    try {
      await db.run('ROLLBACK');
    } catch (rollbackError) {
      rollbackFailed(rollbackError);
    }
    throw error;
  }
}
