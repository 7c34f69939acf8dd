// The real store behind a switch that makes its calls fail as a lost connection would (a failover, a reset
// connection): for tests of what the bot does when its store fails for a while.
import type { Store } from '../../src/store/types';

/**
 * The store, with a switch: while `failing` names a method (or '*'), or picks a call, that call rejects as a lost
 * connection would.
 */
export function switchable<S extends Store>(store: S) {
  type Pick = (method: string, args: unknown[]) => boolean;
  const state = { failing: null as string | Pick | null, calls: [] as string[] };
  const proxy = new Proxy(store, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        state.calls.push(String(prop));
        const failing = state.failing;
        if (failing === '*' || failing === prop || (typeof failing === 'function' && failing(String(prop), args))) {
          return Promise.reject(new Error('terminating connection due to administrator command'));
        }
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { store: proxy, state };
}
