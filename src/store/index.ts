// Picks the store: PostgreSQL when a database URL is set (several instances can share it), else the embedded
// SQLite file. Either is migrated before it is returned. Each driver is loaded only when it is used.
import type { Store } from './types';

export type { Store } from './types';

export interface StoreSettings {
  databaseUrl: string | undefined;
  sqlitePath: string;
  /** Most connections this instance opens to PostgreSQL (default 10). */
  poolMax?: number;
  /** false: TLS to PostgreSQL without verifying its certificate; otherwise the URL's sslmode decides. */
  sslRejectUnauthorized?: boolean;
  /** SQLite only: the clock lease and due times are read from (default the machine's). PostgreSQL uses its own. */
  now?: () => number;
}

/** `migrate: false` only reads the schema as it is (the audit export must not change the database). */
export async function createStore(settings: StoreSettings, options: { migrate?: boolean } = {}): Promise<Store> {
  let store: Store;
  if (settings.databaseUrl) {
    const { PostgresStore, postgresStoreOptions } =
      require('./dialects/postgres') as typeof import('./dialects/postgres');
    store = new PostgresStore(postgresStoreOptions({ ...settings, databaseUrl: settings.databaseUrl }));
  } else {
    const { SqliteStore } = require('./dialects/sqlite') as typeof import('./dialects/sqlite');
    store = new SqliteStore(settings.sqlitePath, settings.now ? { now: settings.now } : {});
  }
  if (options.migrate === false) return store;
  try {
    await store.migrate();
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
  return store;
}
