// One store shared by several in-process instances: an SQLite file, and (when TEST_DATABASE_URL is set) a
// PostgreSQL schema of its own. Without TEST_DATABASE_URL the PostgreSQL side is skipped, visibly.
import { type SandboxOptions, tempSqlitePath } from '../../sandbox/harness';
import { postgresSchema } from './processes';

export interface Backend {
  name: string;
  /** Options that put every sandbox of one test on the same store. */
  shared(): Promise<{ options: Pick<SandboxOptions, 'env' | 'sqlitePath'>; cleanup(): Promise<void> }>;
}

const PG_URL = process.env.TEST_DATABASE_URL;

const sqlite: Backend = {
  name: 'SQLite (one file)',
  async shared() {
    return { options: { sqlitePath: tempSqlitePath() }, cleanup: async () => {} };
  },
};
const postgres: Backend = {
  name: 'PostgreSQL',
  async shared() {
    const schema = await postgresSchema(PG_URL ?? '');
    return { options: { env: { DATABASE_URL: schema.databaseUrl, DATABASE_POOL_MAX: '4' } }, cleanup: schema.drop };
  },
};

/** The backends to run a suite on; `what` names the suite in the note printed when PostgreSQL is skipped. */
export function sharedStoreBackends(what: string): Backend[] {
  if (!PG_URL) console.warn(`PostgreSQL ${what} tests skipped: TEST_DATABASE_URL is not set`);
  return PG_URL ? [sqlite, postgres] : [sqlite];
}
