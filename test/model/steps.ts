// The steps of the model test (each one thing a person, a clock, a crash or BotPenguin does to the two
// engines) and the generators that string them together at random.
import fc from 'fast-check';
import type { Policy } from '../../src/config';
import type { Result } from '../../src/requests/refusals';
import { ANSWERS, type Answer } from './botpenguin';
import { APPROVERS, ASKERS, actor, CUSTOMERS, DAY, DELAY, LEASE, SECOND, TTL, USERS } from './constants';
import { type Setup, type Strictest, typed, type World } from './world';

export type Model = Record<string, never>;

const outcome = (result: Result<unknown>): string => (result.ok ? 'ok' : `refused ${result.refusal.kind}`);

export abstract class Step implements fc.AsyncCommand<Model, World> {
  check(): boolean {
    return true;
  }

  async run(_model: Model, w: World): Promise<void> {
    w.log.push(String(this));
    // A step that never ends is a failure too (a lost wake-up, a deadlock), reported with the steps so far.
    let timer: NodeJS.Timeout | undefined;
    const stuck = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`${this} did not finish\n${w.log.slice(-40).join('\n')}`)), 20_000);
    });
    try {
      await Promise.race([
        (async () => {
          await this.act(w);
          await w.settle();
        })(),
        stuck,
      ]);
    } finally {
      clearTimeout(timer);
    }
    await w.checkStore();
    if (w.violations.length) throw new Error(w.report(String(this)));
  }

  abstract act(w: World): Promise<void>;
  abstract toString(): string;
}

export class Ask extends Step {
  constructor(
    readonly slot: number,
    readonly who: string,
    readonly customerId: string,
  ) {
    super();
  }
  async act(w: World) {
    const result = await w.engines[this.slot].requests.commands.create(
      actor(this.who),
      this.customerId,
      'closing the account',
    );
    if (result.ok) w.ids.push(result.value.id);
    w.log.push(`  → ${result.ok ? result.value.id : outcome(result)}`);
  }
  toString() {
    return `ask(engine#${this.slot}, ${this.who}, ${this.customerId})`;
  }
}

type Decision = 'approve' | 'deny' | 'cancel' | 'abort';

export class Decide extends Step {
  constructor(
    readonly decision: Decision,
    readonly slot: number,
    readonly who: string,
    readonly pick: number,
  ) {
    super();
  }
  async act(w: World) {
    const id = w.target(this.pick);
    if (!id) return;
    const requests = w.engines[this.slot].requests;
    const result =
      this.decision === 'approve'
        ? await requests.decisions.approve(id, actor(this.who))
        : this.decision === 'deny'
          ? await requests.decisions.deny(id, actor(this.who), 'no', 'button')
          : this.decision === 'cancel'
            ? await requests.decisions.cancel(id, actor(this.who), 'button')
            : await requests.decisions.abort(id, actor(this.who), 'button');
    w.log.push(`  → ${id}: ${outcome(result)}`);
  }
  toString() {
    return `${this.decision}(engine#${this.slot}, ${this.who}, latest-${this.pick})`;
  }
}

/** The sweeper's expiry of one request, from a fresh read (it may race with a decision). */
class Expire extends Step {
  constructor(
    readonly slot: number,
    readonly pick: number,
  ) {
    super();
  }
  async act(w: World) {
    const id = w.target(this.pick);
    const request = id ? await w.engines[this.slot].store.getRequest(id) : null;
    if (request) w.log.push(`  → ${id}: ${await w.engines[this.slot].requests.decisions.expire(request)}`);
  }
  toString() {
    return `expire(engine#${this.slot}, latest-${this.pick})`;
  }
}

export class Sweep extends Step {
  constructor(readonly slot: number) {
    super();
  }
  async act(w: World) {
    await w.engines[this.slot].sweeper.sweep();
  }
  toString() {
    return `sweep(engine#${this.slot})`;
  }
}

export class Advance extends Step {
  constructor(readonly ms: number) {
    super();
  }
  async act(w: World) {
    await w.advance(this.ms);
  }
  toString() {
    return `advance(${this.ms / SECOND}s)`;
  }
}

class Restart extends Step {
  constructor(readonly slot: number) {
    super();
  }
  async act(w: World) {
    const old = w.engines[this.slot];
    old.requests.executor.stopAccepting();
    await old.settled();
    await w.replace(this.slot, old.policy, 'restarted');
  }
  toString() {
    return `restart(engine#${this.slot})`;
  }
}

/** The engine's next DELETE reaches BotPenguin (or not), then the engine dies before the answer is recorded. */
class Crash extends Step {
  constructor(
    readonly slot: number,
    readonly applied: boolean,
  ) {
    super();
  }
  async act(w: World) {
    const engine = w.engines[this.slot];
    engine.crashArmed = { applied: this.applied };
    await engine.sweeper.sweep(); // whatever is due now
  }
  toString() {
    return `crash(engine#${this.slot} at its next DELETE, which ${this.applied ? 'deletes' : 'deletes nothing'})`;
  }
}

/**
 * The engine's next DELETE stalls the whole process (a long GC pause, a frozen VM): its lease runs out, the
 * other engine takes over and sends again, then the stalled one wakes with its answer, which must not count.
 * `late` (its DELETE reaches BotPenguin only when it wakes) and `withOthersDue` (it stalls with other DELETEs
 * claimed) are known gaps (docs/NOTES.md, "Model test"): only the known-gaps test sets them.
 */
export class Stall extends Step {
  constructor(
    readonly slot: number,
    readonly late = false,
    readonly withOthersDue = false,
  ) {
    super();
  }
  async act(w: World) {
    const engine = w.engines[this.slot];
    if (engine.crashArmed) return; // it dies at its next DELETE instead
    if (!this.withOthersDue) {
      const due = await engine.store.listForSweep({ kind: 'due', limit: 10 });
      const stale = await engine.store.listForSweep({ kind: 'stale', limit: 10 });
      if (due.length + stale.length > 1) return;
    }
    engine.stallArmed = { late: this.late };
    const reached = engine.stallReached();
    // Whatever is due now; not awaited alone: once stalled, the rest of the sweep waits for the wake-up.
    const sweeping = engine.sweeper.sweep().then(() => engine.requests.executor.idle());
    const stalled = await Promise.race([reached.then(() => true), sweeping.then(() => false)]);
    if (!stalled) {
      engine.stallArmed = null;
      engine.wake();
      return;
    }
    await w.advance(LEASE + SECOND);
    const other = w.engines[1 - this.slot];
    await other.sweeper.sweep();
    await other.settled();
    w.log.push(`    engine ${engine.id} wakes`);
    engine.wake();
    await sweeping;
  }
  toString() {
    const others = this.withOthersDue ? ', with other DELETEs due' : '';
    const when = this.late ? 'which reaches BotPenguin only when it wakes' : 'after it reached BotPenguin';
    return `stall(engine#${this.slot} in its next DELETE, ${when}, past its lease${others})`;
  }
}

export class BotPenguinWill extends Step {
  constructor(readonly answers: Answer[]) {
    super();
  }
  async act(w: World) {
    w.bp.answers = [...this.answers];
  }
  toString() {
    return `botpenguin answers next: ${this.answers.join(', ')}`;
  }
}

/** A new engine with stricter settings replaces one (a deploy); the other engine still runs the old ones. */
export class Stricter extends Step {
  constructor(
    readonly slot: number,
    readonly change: 'dry_run' | 'quorum' | 'remove_approver',
  ) {
    super();
  }
  async act(w: World) {
    const s = w.strictest;
    const next: Strictest =
      this.change === 'dry_run'
        ? { ...s, dryRun: true }
        : this.change === 'quorum'
          ? { ...s, approvalsRequired: Math.min(s.approvalsRequired + 1, 3) }
          : { ...s, approvers: s.approvers.slice(0, Math.max(1, s.approvers.length - 1)) };
    const old = w.engines[this.slot];
    old.requests.executor.stopAccepting();
    await old.settled();
    w.strictest = next;
    if (next.dryRun && !w.sentBeforeDryRun) {
      w.sentBeforeDryRun = new Set(w.calls.flatMap((c) => (c.requestId ? [c.requestId] : [])));
    }
    const policy: Policy = {
      ...old.policy,
      dryRun: next.dryRun,
      approvalsRequired: next.approvalsRequired,
      approverUserIds: next.approvers,
    };
    await w.replace(this.slot, policy, `replaced by stricter settings (${this.change})`);
  }
  toString() {
    return `stricter(engine#${this.slot}, ${this.change})`;
  }
}

/** Two steps at once, on both engines: their store calls interleave. */
class Together extends Step {
  constructor(
    readonly a: Step,
    readonly b: Step,
    /** How many turns of the event loop the second one starts after the first: a different interleaving. */
    readonly lag: number,
  ) {
    super();
  }
  async act(w: World) {
    const later = async () => {
      for (let i = 0; i < this.lag; i++) await new Promise((resolve) => setImmediate(resolve));
      await this.b.act(w);
    };
    await Promise.all([this.a.act(w), later()]);
  }
  toString() {
    return `together(${this.a}, ${this.b}${this.lag ? ` ${this.lag} turns later` : ''})`;
  }
}

class Pause extends Step {
  constructor(
    readonly slot: number,
    readonly who: string,
  ) {
    super();
  }
  async act(w: World) {
    await typed(w, this.slot, this.who, 'pause deploying');
    w.paused = (await w.stores[0].getPause()) !== null;
  }
  toString() {
    return `pause(engine#${this.slot}, ${this.who})`;
  }
}

class Resume extends Step {
  constructor(
    readonly slot: number,
    readonly who: string,
  ) {
    super();
  }
  async act(w: World) {
    w.paused = false; // what was due may go out as soon as the pause is lifted (a refused resume sends nothing)
    await typed(w, this.slot, this.who, 'resume');
    w.paused = (await w.stores[0].getPause()) !== null;
  }
  toString() {
    return `resume(engine#${this.slot}, ${this.who})`;
  }
}

/**
 * BotPenguin answers the next DELETE 503 (its backend deleting or not); while the retry waits, an approver
 * pauses every DELETE. No attempt may follow the pause (issue 16, defect 1).
 */
class PauseDuringRetries extends Step {
  constructor(
    readonly slot: number,
    readonly who: string,
    readonly applied: boolean,
  ) {
    super();
  }
  async act(w: World) {
    w.bp.answers = [this.applied ? 'busy_applied' : 'busy_kept'];
    w.inRetryWait = async () => {
      await typed(w, this.slot, this.who, 'pause incident');
      w.paused = (await w.stores[0].getPause()) !== null;
    };
    for (const engine of [...w.engines]) await engine.sweeper.sweep();
  }
  toString() {
    return `pause(engine#${this.slot}, ${this.who}) while a DELETE answered 503 waits to be retried (${this.applied ? 'deleted' : 'kept'})`;
  }
}

/** Someone looks the customer up in BotPenguin and closes an uncertain request accordingly. */
class Close extends Step {
  constructor(
    readonly slot: number,
    readonly who: string,
    readonly pick: number,
  ) {
    super();
  }
  async act(w: World) {
    const id = w.target(this.pick);
    const request = id ? await w.stores[0].getRequest(id) : null;
    if (request) await typed(w, this.slot, this.who, `close ${request.id} ${w.truth(request.customerId)}`);
  }
  toString() {
    return `close(engine#${this.slot}, ${this.who}, latest-${this.pick}, as BotPenguin says)`;
  }
}

/** `/bp-delete deny <id>` or `cancel <id>`, typed in any channel. */
class ById extends Step {
  constructor(
    readonly subcommand: 'deny' | 'cancel',
    readonly slot: number,
    readonly who: string,
    readonly pick: number,
  ) {
    super();
  }
  async act(w: World) {
    const id = w.target(this.pick);
    if (id) await typed(w, this.slot, this.who, `${this.subcommand} ${id}`);
  }
  toString() {
    return `${this.subcommand}-by-id(engine#${this.slot}, ${this.who}, latest-${this.pick})`;
  }
}

const slot = fc.constantFrom(0, 1);
const user = fc.constantFrom(...USERS);
const pick = fc.nat({ max: 3 });
const lag = fc.nat({ max: 4 });
const decide = (decision: Decision) =>
  fc.tuple(slot, user, pick).map(([s, u, p]) => new Decide(decision, s, u, p) as Step);
const approver = fc.constantFrom(...APPROVERS);

const ask = fc
  .tuple(slot, fc.constantFrom(...ASKERS), fc.constantFrom(...CUSTOMERS))
  .map(([s, w, c]) => new Ask(s, w, c) as Step);
// Approvals by approvers mostly, so that quorums are reached often.
const approve = fc.tuple(slot, approver, pick).map(([s, u, p]) => new Decide('approve', s, u, p) as Step);
const actions: fc.Arbitrary<Step>[] = [
  ask,
  approve,
  decide('approve'),
  decide('deny'),
  decide('cancel'),
  decide('abort'),
  fc.tuple(slot, pick).map(([s, p]) => new Expire(s, p)),
  slot.map((s) => new Sweep(s)),
];

/** fc.commands picks among its arbitraries evenly: the ones listed more often come up more often. */
export const steps: fc.Arbitrary<Step>[] = [
  ...actions,
  ask,
  ask,
  ask,
  approve,
  approve,
  approve,
  approve,
  approve,
  fc.constantFrom(SECOND, 30 * SECOND, DELAY + SECOND, LEASE + SECOND, TTL + SECOND, DAY).map((ms) => new Advance(ms)),
  fc.constantFrom(SECOND, DELAY + SECOND, LEASE + SECOND).map((ms) => new Advance(ms)),
  slot.map((s) => new Restart(s)),
  fc.tuple(slot, fc.boolean()).map(([s, applied]) => new Crash(s, applied)),
  slot.map((s) => new Stall(s)),
  fc.array(fc.constantFrom(...ANSWERS), { minLength: 1, maxLength: 3 }).map((a) => new BotPenguinWill(a)),
  fc.tuple(fc.oneof(...actions), fc.oneof(...actions), lag).map(([a, b, n]) => new Together(a, b, n)),
  fc.tuple(approve, approve, lag).map(([a, b, n]) => new Together(a, b, n)),
  fc.tuple(slot, user).map(([s, u]) => new Pause(s, u)),
  fc.tuple(slot, approver, fc.boolean()).map(([s, u, applied]) => new PauseDuringRetries(s, u, applied)),
  fc.tuple(slot, approver).map(([s, u]) => new Resume(s, u)),
  fc.tuple(slot, user).map(([s, u]) => new Resume(s, u)),
  fc.tuple(slot, user, pick).map(([s, u, p]) => new Close(s, u, p)),
  fc
    .tuple(fc.constantFrom('deny' as const, 'cancel' as const), slot, user, pick)
    .map(([c, s, u, p]) => new ById(c, s, u, p)),
  fc
    .tuple(slot, fc.constantFrom('dry_run' as const, 'quorum' as const, 'remove_approver' as const))
    .map(([s, change]) => new Stricter(s, change)),
];

export const setups: fc.Arbitrary<Setup> = fc.record({
  approvalsRequired: fc.constantFrom(1, 2),
  executionDelayMs: fc.constantFrom(0, DELAY),
  maxDeletionsPerDay: fc.constantFrom(2, 1000),
  dryRun: fc.constantFrom(false, false, false, true),
});
