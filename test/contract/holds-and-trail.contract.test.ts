// The Store contract (see support.ts), run on every database: deny holds and the trail of pauses (HoldsAndTrail).
import type { BotStore } from '../../src/store/types';
import { anApproval } from '../helpers/fixtures';
import { create, HOUR, storeContract, T0 } from './support';

storeContract((_h, current) => {
  let store: BotStore;
  beforeEach(() => {
    store = current();
  });

  describe('holdForDeny / releaseDenyHold', () => {
    test('a hold refuses approvals until it lapses or its holder releases it; another approver can’t take it', async () => {
      const r = await create(store, { createdAt: T0, expiresAt: T0 + HOUR, approvalsRequired: 1 });
      const held = await store.holdForDeny(r.id, { by: 'UDENY', now: T0, until: T0 + 600_000 });
      expect(held).toMatchObject({ kind: 'held', request: { denyHold: { by: 'UDENY', until: T0 + 600_000 } } });
      expect(held.request?.version).toBe(r.version + 1);
      expect(await store.holdForDeny(r.id, { by: 'UOTHER', now: T0 + 1, until: T0 + 600_001 })).toMatchObject({
        kind: 'held_by_other',
        request: { denyHold: { by: 'UDENY' } },
      });
      expect((await store.addApproval(r.id, anApproval('UAPP', T0 + 2))).kind).toBe('being_denied');
      expect((await store.getRequest(r.id))?.approvals).toEqual([]);
      expect(await store.releaseDenyHold(r.id, 'UOTHER')).toBe(false);
      expect(await store.releaseDenyHold(r.id, 'UDENY')).toBe(true);
      expect((await store.getRequest(r.id))?.denyHold).toBeNull();
      expect((await store.addApproval(r.id, anApproval('UAPP', T0 + 3))).kind).toBe('approved');
      // Only a pending request can be held.
      expect((await store.holdForDeny(r.id, { by: 'UDENY', now: T0 + 4, until: T0 + 9 })).kind).toBe('not_pending');
    });

    test('a lapsed hold no longer refuses, and another approver may hold it', async () => {
      const r = await create(store, { createdAt: T0, expiresAt: T0 + HOUR });
      await store.holdForDeny(r.id, { by: 'UDENY', now: T0, until: T0 + 1000 });
      expect((await store.holdForDeny(r.id, { by: 'UOTHER', now: T0 + 1000, until: T0 + 2000 })).kind).toBe('held');
      expect((await store.addApproval(r.id, anApproval('UAPP', T0 + 2000))).kind).not.toBe('being_denied');
    });
  });

  describe('listControlEvents', () => {
    test('every pause and resume, with who, why, where and when, even with no request open', async () => {
      const expire = null;
      const event = (kind: 'paused' | 'resumed', at: number) => ({ kind, actorId: 'UOPS', detail: null, at });
      await store.setPause({
        paused: true,
        by: 'UOPS',
        reason: 'incident',
        channelId: 'COPS',
        at: T0,
        event: event('paused', T0),
        expire,
      });
      // Already paused: nothing changed, nothing recorded.
      await store.setPause({
        paused: true,
        by: 'UOPS2',
        reason: 'again',
        channelId: 'COPS',
        at: T0 + 1,
        event: event('paused', T0 + 1),
        expire,
      });
      await store.setPause({
        paused: false,
        by: 'UOPS2',
        reason: null,
        channelId: null,
        at: T0 + 2,
        event: event('resumed', T0 + 2),
        expire,
      });
      await store.setPause({
        paused: true,
        by: 'UOPS',
        reason: null,
        channelId: 'COPS',
        at: T0 + 3,
        event: event('paused', T0 + 3),
        expire,
      });
      expect(await store.listControlEvents(T0, T0 + 3)).toEqual([
        { id: expect.any(Number), kind: 'paused', actorId: 'UOPS', detail: 'incident', channelId: 'COPS', at: T0 },
        { id: expect.any(Number), kind: 'resumed', actorId: 'UOPS2', detail: null, channelId: null, at: T0 + 2 },
      ]);
    });
  });
});
