// Audit webhooks end to end below the app: trail events recorded in the store's tables reach a real HTTP
// receiver that verifies every signature, through the proposed SQL outbox, on SQLite and PostgreSQL.
// Time is the database's clock, moved by the test: retries and leases run out without sleeping.

import { startAuditWebhook } from '../../../src/audit-webhook';
import { createWebhookSender, type WebhookSender } from '../../../src/audit-webhook/sender';
import { createSqlOutbox } from '../../../src/audit-webhook/sql-outbox';
import { AuditWebhookWorker } from '../../../src/audit-webhook/worker';
import { createLogger, createRedactor } from '../../../src/logger';
import { createMetrics } from '../../../src/metrics';
import {
  insertEvent,
  insertRequest,
  postgresDatabase,
  type Receiver,
  SECRET,
  sqliteDatabase,
  startReceiver,
  type TestDatabase,
} from './support';

const PG_URL = process.env.TEST_DATABASE_URL;
const HEX = (n: number) => n.toString(16).padStart(24, '0');
const PERSONAL = 'Jane Doe jane@example.com';
/** Longer than the longest wait between retries, and than a lease. */
const LATER = 6 * 60_000;

const harnesses: Array<[string, () => Promise<TestDatabase>]> = [['SQLite', async () => sqliteDatabase()]];
if (PG_URL) harnesses.push(['PostgreSQL', () => postgresDatabase(PG_URL)]);
else console.warn('PostgreSQL audit outbox tests skipped: TEST_DATABASE_URL is not set');

/** Three requests whose events are recorded interleaved, as concurrent requests write them. */
async function recordFlow(db: TestDatabase['db']) {
  const deleted = await insertRequest(db, {
    customerId: HEX(1),
    reason: PERSONAL,
    outcome: {
      ok: true,
      kind: 'deleted',
      message: 'Customer deleted successfully',
      said: 'botpenguin',
      httpStatus: 200,
      attempts: 1,
    },
  });
  const denied = await insertRequest(db, { customerId: HEX(2), reason: PERSONAL });
  const failed = await insertRequest(db, {
    customerId: HEX(3),
    reason: PERSONAL,
    outcome: {
      ok: false,
      kind: 'rejected',
      message: 'Customer cannot be deleted',
      said: 'botpenguin',
      httpStatus: 400,
      attempts: 1,
    },
  });
  await insertEvent(db, deleted, 'requested', 'U0ASKER', PERSONAL);
  await insertEvent(db, denied, 'requested', 'U0ASKER', PERSONAL);
  await insertEvent(db, deleted, 'approved', 'U0APPROVER', null);
  await insertEvent(db, failed, 'requested', 'U0ASKER', PERSONAL);
  await insertEvent(db, denied, 'denied', 'U0APPROVER', `wrong customer, ${PERSONAL}`);
  await insertEvent(db, deleted, 'delete_sent', null, 'start 1');
  await insertEvent(db, failed, 'approved', 'U0APPROVER', null);
  await insertEvent(db, deleted, 'deleted', null, 'Customer deleted successfully');
  await insertEvent(db, failed, 'delete_sent', null, 'start 1');
  await insertEvent(db, failed, 'failed', null, 'Customer cannot be deleted');
  return {
    [deleted]: ['requested', 'approved', 'delete_sent', 'deleted'],
    [denied]: ['requested', 'denied'],
    [failed]: ['requested', 'approved', 'delete_sent', 'failed'],
  } as Record<string, string[]>;
}

/** Per request, the types of the accepted deliveries in arrival order, repeats dropped. */
function arrivedByRequest(receiver: Receiver): Record<string, string[]> {
  const seen = new Set<number>();
  const out: Record<string, string[]> = {};
  for (const { payload } of receiver.accepted) {
    if (seen.has(payload.data.eventId)) continue;
    seen.add(payload.data.eventId);
    out[payload.data.requestId] = [...(out[payload.data.requestId] ?? []), payload.type];
  }
  return out;
}

/** Per request, whether every accepted delivery (repeats included) came after all earlier events' first. */
function inOrderPerRequest(receiver: Receiver): boolean {
  const highest = new Map<string, number>();
  for (const { payload } of receiver.accepted) {
    const { requestId, eventId } = payload.data;
    if (eventId < (highest.get(requestId) ?? 0)) return false;
    highest.set(requestId, Math.max(eventId, highest.get(requestId) ?? 0));
  }
  return true;
}

describe.each(harnesses)('audit webhook delivery (%s)', (_name, open) => {
  let database: TestDatabase;
  let receiver: Receiver;
  let sender: WebhookSender;
  const logLines: string[] = [];
  const logger = createLogger({ level: 'warn', secrets: [SECRET], write: (l) => logLines.push(l) });

  beforeEach(async () => {
    database = await open();
    receiver = await startReceiver(SECRET);
    sender = createWebhookSender({ url: receiver.url, secret: SECRET, timeoutMs: 2_000, now: Date.now });
    logLines.length = 0;
  });
  afterEach(async () => {
    await sender.close();
    await receiver.close();
    await database.close();
  });

  function worker(db = database.db) {
    const outbox = createSqlOutbox(db, database.nowMs);
    const metrics = createMetrics({
      countOpenByState: async () => ({}),
      isPaused: async () => false,
      auditBacklog: () => outbox.backlog(),
    });
    const w = new AuditWebhookWorker({
      outbox,
      deliver: sender.deliver,
      logger,
      clean: createRedactor([SECRET]),
      metrics,
    });
    return { worker: w, outbox, metrics };
  }

  /** Rounds until the outbox is empty, moving the clock past every retry wait; bounded so a bug fails. */
  async function deliverAll(run: () => Promise<unknown>, outbox: { backlog(): Promise<number> }) {
    for (let round = 0; round < 60 && (await outbox.backlog()) > 0; round++) {
      await run();
      await database.advance(LATER);
    }
    expect(await outbox.backlog()).toBe(0);
  }

  it('a receiver that answers 500 for a while gets every event, in order per request, each signature valid', async () => {
    const expected = await recordFlow(database.db);
    const { worker: w, outbox, metrics } = worker();
    expect(await outbox.backlog()).toBe(10);
    receiver.failNext(7);

    await deliverAll(() => w.runOnce(), outbox);

    expect(arrivedByRequest(receiver)).toEqual(expected);
    expect(inOrderPerRequest(receiver)).toBe(true);
    expect(receiver.rejected).toBe(0);
    // The ids are the trail's: one webhook-id per event, the same on a retry.
    expect(new Set(receiver.accepted.map((d) => d.id)).size).toBe(10);
    for (const d of receiver.accepted) expect(d.id).toBe(`evt_${d.payload.data.eventId}`);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/^bp_delete_audit_webhook_failures_total 7$/m);
    expect(text).toMatch(/^bp_delete_audit_webhook_backlog 0$/m);
    expect(logLines.join('')).toContain('delivery failed; will retry');
  });

  it("nothing a person typed, and no name or email, goes out; BotPenguin's words do", async () => {
    await recordFlow(database.db);
    const { worker: w, outbox } = worker();
    await deliverAll(() => w.runOnce(), outbox);
    const bodies = receiver.accepted.map((d) => d.body).join('\n');
    expect(bodies).not.toContain('Jane');
    expect(bodies).not.toContain('wrong customer');
    const deleted = receiver.accepted.find((d) => d.payload.type === 'deleted');
    expect(deleted?.payload.data).toMatchObject({
      customerId: HEX(1),
      actorId: null,
      detail: 'Customer deleted successfully',
      outcome: { ok: true, kind: 'deleted', said: 'botpenguin', httpStatus: 200 },
    });
  });

  it('an instance killed mid-delivery: its lease runs out and a new one delivers the rest, in order', async () => {
    const expected = await recordFlow(database.db);
    const first = worker();
    await first.worker.runOnce(); // three heads delivered
    // The next round is leased by an instance that dies before it sends anything.
    const dead = createSqlOutbox(database.db, database.nowMs);
    const leased = await dead.claim('dead-instance', 60_000, 20);
    expect(leased).toHaveLength(3);

    const second = worker();
    expect(await second.worker.runOnce()).toBe(0); // the dead instance's leases still hold
    await database.advance(60_001);
    await deliverAll(() => second.worker.runOnce(), second.outbox);

    expect(arrivedByRequest(receiver)).toEqual(expected);
    expect(inOrderPerRequest(receiver)).toBe(true);
  });

  it('two instances sharing the store deliver each event once, in order per request', async () => {
    const expected = await recordFlow(database.db);
    for (let i = 0; i < 5; i++) {
      const r = await insertRequest(database.db, { customerId: HEX(100 + i), reason: '' });
      await insertEvent(database.db, r, 'requested', 'U0ASKER', null);
      await insertEvent(database.db, r, 'cancelled', 'U0ASKER', null);
      expected[r] = ['requested', 'cancelled'];
    }
    const a = worker();
    const b = worker(await database.another());
    await deliverAll(() => Promise.all([a.worker.runOnce(), b.worker.runOnce()]), a.outbox);

    expect(arrivedByRequest(receiver)).toEqual(expected);
    expect(receiver.accepted).toHaveLength(20); // no repeats: a leased event is nobody else's
    expect(inOrderPerRequest(receiver)).toBe(true);
  });

  it('started as main.ts starts it, it delivers in the background and picks up an event recorded later', async () => {
    const expected = await recordFlow(database.db);
    const { outbox, metrics } = worker();
    const w = startAuditWebhook(
      { url: receiver.url, secret: SECRET },
      { outbox, logger, clean: createRedactor([SECRET]), metrics },
    );
    let later = '';
    try {
      await receiver.accepting(10);
      later = await insertRequest(database.db, { customerId: HEX(50), reason: '' });
      await insertEvent(database.db, later, 'requested', 'U0ASKER', null);
      w.poke();
      await receiver.accepting(11);
    } finally {
      await w.stop();
    }
    expect(arrivedByRequest(receiver)).toEqual({ ...expected, [later]: ['requested'] });
    expect(inOrderPerRequest(receiver)).toBe(true);
  });

  it('a receiver that never answers costs one bounded wait, then a retry', async () => {
    await recordFlow(database.db);
    await sender.close();
    sender = createWebhookSender({ url: receiver.url, secret: SECRET, timeoutMs: 300, now: Date.now });
    const { worker: w, outbox } = worker();
    receiver.hang(true);
    const started = Date.now();
    expect(await w.runOnce()).toBe(3);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(await outbox.backlog()).toBe(10);
    receiver.hang(false);
    await database.advance(LATER);
    await deliverAll(() => w.runOnce(), outbox);
    expect(receiver.accepted.length).toBeGreaterThanOrEqual(10);
  });
});
