// The Store contract (see support.ts), run on every database: reminders to approvers (listed when due,
// claimed once per interval) and the record of what the requester was told.
import type { Store } from '../../src/store/types';
import { create, event, HOUR, ids, storeContract, T0 } from './support';

storeContract((_h, current) => {
  let store: Store;
  beforeEach(() => {
    store = current();
  });
  const remindable = (now: number) => store.listForSweep({ kind: 'remindable', now, limit: 10 });
  const remind = (id: string, sent: number, nextAt: number | null, at = T0) =>
    store.transition(id, ['pending'], 'pending', { reminder: { sent, nextAt } }, event('reminded', at, null, 'U1 S1'));

  describe('reminders', () => {
    test('listed once due, while pending, unexpired and not paused; never those without one', async () => {
      const due = await create(store, { createdAt: T0, expiresAt: T0 + HOUR, nextRemindAt: T0 + 1000 });
      const later = await create(store, { createdAt: T0, expiresAt: T0 + HOUR, nextRemindAt: T0 + 5000 });
      await create(store, { createdAt: T0, expiresAt: T0 + HOUR });
      const decided = await create(store, { createdAt: T0, expiresAt: T0 + HOUR, nextRemindAt: T0 + 1000 });
      await store.transition(decided.id, ['pending'], 'denied', {}, null);
      const expired = await create(store, { createdAt: T0, expiresAt: T0 + 1500, nextRemindAt: T0 + 1000 });

      expect(ids(await remindable(T0 + 999))).toEqual([]);
      expect(ids(await remindable(T0 + 1000)).sort()).toEqual([due.id, expired.id].sort());
      expect(ids(await remindable(T0 + 2000))).toEqual([due.id]);
      expect(ids(await remindable(T0 + 6000))).toEqual([due.id, later.id]);

      await store.setPause({
        paused: true,
        by: 'UAPP',
        reason: null,
        channelId: null,
        at: T0,
        event: event('paused', T0, 'UAPP'),
        expire: null,
      });
      expect(await remindable(T0 + 6000)).toEqual([]);
    });

    test('one claim per interval: the write judged on a count another already moved does nothing', async () => {
      const r = await create(store, { createdAt: T0, expiresAt: T0 + HOUR, nextRemindAt: T0 + 1000 });
      const [first, second] = await Promise.all([remind(r.id, 1, T0 + 3000), remind(r.id, 1, T0 + 3000)]);
      expect([first, second].filter((x) => x !== null)).toHaveLength(1);
      const after = await store.getRequest(r.id);
      expect(after).toMatchObject({ remindersSent: 1, nextRemindAt: T0 + 3000, version: r.version + 1 });
      expect((await store.listEvents(r.id)).filter((e) => e.kind === 'reminded')).toHaveLength(1);
      expect(ids(await remindable(T0 + 2000))).toEqual([]);

      expect(await remind(r.id, 2, null)).toMatchObject({ remindersSent: 2, nextRemindAt: null });
      expect(await remindable(T0 + HOUR - 1)).toEqual([]);
      await store.transition(r.id, ['pending'], 'denied', {}, null);
      expect(await remind(r.id, 3, null)).toBeNull();
    });
  });

  describe('what the requester was told', () => {
    test('recorded with the sync, alongside the rest of what it showed', async () => {
      const r = await create(store);
      expect(r.requesterTold).toBeNull();
      await store.transition(r.id, ['pending'], 'denied', {}, null);
      await store.recordMessage(r.id, { requesterTold: 'denied', version: 2 });
      expect(await store.getRequest(r.id)).toMatchObject({ requesterTold: 'denied', messageVersion: 2 });
    });

    test('a request whose message and thread are shown is still out of sync until its requester is settled', async () => {
      const r = await create(store);
      const inStep = async () => {
        const now = await store.getRequest(r.id);
        await store.recordMessage(r.id, {
          ts: 'ts-1',
          version: now?.version ?? 0,
          postedEvents: { ids: (await store.listEvents(r.id)).map((e) => e.id), at: T0 },
        });
      };
      await inStep();
      expect(await store.listOutOfSync(10)).toEqual([]); // pending: nothing to tell
      await store.transition(r.id, ['pending'], 'uncertain', {}, null);
      await inStep();
      expect(ids(await store.listOutOfSync(10))).toEqual([r.id]);
      await store.recordMessage(r.id, { requesterTold: 'uncertain' });
      expect(await store.listOutOfSync(10)).toEqual([]);
      await store.transition(r.id, ['uncertain'], 'succeeded', {}, null);
      await inStep();
      expect(ids(await store.listOutOfSync(10))).toEqual([r.id]); // a new state: a new message owed
      await store.recordMessage(r.id, { requesterTold: 'succeeded' });
      expect(await store.listOutOfSync(10)).toEqual([]);
    });
  });
});
