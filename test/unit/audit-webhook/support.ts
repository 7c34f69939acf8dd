// For the audit webhook tests: the store's schema with the proposed outbox on SQLite (always) and PostgreSQL
// (with TEST_DATABASE_URL), a clock the database reads, and a receiver that verifies every signature.
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import { Client, Pool } from 'pg';
import { Webhook } from 'standardwebhooks';
import type { SqlRunner } from '../../../src/audit-webhook/sql-outbox';
import { MIGRATIONS } from '../../../src/store/migrations';

export const SECRET = `whsec_${crypto.randomBytes(32).toString('base64')}`;

export interface TestDatabase {
  name: string;
  db: SqlRunner;
  /** The database's clock as the outbox reads it (the dialect's nowMs), here one the test moves. */
  nowMs: string;
  advance(ms: number): Promise<void>;
  /** Another connection to the same database, as a second instance has. */
  another(): Promise<SqlRunner>;
  close(): Promise<void>;
}

export function sqliteDatabase(): TestDatabase {
  const sqlite = new Database(':memory:');
  let clock = 1_000_000;
  sqlite.function('test_now_ms', () => clock);
  for (const m of MIGRATIONS) sqlite.exec(m.sql('sqlite'));
  const db: SqlRunner = {
    all: async <R>(sql: string, params: readonly unknown[] = []) => sqlite.prepare(sql).all(...params) as R[],
    run: async (sql: string, params: readonly unknown[] = []) => sqlite.prepare(sql).run(...params).changes,
  };
  return {
    name: 'SQLite',
    db,
    // One file, one writer at a time: a second instance would see exactly what this connection sees.
    another: async () => db,
    nowMs: 'test_now_ms()',
    advance: async (ms) => {
      clock += ms;
    },
    close: async () => {
      sqlite.close();
    },
  };
}

export async function postgresDatabase(url: string): Promise<TestDatabase> {
  const schema = `bp_audit_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA "${schema}"`);
  const pools: Pool[] = [];
  // A pool per instance, as the store has: the worker's acknowledgements run side by side.
  const connect = async () => {
    const pool = new Pool({ connectionString: url, options: `-c search_path=${schema}`, max: 3 });
    pools.push(pool);
    return pool;
  };
  const setup = await connect();
  for (const m of MIGRATIONS) await setup.query(m.sql('postgres'));
  await setup.query(`CREATE TABLE test_clock (ms BIGINT NOT NULL); INSERT INTO test_clock VALUES (1000000);
    CREATE FUNCTION test_now_ms() RETURNS BIGINT LANGUAGE sql AS 'SELECT ms FROM test_clock';`);
  const runner = (client: Pool): SqlRunner => {
    const text = (sql: string) => {
      let n = 0;
      return sql.replace(/\?/g, () => `$${++n}`);
    };
    return {
      all: async <R>(sql: string, params: readonly unknown[] = []) =>
        (await client.query(text(sql), [...params])).rows as R[],
      run: async (sql: string, params: readonly unknown[] = []) =>
        (await client.query(text(sql), [...params])).rowCount ?? 0,
    };
  };
  return {
    name: 'PostgreSQL',
    db: runner(setup),
    nowMs: 'test_now_ms()',
    advance: async (ms) => {
      await setup.query('UPDATE test_clock SET ms = ms + $1', [ms]);
    },
    another: async () => runner(await connect()),
    close: async () => {
      await Promise.all(pools.map((p) => p.end()));
      await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await admin.end();
    },
  };
}

let requestNumber = 0;

/** A request row as the store writes it (only the columns without defaults, plus an outcome). */
export async function insertRequest(
  db: SqlRunner,
  fields: { customerId: string; reason: string; outcome?: object; dryRun?: boolean },
): Promise<string> {
  const id = `R${String(++requestNumber).padStart(7, '0')}`;
  await db.run(
    `INSERT INTO requests (id, team_id, channel_id, customer_id, reason, requester_id, state, approvals_required,
       created_at, expires_at, outcome, dry_run)
     VALUES (?, 'T0TEAM', 'C0OPS', ?, ?, 'U0ASKER', 'pending', 1, 1000, 90000000, ?, ?)`,
    [
      id,
      fields.customerId,
      fields.reason,
      fields.outcome ? JSON.stringify(fields.outcome) : null,
      fields.dryRun ? 1 : 0,
    ],
  );
  return id;
}

/** An event as the store records it (SqlBase.insertEvent): queued in the outbox with it. */
export async function insertEvent(
  db: SqlRunner,
  requestId: string,
  kind: string,
  actorId: string | null,
  detail: string | null,
): Promise<void> {
  const [row] = await db.all<{ id: number | string }>(
    'INSERT INTO events (request_id, kind, actor_id, detail, at) VALUES (?, ?, ?, ?, ?) RETURNING id',
    [requestId, kind, actorId, detail, 1_700_000_000_000],
  );
  await db.run('INSERT INTO audit_outbox (event_id, stream) VALUES (?, ?)', [Number(row?.id), requestId]);
}

export interface Delivery {
  id: string;
  body: string;
  payload: { type: string; data: { eventId: number; requestId: string } };
}

export interface Receiver {
  url: string;
  /** Verified deliveries it answered 200, in arrival order. */
  accepted: Delivery[];
  /** Deliveries whose signature did not verify (answered 400). */
  rejected: number;
  /** Answers 500 to this many more deliveries (a receiver that is down). */
  failNext(count: number): void;
  /** Resolves once `count` deliveries have been accepted. */
  accepting(count: number): Promise<void>;
  /** Holds the next deliveries without answering (a receiver that hangs). */
  hang(on: boolean): void;
  /** Deliveries held unanswered so far. */
  held: number;
  close(): Promise<void>;
}

export async function startReceiver(secret: string): Promise<Receiver> {
  const webhook = new Webhook(secret);
  let failing = 0;
  let hanging = false;
  const waiters: Array<{ count: number; resolve: () => void }> = [];
  const receiver: Omit<Receiver, 'url' | 'close'> & { rejected: number } = {
    accepted: [],
    rejected: 0,
    held: 0,
    accepting: (count) =>
      receiver.accepted.length >= count
        ? Promise.resolve()
        : new Promise((resolve) => waiters.push({ count, resolve })),
    failNext: (count) => {
      failing = count;
    },
    hang: (on) => {
      hanging = on;
    },
  };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (hanging) {
        receiver.held++;
        return;
      }
      if (failing > 0) {
        failing--;
        res.writeHead(500).end();
        return;
      }
      const body = Buffer.concat(chunks).toString('utf8');
      try {
        const payload = webhook.verify(body, req.headers as Record<string, string>) as Delivery['payload'];
        receiver.accepted.push({ id: String(req.headers['webhook-id']), body, payload });
        res.writeHead(200).end();
        for (const w of waiters) if (receiver.accepted.length >= w.count) w.resolve();
      } catch {
        receiver.rejected++;
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/audit`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}
