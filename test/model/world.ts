// The system under test of the model: two rule engines ("instances") on one store, a shared clock and the
// fake BotPenguin, with the guarantees of docs/DESIGN.md §5, §8 and §9 checked against what BotPenguin saw.
import type { Policy } from '../../src/config';
import { silentLogger } from '../../src/logger';
import { createRequests, type Requests } from '../../src/requests';
import { startOfUtcDay } from '../../src/requests/daily-limit';
import type { AttemptGate, DeleteResult, Deleter } from '../../src/requests/ports';
import type { DeletionRequest } from '../../src/requests/types';
import { FINAL_STATES, OPEN_STATES } from '../../src/requests/types';
import type { BotStore } from '../../src/store/types';
import { Sweeper } from '../../src/sweeper';
import { testPolicy } from '../helpers/policy';
import { type DeleteCall, FakeBotPenguin } from './botpenguin';
import { APPROVERS, actor, DELAY, LEASE, MINUTE, NO_GROUPS, SECOND, START, TTL } from './constants';
import type { Database } from './databases';

/**
 * A store as one engine sees it. Once the engine is dead its calls never return, as a dead process does
 * nothing; while it is frozen (a stalled process) they wait, and run in order when it thaws.
 */
function mortal(store: BotStore): { store: BotStore; die(): void; freeze(): void; thaw(): void } {
  let mode: 'alive' | 'frozen' | 'dead' = 'alive';
  const frozen: (() => void)[] = [];
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (mode === 'alive') return value.apply(target, args);
        if (mode === 'frozen') {
          return new Promise((resolve, reject) => {
            frozen.push(() => (value.apply(target, args) as Promise<unknown>).then(resolve, reject));
          });
        }
        return new Promise(() => {}); // dead
      };
    },
  });
  return {
    store: proxy,
    die() {
      mode = 'dead';
    },
    freeze() {
      mode = 'frozen';
    },
    thaw() {
      mode = 'alive';
      for (const call of frozen.splice(0)) call();
    },
  };
}

/** One instance of the rules, as app.ts builds them, with its sweeper; replaced on restart or crash. */
export class Engine {
  readonly requests: Requests;
  readonly sweeper: Sweeper;
  /** Armed by a crash step: its next DELETEs hang (after reaching BotPenguin when `applied`) and it dies. */
  crashArmed: { applied: boolean } | null = null;
  /**
   * Armed by a stall step: at its next DELETE the whole process stalls (no lease renewal) until woken; `late`:
   * the DELETE itself reaches BotPenguin only then, else at once (only its answer is late).
   */
  stallArmed: { late: boolean } | null = null;
  private stalled: { wake(): void; reached: Promise<void>; reach(): void } | null = null;
  private frozen = false;
  private readonly sleepers: (() => void)[] = [];
  dead = false;
  readonly hung: ((result: DeleteResult) => void)[] = [];
  readonly firstHang: Promise<void>;
  private signalHang = () => {};

  readonly store: BotStore;
  private readonly life: ReturnType<typeof mortal>;

  constructor(
    readonly id: number,
    readonly slot: number,
    shared: BotStore,
    readonly policy: Policy,
    world: World,
  ) {
    this.life = mortal(shared);
    const { store } = this.life;
    this.store = store;
    this.firstHang = new Promise((resolve) => {
      this.signalHang = resolve;
    });
    const deleter: Deleter = {
      deleteCustomer: (customerId, mayAttempt) => world.deleteWithRetries(this, customerId, mayAttempt),
    };
    this.requests = createRequests({
      store,
      policy,
      directory: NO_GROUPS,
      deleter,
      previewer: null,
      now: world.now,
      leaseMs: LEASE,
      hearsSlack: () => true,
      onChange: () => {},
      logger: silentLogger,
    });
    this.sweeper = new Sweeper({
      store,
      requests: this.requests,
      sync: async () => {},
      now: world.now,
      logger: silentLogger,
      intervalMs: MINUTE,
    });
  }

  /** What app.ts does at start before anything can claim a DELETE. */
  async start(): Promise<void> {
    await this.requests.applyPolicy();
  }

  /** The process dies: it stops sending, renewing or writing anything, its timers with it. */
  die(): void {
    this.dead = true;
    this.life.die();
    this.requests.executor.stopTimers();
    this.requests.executor.stopAccepting();
  }

  /** Resolves when the DELETE of an armed stall is under way (the process has stalled). */
  stallReached(): Promise<void> {
    let reach = () => {};
    const reached = new Promise<void>((resolve) => {
      reach = resolve;
    });
    this.stalled = { wake: () => {}, reached, reach };
    return reached;
  }

  /** The process stalls in the middle of a DELETE: nothing of it runs until woken with BotPenguin's answer. */
  stall(answer: () => DeleteResult): Promise<DeleteResult> {
    this.stallArmed = null;
    this.frozen = true;
    this.life.freeze();
    return new Promise((resolve) => {
      const stalled = this.stalled;
      if (!stalled) throw new Error('stall() without stallReached()');
      stalled.wake = () => {
        this.life.thaw();
        resolve(answer());
      };
      stalled.reach();
    });
  }

  /** The stalled process runs again: its DELETE gets its answer now, long after its lease ran out. */
  wake(): void {
    const stalled = this.stalled;
    this.stalled = null;
    this.frozen = false;
    stalled?.wake();
    for (const resume of this.sleepers.splice(0)) resume();
  }

  isStalled(): boolean {
    return this.frozen;
  }

  /** Resolves once a stalled process runs again (at once when it is not stalled). */
  awake(): Promise<void> {
    return this.frozen ? new Promise((resolve) => this.sleepers.push(resolve)) : Promise.resolve();
  }

  /** A DELETE that never gets its answer (the process is dying). */
  hang(): Promise<DeleteResult> {
    return new Promise((release) => {
      this.hung.push(release);
      this.signalHang();
    });
  }

  /** Resolves when nothing is under way, or when a DELETE hangs. */
  settled(): Promise<void> {
    return Promise.race([this.requests.executor.idle(), this.firstHang]);
  }
}

export interface Setup {
  approvalsRequired: number;
  executionDelayMs: number;
  maxDeletionsPerDay: number;
  dryRun: boolean;
}

/** Settings as strict as the strictest engine started so far (they only ever get stricter). */
export interface Strictest {
  approvers: string[];
  approvalsRequired: number;
  dryRun: boolean;
}

export class World {
  readonly start: number;
  readonly now = () => this.clock.now;
  readonly bp = new FakeBotPenguin();
  readonly calls: DeleteCall[] = [];
  /** Armed by a step: runs once while a DELETE (of the engine given) waits to be retried after a 503. */
  inRetryWait: ((engine: Engine) => Promise<void>) | null = null;
  readonly violations: string[] = [];
  /** Created request ids, oldest first: steps pick their target among the latest. */
  readonly ids: string[] = [];
  /** What each step did, for the counterexample. */
  readonly log: string[] = [];
  readonly engines: Engine[];
  private readonly everyEngine: Engine[] = [];
  /** Final requests as first seen: nothing leaves a final state (§8). */
  private readonly finals = new Map<string, string>();
  strictest: Strictest;
  /** Requests whose DELETE was sent before the first DRY_RUN=true engine started (null: none started yet). */
  sentBeforeDryRun: Set<string> | null = null;
  paused = false;
  /**
   * Check that stricter settings bind every engine at once, also for requests an engine with older settings
   * creates afterwards. Not true today (docs/NOTES.md, "stricter settings reach only the requests open…"):
   * only the known-gaps test turns it on.
   */
  strictestBindsAll = false;
  /** Stricter settings that reached each request when an engine started (Requests.applyPolicy). */
  private readonly floors = new Map<string, { dryRun: boolean; approvalsRequired: number }>();

  constructor(
    readonly stores: readonly [BotStore, BotStore],
    readonly setup: Setup,
    /** The injected clock; where the database keeps its own (real) clock, it starts at the real time. */
    readonly clock: { now: number },
    private readonly realClock: boolean,
  ) {
    if (realClock) clock.now = Date.now();
    this.start = clock.now;
    const policy = testPolicy({
      approverUserIds: APPROVERS,
      approvalsRequired: setup.approvalsRequired,
      requestTtlMs: TTL,
      executionDelayMs: setup.executionDelayMs,
      maxPendingPerRequester: 3,
      maxDeletionsPerDay: setup.maxDeletionsPerDay,
      dryRun: setup.dryRun,
    });
    this.strictest = { approvers: APPROVERS, approvalsRequired: setup.approvalsRequired, dryRun: setup.dryRun };
    if (setup.dryRun) this.sentBeforeDryRun = new Set();
    this.engines = [this.newEngine(0, policy), this.newEngine(1, policy)];
  }

  /** Both engines start, as app.ts starts them. */
  async begin(): Promise<void> {
    for (const engine of this.engines) await this.started(engine);
  }

  /** An engine starts: its DRY_RUN and quorum become the floor of every pending and approved request. */
  private async started(engine: Engine): Promise<void> {
    const open = await this.stores[0].listRequests({ states: ['pending', 'approved'], limit: 1000 });
    await engine.start();
    for (const r of open) {
      const floor = this.floors.get(r.id);
      this.floors.set(r.id, {
        dryRun: Boolean(floor?.dryRun) || engine.policy.dryRun,
        approvalsRequired: Math.max(floor?.approvalsRequired ?? 0, engine.policy.approvalsRequired),
      });
    }
  }

  private newEngine(slot: number, policy: Policy): Engine {
    const engine = new Engine(this.everyEngine.length, slot, this.stores[slot], policy, this);
    this.everyEngine.push(engine);
    return engine;
  }

  violation(text: string): void {
    this.violations.push(`${text} (at +${(this.clock.now - this.start) / SECOND}s)`);
  }

  /** The request a step acts on: one of the latest few, or none yet. */
  target(pick: number): string | null {
    return this.ids.length ? this.ids[this.ids.length - 1 - (pick % Math.min(this.ids.length, 4))] : null;
  }

  /**
   * One DELETE call as the BotPenguin client makes it: every attempt let through by the executor's gate first,
   * a 503 retried (3 attempts in all), with `inRetryWait` (a step's doing) run once while a retry waits.
   */
  async deleteWithRetries(engine: Engine, customerId: string, mayAttempt: AttemptGate): Promise<DeleteResult> {
    const held = (attempts: number, unknown: boolean): DeleteResult => ({
      ok: false,
      kind: 'held',
      attempts,
      message: 'held',
      ...(unknown ? { answerUnknown: true as const } : {}),
    });
    // Whether DELETEs were paused (the pause answered) before the executor's gate, its last look (§9), was asked:
    // an attempt it then lets through breaks the pause. One paused while the gate looks, or after it (while the
    // model reads the store before recording the call), is a race no process can close; it is not judged here.
    let pausedAtGate = false;
    const gate = (attempt: number) => {
      pausedAtGate = this.paused;
      return mayAttempt(attempt);
    };
    if (!(await gate(1))) return held(0, false);
    let result = await this.sendDelete(engine, customerId, false, pausedAtGate);
    let unknown = false;
    for (let attempt = 2; !result.ok && result.kind === 'server_error' && attempt <= 3; attempt++) {
      unknown = true;
      // Not in a stalled engine's retry: the stall step alone decides when that engine runs again.
      const wait = engine.stallArmed ? null : this.inRetryWait;
      if (wait) {
        this.inRetryWait = null;
        await wait(engine);
      }
      if (engine.dead) {
        // Its engine died waiting to retry: what it sent may be sent again by a take-over (§9).
        for (const call of this.calls) if (call.engine === engine.id) call.lost = true;
        return engine.hang();
      }
      if (!(await gate(attempt))) return held(attempt - 1, true);
      result = await this.sendDelete(engine, customerId, true, pausedAtGate);
    }
    if (!unknown || result.ok) return result;
    return result.kind === 'not_found'
      ? { ...result, earlierAttemptUncertain: true }
      : { ...result, answerUnknown: true };
  }

  /**
   * Every DELETE of every engine comes here: checked, recorded, then answered (or hung). `retry`: of the same
   * call; `pausedAtGate`: whether DELETEs were paused when the executor's gate let it through.
   */
  async sendDelete(engine: Engine, customerId: string, retry: boolean, pausedAtGate: boolean): Promise<DeleteResult> {
    if (engine.dead) return engine.hang(); // a dead process sends nothing
    let executing = await engine.store.listRequests({ customerId, states: ['executing'], limit: 5 });
    // A process that stalls between its gate and the send is judged when it sends (strictly).
    let paused = pausedAtGate;
    while (engine.isStalled()) {
      // A stalled process sends nothing either, until it runs again.
      await engine.awake();
      paused = this.paused;
      executing = await engine.store.listRequests({ customerId, states: ['executing'], limit: 5 });
    }
    if (engine.dead) return engine.hang(); // it died meanwhile
    const request = executing.length === 1 ? executing[0] : null;
    if (!request) this.violation(`DELETE of ${customerId} while ${executing.length} of its requests are executing`);
    else this.checkDeleteAllowed(request, engine.policy, retry, paused);
    const call: DeleteCall = {
      requestId: request?.id ?? null,
      customerId,
      engine: engine.id,
      at: this.clock.now,
      lost: false,
    };
    this.calls.push(call);
    this.log.push(`    DELETE ${customerId} for ${call.requestId} by engine ${engine.id}`);
    if (engine.crashArmed) {
      if (engine.crashArmed.applied) this.bp.remove(customerId, call.requestId);
      call.lost = true; // its engine dies waiting for the answer
      return engine.hang();
    }
    if (engine.stallArmed) {
      call.lost = true; // overtaken: once its lease ran out, the others may send again (§9, Leases)
      if (engine.stallArmed.late) return engine.stall(() => this.bp.answer(customerId, call.requestId));
      const answer = this.bp.answer(customerId, call.requestId);
      return engine.stall(() => answer);
    }
    return this.bp.answer(customerId, call.requestId);
  }

  /** The rules a DELETE must satisfy when it goes out (§5, §9). */
  private checkDeleteAllowed(request: DeletionRequest, sender: Policy, retry: boolean, paused: boolean): void {
    const earlier = this.calls.filter((c) => c.requestId === request.id);
    if (!retry && earlier.some((c) => !c.lost)) {
      this.violation(`a second DELETE for ${request.id}, whose earlier DELETE was not lost in a crash`);
    }
    if (paused) this.violation(`a DELETE for ${request.id} while DELETEs are paused`);
    // A re-send finishes a DELETE already decided and sent; the rest is checked on the first one.
    if (earlier.length > 0) return;
    // The settings that bind this DELETE (docs/DESIGN.md §5): the sender's own, and the floor a stricter engine
    // set on the requests open when it started; with strictestBindsAll, the strictest any engine started with.
    const floor = this.floors.get(request.id);
    const dryRun = this.strictestBindsAll ? this.sentBeforeDryRun !== null : sender.dryRun || floor?.dryRun;
    if (dryRun) this.violation(`a real DELETE for ${request.id} after a DRY_RUN=true engine started`);
    // A take-over sends what another engine claimed (its owner died before sending): judged by that claim.
    const claimer = request.deleteStarts > 1 ? null : sender;
    const approvers = this.strictestBindsAll ? this.strictest.approvers : (claimer?.approverUserIds ?? APPROVERS);
    const givers = request.approvals.map((a) => a.userId);
    const counted = givers.filter((u) => approvers.includes(u) && u !== request.requesterId);
    const needed = Math.max(
      request.approvalsRequired,
      claimer?.approvalsRequired ?? 0,
      floor?.approvalsRequired ?? 0,
      this.strictestBindsAll ? this.strictest.approvalsRequired : 0,
    );
    if (new Set(counted).size < needed) {
      this.violation(`a DELETE for ${request.id} with ${counted.length} valid approvals of ${needed}: ${givers}`);
    }
    const today = startOfUtcDay(this.clock.now);
    const firstToday = new Set(this.calls.filter((c) => startOfUtcDay(c.at) === today).map((c) => c.requestId));
    for (const c of this.calls) if (startOfUtcDay(c.at) < today) firstToday.delete(c.requestId);
    if (firstToday.size >= this.setup.maxDeletionsPerDay) {
      this.violation(`a DELETE for ${request.id} beyond the day's limit of ${this.setup.maxDeletionsPerDay}`);
    }
  }

  /** What someone who looks the customer up in BotPenguin finds. */
  truth(customerId: string): 'deleted' | 'kept' {
    return this.bp.present.has(customerId) ? 'kept' : 'deleted';
  }

  /** Time passes: the injected clock moves, and where the database keeps its own, real time passes too. */
  async advance(ms: number): Promise<void> {
    this.clock.now += ms;
    if (!this.realClock) return;
    // Only as long as it takes for the leases and due times this step passes: they are short (LEASE, DELAY).
    const until = Date.now() + ms;
    const times = (await this.stores[0].listRequests({ states: ['approved', 'executing'], limit: 1000 }))
      .map((r) => (r.state === 'approved' ? r.executeAt : r.leaseUntil) ?? 0)
      .filter((t) => t <= until);
    const wait = Math.max(0, ...times) + 2 - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(wait, ms)));
  }

  /** Waits for every engine's work; an engine whose DELETE hung has died and is replaced, as a restart would. */
  async settle(): Promise<void> {
    for (const engine of [...this.engines]) {
      await engine.settled();
      if (engine.hung.length > 0) await this.replace(engine.slot, engine.policy, 'crashed mid-DELETE');
    }
  }

  /** Stops an engine (its timers die with it) and starts another in its place, on the same store. */
  async replace(slot: number, policy: Policy, why: string): Promise<Engine> {
    const old = this.engines[slot];
    old.die();
    const engine = this.newEngine(slot, policy);
    this.engines[slot] = engine;
    await this.started(engine);
    this.log.push(`    engine ${old.id} ${why}; engine ${engine.id} started`);
    return engine;
  }

  /** The store's invariants, and its agreement with what the fake BotPenguin saw. */
  async checkStore(): Promise<DeletionRequest[]> {
    const all = await this.stores[0].listRequests({ limit: 1000 });
    const openByCustomer = new Map<string, number>();
    for (const r of all) {
      const key = r.customerId.toLowerCase();
      if (OPEN_STATES.includes(r.state)) openByCustomer.set(key, (openByCustomer.get(key) ?? 0) + 1);
      const givers = r.approvals.map((a) => a.userId);
      if (new Set(givers).size !== givers.length) this.violation(`${r.id} counts an approver twice: ${givers}`);
      if (givers.includes(r.requesterId)) this.violation(`${r.id} has its requester's own approval`);
      const shown = `${r.state} ${JSON.stringify(r.outcome)}`;
      const final = this.finals.get(r.id);
      if (final !== undefined && final !== shown) this.violation(`${r.id} left its final state: ${final} → ${shown}`);
      if (final === undefined && FINAL_STATES.includes(r.state)) this.finals.set(r.id, shown);
      const removedByIt = this.bp.removedBy.has(r.customerId) && this.bp.removedBy.get(r.customerId) === r.id;
      if (r.state === 'failed' && removedByIt) {
        this.violation(`${r.id} says "not deleted" (${r.outcome?.kind}) but its DELETE removed ${r.customerId}`);
      }
      if (r.outcome?.kind === 'dry_run' && this.calls.some((c) => c.requestId === r.id)) {
        this.violation(`${r.id} says no DELETE was sent, but one was`);
      }
      if (r.state === 'succeeded' && r.outcome?.kind !== 'dry_run' && this.bp.present.has(r.customerId)) {
        this.violation(`${r.id} says deleted but BotPenguin still has ${r.customerId}`);
      }
      // Only a dead engine leaves a request executing: its DELETE hung, or it died between claim and DELETE.
      if (r.state === 'executing' && !this.everyEngine.some((e) => e.dead)) {
        this.violation(`${r.id} is left executing by live engines`);
      }
    }
    for (const [customer, n] of openByCustomer) if (n > 1) this.violation(`${n} open requests for ${customer}`);
    return all;
  }

  /** Time runs past every expiry, delay and lease, and every engine sweeps, until nothing changes. */
  async drain(): Promise<void> {
    this.log.push('final sweeps');
    let before = '';
    const operator = this.strictest.approvers[this.strictest.approvers.length - 1];
    for (let round = 0; round < 10; round++) {
      if (this.paused) {
        this.paused = false;
        await typed(this, 0, operator, 'resume');
      }
      for (const r of await this.stores[0].listRequests({ states: ['uncertain'], limit: 100 })) {
        const closer = this.strictest.approvers.find((a) => a !== r.requesterId) ?? operator;
        await typed(this, 0, closer, `close ${r.id} ${this.truth(r.customerId)}`);
      }
      await this.advance(TTL + DELAY + LEASE + SECOND);
      for (const engine of [...this.engines]) await engine.sweeper.sweep();
      await this.settle();
      const all = await this.checkStore();
      const now = JSON.stringify(all.map((r) => [r.id, r.state, r.deleteStarts]));
      if (now === before && all.every((r) => FINAL_STATES.includes(r.state))) return;
      before = now;
    }
    const all = await this.checkStore();
    for (const r of all) if (!FINAL_STATES.includes(r.state)) this.violation(`${r.id} never reached a final state`);
  }

  /** After a run: the live engines finish what they do, then every engine stops. */
  async stop(): Promise<void> {
    for (const engine of this.engines) await engine.settled();
    // The dead stay dead: what they wait for never comes (their only timers left are unref'd lease
    // heartbeats that do nothing, their renewal waiting forever).
    for (const engine of this.everyEngine) engine.die();
  }

  report(step: string): string {
    return [
      `after "${step}":`,
      ...this.violations.map((v) => `  ✗ ${v}`),
      'steps:',
      ...this.log.slice(-40),
      `setup: ${JSON.stringify(this.setup)}`,
    ].join('\n');
  }
}

/** What `/bp-delete <text>` answered, in short. */
export async function typed(w: World, slot: number, who: string, text: string): Promise<string> {
  const result = await w.engines[slot].requests.commands.command(actor(who), text);
  const said = result.kind === 'refused' ? `refused ${result.refusal.kind}` : result.kind;
  w.log.push(`  → ${text}: ${said}`);
  return said;
}

/** One run on an emptied database: the engines start, `drive` moves them, the final sweeps, every guarantee. */
export async function oneRun(
  db: Database,
  setup: Setup,
  drive: (w: World) => Promise<void>,
  strictestBindsAll = false,
): Promise<{ world: World; requests: DeletionRequest[] }> {
  const clock = { now: START };
  const stores = await db.open(() => clock.now);
  const w = new World(stores, setup, clock, db.realClock);
  w.strictestBindsAll = strictestBindsAll;
  try {
    await w.begin();
    await drive(w);
    await w.drain();
    if (w.violations.length) throw new Error(w.report('the final sweeps'));
    return { world: w, requests: await w.stores[0].listRequests({ limit: 1000 }) };
  } finally {
    await w.stop();
    await db.close();
  }
}
