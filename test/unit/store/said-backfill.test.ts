// Migration 7 gives every stored outcome written before DeletionOutcome.said existed its `said`, so the
// renderers need no path for outcomes without it. SQLite always; PostgreSQL when TEST_DATABASE_URL is set.
import crypto from 'node:crypto';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import type { DatabaseKind } from '../../../src/store/dialect';
import { MIGRATIONS } from '../../../src/store/migrations';

const BACKFILL = MIGRATIONS.find((m) => m.version === 7);
const BEFORE = MIGRATIONS.filter((m) => m.version < 7);

/** Outcomes as they were stored before `said`, and the `said` each must get. */
const STORED: [string, Record<string, unknown>, 'bot' | 'botpenguin'][] = [
  ['r1', { ok: true, kind: 'deleted', message: 'Customer deleted', httpStatus: 200 }, 'botpenguin'],
  ['r2', { ok: false, kind: 'rejected', message: 'has a subscription', httpStatus: 400 }, 'botpenguin'],
  ['r3', { ok: false, kind: 'uncertain', message: 'Gateway timeout', httpStatus: 504 }, 'botpenguin'],
  ['r4', { ok: true, kind: 'dry_run', message: 'DRY RUN: no DELETE was sent.' }, 'bot'],
  ['r5', { ok: false, kind: 'daily_limit', message: 'The daily limit was reached.' }, 'bot'],
  ['r6', { ok: false, kind: 'customer_changed', message: 'The name changed.' }, 'bot'],
  ['r7', { ok: false, kind: 'still_listed', message: 'Still listed.' }, 'bot'],
  ['r8', { ok: true, kind: 'closed_deleted', message: 'Closed.' }, 'bot'],
  // Already has it: left as it is.
  ['r9', { ok: true, kind: 'deleted', message: 'fallback', said: 'bot' }, 'bot'],
];

const insert = `INSERT INTO requests (id, team_id, channel_id, customer_id, reason, requester_id, state,
  approvals_required, created_at, expires_at, outcome) VALUES ($1, 'T', 'C', $1, '', 'U', 'succeeded', 1, 1, 2, $2)`;

interface Db {
  exec(sql: string): Promise<void>;
  insert(id: string, outcome: string | null): Promise<void>;
  outcomes(): Promise<Map<string, string | null>>;
}

async function expectBackfilled(db: Db, dialect: DatabaseKind) {
  for (const m of BEFORE) await db.exec(m.sql(dialect));
  for (const [id, outcome] of STORED) await db.insert(id, JSON.stringify(outcome));
  await db.insert('r0', null);
  await db.exec(BACKFILL?.sql(dialect) ?? '');
  const after = await db.outcomes();
  for (const [id, outcome, said] of STORED) {
    expect(JSON.parse(after.get(id) ?? 'null')).toEqual({ ...outcome, said });
  }
  expect(after.get('r0')).toBeNull();
}

describe('migration 7 backfills whose words each stored outcome is', () => {
  it('exists', () => expect(BACKFILL).toBeDefined());

  it('on SQLite', async () => {
    const sqlite = new Database(':memory:');
    try {
      await expectBackfilled(
        {
          exec: async (sql) => void sqlite.exec(sql),
          insert: async (id, outcome) =>
            void sqlite.prepare(insert.replaceAll('$1', '@id').replace('$2', '@outcome')).run({ id, outcome }),
          outcomes: async () =>
            new Map(
              (
                sqlite.prepare('SELECT id, outcome FROM requests').all() as { id: string; outcome: string | null }[]
              ).map((r) => [r.id, r.outcome]),
            ),
        },
        'sqlite',
      );
    } finally {
      sqlite.close();
    }
  });

  const PG_URL = process.env.TEST_DATABASE_URL;
  (PG_URL ? it : it.skip)('on PostgreSQL', async () => {
    const pg = new Client({ connectionString: PG_URL });
    await pg.connect();
    const schema = `bp_backfill_${crypto.randomBytes(4).toString('hex')}`;
    try {
      await pg.query(`CREATE SCHEMA "${schema}"; SET search_path TO "${schema}"`);
      await expectBackfilled(
        {
          exec: async (sql) => void (await pg.query(sql)),
          insert: async (id, outcome) => void (await pg.query(insert, [id, outcome])),
          outcomes: async () =>
            new Map(
              (await pg.query<{ id: string; outcome: string | null }>('SELECT id, outcome FROM requests')).rows.map(
                (r) => [r.id, r.outcome],
              ),
            ),
        },
        'postgres',
      );
    } finally {
      await pg.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await pg.end();
    }
  });
});
