// `/bp-delete pause` and `resume`: an approver stops and restarts every DELETE, on every instance. The pause
// lives in the store (claimExecution checks it in the same step as the claim), so it holds across restarts.
import type { Logger } from '../logger';
import type { BotStore } from '../store/types';
import { expiredWhilePausedEvent } from './event-details';
import type { Executor } from './executor';
import type { Permissions } from './permissions';
import type { ChangeNotifier, PauseNotifier } from './ports';
import { approverRefusal, type Result, refuse } from './refusals';
import type { Actor, Pause } from './types';

export interface ControlsDeps {
  store: BotStore;
  permissions: Permissions;
  executor: Executor;
  now: () => number;
  onChange: ChangeNotifier;
  onPause: PauseNotifier;
  logger: Logger;
}

export type PauseOutcome = {
  changed: boolean;
  pause: Pause | null;
  /** Requests whose DELETE was under way when the pause was stored: each checks it before its next attempt. */
  inFlight: string[];
};

export class Controls {
  constructor(private readonly deps: ControlsDeps) {}

  current(): Promise<Pause | null> {
    return this.deps.store.getPause();
  }

  pause(actor: Actor, reason: string | null): Promise<Result<PauseOutcome>> {
    return this.set(actor, true, reason);
  }

  resume(actor: Actor): Promise<Result<PauseOutcome>> {
    return this.set(actor, false, null);
  }

  private async set(actor: Actor, paused: boolean, reason: string | null): Promise<Result<PauseOutcome>> {
    const { store, permissions, now, logger } = this.deps;
    const notApprover = approverRefusal(await permissions.approverMembership(actor.userId));
    if (notApprover) return refuse(notApprover);
    const channelId = actor.channelId ?? null;
    const at = now();
    const result = await store.setPause({
      paused,
      by: actor.userId,
      reason,
      channelId,
      at,
      event: { kind: paused ? 'paused' : 'resumed', actorId: actor.userId, detail: reason, at },
      // A DELETE held past its request's expiry is not sent on resume: it is asked for again if still wanted.
      expire: paused ? null : { before: at, event: expiredWhilePausedEvent(at) },
    });
    if (!result.changed) return { ok: true, value: { changed: false, pause: result.pause, inFlight: [] } };
    // Read after the pause is stored: none of these sends another attempt (one already on the wire can't be recalled).
    const inFlight = paused ? await this.underWay() : [];
    logger.warn(paused ? 'DELETEs paused' : 'DELETEs resumed', {
      userId: actor.userId,
      channelId,
      reason,
      affected: result.affected.length,
      inFlight,
    });
    this.deps.onPause({ paused, by: actor.userId, reason, channelId });
    for (const id of result.affected) this.deps.onChange(id);
    if (!paused) await this.runDue();
    return { ok: true, value: { changed: true, pause: result.pause, inFlight } };
  }

  private async underWay(): Promise<string[]> {
    const executing = await this.deps.store.listRequests({ states: ['executing'], limit: 50 });
    return executing.map((r) => r.id);
  }

  /** After a resume: start the DELETEs that came due while paused (the sweeper would, a little later). */
  private async runDue(): Promise<void> {
    const { store, executor, logger } = this.deps;
    for (const request of await store.listForSweep({ kind: 'due', limit: 50 })) {
      executor
        .run(request.id)
        .catch((error: unknown) => logger.warn('DELETE after resume failed', { error: String(error) }));
    }
  }
}
