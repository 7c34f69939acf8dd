// The PostgreSQL dialect's connections when their backends are terminated (pg_terminate_backend, as a failover or
// an operator does) at each moment of a connection's life, each provoked on cue through a proxy (test/helpers/
// pg-proxy.ts): the caller sees a failed query at most, never an 'error' event nobody listens to (which would
// end the process), the failed connection is discarded, and the next statement is served. Needs TEST_DATABASE_URL.
import { Client } from 'pg';
import { PostgresDialect } from '../../../src/store/dialects/postgres';
import { type PgProxy, pgProxy } from '../../helpers/pg-proxy';

const PG_URL = process.env.TEST_DATABASE_URL;
if (!PG_URL) console.warn('PostgreSQL connection-fault tests skipped: TEST_DATABASE_URL is not set');

(PG_URL ? describe : describe.skip)('terminated PostgreSQL backends never end the process', () => {
  let admin: Client;
  let proxy: PgProxy;
  let dialect: PostgresDialect;
  /** Errors that reached no listener: what would have ended the process outside jest. */
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => uncaught.push(error);
  let name = '';
  let runs = 0;

  beforeAll(async () => {
    admin = new Client({ connectionString: PG_URL });
    await admin.connect();
  });
  afterAll(() => admin.end());

  beforeEach(async () => {
    uncaught.length = 0;
    process.on('uncaughtException', onUncaught);
    const url = new URL(PG_URL ?? '');
    proxy = await pgProxy({ host: url.hostname, port: Number(url.port || 5432) });
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    // Its own name, so only its backends are terminated (other tests share the database).
    name = `bp_faults_${process.pid}_${++runs}`;
    url.searchParams.set('application_name', name);
    dialect = new PostgresDialect({ connectionString: url.toString(), poolMax: 1 });
  });

  afterEach(async () => {
    await dialect.close();
    await proxy.close();
    process.off('uncaughtException', onUncaught);
  });

  /** The dialect answers plain statements and transactions again, on a new connection. */
  async function expectServes() {
    expect(await dialect.all<{ n: number }>('SELECT 1 AS n')).toEqual([{ n: 1 }]);
    expect(await dialect.transaction((db) => db.all<{ n: number }>('SELECT 2 AS n'))).toEqual([{ n: 2 }]);
    expect(uncaught).toEqual([]);
  }

  it('while connecting: the FATAL arrives with the ReadyForQuery that completes the connect of a transaction', async () => {
    const held = proxy.holdNextReady({ startup: true });
    const transaction = dialect.transaction((db) => db.all('SELECT 1'));
    await (await held).terminateAndDeliver(admin);
    await expect(transaction).rejects.toThrow();
    await expectServes();
  });

  it('at the end of a query, as its connection is handed to a transaction waiting for the pool', async () => {
    await expectServes(); // a connection in the pool, idle
    const held = proxy.holdNextReady();
    const query = dialect.all('SELECT pg_sleep(0.05)');
    const transaction = dialect.transaction((db) => db.all('SELECT 1'));
    await (await held).terminateAndDeliver(admin);
    await query; // its answer was complete before the FATAL
    await expect(transaction).rejects.toThrow();
    await expectServes();
  });

  it('at the end of a statement inside a transaction', async () => {
    await expectServes();
    const hold = proxy.holdNextReady();
    const transaction = dialect.transaction(async (db) => {
      await db.all('SELECT 1');
      await db.all('SELECT 2');
    });
    await (await hold).terminateAndDeliver(admin);
    await expect(transaction).rejects.toThrow();
    await expectServes();
  });

  it('during a query, between the statements of a transaction, and while idle', async () => {
    const backends = async (state: string) =>
      (
        await admin.query('SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND state = $2', [name, state])
      ).rows.map((r: { pid: number }) => r.pid);
    const terminate = (pids: number[]) =>
      admin.query('SELECT pg_terminate_backend(p) FROM unnest($1::int[]) p', [pids]);

    const sleeping = dialect.all('SELECT pg_sleep(30)');
    let active: number[] = [];
    while (active.length === 0) active = await backends('active');
    await terminate(active);
    await expect(sleeping).rejects.toThrow(/terminating connection/);
    await expectServes();

    let between!: () => void;
    const paused = new Promise<void>((resolve) => {
      between = resolve;
    });
    const transaction = dialect.transaction(async (db) => {
      await db.all('SELECT 1');
      between();
      await proxy.allClosedByClient(); // the client has read the FATAL and closed its connection
      await db.all('SELECT 2');
    });
    await paused;
    await terminate(await backends('idle in transaction'));
    await expect(transaction).rejects.toThrow();
    await expectServes();

    await terminate(await backends('idle'));
    await proxy.allClosedByClient(); // the pool heard the idle connection fail and removed it
    await expectServes();
  });
});
