// Everything that runs per sweep, per command or per click reads only open or unsynced work, whatever the
// history: each statement the store actually runs on those paths (recorded from a real store) is EXPLAINed,
// and a full scan of `requests` or `events` (a table scan, a whole non-partial index read without a
// condition, or the per-channel index, which holds a channel's whole history) fails the test. SQLite always;
// PostgreSQL when TEST_DATABASE_URL is set (seq scans discouraged for the session: they win on a few rows).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Client } from 'pg';
import { tempSqlitePath } from '../../sandbox/harness';
import { OPEN_STATES } from '../../src/requests/types';
import type { Db, Dialect } from '../../src/store/dialect';
import { PostgresDialect } from '../../src/store/dialects/postgres';
import { SqliteDialect } from '../../src/store/dialects/sqlite';
import { SqlStore } from '../../src/store/sql-store';
import { anApproval } from '../helpers/fixtures';

const PG_URL = process.env.TEST_DATABASE_URL;
/** Partial indexes: reading one whole reads only open or unsynced work. */
const PARTIAL = [
  'requests_needs_sync',
  'events_unposted',
  'requests_one_open_per_customer',
  'requests_open_by_channel',
  'requests_remind',
  'requests_requester_untold',
];
/** Indexes whose entries for one value are history: one ops channel holds every request ever made there. */
const HISTORY = ['requests_channel'];

interface Statement {
  sql: string;
  params: readonly unknown[];
}

/** The dialect, recording every statement run through it (in transactions too). */
function recording(inner: Dialect, log: Statement[]): Dialect {
  const wrap = (db: Db): Db => ({
    all: (sql, params = []) => {
      log.push({ sql, params });
      return db.all(sql, params);
    },
    run: (sql, params = []) => {
      log.push({ sql, params });
      return db.run(sql, params);
    },
    exec: (script) => db.exec(script),
  });
  const outer = wrap(inner);
  return Object.assign(Object.create(inner) as Dialect, {
    all: outer.all,
    run: outer.run,
    exec: outer.exec,
    transaction: <T>(work: (db: Db) => Promise<T>, options?: { lockKey?: number }) =>
      inner.transaction((db) => work(wrap(db)), options),
  });
}

const T0 = 1_700_000_000_000;

/** Runs every hot path once on a store with some history; returns the statements they ran. */
async function hotStatements(store: SqlStore, log: Statement[]): Promise<Statement[]> {
  // History: finished requests with their events, all synced.
  for (let i = 0; i < 30; i++) {
    const id = `RHIST${String(i).padStart(5, '0')}`;
    await store.createRequest(
      {
        id,
        teamId: 'T1',
        channelId: 'C1',
        customerId: `old-${i}`,
        reason: 'r',
        requesterId: 'UOLD',
        approvalsRequired: 1,
        createdAt: T0 + i,
        expiresAt: T0 + 1_000,
        dryRun: false,
      },
      { kind: 'requested', actorId: 'UOLD', detail: null, at: T0 },
      { maxOpenPerRequester: 1_000_000 },
    );
    await store.transition(id, ['pending'], 'expired', { finishedAt: T0 }, null);
    const events = await store.listEvents(id);
    await store.recordMessage(id, { ts: `1.${i}`, version: 2, postedEvents: { ids: events.map((e) => e.id), at: T0 } });
  }
  log.length = 0;
  const now = T0 + 10_000;
  const make = async (id: string, customerId: string) =>
    store.createRequest(
      {
        id,
        teamId: 'T1',
        channelId: 'C1',
        customerId,
        reason: 'r',
        requesterId: 'UREQ',
        approvalsRequired: 1,
        createdAt: now,
        expiresAt: now + 3_600_000,
        dryRun: false,
      },
      { kind: 'requested', actorId: 'UREQ', detail: null, at: now },
      { maxOpenPerRequester: 1_000_000 },
    );
  await make('RNEW000001', 'new-1');
  await make('RNEW000002', 'new-2');
  // Commands.
  await store.getRequest('RNEW000001');
  await store.listRequests({ customerId: 'NEW-1', channelId: 'C1', limit: 1 }); // status <customer id>
  await store.listRequests({ channelId: 'C1', states: OPEN_STATES, limit: 20 }); // list
  await store.listEvents('RNEW000001');
  // Clicks: approval, claim, lease, outcome.
  await store.countDeletionsSince(now - 86_400_000);
  await store.addApproval('RNEW000001', anApproval('UAPP', now));
  await store.getPause();
  await store.claimExecution('RNEW000001', {
    now,
    leaseMs: 1_000,
    dayStart: now - 1,
    maxPerDay: 50,
    dryRun: false,
    drop: null,
    sent: { kind: 'delete_sent', actorId: null, detail: 'start 1', at: T0 },
  });
  await store.renewLease('RNEW000001', 1, 2_000);
  await store.takeOverExecution('RNEW000001', { now, leaseMs: 1, seenToken: 99, sent: null });
  await store.transition('RNEW000001', ['executing'], 'succeeded', { finishedAt: now }, null, 1);
  await store.transition('RNEW000002', ['pending'], 'cancelled', { finishedAt: now }, null);
  // The sweep.
  await store.listForSweep({ kind: 'expirable', now, limit: 50 });
  await store.listForSweep({ kind: 'due', limit: 50 });
  await store.listForSweep({ kind: 'stale', limit: 50 });
  await store.listForSweep({ kind: 'uncertain', maxChecks: 6, limit: 5 });
  await store.listForSweep({ kind: 'remindable', now, limit: 50 });
  await store.claimSettleCheck('RNEW000001', 6, 1_000);
  await store.listOutOfSync(50, now);
  // The sync.
  await store.claimSync('RNEW000001', now + 1_000, now);
  await store.recordMessage('RNEW000001', { ts: '2.1' });
  await store.recordMessage('RNEW000001', { version: 3 });
  await store.recordMessage('RNEW000001', { postedEvents: { ids: [1], at: now } });
  await store.recordMessage('RNEW000001', { requesterTold: 'succeeded' });
  await store.endSync('RNEW000001', { kind: 'retry', retryAt: () => now + 5_000 });
  await store.endSync('RNEW000001', { kind: 'in-step', version: 3 });
  await store.endSync('RNEW000001', { kind: 'in-step' });
  await store.endSync('RNEW000002', { kind: 'ended', error: 'is_archived' });
  await store.endSync('RNEW000001', { kind: 'behind' });
  const seen = new Set<string>();
  return log.filter((s) => {
    if (!/^\s*(SELECT|UPDATE|DELETE|WITH)/i.test(s.sql) || /pg_advisory|^SELECT 1$/.test(s.sql) || seen.has(s.sql))
      return false;
    seen.add(s.sql);
    return true;
  });
}

const mentionsHistory = (sql: string) => /\b(requests|events)\b/.test(sql);

describe('query plans: no full scan of requests or events on a hot path', () => {
  test('SQLite', async () => {
    const file = tempSqlitePath();
    const log: Statement[] = [];
    const dialect = new SqliteDialect(file);
    const store = new SqlStore(recording(dialect, log));
    try {
      await store.migrate();
      const statements = await hotStatements(store, log);
      expect(statements.length).toBeGreaterThan(15);
      const scans: string[] = [];
      for (const { sql, params } of statements) {
        if (!mentionsHistory(sql)) continue;
        const plan = await dialect.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, params);
        if (process.env.SHOW_PLANS)
          console.log(
            sql.replace(/\s+/g, ' ').slice(0, 300),
            plan.map((p) => p.detail),
          );
        for (const { detail } of plan) {
          if (HISTORY.some((index) => detail.includes(`INDEX ${index} `))) scans.push(`${detail}\n  in: ${sql}`);
          const scan = /^SCAN (\w+)(?: USING (?:COVERING )?INDEX (\w+))?/.exec(detail);
          if (!scan || !['requests', 'events', 'r', 'e'].includes(scan[1] ?? '')) continue;
          if (scan[2] && PARTIAL.includes(scan[2])) continue;
          scans.push(`${detail}\n  in: ${sql.replace(/\s+/g, ' ')}`);
        }
      }
      expect(scans).toEqual([]);
    } finally {
      await store.close();
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });

  (PG_URL ? test : test.skip)('PostgreSQL', async () => {
    const schema = `bp_plans_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
    const log: Statement[] = [];
    // One connection, so the session setting below holds for every statement.
    const dialect = new PostgresDialect({ connectionString: PG_URL ?? '', schema, poolMax: 1 });
    const store = new SqlStore(recording(dialect, log));
    try {
      await store.migrate();
      const statements = await hotStatements(store, log);
      expect(statements.length).toBeGreaterThan(15);
      await dialect.run('SET enable_seqscan = off');
      const scans: string[] = [];
      type PlanNode = {
        'Node Type': string;
        'Relation Name'?: string;
        'Index Name'?: string;
        'Index Cond'?: string;
        Plans?: PlanNode[];
      };
      const walk = (node: PlanNode, sql: string) => {
        const relation = node['Relation Name'];
        if (relation === 'requests' || relation === 'events') {
          const index = node['Index Name'];
          const fullIndex =
            /Index/.test(node['Node Type']) && !node['Index Cond'] && !(index && PARTIAL.includes(index));
          if (node['Node Type'] === 'Seq Scan' || fullIndex || (index && HISTORY.includes(index))) {
            scans.push(`${node['Node Type']} on ${relation}${index ? ` using ${index}` : ''}\n  in: ${sql}`);
          }
        }
        for (const child of node.Plans ?? []) walk(child, sql);
      };
      for (const { sql, params } of statements) {
        if (!mentionsHistory(sql)) continue;
        const [row] = await dialect.all<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${sql}`, params);
        const plan = (
          typeof row?.['QUERY PLAN'] === 'string' ? JSON.parse(row['QUERY PLAN']) : row?.['QUERY PLAN']
        ) as {
          Plan: PlanNode;
        }[];
        walk(plan[0]!.Plan, sql.replace(/\s+/g, ' '));
      }
      expect(scans).toEqual([]);
    } finally {
      await store.close();
      const admin = new Client({ connectionString: PG_URL });
      await admin.connect();
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    }
  });
});
