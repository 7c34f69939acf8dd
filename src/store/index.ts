// Picks the store: PostgreSQL when DATABASE_URL is set (several instances can share it), else the embedded
// SQLite file. Either is migrated before it is returned. Each driver is loaded only when it is used.
import type { Store } from './types';

export type { Store } from './types';

export async function createStore(
  settings: { databaseUrl: string | undefined; sqlitePath: string },
  env: NodeJS.ProcessEnv = process.env,
): Promise<Store> {
  let store: Store;
  if (settings.databaseUrl) {
    const { PostgresStore, postgresOptionsFromEnv } = require('./postgres') as typeof import('./postgres');
    store = new PostgresStore(postgresOptionsFromEnv(settings.databaseUrl, env));
  } else {
    const { SqliteStore } = require('./sqlite') as typeof import('./sqlite');
    store = new SqliteStore(settings.sqlitePath);
  }
  try {
    await store.migrate();
  } catch (error) {
    await store.close().catch(() => {});
    throw error;
  }
  return store;
}
