// The Store contract (see support.ts), run on every database: what the operators' instruments read
// (StoreInstruments): open requests by state, the audit webhook's outbox, and events heard once committed.
import type { DeletionOutcome } from '../../src/requests/types';
import type { CommittedEvent, InstrumentedStore } from '../../src/store/types';
import { NO_OPEN_LIMIT } from '../helpers/fixtures';
import { create, event, newRequest, storeContract, T0 } from './support';

const deleted: DeletionOutcome = {
  ok: true,
  kind: 'deleted',
  message: 'gone',
  said: 'botpenguin',
  httpStatus: 200,
  attempts: 1,
};

storeContract((h, current) => {
  // Both SQL stores implement the instruments' interface beside Store.
  let store: InstrumentedStore;
  let heard: CommittedEvent[][];
  let stopListening: () => void;
  beforeEach(() => {
    store = current() as InstrumentedStore;
    heard = [];
    stopListening = store.onEventsCommitted((events) => heard.push([...events]));
  });
  afterEach(() => stopListening());

  test('countOpenByState counts open requests only, by state', async () => {
    expect(await store.countOpenByState()).toEqual({});
    await create(store);
    await create(store);
    const approved = await create(store);
    const denied = await create(store);
    await store.transition(approved.id, ['pending'], 'approved', {}, event('approved'));
    await store.transition(denied.id, ['pending'], 'denied', { finishedAt: T0 }, event('denied'));
    expect(await store.countOpenByState()).toEqual({ pending: 2, approved: 1 });
  });

  test('every event is queued for the audit webhook with it, and heard once its transaction commits', async () => {
    const request = await create(store);
    await store.transition(request.id, ['pending'], 'executing', {}, event('delete_sent', T0, null));
    await store.transition(
      request.id,
      ['executing'],
      'succeeded',
      { outcome: deleted, finishedAt: T0 },
      event('deleted', T0, null),
    );
    const trail = await store.listEvents(request.id);
    expect(trail.map((e) => e.kind)).toEqual(['requested', 'delete_sent', 'deleted']);
    expect(await store.auditOutbox.backlog()).toBe(3);

    // One transaction, one call; the ids are the trail's, and a bot's "deleted" carries its outcome's kind.
    expect(heard.map((events) => events.map((e) => e.id))).toEqual(trail.map((e) => [e.id]));
    expect(heard.flat().map((e) => [e.kind, e.actorId, e.outcomeKind])).toEqual([
      ['requested', 'UREQ', null],
      ['delete_sent', null, null],
      ['deleted', null, 'deleted'],
    ]);

    // The outbox hands out a request's oldest event only, to one owner at a time, on every connection.
    const [first] = await store.auditOutbox.claim('one', 60_000, 10);
    expect(first?.event.id).toBe(trail[0]?.id);
    expect(await (h.another() as InstrumentedStore).auditOutbox.claim('two', 60_000, 10)).toEqual([]);
    await store.auditOutbox.ack('one', trail[0]?.id ?? 0);
    expect(await store.auditOutbox.backlog()).toBe(2);
  });

  test('nothing is queued or heard for a write that did not happen', async () => {
    const request = await create(store);
    heard = [];
    // Not in the state asked for: no transition, no event.
    expect(await store.transition(request.id, ['approved'], 'executing', {}, event('delete_sent'))).toBeNull();
    // The customer already has an open request: the insert is refused.
    const again = await store.createRequest(
      newRequest({ customerId: request.customerId }),
      event('requested'),
      NO_OPEN_LIMIT,
    );
    expect(again.ok).toBe(false);
    expect(heard).toEqual([]);
    expect(await store.auditOutbox.backlog()).toBe(1);
  });
});
