// The WAL checkpoint of a SQLite file, moved off the event loop. SQLite's automatic checkpoint runs inside the
// commit that crosses 1,000 pages and, with synchronous = NORMAL, fsyncs the WAL and the file there: every
// answer waiting on the event loop waits for the disk with it. A worker thread with its own connection copies
// committed pages into the file instead (PASSIVE: never blocks a writer or a reader), every CHECKPOINT_EVERY_MS.
// Durability is as before or better: a commit reaches the disk within that interval rather than within
// 1,000 pages. If the worker cannot run, the connection's own automatic checkpoint is switched back on.
import { Worker } from 'node:worker_threads';

const CHECKPOINT_EVERY_MS = 100;

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    parentPort.postMessage({ failed: String(error && error.message) });
  }
}, workerData.everyMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.close();
});
parentPort.postMessage({ ready: true });
`;

export interface Checkpointer {
  stop(): Promise<void>;
}

/** `fallBack`: the worker failed; the caller turns the connection's automatic checkpoint back on. */
export function startCheckpointer(file: string, fallBack: (error: string) => void): Checkpointer {
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: { file, module: require.resolve('better-sqlite3'), everyMs: CHECKPOINT_EVERY_MS },
  });
  worker.unref();
  let failed = false;
  const fail = (error: string) => {
    if (failed) return;
    failed = true;
    fallBack(error);
  };
  worker.on('message', (m: { failed?: string }) => {
    if (m.failed) fail(m.failed);
  });
  worker.on('error', (error) => fail(error.message));
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    async stop() {
      worker.postMessage('stop');
      // Bounded: a checkpoint under way finishes first; a stuck one is not waited for.
      const timer = setTimeout(() => void worker.terminate(), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
