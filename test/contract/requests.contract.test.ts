// The Store contract (see support.ts), run on every database: migrating; creating, reading and listing requests;
// approvals; conditional transitions, claims and fencing.
import type { DeletionOutcome } from '../../src/requests/types';
import { MIGRATIONS } from '../../src/store/migrations';
import type { ExecutionClaim, NewRequest, Store } from '../../src/store/types';
import { anApproval, NO_OPEN_LIMIT } from '../helpers/fixtures';
import { around, create, event, expectWithin, ids, newRequest, sleep, storeContract, T0 } from './support';

storeContract((h, current) => {
  let store: Store;
  beforeEach(() => {
    store = current();
  });

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
      const input = newRequest({
        reason: 'O\'Brien said "delete"; ünïcödé ✓ DSR-77',
        ticket: 'DSR-77',
        ticketUrl: 'https://tickets.example/browse/DSR-77?a=1&b=2',
        approvalsRequired: 3,
        dryRun: true,
      });
      input.nextRemindAt = input.createdAt + 60_000;
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
        ticket: 'DSR-77',
        ticketUrl: 'https://tickets.example/browse/DSR-77?a=1&b=2',
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
        deleteStartedAt: null,
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
        requesterTold: null,
        nextRemindAt: input.nextRemindAt,
        remindersSent: 0,
        denyHold: null,
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
        said: 'botpenguin',
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
      sent: { kind: 'delete_sent', actorId: null, detail: 'start 1', at: T0 },
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
        store.takeOverExecution(r.id, { now: T0 + 3_600_000, leaseMs, seenToken, sent: null });
      // A caller whose clock is an hour ahead still can't take over a lease the database says is held.
      expect(await takeOver()).toBeNull();
      await sleep(350);
      const stores = [store, h.another(), h.another()];
      const timed = await around(() =>
        Promise.all(
          stores.map((s) => s.takeOverExecution(r.id, { now: T0, leaseMs: 300, seenToken: seen, sent: null })),
        ),
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
      const taken = await other.takeOverExecution(r.id, { now: T0, leaseMs: 15_000, seenToken: oldToken, sent: null });
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
      // The claim's delete_sent only: the take-over above was given none to write.
      expect((await store.listEvents(r.id)).map((e) => e.kind)).toEqual(['requested', 'approved', 'delete_sent']);

      // The current holder can do both.
      expect(await other.renewLease(r.id, newToken, 15_000)).toBe(true);
      const done = await other.transition(
        r.id,
        ['executing'],
        'succeeded',
        {
          outcome: { ok: true, kind: 'deleted', message: '', said: 'botpenguin' },
          finishedAt: T0 + 1,
          leaseUntil: null,
        },
        event('deleted', T0 + 1, null),
        newToken,
      );
      expect(done).toMatchObject({ state: 'succeeded', deleteStarts: newToken, leaseUntil: null });
      expect(await other.transition(r.id, ['executing'], 'failed', {}, null, newToken)).toBeNull(); // no longer executing
      expect(await other.renewLease(r.id, newToken, 15_000)).toBe(false);
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
});
