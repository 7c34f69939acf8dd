// What keeps an execution ours while its DELETE is under way: the lease heartbeat, and a write of its outcome
// tried again while the store fails for a moment (a failover must not lose an answer, or recovery re-sends).
import { errorFields, type Logger } from '../logger';
import type { FencingToken, Store } from '../store/types';

/** Attempts at recording a DELETE's outcome before giving up (recovery then re-sends it). */
const PERSIST_ATTEMPTS = 20;

/** Renew the lease of the execution held with `token` every leaseMs / 3, until stopped or no longer ours. */
export function holdLease(
  { store, leaseMs, logger }: { store: Store; leaseMs: number; logger: Logger },
  requestId: string,
  token: FencingToken,
): { stop(): void } {
  let renewing = false;
  const timer = setInterval(
    () => {
      if (renewing) return;
      renewing = true;
      store
        .renewLease(requestId, token, leaseMs)
        .then(
          (renewed) => {
            if (!renewed) clearInterval(timer); // decided, or taken over: nothing left for us to hold
          },
          (error: unknown) =>
            logger.warn('could not renew the execution lease; will try again', { requestId, ...errorFields(error) }),
        )
        .finally(() => {
          renewing = false;
        });
    },
    Math.max(10, Math.floor(leaseMs / 3)),
  );
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/** `write` (of `what`), tried again with backoff (about 80 s in all) while it fails. */
export async function persist<T>(
  logger: Logger,
  requestId: string,
  write: () => Promise<T>,
  what = 'the outcome',
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (error) {
      if (attempt >= PERSIST_ATTEMPTS) throw error;
      logger.warn(`could not record ${what}; will try again`, { requestId, attempt, ...errorFields(error) });
      await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 100 * 2 ** attempt)));
    }
  }
}
