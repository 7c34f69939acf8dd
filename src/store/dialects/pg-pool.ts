// PostgreSQL connections that no database event can crash the process with. pg emits 'error' on a Client when
// its backend goes away (a FATAL from pg_terminate_backend, a reset socket); an 'error' nobody listens to ends the
// process. pg-pool listens only while a client is idle (and pool.query while its own query runs), which leaves
// gaps: the moment a client is handed to a caller that awaits it (a FATAL read in the same chunk as the
// ReadyForQuery that completed its connect, or the query before the hand-over), and a client whose connect failed.
// So every client listens from construction to its end, and a checked-out client that failed is discarded.
import { Client, type ClientConfig, Pool, type PoolClient, type PoolConfig } from 'pg';

class ListenedClient extends Client {
  /** The first error the connection reported: it is broken, and goes back to the pool only to be destroyed. */
  failure: Error | undefined;

  constructor(config?: string | ClientConfig) {
    super(config);
    this.on('error', (error: Error) => {
      this.failure ??= error;
    });
  }
}

export function createPool(config: PoolConfig): Pool {
  const pool = new Pool({ ...config, Client: ListenedClient });
  // An idle client that fails is reported here after the pool has removed it; the next query opens a new one.
  pool.on('error', () => {});
  return pool;
}

export interface CheckedOut {
  client: PoolClient;
  /** Back to the pool, or destroyed when `error` is given or the connection failed while it was out. */
  release(error?: Error): void;
}

export async function checkOut(pool: Pool): Promise<CheckedOut> {
  const client = await pool.connect();
  return {
    client,
    release: (error) => client.release(error ?? (client as PoolClient & Partial<ListenedClient>).failure),
  };
}
