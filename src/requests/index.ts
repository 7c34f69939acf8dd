// The rules wired together: policy, executor and service from plain dependencies. app.ts and the
// tests build them the same way, through this one function.
import type { CheckpointHook } from '../checkpoints';
import type { PolicyConfig } from '../config';
import type { Logger } from '../logger';
import type { Store } from '../store/types';
import { type Deleter, Executor } from './executor';
import { newRequestId } from './ids';
import { type Directory, Policy } from './policy';
import type { Previewer } from './preview';
import { RequestService } from './service';

export interface RulesDeps {
  store: Store;
  settings: PolicyConfig;
  directory: Directory;
  deleter: Deleter;
  previewer: Previewer | null;
  now: () => number;
  /** How long an execution's lease lasts without renewal (see Executor). */
  leaseMs: number;
  onChange: (requestId: string) => void;
  logger: Logger;
  newId?: () => string;
  /** Called at each checkpoint (see checkpoints.ts). */
  checkpoint?: CheckpointHook;
}

export function createRules(deps: RulesDeps): { service: RequestService; executor: Executor } {
  const executor = new Executor({
    store: deps.store,
    deleter: deps.deleter,
    previewer: deps.previewer,
    now: deps.now,
    leaseMs: deps.leaseMs,
    maxDeletionsPerDay: deps.settings.maxDeletionsPerDay,
    onChange: deps.onChange,
    logger: deps.logger,
    checkpoint: deps.checkpoint,
  });
  const service = new RequestService({
    store: deps.store,
    policy: new Policy(deps.settings, deps.directory),
    settings: deps.settings,
    now: deps.now,
    newId: deps.newId ?? newRequestId,
    executor,
    previewer: deps.previewer,
    onChange: deps.onChange,
    logger: deps.logger,
    checkpoint: deps.checkpoint,
  });
  return { service, executor };
}
