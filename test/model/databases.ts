// The databases of the model test: two stores on one database per run, as two processes would have.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite from 'better-sqlite3';
import { Client } from 'pg';
import { PostgresStore } from '../../src/store/dialects/postgres';
import { SqliteStore } from '../../src/store/dialects/sqlite';
import type { BotStore } from '../../src/store/types';
import { START } from './constants';

export interface Database {
  /** Whether leases and due times are on the database's own clock, which the test can't move. */
  readonly realClock: boolean;
  /** Two stores on one empty, migrated database, reading `now` where the database has no clock of its own. */
  open(now: () => number): Promise<readonly [BotStore, BotStore]>;
  /** Empties the database for the next run. */
  close(): Promise<void>;
  teardown(): Promise<void>;
}

export function sqliteDatabase(): Database {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-model-'));
  const file = path.join(dir, 'model.sqlite');
  // The store's own clock (leases, due times) is the run's injected one, as the unit tests of the rules do.
  const clock = { now: () => START };
  const options = { now: () => clock.now() };
  const stores = [new SqliteStore(file, options), new SqliteStore(file, options)] as const;
  let admin: BetterSqlite.Database | null = null;
  /** Every table's rows right after migrating (the pause row, say), put back after each run. */
  let seed: { name: string; rows: Record<string, unknown>[] }[] = [];
  return {
    realClock: false,
    async open(now) {
      clock.now = now;
      if (!admin) {
        await stores[0].migrate();
        admin = new BetterSqlite(file);
        admin.pragma('foreign_keys = OFF');
        const tables = admin
          .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
          .all() as { name: string }[];
        seed = tables.map(({ name }) => ({
          name,
          rows: admin?.prepare(`SELECT * FROM "${name}"`).all() as Record<string, unknown>[],
        }));
      }
      return stores;
    },
    async close() {
      // Put back as migrated rather than made anew: a new file and its migration cost more than most runs.
      for (const { name, rows } of seed) {
        admin?.exec(`DELETE FROM "${name}"`);
        for (const row of rows) {
          const columns = Object.keys(row);
          admin
            ?.prepare(`INSERT INTO "${name}" (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`)
            .run(...Object.values(row));
        }
      }
    },
    async teardown() {
      await Promise.all(stores.map((s) => s.close()));
      admin?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function postgresDatabase(url: string): Database {
  const schema = `bp_model_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  const stores = [
    new PostgresStore({ connectionString: url, schema, poolMax: 3 }),
    new PostgresStore({ connectionString: url, schema, poolMax: 3 }),
  ] as const;
  const admin = new Client({ connectionString: url });
  let ready: Promise<void> | null = null;
  /** Every table's rows right after migrating (the pause row, say), tables that refer to others first. */
  const seed: { name: string; rows: Record<string, unknown>[] }[] = [];
  const migrate = async () => {
    await admin.connect();
    await stores[0].migrate();
    const { rows: tables } = await admin.query<{ name: string; refs: string[] }>(
      `SELECT c.relname AS name,
              ARRAY(SELECT t.relname::text FROM pg_constraint f JOIN pg_class t ON t.oid = f.confrelid
                     WHERE f.conrelid = c.oid AND f.contype = 'f' AND t.oid <> c.oid) AS refs
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = $1 AND c.relkind = 'r'`,
      [schema],
    );
    // Referencing tables before the tables they reference (audit_outbox → events → requests), at any depth.
    const refs = new Map(tables.map((t) => [t.name, t.refs]));
    const depth = (name: string, seen: Set<string> = new Set()): number =>
      seen.has(name) ? 0 : Math.max(0, ...(refs.get(name) ?? []).map((r) => 1 + depth(r, new Set([...seen, name]))));
    tables.sort((a, b) => depth(b.name) - depth(a.name));
    for (const { name } of tables) {
      seed.push({ name, rows: (await admin.query(`SELECT * FROM "${schema}"."${name}"`)).rows });
    }
  };
  return {
    realClock: true,
    async open() {
      ready ??= migrate();
      await ready;
      return stores;
    },
    async close() {
      // Put back as migrated; DELETE, not TRUNCATE: on a few rows it is many times faster.
      for (const { name } of seed) await admin.query(`DELETE FROM "${schema}"."${name}"`);
      for (const { name, rows } of [...seed].reverse()) {
        for (const row of rows) {
          const columns = Object.keys(row);
          await admin.query(
            `INSERT INTO "${schema}"."${name}" (${columns.join(', ')}) VALUES (${columns.map((_c, i) => `$${i + 1}`).join(', ')})`,
            Object.values(row),
          );
        }
      }
    },
    async teardown() {
      await Promise.all(stores.map((s) => s.close()));
      if (ready) {
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await admin.end();
      }
    },
  };
}

/** MODEL_STATS=1: how the runs ended, and how many DELETEs, lost answers and re-sends they saw. */
