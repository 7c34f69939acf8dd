// The Store contract (see support.ts), run on every database: the pause, quorum and stricter settings, and the
// settle checks of uncertain outcomes.
import type { ApprovalDrop, ExecutionClaim, Store, TransitionPatch } from '../../src/store/types';
import { anApproval } from '../helpers/fixtures';
import { create, event, ids, sleep, storeContract, T0 } from './support';

storeContract((h, current) => {
  let store: Store;
  beforeEach(() => {
    store = current();
  });

  describe('pause, quorum and stricter settings', () => {
    const claimAt = (now: number, over: Partial<ExecutionClaim> = {}): ExecutionClaim => ({
      now,
      leaseMs: 15_000,
      dayStart: T0 - 1000,
      maxPerDay: 50,
      dryRun: false,
      drop: null,
      sent: { kind: 'delete_sent', actorId: null, detail: 'start 1', at: T0 },
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
      const found = { status: 'found' as const, name: 'Ada Erasable', email: 'ada@example.org', checkedAt: T0 };
      expect(await store.setPreview(r.id, found, ['approved'])).toBe(true);
      const resumed = await pauseBy(false, T0 + 200);
      expect(resumed.affected).toContain(r.id);
      // Expired on resume: its name and email are erased like at any other final state.
      expect(await store.getRequest(r.id)).toMatchObject({
        state: 'expired',
        finishedAt: T0 + 200,
        preview: { status: 'erased' },
      });
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

    test('the trail: a claim writes its delete_sent (a dry-run claim none), a take-over the one it is given', async () => {
      const real = await create(store, { approvalsRequired: 1 });
      const dry = await create(store, { approvalsRequired: 1 });
      for (const r of [real, dry]) await store.addApproval(r.id, anApproval('U1', T0));
      expect((await store.claimExecution(real.id, claimAt(T0, { leaseMs: 1 }))).kind).toBe('claimed');
      expect((await store.claimExecution(dry.id, claimAt(T0, { dryRun: true }))).kind).toBe('claimed');
      await sleep(20);
      const sent = event('delete_sent', T0 + 5, null, 'start 2: re-sent after a take-over');
      const taken = await h.another().takeOverExecution(real.id, { now: T0 + 5, leaseMs: 15_000, seenToken: 1, sent });
      expect(taken).toMatchObject({ deleteStarts: 2, deleteStartedAt: T0 });
      const trail = (await store.listEvents(real.id)).filter((e) => e.kind === 'delete_sent');
      expect(trail.map((e) => [e.detail, e.at])).toEqual([
        ['start 1', T0],
        ['start 2: re-sent after a take-over', T0 + 5],
      ]);
      expect((await store.listEvents(dry.id)).map((e) => e.kind)).not.toContain('delete_sent');
    });

    test('a first start undone before its DELETE was sent: approved and due again, no start counted', async () => {
      const r = await create(store, { approvalsRequired: 1 });
      await store.addApproval(r.id, anApproval('U1', T0));
      const claimed = await store.claimExecution(r.id, claimAt(T0));
      expect(claimed.request).toMatchObject({ deleteStarts: 1, deleteStartedAt: T0 });
      const patch: TransitionPatch = { leaseUntil: null, unclaimed: true };
      const back = await store.transition(r.id, ['executing'], 'approved', patch, event('paused', T0 + 1, 'UAPP'), 1);
      expect(back).toMatchObject({ state: 'approved', deleteStarts: 0, deleteStartedAt: null, leaseUntil: null });
      expect(await store.countDeletionsSince(T0 - 1000)).toBe(0);
      expect((await store.claimExecution(r.id, claimAt(T0 + 2))).request).toMatchObject({ deleteStarts: 1 });
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
});
