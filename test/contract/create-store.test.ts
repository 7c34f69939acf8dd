// Wiring around the stores: createStore picks and migrates one; postgresStoreOptions reads the settings.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { StoreSettings } from '../../src/config';
import { createStore } from '../../src/store';
import { postgresStoreOptions } from '../../src/store/dialects/postgres';
import { create } from './support';

describe('createStore', () => {
  const settings = (over: Partial<StoreSettings>): StoreSettings => ({
    databaseUrl: undefined,
    sqlitePath: 'unused',
    poolMax: 10,
    sslRejectUnauthorized: undefined,
    ...over,
  });
  test('without a database URL: a migrated SQLite store at sqlitePath', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-store-create-'));
    const store = await createStore(settings({ sqlitePath: path.join(dir, 'nested', 'db.sqlite') }));
    try {
      expect(store.kind).toBe('sqlite');
      await create(store);
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('migrate: false opens the database as it is, creating no table (the audit export only reads)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-store-create-'));
    const file = path.join(dir, 'db.sqlite');
    const store = await createStore(settings({ sqlitePath: file }), { migrate: false });
    try {
      await store.ping();
      const db = new Database(file, { readonly: true });
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all();
      db.close();
      expect(tables).toEqual([]);
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('with a database URL: a PostgreSQL store (the error of an unreachable server is passed on)', async () => {
    await expect(createStore(settings({ databaseUrl: 'postgres://nobody@127.0.0.1:1/none' }))).rejects.toThrow();
  });
});

describe('postgresStoreOptions', () => {
  const url = 'postgres://u:p@db.example.com:5432/app';
  test('defaults: pool of 10, no explicit ssl', () => {
    expect(postgresStoreOptions({ databaseUrl: url })).toEqual({ connectionString: url, poolMax: 10 });
  });
  test('sslRejectUnauthorized false and a pool size', () => {
    expect(postgresStoreOptions({ databaseUrl: url, sslRejectUnauthorized: false, poolMax: 4 })).toEqual({
      connectionString: url,
      poolMax: 4,
      ssl: { rejectUnauthorized: false },
    });
    expect(postgresStoreOptions({ databaseUrl: url, sslRejectUnauthorized: true }).ssl).toBeUndefined();
  });
});
