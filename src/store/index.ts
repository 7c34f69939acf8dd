// Picks the store: PostgreSQL when a database URL is set (several instances can share it), else the embedded
// SQLite file. Either is migrated before it is returned. Each driver is loaded only when it is used.
import type { StoreSettings } from '../config';
import type { InstrumentedStore } from './types';

export type { BotStore, InstrumentedStore, Store } from './types';

export interface StoreOptions {
  /** false: only read the schema as it is (the audit export must not change the database). */
  migrate?: boolean;
  /** SQLite only: the clock lease and due times are read from (default the machine's). PostgreSQL uses its own. */
  now?: () => number;
}

export async function createStore(settings: StoreSettings, options: StoreOptions = {}): Promise<InstrumentedStore> {
  let store: InstrumentedStore;
  if (settings.databaseUrl) {
    const { PostgresStore, postgresStoreOptions } =
      require('./dialects/postgres') as typeof import('./dialects/postgres');
    store = new PostgresStore(postgresStoreOptions({ ...settings, databaseUrl: settings.databaseUrl }));
  } else {
    const { SqliteStore } = require('./dialects/sqlite') as typeof import('./dialects/sqlite');
    store = new SqliteStore(settings.sqlitePath, options.now ? { now: options.now } : {});
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
