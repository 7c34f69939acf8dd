// A model-based test of the rules (fast-check commands): random sequences of requests, approvals, denials,
// cancels, aborts, expiries, pauses, stricter settings, clock steps, sweeps, restarts, crashes and stalls
// mid-DELETE and BotPenguin's answers, run by TWO rule engines on ONE store (SQLite; PostgreSQL too when
// TEST_DATABASE_URL is set). After every step the guarantees of docs/DESIGN.md §5, §8 and §9 are checked
// against what the fake BotPenguin saw. MODEL_RUNS=5000 runs it longer; MODEL_SEED, MODEL_PATH and
// MODEL_REPLAY replay a failure; MODEL_STATS=1 says what the runs saw; MODEL_STRICT=1: see STRICT.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite from 'better-sqlite3';
import fc from 'fast-check';
import { Client } from 'pg';
import type { Policy } from '../../src/config';
import { silentLogger } from '../../src/logger';
import { createRequests, type Requests } from '../../src/requests';
import { startOfUtcDay } from '../../src/requests/daily-limit';
import type { DeleteResult, Deleter } from '../../src/requests/ports';
import type { Result } from '../../src/requests/refusals';
import type { Actor, DeletionRequest } from '../../src/requests/types';
import { FINAL_STATES, OPEN_STATES } from '../../src/requests/types';
import { PostgresStore } from '../../src/store/dialects/postgres';
import { SqliteStore } from '../../src/store/dialects/sqlite';
import type { Store } from '../../src/store/types';
import { Sweeper } from '../../src/sweeper';
import { testPolicy } from '../helpers/policy';

const PG_URL = process.env.TEST_DATABASE_URL;
/** Runs per database; MODEL_RUNS overrides. */
const RUNS = Number(process.env.MODEL_RUNS) || 0;

/**
 * MODEL_STRICT=1 adds cases the rules get wrong today (see docs/NOTES.md): stricter settings bind every engine
 * at once, also for requests an engine with older settings creates afterwards; a stalled engine's DELETE
 * reaching BotPenguin only after the engine that took over sent its own (a definite refusal of the second
 * is then recorded as "not deleted" though the first deletes the customer); and an engine stalling while it
 * has several DELETEs claimed (it wakes and sends one whose request another engine has finished meanwhile).
 */
const STRICT = Boolean(process.env.MODEL_STRICT);
const STALLS = STRICT ? [false, true] : [false];

const TEAM = 'T0TEAM';
const CHANNEL = 'C0OPS';
const REQUESTERS = ['U0REQ1', 'U0REQ2'];
const APPROVERS = ['U0APP1', 'U0APP2', 'U0APP3'];
const OUTSIDER = 'U0OUTSIDER';
const USERS = [...REQUESTERS, ...APPROVERS, OUTSIDER];
/** Who asks: two plain requesters, and an approver (who then may not approve their own request). */
const ASKERS = [REQUESTERS[0], REQUESTERS[1], APPROVERS[0]];
/** Three customers BotPenguin has, and one it never had. */
const KNOWN = ['64b7f0c2e4b0a1b2c3d4e501', '64b7f0c2e4b0a1b2c3d4e502', '64b7f0c2e4b0a1b2c3d4e503'];
const CUSTOMERS = [...KNOWN, '64b7f0c2e4b0a1b2c3d4e5ff'];

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const TTL = HOUR;
/**
 * Short, so that where leases and due times are on the database's own clock (PostgreSQL) a step that moves
 * time past them waits for real only that long. The executor renews a lease every LEASE / 3 of real time,
 * but only while a DELETE is under way, and no step leaves one under way (a dead engine renews nothing).
 */
const DELAY = 200;
const LEASE = 400;
/** Where the store reads the injected clock (SQLite): a fixed day, mid-day UTC. */
const START = Date.UTC(2025, 0, 15, 12);

const actor = (userId: string): Actor => ({ userId, teamId: TEAM, channelId: CHANNEL });
const NO_GROUPS = { usergroupMembers: async () => new Set<string>() };

// ---------------------------------------------------------------------------------------------------------
// BotPenguin, faked: which customers it has, and how it answers the next DELETEs.

/**
 * ok: the truth (deleted, or 404 when it has no such customer); reject: a 4xx, nothing deleted;
 * lost_then_404: the first attempt deleted but its answer was lost, the retry got 404;
 * timeout_kept / timeout_applied: no answer to the last attempt, which did not / did delete.
 */
type Answer = 'ok' | 'reject' | 'lost_then_404' | 'timeout_kept' | 'timeout_applied';
const ANSWERS: Answer[] = ['ok', 'reject', 'lost_then_404', 'timeout_kept', 'timeout_applied'];

const DELETED: DeleteResult = { ok: true, status: 200, attempts: 1, message: 'Customer deleted successfully' };
const NOT_FOUND = { ok: false, kind: 'not_found', status: 404, attempts: 1, message: 'Not found' } as const;
const REJECTED: DeleteResult = { ok: false, kind: 'rejected', status: 400, attempts: 1, message: 'Bad request' };
const TIMEOUT: DeleteResult = {
  ok: false,
  kind: 'timeout',
  attempts: 5,
  message: 'BotPenguin did not answer',
  answerUnknown: true,
};

class FakeBotPenguin {
  readonly present = new Set(KNOWN);
  /** Which request's DELETE removed each customer. */
  readonly removedBy = new Map<string, string | null>();
  /** How the next DELETEs are answered (then 'ok'). */
  answers: Answer[] = [];

  remove(customerId: string, requestId: string | null): void {
    if (this.present.delete(customerId)) this.removedBy.set(customerId, requestId);
  }

  answer(customerId: string, requestId: string | null): DeleteResult {
    const answer = this.answers.shift() ?? 'ok';
    switch (answer) {
      case 'ok': {
        const had = this.present.has(customerId);
        this.remove(customerId, requestId);
        return had ? DELETED : NOT_FOUND;
      }
      case 'reject': // BotPenguin answers 404 for a customer it no longer has, whatever else is wrong
        return this.present.has(customerId) ? REJECTED : NOT_FOUND;
      case 'lost_then_404':
        this.remove(customerId, requestId);
        return { ...NOT_FOUND, attempts: 2, earlierAttemptUncertain: true };
      case 'timeout_kept':
        return TIMEOUT;
      case 'timeout_applied':
        this.remove(customerId, requestId);
        return TIMEOUT;
    }
  }
}

/** One DELETE that reached the fake BotPenguin. */
interface DeleteCall {
  requestId: string | null;
  customerId: string;
  engine: number;
  at: number;
  /** Its engine died waiting for the answer: only then may the request's DELETE be sent again (§5). */
  lost: boolean;
}

// ---------------------------------------------------------------------------------------------------------
// The system under test: two rule engines ("instances") on one store, a shared clock, the fake BotPenguin.

/**
 * A store as one engine sees it. Once the engine is dead its calls never return, as a dead process does
 * nothing; while it is frozen (a stalled process) they wait, and run in order when it thaws.
 */
function mortal(store: Store): { store: Store; die(): void; freeze(): void; thaw(): void } {
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
class Engine {
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

  readonly store: Store;
  private readonly life: ReturnType<typeof mortal>;

  constructor(
    readonly id: number,
    readonly slot: number,
    shared: Store,
    readonly policy: Policy,
    world: World,
  ) {
    this.life = mortal(shared);
    const { store } = this.life;
    this.store = store;
    this.firstHang = new Promise((resolve) => {
      this.signalHang = resolve;
    });
    const deleter: Deleter = { deleteCustomer: (customerId) => world.sendDelete(this, customerId) };
    this.requests = createRequests({
      store,
      policy,
      directory: NO_GROUPS,
      deleter,
      previewer: null,
      now: world.now,
      leaseMs: LEASE,
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

interface Setup {
  approvalsRequired: number;
  executionDelayMs: number;
  maxDeletionsPerDay: number;
  dryRun: boolean;
}

/** Settings as strict as the strictest engine started so far (they only ever get stricter). */
interface Strictest {
  approvers: string[];
  approvalsRequired: number;
  dryRun: boolean;
}

class World {
  readonly start: number;
  readonly now = () => this.clock.now;
  readonly bp = new FakeBotPenguin();
  readonly calls: DeleteCall[] = [];
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
  /** Stricter settings that reached each request when an engine started (Requests.applyPolicy). */
  private readonly floors = new Map<string, { dryRun: boolean; approvalsRequired: number }>();

  constructor(
    readonly stores: readonly [Store, Store],
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

  /** Every DELETE of every engine comes here: checked, recorded, then answered (or hung). */
  async sendDelete(engine: Engine, customerId: string): Promise<DeleteResult> {
    if (engine.dead) return engine.hang(); // a dead process sends nothing
    let executing = await engine.store.listRequests({ customerId, states: ['executing'], limit: 5 });
    while (engine.isStalled()) {
      // A stalled process sends nothing either, until it runs again.
      await engine.awake();
      executing = await engine.store.listRequests({ customerId, states: ['executing'], limit: 5 });
    }
    if (engine.dead) return engine.hang(); // it died meanwhile
    const request = executing.length === 1 ? executing[0] : null;
    if (!request) this.violation(`DELETE of ${customerId} while ${executing.length} of its requests are executing`);
    else this.checkDeleteAllowed(request, engine.policy);
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
  private checkDeleteAllowed(request: DeletionRequest, sender: Policy): void {
    const earlier = this.calls.filter((c) => c.requestId === request.id);
    if (earlier.some((c) => !c.lost)) {
      this.violation(`a second DELETE for ${request.id}, whose earlier DELETE was not lost in a crash`);
    }
    if (this.paused) this.violation(`a DELETE for ${request.id} while DELETEs are paused`);
    // A re-send finishes a DELETE already decided and sent; the rest is checked on the first one.
    if (earlier.length > 0) return;
    // The settings that bind this DELETE (docs/DESIGN.md §5): the sender's own, and the floor a stricter engine
    // set on the requests open when it started; with MODEL_STRICT, the strictest any engine started with.
    const floor = this.floors.get(request.id);
    const dryRun = STRICT ? this.sentBeforeDryRun !== null : sender.dryRun || floor?.dryRun;
    if (dryRun) this.violation(`a real DELETE for ${request.id} after a DRY_RUN=true engine started`);
    // A take-over sends what another engine claimed (its owner died before sending): judged by that claim.
    const claimer = request.deleteStarts > 1 ? null : sender;
    const approvers = STRICT ? this.strictest.approvers : (claimer?.approverUserIds ?? APPROVERS);
    const givers = request.approvals.map((a) => a.userId);
    const counted = givers.filter((u) => approvers.includes(u) && u !== request.requesterId);
    const needed = Math.max(
      request.approvalsRequired,
      claimer?.approvalsRequired ?? 0,
      floor?.approvalsRequired ?? 0,
      STRICT ? this.strictest.approvalsRequired : 0,
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

// ---------------------------------------------------------------------------------------------------------
// The steps.

type Model = Record<string, never>;

const outcome = (result: Result<unknown>): string => (result.ok ? 'ok' : `refused ${result.refusal.kind}`);

abstract class Step implements fc.AsyncCommand<Model, World> {
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

class Ask extends Step {
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

class Decide extends Step {
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
            : await requests.decisions.abort(id, actor(this.who));
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

class Sweep extends Step {
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

class Advance extends Step {
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
 */
class Stall extends Step {
  constructor(
    readonly slot: number,
    readonly late: boolean,
  ) {
    super();
  }
  async act(w: World) {
    const engine = w.engines[this.slot];
    if (engine.crashArmed) return; // it dies at its next DELETE instead
    if (!STRICT) {
      const due = await engine.store.listForSweep({ kind: 'due', limit: 10 });
      const stale = await engine.store.listForSweep({ kind: 'stale', limit: 10 });
      if (due.length + stale.length > 1) return; // see STRICT
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
    const when = this.late ? 'which reaches BotPenguin only when it wakes' : 'after it reached BotPenguin';
    return `stall(engine#${this.slot} in its next DELETE, ${when}, past its lease)`;
  }
}

class BotPenguinWill extends Step {
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
class Stricter extends Step {
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

/** What `/bp-delete <text>` answered, in short. */
async function typed(w: World, slot: number, who: string, text: string): Promise<string> {
  const result = await w.engines[slot].requests.commands.command(actor(who), text);
  const said = result.kind === 'refused' ? `refused ${result.refusal.kind}` : result.kind;
  w.log.push(`  → ${text}: ${said}`);
  return said;
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
const steps: fc.Arbitrary<Step>[] = [
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
  fc.tuple(slot, fc.constantFrom(...STALLS)).map(([s, late]) => new Stall(s, late)),
  fc.array(fc.constantFrom(...ANSWERS), { minLength: 1, maxLength: 3 }).map((a) => new BotPenguinWill(a)),
  fc.tuple(fc.oneof(...actions), fc.oneof(...actions), lag).map(([a, b, n]) => new Together(a, b, n)),
  fc.tuple(approve, approve, lag).map(([a, b, n]) => new Together(a, b, n)),
  fc.tuple(slot, user).map(([s, u]) => new Pause(s, u)),
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

const setups: fc.Arbitrary<Setup> = fc.record({
  approvalsRequired: fc.constantFrom(1, 2),
  executionDelayMs: fc.constantFrom(0, DELAY),
  maxDeletionsPerDay: fc.constantFrom(2, 1000),
  dryRun: fc.constantFrom(false, false, false, true),
});

// ---------------------------------------------------------------------------------------------------------
// The databases: two stores on one database per run, as two processes would have.

interface Database {
  /** Whether leases and due times are on the database's own clock, which the test can't move. */
  readonly realClock: boolean;
  /** Two stores on one empty, migrated database, reading `now` where the database has no clock of its own. */
  open(now: () => number): Promise<readonly [Store, Store]>;
  /** Empties the database for the next run. */
  close(): Promise<void>;
  teardown(): Promise<void>;
}

function sqliteDatabase(): Database {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-model-'));
  const file = path.join(dir, 'model.sqlite');
  // The store's own clock (leases, due times) is the run's injected one, as the unit tests of the rules do.
  const clock = { now: () => START };
  const options = { now: () => clock.now() };
  const stores = [new SqliteStore(file, options), new SqliteStore(file, options)] as const;
  let admin: BetterSqlite.Database | null = null;
  /** Every table's rows right after migrating (the pause row, say), put back after each run. */
  let seed: { name: string; rows: Record<string, unknown>[] }[] = [];
  return {
    realClock: false,
    async open(now) {
      clock.now = now;
      if (!admin) {
        await stores[0].migrate();
        admin = new BetterSqlite(file);
        admin.pragma('foreign_keys = OFF');
        const tables = admin
          .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
          .all() as { name: string }[];
        seed = tables.map(({ name }) => ({
          name,
          rows: admin?.prepare(`SELECT * FROM "${name}"`).all() as Record<string, unknown>[],
        }));
      }
      return stores;
    },
    async close() {
      // Put back as migrated rather than made anew: a new file and its migration cost more than most runs.
      for (const { name, rows } of seed) {
        admin?.exec(`DELETE FROM "${name}"`);
        for (const row of rows) {
          const columns = Object.keys(row);
          admin
            ?.prepare(`INSERT INTO "${name}" (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`)
            .run(...Object.values(row));
        }
      }
    },
    async teardown() {
      await Promise.all(stores.map((s) => s.close()));
      admin?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresDatabase(url: string): Database {
  const schema = `bp_model_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  const stores = [
    new PostgresStore({ connectionString: url, schema, poolMax: 3 }),
    new PostgresStore({ connectionString: url, schema, poolMax: 3 }),
  ] as const;
  const admin = new Client({ connectionString: url });
  let ready: Promise<void> | null = null;
  /** Every table's rows right after migrating (the pause row, say), tables that refer to others first. */
  const seed: { name: string; rows: Record<string, unknown>[] }[] = [];
  const migrate = async () => {
    await admin.connect();
    await stores[0].migrate();
    const { rows: tables } = await admin.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relkind = 'r'
       ORDER BY EXISTS (SELECT 1 FROM pg_constraint f WHERE f.conrelid = c.oid AND f.contype = 'f') DESC`,
      [schema],
    );
    for (const { name } of tables) {
      seed.push({ name, rows: (await admin.query(`SELECT * FROM "${schema}"."${name}"`)).rows });
    }
  };
  return {
    realClock: true,
    async open() {
      ready ??= migrate();
      await ready;
      return stores;
    },
    async close() {
      // Put back as migrated; DELETE, not TRUNCATE: on a few rows it is many times faster.
      for (const { name } of seed) await admin.query(`DELETE FROM "${schema}"."${name}"`);
      for (const { name, rows } of [...seed].reverse()) {
        for (const row of rows) {
          const columns = Object.keys(row);
          await admin.query(
            `INSERT INTO "${schema}"."${name}" (${columns.join(', ')}) VALUES (${columns.map((_c, i) => `$${i + 1}`).join(', ')})`,
            Object.values(row),
          );
        }
      }
    },
    async teardown() {
      await Promise.all(stores.map((s) => s.close()));
      if (ready) {
        await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await admin.end();
      }
    },
  };
}

/** MODEL_STATS=1: how the runs ended, and how many DELETEs, lost answers and re-sends they saw. */
const STATS: Record<string, number> = {};
afterAll(() => {
  if (process.env.MODEL_STATS) console.log(STATS);
});
function tally(w: World, all: DeletionRequest[]): void {
  const add = (key: string, n = 1) => {
    STATS[key] = (STATS[key] ?? 0) + n;
  };
  for (const r of all) add(`${r.state}${r.outcome ? ` (${r.outcome.kind})` : ''}`);
  add('DELETEs sent', w.calls.length);
  add('DELETEs whose answer was lost', w.calls.filter((c) => c.lost).length);
  add('requests re-sent', all.filter((r) => r.deleteStarts > 1).length);
}

async function runModel(db: Database, numRuns: number): Promise<void> {
  await fc.assert(
    fc.asyncProperty(
      setups,
      fc.commands(steps, { maxCommands: 40, size: 'medium', replayPath: process.env.MODEL_REPLAY }),
      async (setup, commands) => {
        const clock = { now: START };
        const stores = await db.open(() => clock.now);
        const w = new World(stores, setup, clock, db.realClock);
        try {
          await w.begin();
          await fc.asyncModelRun(() => ({ model: {}, real: w }), commands);
          await w.drain();
          if (process.env.MODEL_STATS) tally(w, await w.stores[0].listRequests({ limit: 1000 }));
          if (w.violations.length) throw new Error(w.report('the final sweeps'));
        } finally {
          await w.stop();
          await db.close();
        }
      },
    ),
    // A failure prints its seed, path and replayPath: MODEL_SEED=… MODEL_PATH=… MODEL_REPLAY=… replay it.
    { numRuns, seed: Number(process.env.MODEL_SEED) || undefined, path: process.env.MODEL_PATH },
  );
}

const databases: [string, () => Database, number][] = [['SQLite', sqliteDatabase, 200]];
if (PG_URL) databases.push(['PostgreSQL', () => postgresDatabase(PG_URL), 30]);

describe.each(databases)('two engines on one %s store, driven at random', (_name, makeDatabase, runs) => {
  const db = makeDatabase();
  afterAll(() => db.teardown());

  it('keep every guarantee after every step, and bring every request to a final state', async () => {
    await runModel(db, RUNS || runs);
  }, 600_000);
});
