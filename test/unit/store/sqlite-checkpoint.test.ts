// The WAL is copied into the database file by the checkpoint worker, not inside the bot's commits: the
// connection's own automatic checkpoint is off, yet committed pages reach the file on their own.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteDialect } from '../../../src/store/dialects/sqlite';
import { until } from '../../helpers/flow';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-checkpoint-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

it('committed pages reach the database file without a checkpoint in any commit', async () => {
  const file = path.join(dir, 'bot.sqlite');
  const dialect = new SqliteDialect(file);
  try {
    expect(await dialect.all<{ wal_autocheckpoint: number }>('PRAGMA wal_autocheckpoint')).toEqual([
      { wal_autocheckpoint: 0 },
    ]);
    await dialect.exec('CREATE TABLE t (x TEXT)');
    const before = fs.statSync(file).size;
    for (let i = 0; i < 200; i++) await dialect.run('INSERT INTO t (x) VALUES (?)', ['x'.repeat(500)]);
    // 100 KB of rows: about 25 pages more in the file once the worker has copied them over.
    await until(() => fs.statSync(file).size >= before + 20 * 4096, 'the checkpoint worker', 10_000);
    expect(await dialect.all('SELECT COUNT(*) AS n FROM t')).toEqual([{ n: 200 }]);
  } finally {
    await dialect.close();
  }
});
