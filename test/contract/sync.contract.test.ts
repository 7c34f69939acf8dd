// The Store contract (see support.ts), run on every database: small updates, keeping Slack in step, and what the
// sweeper looks for.
import type { Store } from '../../src/store/types';
import { anApproval } from '../helpers/fixtures';
import { around, create, event, expectWithin, ids, sleep, storeContract, T0 } from './support';

storeContract((h, current) => {
  let store: Store;
  beforeEach(() => {
    store = current();
  });
  /** A thread reply of this request's event was posted at `at`. */
  const posted = (requestId: string, eventId: number, at: number) =>
    store.recordMessage(requestId, { postedEvents: { ids: [eventId], at } });

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
      expect(await store.setPreview(r.id, preview, ['pending'])).toBe(true);
      expect(await store.getRequest(r.id)).toMatchObject({ preview, version: 2 });
      expect(await store.setPreview(r.id, { status: 'unavailable', checkedAt: T0 + 4 }, ['pending'])).toBe(true);
      expect(await store.getRequest(r.id)).toMatchObject({
        preview: { status: 'unavailable', checkedAt: T0 + 4 },
        version: 3,
      });
    });

    test('setPreview writes only in the states it is given (a late lookup cannot undo an erasure)', async () => {
      const r = await create(store);
      await store.transition(r.id, ['pending'], 'denied', {}, null);
      const found = { status: 'found' as const, name: 'Late Lookup', email: 'late@example.org', checkedAt: T0 };
      expect(await store.setPreview(r.id, found, ['pending', 'approved'])).toBe(false);
      expect(await store.getRequest(r.id)).toMatchObject({ preview: null, version: 2 });
    });

    test('a move into a final or uncertain state erases the name and email; one into another state keeps them', async () => {
      const found = { status: 'found' as const, name: 'Ada Erasable', email: 'ada@example.org', checkedAt: T0 };
      const moves = [
        ['pending', 'denied'],
        ['pending', 'expired'],
        ['pending', 'cancelled'],
        ['approved', 'aborted'],
        ['executing', 'succeeded'],
        ['executing', 'failed'],
        ['executing', 'uncertain'],
      ] as const;
      for (const [from, to] of moves) {
        const r = await create(store);
        if (from !== 'pending') await store.transition(r.id, ['pending'], from, {}, null);
        await store.setPreview(r.id, found, [from]);
        const done = await store.transition(r.id, [from], to, {}, null);
        expect({ to, preview: done?.preview }).toEqual({ to, preview: { status: 'erased' } });
        expect(await store.getRequest(r.id)).toMatchObject({ preview: { status: 'erased' } });
      }
      const kept = await create(store);
      await store.setPreview(kept.id, found, ['pending']);
      expect((await store.transition(kept.id, ['pending'], 'approved', {}, null))?.preview).toEqual(found);
      const none = await create(store);
      expect((await store.transition(none.id, ['pending'], 'denied', {}, null))?.preview).toBeNull();
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

    test('recordMessage: the first ts stays, the version never goes back; endSync in-step then forgets the failures', async () => {
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
      await store.recordMessage(s.id, { ts: '1700000000.000300', version: 1 });
      expect(await store.getRequest(s.id)).toMatchObject({ messageTs: '1700000000.000300', messageVersion: 1 });
      expect(await store.listOutOfSync(10)).toEqual([]); // posted and shown, thread included
      expect(await store.endSync(s.id, { kind: 'in-step', version: 1 })).toMatchObject({ released: true });
      expect(await other.claimSync(s.id, T0 + 100, T0 + 1)).toBe(true); // released
      expect((await other.endSync(s.id, { kind: 'retry', retryAt: (n) => T0 + n })).failures).toBe(1); // the failures were forgotten
      await store.recordMessage('missing', { ts: '1', version: 1 });
    });

    test('endSync in-step at a version releases only while the request is at it with every reply posted', async () => {
      const r = await create(store);
      const other = h.another();
      expect(await store.claimSync(r.id, T0 + 100, T0)).toBe(true);
      expect((await store.endSync(r.id, { kind: 'retry', retryAt: () => T0 })).failures).toBe(1);
      // Its "requested" reply is not posted yet: the claim stays, the failure too.
      expect(await store.endSync(r.id, { kind: 'in-step', version: 1 })).toMatchObject({ released: false });
      expect(await other.claimSync(r.id, T0 + 100, T0 + 1)).toBe(false);
      for (const e of await store.listEvents(r.id)) await posted(r.id, e.id, T0);
      // Changed since it was read (version 2): still held.
      expect(await store.setPreview(r.id, { status: 'unavailable', checkedAt: T0 }, ['pending'])).toBe(true);
      expect(await store.endSync(r.id, { kind: 'in-step', version: 1 })).toMatchObject({ released: false });
      expect(await other.claimSync(r.id, T0 + 100, T0 + 1)).toBe(false);
      expect(await store.endSync(r.id, { kind: 'in-step', version: 2 })).toMatchObject({ released: true });
      expect(await other.claimSync(r.id, T0 + 100, T0 + 1)).toBe(true);
      expect((await other.endSync(r.id, { kind: 'retry', retryAt: () => T0 })).failures).toBe(1); // forgotten
      expect(await store.endSync('missing', { kind: 'in-step', version: 1 })).toMatchObject({ released: false });
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
            sent: { kind: 'delete_sent', actorId: null, detail: 'start 1', at: T0 },
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
        // An ended request is in step once its requester's direct message is settled too.
        await store.recordMessage(id, { requesterTold: r.state });
      };
      const synced = await create(store, { createdAt: T0 + 1 });
      const noMessage = await create(store, { createdAt: T0 + 2 });
      const behind = await create(store, { createdAt: T0 + 3 });
      const unposted = await create(store, { createdAt: T0 + 4 });
      for (const r of [synced, behind, unposted]) await sync(r.id);
      expect(ids(await store.listOutOfSync(10))).toEqual([noMessage.id]);

      await store.setPreview(behind.id, { status: 'not_found', checkedAt: T0 }, ['pending']);
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
});
