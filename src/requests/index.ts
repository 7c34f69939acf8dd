// The rules of a deletion request, wired together from plain dependencies: createRequests() builds them for
// the listeners, the sweeper and app.ts, which call them directly. app.ts and the tests build them the same way.
import type { Policy } from '../config';
import type { Logger } from '../logger';
import type { BotStore } from '../store/types';
import { Commands } from './commands';
import { Controls } from './controls';
import { DailyLimit } from './daily-limit';
import { Decisions } from './decisions';
import { stricterSettingsEvent } from './event-details';
import { Executor } from './executor';
import { HomeQueues } from './home';
import { Permissions } from './permissions';
import type { ChangeNotifier, Deleter, Directory, PauseNotifier } from './ports';
import type { Previewer } from './preview';
import { Reminders } from './reminders';

export interface RequestsDeps {
  store: BotStore;
  policy: Policy;
  directory: Directory;
  deleter: Deleter;
  previewer: Previewer | null;
  now: () => number;
  /** How long an execution's lease lasts without renewal (see Executor). */
  leaseMs: number;
  /** Whether Slack can reach the bot now: while it can't, no DELETE whose Abort window was open is claimed. */
  hearsSlack: () => boolean;
  onChange: ChangeNotifier;
  /** DELETEs paused or resumed: the Slack layer announces it where it was typed. */
  onPause?: PauseNotifier;
  logger: Logger;
}

/** Who may ask, approve, deny, cancel or abort, and in which state; plain ids in, plain results out. */
export interface Requests {
  /** `/bp-delete …`: help, list, status, pause, close an uncertain request, or ask for a deletion. */
  readonly commands: Commands;
  /** Approve, deny, cancel, abort (by people); withdraw and expire (by the bot). */
  readonly decisions: Decisions;
  /** Sends the DELETEs, holds the delay timers; app.ts drives its lifecycle, the sweeper its backstop. */
  readonly executor: Executor;
  /** Reminds the approvers of requests nobody has decided; the sweeper drives it. */
  readonly reminders: Reminders;
  /** What each person's Home tab lists. */
  readonly home: HomeQueues;
  /**
   * At start: a stricter DRY_RUN or APPROVALS_REQUIRED of this instance reaches every pending and approved
   * request in the store (marked there, so instances with older settings see it too).
   */
  applyPolicy(): Promise<void>;
}

export function createRequests(deps: RequestsDeps): Requests {
  const { store, policy, now, onChange, logger } = deps;
  const permissions = new Permissions(policy, deps.directory);
  const dailyLimit = new DailyLimit(store, policy.maxDeletionsPerDay);
  const executor = new Executor({
    store,
    deleter: deps.deleter,
    previewer: deps.previewer,
    now,
    leaseMs: deps.leaseMs,
    hearsSlack: deps.hearsSlack,
    dailyLimit,
    policy,
    permissions,
    onChange,
    logger,
  });
  const decisions = new Decisions({ store, permissions, policy, now, executor, dailyLimit, onChange, logger });
  const controls = new Controls({
    store,
    permissions,
    executor,
    now,
    onChange,
    onPause: deps.onPause ?? (() => undefined),
    logger,
  });
  const commands = new Commands({
    decisions,
    controls,
    store,
    permissions,
    policy,
    now,
    previewer: deps.previewer,
    onChange,
    logger,
  });
  return {
    commands,
    decisions,
    executor,
    reminders: new Reminders({ store, policy, now, onChange, logger }),
    home: new HomeQueues({ store, permissions, now }),
    async applyPolicy() {
      const { dryRun, approvalsRequired } = policy;
      const at = now();
      const changed = await store.applyPolicyFloor({
        dryRun,
        approvalsRequired,
        event: stricterSettingsEvent({ dryRun, approvalsRequired }, at),
      });
      if (changed.length > 0) {
        logger.warn('stricter settings applied to open requests', { dryRun, approvalsRequired, requests: changed });
      }
      for (const id of changed) onChange(id);
    },
  };
}
