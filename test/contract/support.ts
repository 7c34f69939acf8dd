// The Store contract's harness, written once and run against every implementation: SQLite always (a temp file
// per test); PostgreSQL when TEST_DATABASE_URL is set, in a schema of its own that is dropped at the end.
// Each *.contract.test.ts holds one concern of the contract and runs it through storeContract().
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import { PostgresStore } from '../../src/store/dialects/postgres';
import { SqliteStore } from '../../src/store/dialects/sqlite';
import type { BotStore, NewEvent, NewRequest, Store } from '../../src/store/types';
import { NO_OPEN_LIMIT } from '../helpers/fixtures';

export const PG_URL = process.env.TEST_DATABASE_URL;

// ---------------------------------------------------------------------------------------------------------
// Harnesses: how to get an empty database and several stores ("processes") on it.

export interface BlankDatabase {
  /** A store on this database; not migrated. Closed after the test. */
  open(): BotStore;
  migrationVersions(): Promise<number[]>;
}

export interface Harness {
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** The store for one test, on an empty, migrated database. */
  fresh(): Promise<BotStore>;
  /** Another store on the current test's database, as a second process would have. Closed after the test. */
  another(): BotStore;
  /** A new database that has never been migrated. */
  blank(): BlankDatabase;
  /** Closes the stores opened for the test. */
  afterTest(): Promise<void>;
}

function closer() {
  let open: BotStore[] = [];
  return {
    track<S extends BotStore>(store: S): S {
      open.push(store);
      return store;
    },
    async closeAll(): Promise<void> {
      const stores = open;
      open = [];
      await Promise.all(stores.map((s) => s.close()));
    },
  };
}

export function sqliteHarness(): Harness {
  const stores = closer();
  let dir = '';
  let current = '';
  let n = 0;
  const newFile = () => path.join(dir, `store-${++n}.sqlite`);
  return {
    async setup() {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-store-contract-'));
    },
    async teardown() {
      await stores.closeAll();
      fs.rmSync(dir, { recursive: true, force: true });
    },
    async fresh() {
      current = newFile();
      const store = stores.track(new SqliteStore(current));
      await store.migrate();
      return store;
    },
    another: () => stores.track(new SqliteStore(current)),
    blank() {
      const file = newFile();
      return {
        open: () => stores.track(new SqliteStore(file)),
        async migrationVersions() {
          const db = new Database(file, { readonly: true });
          try {
            const rows = db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as {
              version: number;
            }[];
            return rows.map((r) => r.version);
          } finally {
            db.close();
          }
        },
      };
    },
    afterTest: () => stores.closeAll(),
  };
}

export function postgresHarness(url: string): Harness {
  const stores = closer();
  const schema = `bp_test_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  const schemas = [schema];
  let admin: Client | undefined;
  let main: PostgresStore | undefined;
  const adminClient = () => {
    if (!admin) throw new Error('setup() has not run');
    return admin;
  };
  return {
    async setup() {
      admin = new Client({ connectionString: url });
      await admin.connect();
      main = new PostgresStore({ connectionString: url, schema, poolMax: 5 });
      await main.migrate();
    },
    async teardown() {
      await stores.closeAll();
      await main?.close();
      if (admin) {
        for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
        await admin.end();
      }
    },
    async fresh() {
      if (!main) throw new Error('setup() has not run');
      await adminClient().query(
        `TRUNCATE "${schema}".approvals, "${schema}".events, "${schema}".requests RESTART IDENTITY CASCADE`,
      );
      return main;
    },
    another: () => stores.track(new PostgresStore({ connectionString: url, schema, poolMax: 3 })),
    blank() {
      const s = `${schema}_${schemas.length}`;
      schemas.push(s);
      return {
        open: () => stores.track(new PostgresStore({ connectionString: url, schema: s, poolMax: 2 })),
        async migrationVersions() {
          const result = await adminClient().query<{ version: number }>(
            `SELECT version FROM "${s}".schema_migrations ORDER BY version`,
          );
          return result.rows.map((r) => r.version);
        },
      };
    },
    afterTest: () => stores.closeAll(),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Fixtures.

export const T0 = 1_700_000_000_000; // above 2^31: BIGINT columns must keep it
export const HOUR = 3_600_000;
let seq = 0;

export function newRequest(over: Partial<NewRequest> = {}): NewRequest {
  seq += 1;
  return {
    id: `req-${seq}`,
    teamId: 'T0001',
    channelId: 'C0001',
    customerId: `cust-${seq}`,
    reason: 'asked by the customer',
    requesterId: 'UREQ',
    approvalsRequired: 2,
    createdAt: T0 + seq,
    expiresAt: T0 + HOUR,
    dryRun: false,
    ...over,
  };
}

export const event = (
  kind: NewEvent['kind'],
  at = T0,
  actorId: string | null = 'UACT',
  detail: string | null = null,
): NewEvent => ({
  kind,
  actorId,
  detail,
  at,
});

export async function create(store: Store, over: Partial<NewRequest> = {}) {
  const result = await store.createRequest(
    newRequest(over),
    event('requested', over.createdAt ?? T0, 'UREQ'),
    NO_OPEN_LIMIT,
  );
  if (!result.ok) throw new Error(`expected a new request, got ${result.kind}`);
  return result.request;
}

export const ids = (requests: { id: string }[]) => requests.map((r) => r.id);

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Lease and due times come from the database's clock (on this machine, as the test's own). `around` runs
 * `work` and gives the window of this clock it ran in, widened a little for rounding, to check them against.
 */
export async function around<T>(work: () => Promise<T>): Promise<{ value: T; from: number; to: number }> {
  const from = Date.now() - 5;
  const value = await work();
  return { value, from, to: Date.now() + 5 };
}

export function expectWithin(actual: number | null | undefined, window: { from: number; to: number }, plus: number) {
  expect(actual).toBeGreaterThanOrEqual(window.from + plus);
  expect(actual).toBeLessThanOrEqual(window.to + plus);
}

// ---------------------------------------------------------------------------------------------------------
// Run a part of the contract against every store.

/** Registers `body` once per store: `h` is its harness, `current()` the test's store on a fresh database. */
export function storeContract(body: (h: Harness, current: () => BotStore) => void): void {
  const run = (makeHarness: () => Harness) => {
    const h = makeHarness();
    let store: BotStore;
    beforeAll(() => h.setup());
    afterAll(() => h.teardown());
    beforeEach(async () => {
      store = await h.fresh();
    });
    afterEach(() => h.afterTest());
    body(h, () => store);
  };
  const factories: [string, () => Harness][] = [['sqlite', sqliteHarness]];
  if (PG_URL) factories.push(['postgres', () => postgresHarness(PG_URL)]);
  describe.each(factories)('%s store', (_name, makeHarness) => run(makeHarness));
  if (!PG_URL) {
    console.warn('PostgreSQL store tests skipped: TEST_DATABASE_URL is not set');
    describe.skip('postgres store', () => run(() => postgresHarness('')));
  }
}
