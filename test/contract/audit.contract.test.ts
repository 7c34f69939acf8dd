// The Store contract (see support.ts), run on every database: the audit export's pages.
import type { DeletionOutcome } from '../../src/requests/types';
import type { Store } from '../../src/store/types';
import { anApproval } from '../helpers/fixtures';
import { create, event, ids, storeContract, T0 } from './support';

storeContract((_h, current) => {
  let store: Store;
  beforeEach(() => {
    store = current();
  });

  describe('listAuditPage', () => {
    const all = { since: 0, until: Number.MAX_SAFE_INTEGER, after: null, limit: 1000 };

    test('requests created in [since, until), oldest first, each whole with all its events in order', async () => {
      const before = await create(store, { createdAt: T0 - 1 });
      const first = await create(store, { createdAt: T0, approvalsRequired: 1, reason: 'a, "b"\nc' });
      const second = await create(store, { createdAt: T0 + 5 });
      const atUntil = await create(store, { createdAt: T0 + 10 });
      await store.addApproval(first.id, anApproval('UAPP', T0 + 1));
      await store.transition(first.id, ['approved'], 'executing', {}, event('delete_sent', T0 + 2, null));
      const outcome: DeletionOutcome = {
        ok: true,
        kind: 'deleted',
        message: 'gone',
        said: 'botpenguin',
        httpStatus: 200,
        attempts: 2,
      };
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
        ['delete_sent', null, null, T0 + 2],
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
});
