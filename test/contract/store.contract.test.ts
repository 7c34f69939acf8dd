// The Store contract, written once and run against every implementation. SQLite always runs (a temp file
// per test); PostgreSQL runs when TEST_DATABASE_URL is set, in a schema of its own that is dropped at the end.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import type { StoreSettings } from '../../src/config';
import type { DeletionOutcome } from '../../src/requests/types';
import { createStore } from '../../src/store';
import { PostgresStore, postgresStoreOptions } from '../../src/store/dialects/postgres';
import { SqliteStore } from '../../src/store/dialects/sqlite';
import { MIGRATIONS } from '../../src/store/migrations';
import type { ApprovalDrop, ExecutionClaim, NewEvent, NewRequest, Store, TransitionPatch } from '../../src/store/types';
import { anApproval, NO_OPEN_LIMIT } from '../helpers/fixtures';

const PG_URL = process.env.TEST_DATABASE_URL;

// ---------------------------------------------------------------------------------------------------------
// Harnesses: how to get an empty database and several stores ("processes") on it.

interface BlankDatabase {
  /** A store on this database; not migrated. Closed after the test. */
  open(): Store;
  migrationVersions(): Promise<number[]>;
}

interface Harness {
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** The store for one test, on an empty, migrated database. */
  fresh(): Promise<Store>;
  /** Another store on the current test's database, as a second process would have. Closed after the test. */
  another(): Store;
  /** A new database that has never been migrated. */
  blank(): BlankDatabase;
  /** Closes the stores opened for the test. */
  afterTest(): Promise<void>;
}

function closer() {
  let open: Store[] = [];
  return {
    track<S extends Store>(store: S): S {
      open.push(store);
      return store;
    },
    async closeAll(): Promise<void> {
      const stores = open;
      open = [];
      await Promise.all(stores.map((s) => s.close()));
    },
  };
}

function sqliteHarness(): Harness {
  const stores = closer();
  let dir = '';
  let current = '';
  let n = 0;
  const newFile = () => path.join(dir, `store-${++n}.sqlite`);
  return {
    async setup() {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-store-contract-'));
    },
    async teardown() {
      await stores.closeAll();
      fs.rmSync(dir, { recursive: true, force: true });
    },
    async fresh() {
      current = newFile();
      const store = stores.track(new SqliteStore(current));
      await store.migrate();
      return store;
    },
    another: () => stores.track(new SqliteStore(current)),
    blank() {
      const file = newFile();
      return {
        open: () => stores.track(new SqliteStore(file)),
        async migrationVersions() {
          const db = new Database(file, { readonly: true });
          try {
            const rows = db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as {
              version: number;
            }[];
            return rows.map((r) => r.version);
          } finally {
            db.close();
          }
        },
      };
    },
    afterTest: () => stores.closeAll(),
  };
}

function postgresHarness(url: string): Harness {
  const stores = closer();
  const schema = `bp_test_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  const schemas = [schema];
  let admin: Client | undefined;
  let main: PostgresStore | undefined;
  const adminClient = () => {
    if (!admin) throw new Error('setup() has not run');
    return admin;
  };
  return {
    async setup() {
      admin = new Client({ connectionString: url });
      await admin.connect();
      main = new PostgresStore({ connectionString: url, schema, poolMax: 5 });
      await main.migrate();
    },
    async teardown() {
      await stores.closeAll();
      await main?.close();
      if (admin) {
        for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
        await admin.end();
      }
    },
    async fresh() {
      if (!main) throw new Error('setup() has not run');
      await adminClient().query(
        `TRUNCATE "${schema}".approvals, "${schema}".events, "${schema}".requests RESTART IDENTITY CASCADE`,
      );
      return main;
    },
    another: () => stores.track(new PostgresStore({ connectionString: url, schema, poolMax: 3 })),
    blank() {
      const s = `${schema}_${schemas.length}`;
      schemas.push(s);
      return {
        open: () => stores.track(new PostgresStore({ connectionString: url, schema: s, poolMax: 2 })),
        async migrationVersions() {
          const result = await adminClient().query<{ version: number }>(
            `SELECT version FROM "${s}".schema_migrations ORDER BY version`,
          );
          return result.rows.map((r) => r.version);
        },
      };
    },
    afterTest: () => stores.closeAll(),
  };
}

// ---------------------------------------------------------------------------------------------------------
// Fixtures.

const T0 = 1_700_000_000_000; // above 2^31: BIGINT columns must keep it
const HOUR = 3_600_000;
let seq = 0;

function newRequest(over: Partial<NewRequest> = {}): NewRequest {
  seq += 1;
  return {
    id: `req-${seq}`,
    teamId: 'T0001',
    channelId: 'C0001',
    customerId: `cust-${seq}`,
    reason: 'asked by the customer',
    requesterId: 'UREQ',
    approvalsRequired: 2,
    createdAt: T0 + seq,
    expiresAt: T0 + HOUR,
    dryRun: false,
    ...over,
  };
}

const event = (
  kind: NewEvent['kind'],
  at = T0,
  actorId: string | null = 'UACT',
  detail: string | null = null,
): NewEvent => ({
  kind,
  actorId,
  detail,
  at,
});

async function create(store: Store, over: Partial<NewRequest> = {}) {
  const result = await store.createRequest(
    newRequest(over),
    event('requested', over.createdAt ?? T0, 'UREQ'),
    NO_OPEN_LIMIT,
  );
  if (!result.ok) throw new Error(`expected a new request, got ${result.kind}`);
  return result.request;
}

const ids = (requests: { id: string }[]) => requests.map((r) => r.id);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Lease and due times come from the database's clock (on this machine, as the test's own). `around` runs
 * `work` and gives the window of this clock it ran in, widened a little for rounding, to check them against.
 */
async function around<T>(work: () => Promise<T>): Promise<{ value: T; from: number; to: number }> {
  const from = Date.now() - 5;
  const value = await work();
  return { value, from, to: Date.now() + 5 };
}

function expectWithin(actual: number | null | undefined, window: { from: number; to: number }, plus: number) {
  expect(actual).toBeGreaterThanOrEqual(window.from + plus);
  expect(actual).toBeLessThanOrEqual(window.to + plus);
}

// ---------------------------------------------------------------------------------------------------------
// The contract.

function contract(makeHarness: () => Harness) {
  const h = makeHarness();
  let store: Store;
  /** A thread reply of this request's event was posted at `at`. */
  const posted = (requestId: string, eventId: number, at: number) =>
    store.recordMessage(requestId, { postedEvents: { ids: [eventId], at } });

  beforeAll(() => h.setup());
  afterAll(() => h.teardown());
  beforeEach(async () => {
    store = await h.fresh();
  });
  afterEach(() => h.afterTest());

  describe('migrate', () => {
    test('twice is harmless', async () => {
      const db = h.blank();
      const s = db.open();
      await s.migrate();
      await s.migrate();
      await s.ping();
      expect(await db.migrationVersions()).toEqual(MIGRATIONS.map((m) => m.version));
      await create(s);
    });

    test('two stores migrating the same database at once both succeed, each migration applied once', async () => {
      const db = h.blank();
      const a = db.open();
      const b = db.open();
      await Promise.all([a.migrate(), b.migrate()]);
      expect(await db.migrationVersions()).toEqual(MIGRATIONS.map((m) => m.version));
      const r = await create(a);
      expect(await b.getRequest(r.id)).toEqual(r);
    });
  });

  describe('createRequest / getRequest', () => {
    test('round trips every field', async () => {
      const input = newRequest({ reason: 'O\'Brien said "delete"; ünïcödé ✓', approvalsRequired: 3, dryRun: true });
      const result = await store.createRequest(
        input,
        event('requested', input.createdAt, 'UREQ', 'detail'),
        NO_OPEN_LIMIT,
      );
      expect(result.ok).toBe(true);
      const expected = {
        id: input.id,
        teamId: input.teamId,
        channelId: input.channelId,
        customerId: input.customerId,
        reason: input.reason,
        requesterId: input.requesterId,
        state: 'pending',
        approvalsRequired: 3,
        approvals: [],
        createdAt: input.createdAt,
        expiresAt: input.expiresAt,
        executeAt: null,
        closedBy: null,
        closeReason: null,
        outcome: null,
        deleteStarts: 0,
        leaseUntil: null,
        dryRun: true,
        preview: null,
        messageTs: null,
        version: 1,
        messageVersion: 0,
        finishedAt: null,
        closedFrom: null,
        syncError: null,
        pause: null,
      };
      expect(result.ok && result.request).toEqual(expected);
      expect(await store.getRequest(input.id)).toEqual(expected);
      expect((await store.getRequest(input.id))?.dryRun).toBe(true);
      const plain = await create(store, { dryRun: false });
      expect(plain.dryRun).toBe(false);
    });

    test('unknown id → null', async () => {
      expect(await store.getRequest('nope')).toBeNull();
    });

    test('a second open request for the same customer (any case) returns the existing one', async () => {
      const first = await create(store, { customerId: 'Cust-ABC' });
      const second = await store.createRequest(
        newRequest({ customerId: 'cust-abc' }),
        event('requested'),
        NO_OPEN_LIMIT,
      );
      expect(second).toEqual({ ok: false, kind: 'already_open', existing: first });
      expect(ids(await store.listRequests({ limit: 10 }))).toEqual([first.id]);
      expect(await store.listEvents(first.id)).toHaveLength(1);
    });

    test.each(['approved', 'executing', 'uncertain'] as const)(
      'a request in state %s still holds the customer',
      async (state) => {
        const first = await create(store, { customerId: 'held' });
        await store.transition(first.id, ['pending'], state, {}, null);
        const second = await store.createRequest(newRequest({ customerId: 'HELD' }), event('requested'), NO_OPEN_LIMIT);
        expect(second.ok).toBe(false);
        expect(!second.ok && second.kind === 'already_open' && second.existing.id).toBe(first.id);
      },
    );

    test('after the open request is finished, a new one for the customer is allowed', async () => {
      const first = await create(store, { customerId: 'again' });
      expect(
        await store.transition(first.id, ['pending'], 'denied', { closedBy: 'UDENY' }, event('denied')),
      ).not.toBeNull();
      const second = await store.createRequest(newRequest({ customerId: 'AGAIN' }), event('requested'), NO_OPEN_LIMIT);
      expect(second.ok).toBe(true);
      expect(ids(await store.listRequests({ customerId: 'again', limit: 10 })).sort()).toEqual(
        [first.id, second.ok ? second.request.id : ''].sort(),
      );
    });

    test('an id that already exists is an error, not "existing"', async () => {
      const first = await create(store);
      // Not `rejects.toThrow()`: better-sqlite3's SqliteError is not always an `Error` of jest's realm.
      const outcome = await store.createRequest(newRequest({ id: first.id }), event('requested'), NO_OPEN_LIMIT).then(
        () => 'resolved',
        (error: unknown) => error,
      );
      expect(outcome).not.toBe('resolved');
      expect(String((outcome as { message?: unknown }).message)).toMatch(/unique|duplicate/i);
    });

    test('10 concurrent creates for one customer from separate stores → exactly one created', async () => {
      const stores = Array.from({ length: 10 }, () => h.another());
      const results = await Promise.all(
        stores.map((s, i) =>
          s.createRequest(newRequest({ customerId: i % 2 ? 'RACE-1' : 'race-1' }), event('requested'), NO_OPEN_LIMIT),
        ),
      );
      const created = results.filter((r) => r.ok);
      expect(created).toHaveLength(1);
      const winner = created[0].ok ? created[0].request.id : '';
      for (const r of results) if (!r.ok) expect(r.kind === 'already_open' && r.existing.id).toBe(winner);
      expect(ids(await store.listRequests({ limit: 20 }))).toEqual([winner]);
      expect(await store.listEvents(winner)).toHaveLength(1);
    });
  });

  describe('createRequest with a per-requester limit', () => {
    const limit = { maxOpenPerRequester: 2 };

    test('refuses at the limit, counting pending, approved, executing and uncertain; others are not held back', async () => {
      const a = await create(store, { requesterId: 'ULIM' });
      const b = await create(store, { requesterId: 'ULIM' });
      const third = await store.createRequest(newRequest({ requesterId: 'ULIM' }), event('requested'), limit);
      expect(third).toEqual({ ok: false, kind: 'too_many_open', max: 2 });
      expect((await store.createRequest(newRequest({ requesterId: 'UOTHER' }), event('requested'), limit)).ok).toBe(
        true,
      );
      await store.transition(a.id, ['pending'], 'uncertain', {}, null);
      expect((await store.createRequest(newRequest({ requesterId: 'ULIM' }), event('requested'), limit)).ok).toBe(
        false,
      );
      await store.transition(b.id, ['pending'], 'cancelled', {}, null);
      expect((await store.createRequest(newRequest({ requesterId: 'ULIM' }), event('requested'), limit)).ok).toBe(true);
      // An open request for the customer is still the answer for that customer.
      const again = await store.createRequest(
        newRequest({ requesterId: 'ULIM', customerId: a.customerId }),
        event('requested'),
        limit,
      );
      expect(again).toEqual({ ok: false, kind: 'already_open', existing: await store.getRequest(a.id) });
    });

    test('10 concurrent creates by one requester from several stores, limit 2 → exactly 2 created', async () => {
      const stores = [store, h.another(), h.another(), h.another(), h.another()];
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          stores[i % stores.length].createRequest(newRequest({ requesterId: 'URACE' }), event('requested'), limit),
        ),
      );
      expect(results.filter((r) => r.ok)).toHaveLength(2);
      expect(results.filter((r) => !r.ok && r.kind === 'too_many_open')).toHaveLength(8);
      expect((await store.listRequests({ limit: 20 })).filter((r) => r.requesterId === 'URACE')).toHaveLength(2);
      expect(await store.listRequests({ limit: 20 })).toHaveLength(2);
    });
  });

  describe('addApproval', () => {
    test('recorded, duplicate, approved at the quorum, then not_pending', async () => {
      const r = await create(store, { approvalsRequired: 2 });
      const first = await store.addApproval(r.id, anApproval('U1', T0 + 10, { executionDelayMs: 60_000 }));
      expect(first.kind).toBe('recorded');
      expect(first.request).toMatchObject({ state: 'pending', approvals: [{ userId: 'U1', at: T0 + 10 }], version: 2 });
      expect(first.request?.executeAt).toBeNull();

      const dup = await store.addApproval(r.id, anApproval('U1', T0 + 20, { executionDelayMs: 60_000 }));
      expect(dup.kind).toBe('duplicate');
      expect(dup.request?.approvals).toEqual([{ userId: 'U1', at: T0 + 10 }]);
      expect(dup.request?.version).toBe(2);

      const timed = await around(() =>
        store.addApproval(r.id, anApproval('U2', T0 + 30, { executionDelayMs: 60_000 })),
      );
      const second = timed.value;
      expect(second.kind).toBe('approved');
      // executeAt is the database's now + the delay, whatever the caller's clock (T0 here) says.
      expectWithin(second.request?.executeAt, timed, 60_000);
      expect(second.request).toMatchObject({
        state: 'approved',
        version: 3,
        approvals: [
          { userId: 'U1', at: T0 + 10 },
          { userId: 'U2', at: T0 + 30 },
        ],
      });
      expect(await store.getRequest(r.id)).toEqual(second.request);

      const late = await store.addApproval(r.id, anApproval('U3', T0 + 40, { executionDelayMs: 60_000 }));
      expect(late).toEqual({ kind: 'not_pending', request: second.request });

      const events = await store.listEvents(r.id);
      expect(events.map((e) => [e.kind, e.actorId, e.detail])).toEqual([
        ['requested', 'UREQ', null],
        ['approved', 'U1', '1 of 2'],
        ['approved', 'U2', '2 of 2'],
      ]);
    });

    test('not_pending once denied, and for an unknown id', async () => {
      const r = await create(store);
      await store.transition(r.id, ['pending'], 'denied', { closedBy: 'UD' }, event('denied'));
      const result = await store.addApproval(r.id, anApproval('U1', T0 + 1));
      expect(result.kind).toBe('not_pending');
      expect(result.request?.state).toBe('denied');
      expect(result.request?.approvals).toEqual([]);
      expect(await store.addApproval('missing', anApproval('U1', T0))).toEqual({ kind: 'not_pending', request: null });
    });

    test('not_pending when at >= expiresAt; recorded just before', async () => {
      const r = await create(store, { expiresAt: T0 + 1000 });
      expect((await store.addApproval(r.id, anApproval('U1', T0 + 1000))).kind).toBe('not_pending');
      expect((await store.addApproval(r.id, anApproval('U1', T0 + 5000))).kind).toBe('not_pending');
      expect((await store.addApproval(r.id, anApproval('U1', T0 + 999))).kind).toBe('recorded');
      expect((await store.getRequest(r.id))?.approvals).toEqual([{ userId: 'U1', at: T0 + 999 }]);
    });

    test('a zero delay executes at the approval time, by the database clock', async () => {
      const r = await create(store, { approvalsRequired: 1 });
      const timed = await around(() => store.addApproval(r.id, anApproval('U1', T0 + 5)));
      expect(timed.value.kind).toBe('approved');
      expectWithin(timed.value.request?.executeAt, timed, 0);
    });

    test('20 concurrent approvals (quorum 1) from several stores → exactly one approved', async () => {
      const r = await create(store, { approvalsRequired: 1 });
      const stores = [store, h.another(), h.another(), h.another()];
      const results = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          stores[i % stores.length].addApproval(r.id, anApproval(`U${i}`, T0 + 100, { executionDelayMs: 1000 })),
        ),
      );
      const counts = results.reduce<Record<string, number>>((acc, x) => {
        acc[x.kind] = (acc[x.kind] ?? 0) + 1;
        return acc;
      }, {});
      expect(counts).toEqual({ approved: 1, not_pending: 19 });
      const after = await store.getRequest(r.id);
      expect(after?.state).toBe('approved');
      expect(after?.approvals).toHaveLength(1);
      expect(after?.version).toBe(2);
      expect((await store.listEvents(r.id)).filter((e) => e.kind === 'approved')).toHaveLength(1);
    });

    test('concurrent approvals (quorum 3) from several stores: all counted, exactly one approves', async () => {
      const r = await create(store, { approvalsRequired: 3 });
      const stores = [store, h.another(), h.another()];
      const results = await Promise.all(
        ['U1', 'U2', 'U3', 'U1', 'U2', 'U3'].map((u, i) => stores[i % 3].addApproval(r.id, anApproval(u, T0 + 100))),
      );
      const kinds = results.map((x) => x.kind);
      expect(kinds.filter((k) => k === 'approved')).toHaveLength(1);
      expect(kinds.filter((k) => k === 'recorded')).toHaveLength(2);
      // The three repeats arrive either before the quorum (duplicate) or after it (not_pending).
      expect(kinds.filter((k) => k === 'duplicate' || k === 'not_pending')).toHaveLength(3);
      expect((await store.getRequest(r.id))?.approvals.map((a) => a.userId).sort()).toEqual(['U1', 'U2', 'U3']);
    });
  });

  describe('transition', () => {
    test('from a state not listed → null, nothing changed, no event', async () => {
      const r = await create(store);
      expect(
        await store.transition(r.id, ['approved', 'executing'], 'succeeded', { finishedAt: T0 }, event('deleted')),
      ).toBeNull();
      expect(await store.transition(r.id, [], 'cancelled', {}, event('cancelled'))).toBeNull();
      expect(await store.transition('missing', ['pending'], 'cancelled', {}, event('cancelled'))).toBeNull();
      expect(await store.getRequest(r.id)).toEqual(r);
      expect((await store.listEvents(r.id)).map((e) => e.kind)).toEqual(['requested']);
    });

    test('persists the patch fields, bumps the version, writes the event', async () => {
      const r = await create(store);
      const outcome: DeletionOutcome = {
        ok: false,
        kind: 'http_error',
        message: 'Bad "gateway" ✗',
        httpStatus: 502,
        attempts: 3,
      };
      const moved = await store.transition(
        r.id,
        ['pending'],
        'failed',
        {
          executeAt: T0 + 7,
          closedBy: 'UCLOSE',
          closeReason: "it's done",
          outcome,
          leaseUntil: T0 + 8,
          finishedAt: T0 + 9,
        },
        event('failed', T0 + 9, null, 'HTTP 502'),
      );
      expect(moved).toEqual({
        ...r,
        state: 'failed',
        version: 2,
        executeAt: T0 + 7,
        closedBy: 'UCLOSE',
        closeReason: "it's done",
        outcome,
        leaseUntil: T0 + 8,
        finishedAt: T0 + 9,
      });
      expect(await store.getRequest(r.id)).toEqual(moved);
      const events = await store.listEvents(r.id);
      expect(events.map((e) => [e.kind, e.actorId, e.detail, e.at])).toEqual([
        ['requested', 'UREQ', null, T0],
        ['failed', null, 'HTTP 502', T0 + 9],
      ]);
    });

    test('null in the patch clears a field; undefined leaves it; null event writes none', async () => {
      const r = await create(store);
      await store.transition(r.id, ['pending'], 'executing', { leaseUntil: T0 + 5, closedBy: 'U9' }, null);
      const moved = await store.transition(r.id, ['executing'], 'executing', { leaseUntil: null, outcome: null }, null);
      expect(moved).toMatchObject({ leaseUntil: null, closedBy: 'U9', outcome: null, version: 3 });
      expect((await store.listEvents(r.id)).map((e) => e.kind)).toEqual(['requested']);
    });

    const claimOf = (now: number, maxPerDay = 50, leaseMs = 15_000): ExecutionClaim => ({
      now,
      leaseMs,
      dayStart: T0 - 1000,
      maxPerDay,
      dryRun: false,
      drop: null,
    });
    const approve = async (over: Partial<NewRequest> = {}) => {
      const r = await create(store, { approvalsRequired: 1, ...over });
      await store.addApproval(r.id, anApproval('UAPP', T0));
      return r;
    };

    test('claimExecution claims a due approved request once, counts it for the day; dry runs are not counted', async () => {
      const real = await approve();
      const dry = await approve({ dryRun: true });
      expect(await store.countDeletionsSince(T0 - 1000)).toBe(0);
      const timed = await around(() => store.claimExecution(real.id, claimOf(T0)));
      const claimed = timed.value;
      expect(claimed.kind).toBe('claimed');
      expect(claimed.request).toMatchObject({ state: 'executing', deleteStarts: 1 });
      expectWithin(claimed.request?.leaseUntil, timed, 15_000); // the database's now + leaseMs
      expect((await store.claimExecution(real.id, claimOf(T0))).kind).toBe('not_due');
      expect((await store.claimExecution(dry.id, claimOf(T0))).kind).toBe('claimed');
      expect(await store.countDeletionsSince(T0 - 1000)).toBe(1);
      expect(await store.countDeletionsSince(T0 + 60_000)).toBe(0);
    });

    test('claimExecution waits for executeAt (the database clock) and refuses requests that are not approved', async () => {
      const later = await create(store, { approvalsRequired: 1 });
      await store.addApproval(later.id, anApproval('UAPP', T0, { executionDelayMs: 400 }));
      // The caller's clock says long past executeAt: it is not the caller's to say.
      expect((await store.claimExecution(later.id, claimOf(T0 + 3_600_000))).kind).toBe('not_due');
      await sleep(450);
      expect((await store.claimExecution(later.id, claimOf(T0))).kind).toBe('claimed');
      const pending = await create(store);
      expect((await store.claimExecution(pending.id, claimOf(T0))).kind).toBe('not_due');
      expect(await store.claimExecution('missing', claimOf(T0))).toEqual({ kind: 'not_due', request: null });
    });

    test('claimExecution refuses past the daily limit, and dry runs pass it', async () => {
      const first = await approve();
      const second = await approve();
      const dry = await approve({ dryRun: true });
      expect((await store.claimExecution(first.id, claimOf(T0, 1))).kind).toBe('claimed');
      const refused = await store.claimExecution(second.id, claimOf(T0, 1));
      expect(refused.kind).toBe('daily_limit');
      expect((await store.getRequest(second.id))?.state).toBe('approved');
      expect((await store.claimExecution(dry.id, claimOf(T0, 1))).kind).toBe('claimed');
    });

    test('10 concurrent claims of one request from several stores → exactly one wins', async () => {
      const r = await approve();
      const stores = [store, h.another(), h.another()];
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => stores[i % stores.length].claimExecution(r.id, claimOf(T0 + i))),
      );
      expect(results.filter((x) => x.kind === 'claimed')).toHaveLength(1);
      expect((await store.getRequest(r.id))?.deleteStarts).toBe(1);
    });

    test('concurrent claims of 6 requests from several stores never pass a daily limit of 2', async () => {
      const requests = await Promise.all(Array.from({ length: 6 }, () => approve()));
      const stores = [store, h.another(), h.another()];
      const results = await Promise.all(
        requests.map((r, i) => stores[i % stores.length].claimExecution(r.id, claimOf(T0, 2))),
      );
      expect(results.filter((x) => x.kind === 'claimed')).toHaveLength(2);
      expect(results.filter((x) => x.kind === 'daily_limit')).toHaveLength(4);
      expect(await store.countDeletionsSince(T0 - 1000)).toBe(2);
    });

    test('takeOverExecution only after the lease ran out (database clock), and only once for what was seen', async () => {
      const r = await approve();
      const claimed = await store.claimExecution(r.id, claimOf(T0, 50, 300));
      const seen = claimed.request?.deleteStarts ?? 0;
      const takeOver = (seenToken = seen, leaseMs = 15_000) =>
        store.takeOverExecution(r.id, { now: T0 + 3_600_000, leaseMs, seenToken });
      // A caller whose clock is an hour ahead still can't take over a lease the database says is held.
      expect(await takeOver()).toBeNull();
      await sleep(350);
      const stores = [store, h.another(), h.another()];
      const timed = await around(() =>
        Promise.all(stores.map((s) => s.takeOverExecution(r.id, { now: T0, leaseMs: 300, seenToken: seen }))),
      );
      const winners = timed.value.filter((x) => x !== null);
      expect(winners).toHaveLength(1);
      expect(winners[0]).toMatchObject({ deleteStarts: 2 });
      expectWithin(winners[0]?.leaseUntil, timed, 300);
      expect(await store.countDeletionsSince(T0 - 1000)).toBe(1); // a re-send is still one deletion
      await sleep(350);
      expect(await takeOver(seen)).toBeNull(); // stale view: somebody took over since
      expect(await takeOver(seen + 1)).toMatchObject({ deleteStarts: 3 });
    });

    test('fencing: once taken over, the old holder can neither renew its lease nor record its outcome', async () => {
      const r = await approve();
      const first = await store.claimExecution(r.id, claimOf(T0, 50, 200));
      const oldToken = first.request?.deleteStarts ?? 0;
      expect(await store.renewLease(r.id, oldToken, 200)).toBe(true); // still the holder
      await sleep(250);
      const other = h.another();
      const taken = await other.takeOverExecution(r.id, { now: T0, leaseMs: 15_000, seenToken: oldToken });
      const newToken = taken?.deleteStarts ?? 0;
      expect(newToken).toBe(oldToken + 1);
      const before = await store.getRequest(r.id);

      // The stalled holder wakes up: its renewal and its outcome are refused, and change nothing.
      expect(await store.renewLease(r.id, oldToken, 60_000)).toBe(false);
      const outcome: DeletionOutcome = { ok: false, kind: 'timeout', message: 'late', said: 'bot' };
      expect(
        await store.transition(r.id, ['executing'], 'failed', { outcome, finishedAt: T0 }, event('failed'), oldToken),
      ).toBeNull();
      expect(await store.getRequest(r.id)).toEqual(before);
      expect((await store.listEvents(r.id)).map((e) => e.kind)).toEqual(['requested', 'approved']);

      // The current holder can do both.
      expect(await other.renewLease(r.id, newToken, 15_000)).toBe(true);
      const done = await other.transition(
        r.id,
        ['executing'],
        'succeeded',
        { outcome: { ok: true, kind: 'deleted', message: '' }, finishedAt: T0 + 1, leaseUntil: null },
        event('deleted', T0 + 1, null),
        newToken,
      );
      expect(done).toMatchObject({ state: 'succeeded', deleteStarts: newToken, leaseUntil: null });
      expect(await other.transition(r.id, ['executing'], 'failed', {}, null, newToken)).toBeNull(); // no longer executing
      expect(await other.renewLease(r.id, newToken, 15_000)).toBe(false);
    });
  });

  describe('pause, quorum and stricter settings', () => {
    const claimAt = (now: number, over: Partial<ExecutionClaim> = {}): ExecutionClaim => ({
      now,
      leaseMs: 15_000,
      dayStart: T0 - 1000,
      maxPerDay: 50,
      dryRun: false,
      drop: null,
      ...over,
    });
    const pauseBy = (paused: boolean, at: number, by = 'UAPP') => {
      const reason = paused ? 'incident 42' : null;
      return store.setPause({
        paused,
        by,
        reason,
        channelId: 'C0OPS',
        at,
        event: event(paused ? 'paused' : 'resumed', at, by, reason),
        expire: paused ? null : { before: at, event: event('expired', at, null, 'expired while paused') },
      });
    };
    /** The rules' word on approvals that no longer count: these are dropped, with an event naming them. */
    const dropOf = (userIds: string[], at: number): ApprovalDrop => ({
      userIds,
      event: (dropped) => event('policy', at, null, `dropped ${dropped.map((u) => `@${u}`).join(', ')}`),
    });

    test('the pause row: none at first, set once, seen by another store, cleared by resume', async () => {
      expect(await store.getPause()).toBeNull();
      const first = await pauseBy(true, T0);
      expect(first).toMatchObject({
        changed: true,
        pause: { by: 'UAPP', reason: 'incident 42', channelId: 'C0OPS', at: T0 },
      });
      expect((await pauseBy(true, T0 + 1, 'UOTHER')).changed).toBe(false); // already paused: kept as it was
      expect(await h.another().getPause()).toEqual({ by: 'UAPP', reason: 'incident 42', channelId: 'C0OPS', at: T0 });
      expect(await pauseBy(false, T0 + 2)).toMatchObject({ changed: true, pause: null });
      expect((await pauseBy(false, T0 + 3)).changed).toBe(false);
      expect(await store.getPause()).toBeNull();
    });

    test('a claim while paused claims nothing and leaves the request approved and due; after resume it is claimed', async () => {
      const r = await create(store, { approvalsRequired: 1 });
      await store.addApproval(r.id, anApproval('UAPP', T0));
      const paused = await pauseBy(true, T0 + 1);
      expect(paused.affected).toEqual([r.id]);
      const claim = await h.another().claimExecution(r.id, claimAt(T0 + 2));
      expect(claim.kind).toBe('paused');
      expect(claim.request).toMatchObject({ state: 'approved', deleteStarts: 0, pause: { by: 'UAPP' } });
      expect(await store.countDeletionsSince(T0 - 1000)).toBe(0);
      expect((await store.listForSweep({ kind: 'due', limit: 10 })).map((x) => x.id)).toEqual([r.id]);
      expect((await store.listEvents(r.id)).map((e) => e.kind)).toContain('paused');
      await pauseBy(false, T0 + 4);
      expect((await store.claimExecution(r.id, claimAt(T0 + 5))).kind).toBe('claimed');
    });

    test('approvals are recorded while paused; resume expires approved requests whose time ran out', async () => {
      await pauseBy(true, T0);
      const r = await create(store, { approvalsRequired: 1, expiresAt: T0 + 100 });
      expect((await store.addApproval(r.id, anApproval('UAPP', T0 + 10))).kind).toBe('approved');
      const resumed = await pauseBy(false, T0 + 200);
      expect(resumed.affected).toContain(r.id);
      expect(await store.getRequest(r.id)).toMatchObject({ state: 'expired', finishedAt: T0 + 200 });
      expect((await store.claimExecution(r.id, claimAt(T0 + 201))).kind).toBe('not_due');
    });

    test('addApproval judges max(stored, current) approvals and never counts the excluded approvers', async () => {
      const r = await create(store, { approvalsRequired: 1 });
      const raised = await store.addApproval(r.id, anApproval('U1', T0, { approvalsRequired: 2 }));
      expect(raised.kind).toBe('recorded');
      expect(raised.request).toMatchObject({ state: 'pending', approvalsRequired: 2 });
      // U1 is no longer an approver: U2 alone does not reach 2; U1's approval is dropped and said so.
      const second = await store.addApproval(
        r.id,
        anApproval('U2', T0 + 1, { approvalsRequired: 2, drop: dropOf(['U1'], T0 + 1) }),
      );
      expect(second.kind).toBe('recorded');
      expect(second.request?.approvals.map((a) => a.userId)).toEqual(['U2']);
      expect((await store.listEvents(r.id)).some((e) => e.kind === 'policy' && e.detail?.includes('@U1'))).toBe(true);
      expect((await store.addApproval(r.id, anApproval('U3', T0 + 2, { approvalsRequired: 1 }))).kind).toBe('approved');
      expect((await store.getRequest(r.id))?.approvalsRequired).toBe(2); // never lowered
    });

    test('two approvals at once from several stores, each excluding only former approvers, reach the quorum', async () => {
      const r = await create(store, { approvalsRequired: 2 });
      const stores = [store, h.another()];
      const results = await Promise.all(
        ['UA', 'UB'].map((u, i) =>
          stores[i].addApproval(r.id, anApproval(u, T0 + 1, { approvalsRequired: 2, drop: dropOf(['UGONE'], T0 + 1) })),
        ),
      );
      expect(results.map((x) => x.kind).sort()).toEqual(['approved', 'recorded']);
      expect((await store.getRequest(r.id))?.state).toBe('approved');
    });

    test('a transition back to pending drops the approvals it is given and raises (never lowers) the quorum', async () => {
      const reopen = (id: string, patch: TransitionPatch) =>
        store.transition(id, ['approved'], 'pending', { executeAt: null, ...patch }, event('reopened', T0 + 1, null));
      const r = await create(store, { approvalsRequired: 1 });
      await store.addApproval(r.id, anApproval('U1', T0));
      const reopened = await reopen(r.id, { dropApprovals: dropOf(['U1', 'UNEVER'], T0 + 1) });
      expect(reopened).toMatchObject({ state: 'pending', executeAt: null, approvals: [] });
      const events = await store.listEvents(r.id);
      expect(events.slice(-2).map((e) => e.kind)).toEqual(['policy', 'reopened']);
      expect(events.at(-2)?.detail).toBe('dropped @U1'); // only those it had
      expect(await store.countDeletionsSince(T0 - 1000)).toBe(0);
      expect(await reopen(r.id, {})).toBeNull(); // no longer approved: nothing changes

      const q = await create(store, { approvalsRequired: 1 });
      await store.addApproval(q.id, anApproval('U1', T0));
      const raised = await reopen(q.id, { approvalsRequired: 2 });
      expect(raised).toMatchObject({ state: 'pending', approvalsRequired: 2, approvals: [{ userId: 'U1' }] });
      await store.transition(q.id, ['pending'], 'approved', { approvalsRequired: 1 }, null);
      expect((await store.getRequest(q.id))?.approvalsRequired).toBe(2);
    });

    test('claimExecution drops the approvals it is given (the rest still reach the quorum), with their event', async () => {
      const r = await create(store, { approvalsRequired: 1 });
      await store.addApproval(r.id, anApproval('U1', T0));
      await store.transition(r.id, ['approved'], 'pending', {}, null);
      await store.addApproval(r.id, anApproval('U2', T0 + 1));
      const claim = await store.claimExecution(r.id, claimAt(T0 + 2, { drop: dropOf(['U1'], T0 + 2) }));
      expect(claim.kind).toBe('claimed');
      expect(claim.request?.approvals.map((a) => a.userId)).toEqual(['U2']);
      expect((await store.listEvents(r.id)).map((e) => e.detail)).toContain('dropped @U1');
    });

    test("claimExecution with this instance's dry run marks the request dry and leaves the daily count alone", async () => {
      const r = await create(store, { approvalsRequired: 1 });
      await store.addApproval(r.id, anApproval('U1', T0));
      const claim = await store.claimExecution(r.id, claimAt(T0, { dryRun: true, maxPerDay: 0 }));
      expect(claim.kind).toBe('claimed');
      expect(claim.request?.dryRun).toBe(true);
      expect(await store.countDeletionsSince(T0 - 1000)).toBe(0);
    });

    test('applyPolicyFloor marks pending and approved requests dry and raises their quorum, with an event', async () => {
      const pending = await create(store, { approvalsRequired: 1 });
      const approved = await create(store, { approvalsRequired: 1 });
      await store.addApproval(approved.id, anApproval('U1', T0, { executionDelayMs: 60_000 }));
      const done = await create(store, { approvalsRequired: 1 });
      await store.transition(done.id, ['pending'], 'denied', {}, null);
      const already = await create(store, { approvalsRequired: 3, dryRun: true });
      const floor = (dryRun: boolean, approvalsRequired: number, at: number) =>
        store.applyPolicyFloor({
          dryRun,
          approvalsRequired,
          event: (before) => event('policy', at, null, `was dry ${before.dryRun}, ${before.approvalsRequired}`),
        });
      const changed = await floor(true, 2, T0 + 5);
      expect(changed.sort()).toEqual([pending.id, approved.id].sort());
      for (const id of changed) {
        expect(await store.getRequest(id)).toMatchObject({ dryRun: true, approvalsRequired: 2 });
        expect((await store.listEvents(id)).at(-1)).toMatchObject({
          kind: 'policy',
          at: T0 + 5,
          detail: 'was dry false, 1',
        });
      }
      expect(await store.getRequest(done.id)).toMatchObject({ dryRun: false, approvalsRequired: 1 });
      expect(await store.getRequest(already.id)).toMatchObject({ dryRun: true, approvalsRequired: 3 });
      expect(await floor(false, 1, T0 + 6)).toEqual([]);
    });
  });

  describe('small updates', () => {
    test('renewLease only while executing, to the database now + leaseMs', async () => {
      const r = await create(store);
      const token = r.deleteStarts;
      expect(await store.renewLease(r.id, token, 1000)).toBe(false);
      expect((await store.getRequest(r.id))?.leaseUntil).toBeNull();
      await store.transition(r.id, ['pending'], 'executing', { leaseUntil: T0 + 1 }, null);
      const version = (await store.getRequest(r.id))?.version;
      const timed = await around(() => store.renewLease(r.id, token, 2000));
      expect(timed.value).toBe(true);
      expect(await store.getRequest(r.id)).toMatchObject({ version });
      expectWithin((await store.getRequest(r.id))?.leaseUntil, timed, 2000);
      expect(await store.renewLease('missing', token, 1000)).toBe(false);
      await store.transition(r.id, ['executing'], 'succeeded', {}, null);
      expect(await store.renewLease(r.id, token, 3000)).toBe(false);
    });

    test('setPreview stores it and bumps the version', async () => {
      const r = await create(store);
      const preview = {
        status: 'found' as const,
        name: 'Zoë "Z" O\'Hara',
        email: null,
        customerStatus: 'active',
        pagesSearched: 2,
        checkedAt: T0 + 3,
      };
      await store.setPreview(r.id, preview);
      expect(await store.getRequest(r.id)).toMatchObject({ preview, version: 2 });
      await store.setPreview(r.id, { status: 'unavailable', checkedAt: T0 + 4 });
      expect(await store.getRequest(r.id)).toMatchObject({
        preview: { status: 'unavailable', checkedAt: T0 + 4 },
        version: 3,
      });
    });

    test('recordMessage: the first ts stays', async () => {
      const r = await create(store);
      await store.recordMessage(r.id, { ts: '1700000000.000100' });
      await store.recordMessage(r.id, { ts: '1700000000.000200' });
      expect(await store.getRequest(r.id)).toMatchObject({ messageTs: '1700000000.000100', version: 1 });
    });

    test('claimSync excludes other holders until released or expired', async () => {
      const r = await create(store);
      const other = h.another();
      expect(await store.claimSync(r.id, T0 + 100, T0)).toBe(true);
      expect(await other.claimSync(r.id, T0 + 200, T0 + 50)).toBe(false);
      expect(await other.claimSync(r.id, T0 + 200, T0 + 100)).toBe(false);
      expect(await other.claimSync(r.id, T0 + 300, T0 + 101)).toBe(true); // the first claim ran out
      expect(await store.claimSync(r.id, T0 + 400, T0 + 150)).toBe(false);
      await other.endSync(r.id, { kind: 'behind' });
      expect(await store.claimSync(r.id, T0 + 400, T0 + 150)).toBe(true);
      expect(await store.claimSync('missing', T0 + 1, T0)).toBe(false);
    });

    test('concurrent claimSync from several stores → exactly one holder', async () => {
      const r = await create(store);
      const stores = [store, h.another(), h.another()];
      const results = await Promise.all(
        Array.from({ length: 9 }, (_, i) => stores[i % 3].claimSync(r.id, T0 + 100, T0)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    test('endSync releases the claim; in-step also forgets the failures, behind keeps them', async () => {
      const r = await create(store);
      const other = h.another();
      expect((await store.endSync(r.id, { kind: 'retry', retryAt: (n) => T0 + 1_000 * n })).failures).toBe(1);
      expect(await store.claimSync(r.id, T0 + 100, T0)).toBe(true);
      await store.endSync(r.id, { kind: 'behind' });
      expect(await other.claimSync(r.id, T0 + 100, T0 + 1)).toBe(true); // released
      await other.endSync(r.id, { kind: 'behind' });
      expect((await store.endSync(r.id, { kind: 'retry', retryAt: (n) => T0 + 1_000 * n })).failures).toBe(2); // still counted; due at T0 + 2000
      expect(ids(await store.listOutOfSync(10, T0 + 1_999))).toEqual([]);
      expect(await store.claimSync(r.id, T0 + 100, T0)).toBe(true);
      await store.endSync(r.id, { kind: 'in-step' });
      expect(ids(await store.listOutOfSync(10, T0))).toEqual([r.id]); // due at once again
      expect(await other.claimSync(r.id, T0 + 100, T0 + 1)).toBe(true);
      expect((await other.endSync(r.id, { kind: 'retry', retryAt: (n) => T0 + n })).failures).toBe(1); // counting starts again
      await store.endSync('missing', { kind: 'in-step' });
    });

    test('recordMessage: the first ts stays, the version never goes back; inStep also ends the sync', async () => {
      const r = await create(store);
      const other = h.another();
      expect(await store.claimSync(r.id, T0 + 100, T0)).toBe(true);
      await store.recordMessage(r.id, { ts: '1700000000.000100', version: 3 });
      expect(await store.getRequest(r.id)).toMatchObject({
        messageTs: '1700000000.000100',
        messageVersion: 3,
        version: 1,
      });
      expect(await other.claimSync(r.id, T0 + 100, T0 + 1)).toBe(false); // without finish the claim is held
      await store.recordMessage(r.id, { ts: '1700000000.000200', version: 2 });
      expect(await store.getRequest(r.id)).toMatchObject({ messageTs: '1700000000.000100', messageVersion: 3 });

      const s = await create(store);
      for (const id of [r.id, s.id]) for (const e of await store.listEvents(id)) await posted(id, e.id, T0);
      expect((await store.endSync(s.id, { kind: 'retry', retryAt: (n) => T0 + 1_000 * n })).failures).toBe(1);
      expect((await store.endSync(s.id, { kind: 'retry', retryAt: (n) => T0 + 1_000 * n })).failures).toBe(2);
      expect(await store.claimSync(s.id, T0 + 100, T0)).toBe(true);
      expect(ids(await store.listOutOfSync(10))).toEqual([s.id]);
      await store.recordMessage(s.id, { ts: '1700000000.000300', version: 1, inStep: true });
      expect(await store.getRequest(s.id)).toMatchObject({ messageTs: '1700000000.000300', messageVersion: 1 });
      expect(await store.listOutOfSync(10)).toEqual([]); // posted and shown, thread included
      expect(await other.claimSync(s.id, T0 + 100, T0 + 1)).toBe(true); // released
      expect((await other.endSync(s.id, { kind: 'retry', retryAt: (n) => T0 + n })).failures).toBe(1); // the failures were forgotten
      await store.recordMessage('missing', { ts: '1', version: 1, inStep: true });
    });

    test('recordMessage: the shown version never goes backwards', async () => {
      const r = await create(store);
      await store.recordMessage(r.id, { version: 3 });
      expect((await store.getRequest(r.id))?.messageVersion).toBe(3);
      await store.recordMessage(r.id, { version: 2 });
      expect((await store.getRequest(r.id))?.messageVersion).toBe(3);
      await store.recordMessage(r.id, { version: 5 });
      expect(await store.getRequest(r.id)).toMatchObject({ messageVersion: 5, version: 1 });
    });

    test('events are appended in order; recordMessage sets their postedAt once', async () => {
      const r = await create(store, { approvalsRequired: 1 });
      await store.addApproval(r.id, anApproval('U1', T0 + 1));
      await store.transition(
        r.id,
        ['approved'],
        'aborted',
        { closedBy: 'U2', closeReason: 'oops' },
        event('aborted', T0 + 2, 'U2', 'oops'),
      );
      const events = await store.listEvents(r.id);
      expect(events.map((e) => e.kind)).toEqual(['requested', 'approved', 'aborted']);
      expect(events[2]).toEqual({
        id: events[2].id,
        requestId: r.id,
        kind: 'aborted',
        actorId: 'U2',
        detail: 'oops',
        at: T0 + 2,
        postedAt: null,
      });
      for (const e of events) expect(typeof e.id).toBe('number');
      expect(events[0].id).toBeLessThan(events[1].id);
      expect(events[1].id).toBeLessThan(events[2].id);

      await posted(r.id, events[1].id, T0 + 10);
      await posted(r.id, events[1].id, T0 + 20);
      expect((await store.listEvents(r.id)).map((e) => e.postedAt)).toEqual([null, T0 + 10, null]);
      expect(await store.listEvents('missing')).toEqual([]);
    });
  });

  describe('sweeper queries', () => {
    test('listExpirable: pending and expired at now, oldest expiry first, limited', async () => {
      const a = await create(store, { expiresAt: T0 + 30 });
      const b = await create(store, { expiresAt: T0 + 10 });
      const c = await create(store, { expiresAt: T0 + 20 });
      await create(store, { expiresAt: T0 + 41 }); // not yet
      const approved = await create(store, { expiresAt: T0 + 5, approvalsRequired: 1 });
      await store.addApproval(approved.id, anApproval('U1', T0));
      expect(ids(await store.listForSweep({ kind: 'expirable', now: T0 + 40, limit: 10 }))).toEqual([b.id, c.id, a.id]);
      expect(ids(await store.listForSweep({ kind: 'expirable', now: T0 + 40, limit: 2 }))).toEqual([b.id, c.id]);
      expect(ids(await store.listForSweep({ kind: 'expirable', now: T0 + 10, limit: 10 }))).toEqual([b.id]);
      expect(await store.listForSweep({ kind: 'expirable', now: T0 + 9, limit: 10 })).toEqual([]);
    });

    test('listDueForExecution: approved with executeAt <= the database now, earliest first', async () => {
      // Delays from the database's now (a negative one: approved that long ago).
      const make = async (delay: number) => {
        const r = await create(store, { approvalsRequired: 1 });
        await store.addApproval(r.id, anApproval('U1', T0, { executionDelayMs: delay }));
        return r;
      };
      const late = await make(-100);
      const early = await make(-300);
      const future = await make(400);
      await create(store); // pending
      const running = await make(-500);
      await store.transition(running.id, ['approved'], 'executing', {}, null);
      expect(ids(await store.listForSweep({ kind: 'due', limit: 10 }))).toEqual([early.id, late.id]);
      expect(ids(await store.listForSweep({ kind: 'due', limit: 1 }))).toEqual([early.id]);
      await sleep(450);
      expect(ids(await store.listForSweep({ kind: 'due', limit: 10 }))).toEqual([early.id, late.id, future.id]);
      expect((await store.listForSweep({ kind: 'due', limit: 10 }))[0].approvals).toEqual([{ userId: 'U1', at: T0 }]);
    });

    test('listStaleExecutions: executing with no lease or a lease that ran out (database clock)', async () => {
      // Leases from the database's now (a negative one: it ran out that long ago).
      const exec = async (leaseMs: number | null) => {
        const r = await create(store, { approvalsRequired: 1 });
        await store.addApproval(r.id, anApproval('U1', T0));
        if (leaseMs === null) await store.transition(r.id, ['approved'], 'executing', { leaseUntil: null }, null);
        else
          await store.claimExecution(r.id, {
            now: T0,
            leaseMs,
            dayStart: T0,
            maxPerDay: 100,
            dryRun: false,
            drop: null,
          });
        return r;
      };
      const stale = await exec(-10_000);
      const noLease = await exec(null);
      await exec(60_000); // held
      await exec(600_000);
      const done = await exec(-20_000);
      await store.transition(done.id, ['executing'], 'succeeded', {}, null);
      expect(ids(await store.listForSweep({ kind: 'stale', limit: 10 }))).toEqual([noLease.id, stale.id]);
      expect(ids(await store.listForSweep({ kind: 'stale', limit: 1 }))).toEqual([noLease.id]);
    });

    test('listOutOfSync: no message, an unshown version, or an unposted event', async () => {
      const sync = async (id: string) => {
        const r = await store.getRequest(id);
        if (!r) throw new Error('missing');
        if (!r.messageTs) await store.recordMessage(id, { ts: `ts-${id}` });
        await store.recordMessage(id, { version: r.version });
        for (const e of await store.listEvents(id)) await posted(id, e.id, T0);
      };
      const synced = await create(store, { createdAt: T0 + 1 });
      const noMessage = await create(store, { createdAt: T0 + 2 });
      const behind = await create(store, { createdAt: T0 + 3 });
      const unposted = await create(store, { createdAt: T0 + 4 });
      for (const r of [synced, behind, unposted]) await sync(r.id);
      expect(ids(await store.listOutOfSync(10))).toEqual([noMessage.id]);

      await store.setPreview(behind.id, { status: 'not_found', checkedAt: T0 });
      await store.transition(unposted.id, ['pending'], 'cancelled', {}, event('cancelled'));
      await store.recordMessage(unposted.id, { version: 2 }); // the message is current; the thread is not
      expect(ids(await store.listOutOfSync(10))).toEqual([noMessage.id, behind.id, unposted.id]);
      expect(ids(await store.listOutOfSync(2))).toEqual([noMessage.id, behind.id]);

      await sync(noMessage.id);
      await sync(behind.id);
      await sync(unposted.id);
      expect(await store.listOutOfSync(10)).toEqual([]);
    });
    test('listOutOfSync: due-time order; a retry pushes a request back, in-step forgets, ended ends it', async () => {
      const a = await create(store, { createdAt: T0 + 1 });
      const b = await create(store, { createdAt: T0 + 2 });
      const c = await create(store, { createdAt: T0 + 3 });
      expect(ids(await store.listOutOfSync(10, T0))).toEqual([a.id, b.id, c.id]);

      expect((await store.endSync(a.id, { kind: 'retry', retryAt: (n) => T0 + 1_000 * n })).failures).toBe(1);
      expect((await store.endSync(a.id, { kind: 'retry', retryAt: (n) => T0 + 1_000 * n })).failures).toBe(2); // due at T0 + 2000
      expect(ids(await store.listOutOfSync(10, T0 + 1_999))).toEqual([b.id, c.id]);
      expect(ids(await store.listOutOfSync(10, T0 + 2_000))).toEqual([b.id, c.id, a.id]); // soonest due first
      expect(ids(await store.listOutOfSync(10))).toEqual([b.id, c.id, a.id]);
      await store.endSync(a.id, { kind: 'in-step' });
      expect((await store.endSync(a.id, { kind: 'retry', retryAt: (n) => T0 + n })).failures).toBe(1); // counting starts again
      await store.endSync(a.id, { kind: 'in-step' });

      expect((await store.endSync(b.id, { kind: 'ended', error: 'is_archived' })).ended).toBe(true);
      expect((await store.endSync(b.id, { kind: 'ended', error: 'message_not_found' })).ended).toBe(false); // the first reason stays
      expect((await store.getRequest(b.id))?.syncError).toBe('is_archived');
      expect((await store.getRequest(a.id))?.syncError).toBeNull();
      expect(ids(await store.listOutOfSync(10))).toEqual([a.id, c.id]);
      expect(await store.claimSync(b.id, T0 + 100, T0)).toBe(false); // never synced again
      // A later change to an ended request doesn't bring it back.
      await store.transition(b.id, ['pending'], 'expired', {}, event('expired'));
      expect(ids(await store.listOutOfSync(10))).toEqual([a.id, c.id]);
      expect((await store.endSync('missing', { kind: 'retry', retryAt: () => T0 })).failures).toBe(0);
    });
  });

  describe('uncertain outcomes: settle checks', () => {
    test('listUncertain and claimSettleCheck: one check per interval, across stores, at most maxChecks', async () => {
      const u = await create(store);
      const other = await create(store);
      await store.transition(u.id, ['pending'], 'uncertain', { finishedAt: T0 + 2 }, null);
      await store.transition(other.id, ['pending'], 'uncertain', { finishedAt: T0 + 1 }, null);
      await create(store); // pending: never listed
      expect(ids(await store.listForSweep({ kind: 'uncertain', maxChecks: 2, limit: 10 }))).toEqual([other.id, u.id]);
      const stores = [store, h.another(), h.another()];
      // An interval a loaded machine can't outrun: a claim that waited on the winner's row lock re-checks the
      // row against the database's clock, so a 200 ms interval could lapse during the wait itself.
      const claims = await Promise.all(stores.map((s) => s.claimSettleCheck(u.id, 2, 1_500)));
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect(ids(await store.listForSweep({ kind: 'uncertain', maxChecks: 2, limit: 10 }))).toEqual([other.id]); // the next check is not due yet
      expect(await store.claimSettleCheck(u.id, 2, 1_500)).toBe(false);
      await sleep(1_600);
      expect(ids(await store.listForSweep({ kind: 'uncertain', maxChecks: 2, limit: 10 }))).toEqual([other.id, u.id]);
      expect(await store.claimSettleCheck(u.id, 2, 0)).toBe(true);
      expect(await store.claimSettleCheck(u.id, 2, 0)).toBe(false); // out of checks
      expect(ids(await store.listForSweep({ kind: 'uncertain', maxChecks: 2, limit: 10 }))).toEqual([other.id]);
      await store.transition(other.id, ['uncertain'], 'failed', {}, null);
      expect(await store.claimSettleCheck(other.id, 2, 0)).toBe(false); // no longer uncertain
      expect(await store.listForSweep({ kind: 'uncertain', maxChecks: 2, limit: 10 })).toEqual([]);
    });
  });

  describe('listRequests / counts', () => {
    test('filters by channel, customer (any case) and states; newest first; limited', async () => {
      const a = await create(store, { channelId: 'CA', customerId: 'Alpha', createdAt: T0 + 1 });
      const b = await create(store, { channelId: 'CA', customerId: 'beta', createdAt: T0 + 3 });
      const c = await create(store, { channelId: 'CB', customerId: 'gamma', createdAt: T0 + 2 });
      await store.transition(a.id, ['pending'], 'denied', {}, null);
      const a2 = await create(store, { channelId: 'CB', customerId: 'ALPHA', createdAt: T0 + 4 });

      expect(ids(await store.listRequests({ limit: 10 }))).toEqual([a2.id, b.id, c.id, a.id]);
      expect(ids(await store.listRequests({ limit: 2 }))).toEqual([a2.id, b.id]);
      expect(ids(await store.listRequests({ channelId: 'CA', limit: 10 }))).toEqual([b.id, a.id]);
      expect(ids(await store.listRequests({ customerId: 'alpha', limit: 10 }))).toEqual([a2.id, a.id]);
      expect(ids(await store.listRequests({ states: ['pending'], limit: 10 }))).toEqual([a2.id, b.id, c.id]);
      expect(ids(await store.listRequests({ states: ['denied', 'succeeded'], limit: 10 }))).toEqual([a.id]);
      expect(await store.listRequests({ states: [], limit: 10 })).toEqual([]);
      expect(
        ids(await store.listRequests({ channelId: 'CB', customerId: 'Alpha', states: ['pending'], limit: 10 })),
      ).toEqual([a2.id]);
      expect(await store.listRequests({ channelId: 'CZ', limit: 10 })).toEqual([]);
      expect((await store.listRequests({ customerId: 'alpha', limit: 10 }))[1]).toEqual(await store.getRequest(a.id));
    });

    test('the per-requester count holds pending, approved, executing and uncertain only', async () => {
      /** Whether a create at this limit is refused: the requester has `max` or more open requests. */
      const refusedAt = async (requesterId: string, max: number) => {
        const result = await store.createRequest(newRequest({ requesterId }), event('requested'), {
          maxOpenPerRequester: max,
        });
        return !result.ok && result.kind === 'too_many_open';
      };
      const p = await create(store, { requesterId: 'UX' });
      const ap = await create(store, { requesterId: 'UX', approvalsRequired: 1 });
      const ex = await create(store, { requesterId: 'UX' });
      const done = await create(store, { requesterId: 'UX' });
      await create(store, { requesterId: 'UY' });
      await store.addApproval(ap.id, anApproval('U1', T0));
      await store.transition(ex.id, ['pending'], 'executing', {}, null);
      await store.transition(done.id, ['pending'], 'cancelled', {}, null);
      expect(await refusedAt('UX', 4)).toBe(false); // 3 open (pending, approved, executing): a 4th is created
      expect(await refusedAt('UX', 4)).toBe(true);
      await store.transition(p.id, ['pending'], 'expired', {}, null);
      expect(await refusedAt('UX', 3)).toBe(true); // 3 open: approved, executing, the 4th
      await store.transition(ex.id, ['executing'], 'uncertain', {}, null);
      expect(await refusedAt('UX', 3)).toBe(true); // uncertain still counts
      expect(await refusedAt('UY', 1)).toBe(true);
      expect(await refusedAt('UZ', 1)).toBe(false);
    });
  });

  describe('listAuditPage', () => {
    const all = { since: 0, until: Number.MAX_SAFE_INTEGER, after: null, limit: 1000 };

    test('requests created in [since, until), oldest first, each whole with all its events in order', async () => {
      const before = await create(store, { createdAt: T0 - 1 });
      const first = await create(store, { createdAt: T0, approvalsRequired: 1, reason: 'a, "b"\nc' });
      const second = await create(store, { createdAt: T0 + 5 });
      const atUntil = await create(store, { createdAt: T0 + 10 });
      await store.addApproval(first.id, anApproval('UAPP', T0 + 1));
      await store.transition(first.id, ['approved'], 'executing', {}, event('executing', T0 + 2, null));
      const outcome: DeletionOutcome = { ok: true, kind: 'deleted', message: 'gone', httpStatus: 200, attempts: 2 };
      await store.transition(
        first.id,
        ['executing'],
        'succeeded',
        { outcome, finishedAt: T0 + 3 },
        event('deleted', T0 + 3, null, 'gone'),
      );
      await store.transition(
        second.id,
        ['pending'],
        'denied',
        { closedBy: 'UDEN', closeReason: 'not yet', finishedAt: T0 + 6 },
        event('denied', T0 + 6, 'UDEN', 'not yet'),
      );
      // Events of requests outside the window must not leak in.
      await store.transition(before.id, ['pending'], 'cancelled', {}, event('cancelled', T0 + 4, 'UREQ'));

      const page = await store.listAuditPage({ since: T0, until: T0 + 10, after: null, limit: 10 });
      expect(page.map((entry) => entry.request)).toEqual([
        await store.getRequest(first.id),
        await store.getRequest(second.id),
      ]);
      expect(page[0].request).toMatchObject({ reason: 'a, "b"\nc', outcome, approvals: [{ userId: 'UAPP' }] });
      expect(page[0].events).toEqual(await store.listEvents(first.id));
      expect(page[0].events.map((e) => [e.kind, e.actorId, e.detail, e.at])).toEqual([
        ['requested', 'UREQ', null, T0],
        ['approved', 'UAPP', '1 of 1', T0 + 1],
        ['executing', null, null, T0 + 2],
        ['deleted', null, 'gone', T0 + 3],
      ]);
      expect(page[1].events).toEqual(await store.listEvents(second.id));
      expect(page[1].events.map((e) => [e.kind, e.actorId, e.detail])).toEqual([
        ['requested', 'UREQ', null],
        ['denied', 'UDEN', 'not yet'],
      ]);
      expect(ids((await store.listAuditPage({ ...all, since: T0 + 10 })).map((e) => e.request))).toEqual([atUntil.id]);
      expect(ids((await store.listAuditPage(all)).map((e) => e.request))).toEqual([
        before.id,
        first.id,
        second.id,
        atUntil.id,
      ]);
      expect(await store.listAuditPage({ since: T0 + 11, until: T0 + 20, after: null, limit: 10 })).toEqual([]);
    });

    test('pages by (created_at, id byte by byte): each request once, the same order on every database', async () => {
      // Same created_at for several, and ids whose order depends on the collation ('B' < 'a' < 'b' byte-wise).
      for (const [id, at] of [
        ['b', T0 + 2],
        ['B', T0 + 2],
        ['a', T0 + 2],
        ['z', T0 + 1],
        ['A', T0 + 3],
      ] as const) {
        await create(store, { id, createdAt: at });
      }
      const expected = ['z', 'B', 'a', 'b', 'A'];
      expect(ids((await store.listAuditPage(all)).map((e) => e.request))).toEqual(expected);
      for (const limit of [1, 2, 3]) {
        const seen: string[] = [];
        let after: { createdAt: number; id: string } | null = null;
        for (let pages = 0; pages < 10; pages++) {
          const page = await store.listAuditPage({ ...all, after, limit });
          if (page.length === 0) break;
          expect(page.length).toBeLessThanOrEqual(limit);
          seen.push(...page.map((e) => e.request.id));
          const last = page[page.length - 1].request;
          after = { createdAt: last.createdAt, id: last.id };
        }
        expect(seen).toEqual(expected);
      }
    });
  });
}

// ---------------------------------------------------------------------------------------------------------
// Run it against every store.

const FACTORIES: [string, () => Harness][] = [['sqlite', sqliteHarness]];
if (PG_URL) FACTORIES.push(['postgres', () => postgresHarness(PG_URL)]);

describe.each(FACTORIES)('%s store', (_name, makeHarness) => contract(makeHarness));

if (!PG_URL) {
  console.warn('PostgreSQL store tests skipped: TEST_DATABASE_URL is not set');
  describe.skip('postgres store', () => contract(() => postgresHarness('')));
}

// ---------------------------------------------------------------------------------------------------------
// Wiring around the stores.

describe('createStore', () => {
  const settings = (over: Partial<StoreSettings>): StoreSettings => ({
    databaseUrl: undefined,
    sqlitePath: 'unused',
    poolMax: 10,
    sslRejectUnauthorized: undefined,
    ...over,
  });
  test('without a database URL: a migrated SQLite store at sqlitePath', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-store-create-'));
    const store = await createStore(settings({ sqlitePath: path.join(dir, 'nested', 'db.sqlite') }));
    try {
      expect(store.kind).toBe('sqlite');
      await create(store);
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('migrate: false opens the database as it is, creating no table (the audit export only reads)', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-store-create-'));
    const file = path.join(dir, 'db.sqlite');
    const store = await createStore(settings({ sqlitePath: file }), { migrate: false });
    try {
      await store.ping();
      const db = new Database(file, { readonly: true });
      const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all();
      db.close();
      expect(tables).toEqual([]);
    } finally {
      await store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('with a database URL: a PostgreSQL store (the error of an unreachable server is passed on)', async () => {
    await expect(createStore(settings({ databaseUrl: 'postgres://nobody@127.0.0.1:1/none' }))).rejects.toThrow();
  });
});

describe('postgresStoreOptions', () => {
  const url = 'postgres://u:p@db.example.com:5432/app';
  test('defaults: pool of 10, no explicit ssl', () => {
    expect(postgresStoreOptions({ databaseUrl: url })).toEqual({ connectionString: url, poolMax: 10 });
  });
  test('sslRejectUnauthorized false and a pool size', () => {
    expect(postgresStoreOptions({ databaseUrl: url, sslRejectUnauthorized: false, poolMax: 4 })).toEqual({
      connectionString: url,
      poolMax: 4,
      ssl: { rejectUnauthorized: false },
    });
    expect(postgresStoreOptions({ databaseUrl: url, sslRejectUnauthorized: true }).ssl).toBeUndefined();
  });
});
