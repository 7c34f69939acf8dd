// The rules of a deletion request, wired together from plain dependencies: createRequests() builds
// the façade the listeners, the sweeper and app.ts call. app.ts and the tests build it the same way.
import type { CheckpointHook } from '../checkpoints';
import type { Policy } from '../config';
import type { Logger } from '../logger';
import type { Store } from '../store/types';
import { type CommandResult, Commands } from './commands';
import { Controls } from './controls';
import { Decisions } from './decisions';
import { Executor } from './executor';
import { newRequestId } from './ids';
import { Permissions } from './permissions';
import type { ChangeNotifier, Deleter, Directory, PauseNotifier } from './ports';
import type { Previewer } from './preview';
import type { Result } from './refusals';
import type { Actor, DeletionRequest } from './types';

export interface RequestsDeps {
  store: Store;
  policy: Policy;
  directory: Directory;
  deleter: Deleter;
  previewer: Previewer | null;
  now: () => number;
  /** How long an execution's lease lasts without renewal (see Executor). */
  leaseMs: number;
  onChange: ChangeNotifier;
  /** DELETEs paused or resumed: the Slack layer announces it where it was typed. */
  onPause?: PauseNotifier;
  logger: Logger;
  newId?: () => string;
  /** Called at each checkpoint (see checkpoints.ts); the process tests kill the bot there. */
  checkpoint?: CheckpointHook;
}

/** Who may ask, approve, deny, cancel or abort, and in which state; plain ids in, plain results out. */
export interface Requests {
  /** `/bp-delete …`: help, list, status, close an uncertain request, or ask for a deletion. */
  command(actor: Actor, text: string): Promise<CommandResult>;
  create(actor: Actor, customerId: string, reason: string): Promise<Result<DeletionRequest>>;
  approve(requestId: string, actor: Actor): Promise<Result<DeletionRequest>>;
  /** Whether this person may deny the request now (checked before a reason is asked for). */
  checkDeny(requestId: string, actor: Actor): Promise<Result<DeletionRequest>>;
  deny(requestId: string, actor: Actor, reason: string | null): Promise<Result<DeletionRequest>>;
  cancel(requestId: string, actor: Actor): Promise<Result<DeletionRequest>>;
  abort(requestId: string, actor: Actor): Promise<Result<DeletionRequest>>;
  /** A request as stored (for the Slack layer to check what became of it). */
  find(requestId: string): Promise<DeletionRequest | null>;
  /** End a pending request that can't go on (its message can't be posted), saying why; deletes nothing. */
  withdraw(requestId: string, reason: string): Promise<boolean>;
  /** Mark a pending request whose time ran out (the sweeper calls this). */
  expire(request: DeletionRequest): Promise<boolean>;
  /**
   * At start: a stricter DRY_RUN or APPROVALS_REQUIRED of this instance reaches every pending and approved
   * request in the store (marked there, so instances with older settings see it too).
   */
  applyPolicy(): Promise<void>;
  /** Sends the DELETEs, holds the delay timers; app.ts drives its lifecycle, the sweeper its backstop. */
  readonly executor: Executor;
}

export function createRequests(deps: RequestsDeps): Requests {
  const executor = new Executor({
    store: deps.store,
    deleter: deps.deleter,
    previewer: deps.previewer,
    now: deps.now,
    leaseMs: deps.leaseMs,
    maxDeletionsPerDay: deps.policy.maxDeletionsPerDay,
    policy: deps.policy,
    // Late-bound: Permissions is built below, and is the one place that decides who is an approver.
    approverMembership: (userId) => permissions.approverMembership(userId),
    onChange: deps.onChange,
    logger: deps.logger,
    checkpoint: deps.checkpoint,
  });
  const permissions = new Permissions(deps.policy, deps.directory);
  const decisions = new Decisions({
    store: deps.store,
    permissions,
    policy: deps.policy,
    now: deps.now,
    executor,
    onChange: deps.onChange,
    logger: deps.logger,
    checkpoint: deps.checkpoint,
  });
  const controls = new Controls({
    store: deps.store,
    permissions,
    executor,
    now: deps.now,
    onChange: deps.onChange,
    onPause: deps.onPause ?? (() => undefined),
    logger: deps.logger,
  });
  const commands = new Commands({
    decisions,
    controls,
    store: deps.store,
    permissions,
    policy: deps.policy,
    now: deps.now,
    newId: deps.newId ?? newRequestId,
    previewer: deps.previewer,
    onChange: deps.onChange,
    logger: deps.logger,
    checkpoint: deps.checkpoint,
  });
  return {
    command: (actor, text) => commands.command(actor, text),
    create: (actor, customerId, reason) => commands.create(actor, customerId, reason),
    approve: (requestId, actor) => decisions.approve(requestId, actor),
    checkDeny: (requestId, actor) => decisions.checkDeny(requestId, actor),
    deny: (requestId, actor, reason) => decisions.deny(requestId, actor, reason),
    cancel: (requestId, actor) => decisions.cancel(requestId, actor),
    abort: (requestId, actor) => decisions.abort(requestId, actor),
    find: (requestId) => decisions.find(requestId),
    withdraw: (requestId, reason) => decisions.withdraw(requestId, reason),
    expire: (request) => decisions.expire(request),
    async applyPolicy() {
      const { dryRun, approvalsRequired } = deps.policy;
      const changed = await deps.store.applyPolicyFloor({ dryRun, approvalsRequired, at: deps.now() });
      if (changed.length > 0) {
        deps.logger.warn('stricter settings applied to open requests', {
          dryRun,
          approvalsRequired,
          requests: changed,
        });
      }
      for (const id of changed) deps.onChange(id);
    },
    executor,
  };
}
