// The executor across instances on one store (docs/DESIGN.md §9): a holder that stalled past its lease is
// fenced off (its late outcome is refused and logged, the new holder's stands), and a request whose DELETE
// was started MAX_DELETE_STARTS times is not sent again but recorded as uncertain. Real SQLite store with the
// test's clock as its clock; only BotPenguin's DELETE and the clock are fakes.
import type { Policy } from '../../../src/config';
import { createLogger } from '../../../src/logger';
import { createRequests, type Requests } from '../../../src/requests';
import { MAX_DELETE_STARTS } from '../../../src/requests/executor';
import type { AttemptGate, CustomerLister, DeleteResult, ListResult } from '../../../src/requests/ports';
import { Previewer } from '../../../src/requests/preview';
import { SqliteStore } from '../../../src/store/dialects/sqlite';
import { anApproval } from '../../helpers/fixtures';
import { testPolicy } from '../../helpers/policy';

const CHANNEL = 'C0OPS';
const CUSTOMER = '64b7f0c2e4b0a1b2c3d4e5f6';
const REQUESTER = 'U0REQUESTER';
const APPROVER = 'U0APPROVER1';
const LEASE_MS = 60_000;
const where = { teamId: 'T0TEAM', channelId: CHANNEL };

const policy: Policy = testPolicy({
  approverUserIds: [APPROVER],
  requestTtlMs: 3_600_000,
  customerIdPattern: /^[0-9a-f]{24}$/,
});

/** BotPenguin's DELETE, one attempt let through by the executor's gate: each call waits until the test answers it. */
class HeldDeleter {
  readonly calls: { customerId: string; answer(result: DeleteResult): void }[] = [];
  async deleteCustomer(customerId: string, mayAttempt: AttemptGate): Promise<DeleteResult> {
    if (!(await mayAttempt(1))) return { ok: false, kind: 'held', attempts: 0, message: 'held' };
    return new Promise((resolve) => this.calls.push({ customerId, answer: resolve }));
  }
}

const clock = { now: Date.UTC(2025, 0, 15, 12) };
let store: SqliteStore;
const logs: string[] = [];
const instances: Requests[] = [];

/** Another bot instance on the same store. */
function instance(deleter: HeldDeleter, previewer: Previewer | null = null): Requests {
  const requests = createRequests({
    store,
    policy,
    directory: { usergroupMembers: async () => new Set<string>() },
    deleter,
    previewer,
    now: () => clock.now,
    leaseMs: LEASE_MS,
    hearsSlack: () => true,
    onChange: () => {},
    logger: createLogger({ level: 'debug', secrets: [], write: (line) => logs.push(line) }),
  });
  instances.push(requests);
  return requests;
}

beforeEach(async () => {
  store = new SqliteStore(':memory:', { now: () => clock.now });
  await store.migrate();
  logs.length = 0;
});
afterEach(async () => {
  for (const r of instances.splice(0)) {
    r.executor.stopTimers();
    await r.executor.idle();
  }
  await store.close();
});

const until = async (check: () => boolean) => {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
};

it('a holder that stalled past its lease is fenced off: its late outcome is refused and logged', async () => {
  const stalled = new HeldDeleter();
  const live = new HeldDeleter();
  const a = instance(stalled);
  const b = instance(live);
  const created = await a.commands.create({ userId: REQUESTER, ...where }, CUSTOMER, 'closing');
  if (!created.ok) throw new Error(created.refusal.kind);
  const id = created.value.id;
  expect((await a.decisions.approve(id, { userId: APPROVER, ...where })).ok).toBe(true);
  await until(() => stalled.calls.length === 1); // a's DELETE is out, and a stops renewing (it stalls)

  clock.now += LEASE_MS + 1; // the lease runs out on the store's clock
  const recovering = b.executor.recover((await store.getRequest(id)) ?? created.value);
  await until(() => live.calls.length === 1);
  live.calls[0]?.answer({ ok: true, status: 200, attempts: 1, message: 'Customer deleted' });
  await recovering;
  expect(await store.getRequest(id)).toMatchObject({ state: 'succeeded', deleteStarts: 2 });

  // a wakes up with an answer of its own: refused, the recorded outcome stands.
  stalled.calls[0]?.answer({ ok: false, kind: 'not_found', status: 404, attempts: 1, message: 'Customer not found' });
  await a.executor.idle();
  expect(await store.getRequest(id)).toMatchObject({
    state: 'succeeded',
    outcome: { kind: 'deleted', message: 'Customer deleted' },
  });
  expect(logs.some((l) => l.includes('outcome not recorded: this execution was taken over'))).toBe(true);
  expect((await store.listEvents(id)).filter((e) => e.kind === 'deleted' || e.kind === 'failed')).toHaveLength(1);
});

it(`a take-over after ${MAX_DELETE_STARTS} starts sends nothing more: the request is recorded as uncertain`, async () => {
  const deleter = new HeldDeleter();
  const b = instance(deleter);
  const created = await b.commands.create({ userId: REQUESTER, ...where }, CUSTOMER, 'closing');
  if (!created.ok) throw new Error(created.refusal.kind);
  const id = created.value.id;
  // Three instances claimed it and died waiting for BotPenguin, one after the other.
  await store.addApproval(id, anApproval(APPROVER, clock.now));
  await store.claimExecution(id, {
    now: clock.now,
    leaseMs: LEASE_MS,
    dayStart: 0,
    maxPerDay: 50,
    dryRun: false,
    drop: null,
    sent: { kind: 'delete_sent', actorId: null, detail: 'start 1', at: clock.now },
  });
  for (let seen = 1; seen < MAX_DELETE_STARTS; seen++) {
    clock.now += LEASE_MS + 1;
    expect(
      await store.takeOverExecution(id, { now: clock.now, leaseMs: LEASE_MS, seenToken: seen, sent: null }),
    ).not.toBeNull();
  }
  clock.now += LEASE_MS + 1;
  const stale = await store.listForSweep({ kind: 'stale', limit: 10 });
  expect(stale.map((r) => [r.id, r.deleteStarts])).toEqual([[id, MAX_DELETE_STARTS]]);

  await b.executor.recover(stale[0] ?? created.value);
  expect(deleter.calls).toEqual([]);
  expect(await store.getRequest(id)).toMatchObject({
    state: 'uncertain',
    outcome: { ok: false, kind: 'uncertain', said: 'bot' },
    leaseUntil: null,
  });
  expect((await store.listEvents(id)).at(-1)).toMatchObject({ kind: 'uncertain', actorId: null });
  // Still holding the customer.
  const again = await b.commands.create({ userId: REQUESTER, ...where }, CUSTOMER, 'again');
  expect(!again.ok && again.refusal.kind).toBe('already_open');
});

/** BotPenguin's customer list: each page waits until the test answers it. */
class HeldLister implements CustomerLister {
  readonly calls: { page: number; answer(result: ListResult): void }[] = [];
  listCustomers(page: number): Promise<ListResult> {
    return new Promise((resolve) => this.calls.push({ page, answer: resolve }));
  }
}

it('a holder that stalled before sending (in the look before the DELETE) and was taken over sends nothing', async () => {
  const lister = new HeldLister();
  const stalled = new HeldDeleter();
  const live = new HeldDeleter();
  const previewer = new Previewer(lister, { maxPages: 1, budgetMs: 600_000, cacheMs: 0, now: () => clock.now });
  const a = instance(stalled, previewer);
  const b = instance(live);
  const created = await a.commands.create({ userId: REQUESTER, ...where }, CUSTOMER, 'closing');
  if (!created.ok) throw new Error(created.refusal.kind);
  const id = created.value.id;
  const shown = { id: CUSTOMER, name: 'Acme', email: 'ops@acme.test', status: 'active' };
  await until(() => lister.calls.length === 1); // the preview's page walk
  lister.calls[0]?.answer({ ok: true, customers: [shown] });
  for (let i = 0; i < 50 && (await store.getRequest(id))?.preview?.status !== 'found'; i++) {
    await new Promise((r) => setTimeout(r, 5));
  }
  expect((await store.getRequest(id))?.preview?.status).toBe('found');
  expect((await a.decisions.approve(id, { userId: APPROVER, ...where })).ok).toBe(true);
  await until(() => lister.calls.length === 2); // a's fresh look before its DELETE: a stalls here

  clock.now += LEASE_MS + 1;
  const recovering = b.executor.recover((await store.getRequest(id)) ?? created.value);
  await until(() => live.calls.length === 1);
  live.calls[0]?.answer({ ok: true, status: 200, attempts: 1, message: 'Customer deleted' });
  await recovering;

  lister.calls[1]?.answer({ ok: true, customers: [shown] }); // a wakes up: the customer looks the same
  await a.executor.idle();
  expect(stalled.calls).toHaveLength(0);
  expect(logs.some((l) => l.includes('not sending the DELETE: this execution was taken over'))).toBe(true);
  expect(await store.getRequest(id)).toMatchObject({ state: 'succeeded', deleteStarts: 2 });
});

/** BotPenguin's customer list with one customer, answered at once. */
class OneCustomer implements CustomerLister {
  constructor(public customer: { id: string; name: string; email: string; status: string }) {}
  async listCustomers(): Promise<ListResult> {
    return { ok: true, customers: [this.customer] };
  }
}

describe('a DELETE re-sent after a crash, once the name and email were erased', () => {
  const listed = { id: CUSTOMER, name: 'Acme Erasable', email: 'ops@erasable.test', status: 'active' };

  async function sentThenCrashed(): Promise<{ id: string; crashed: HeldDeleter }> {
    const crashed = new HeldDeleter();
    const previewer = new Previewer(new OneCustomer(listed), {
      maxPages: 1,
      budgetMs: 5_000,
      cacheMs: 0,
      now: () => clock.now,
    });
    const a = instance(crashed, previewer);
    const created = await a.commands.create({ userId: REQUESTER, ...where }, CUSTOMER, 'closing');
    if (!created.ok) throw new Error(created.refusal.kind);
    const id = created.value.id;
    for (let i = 0; i < 50 && (await store.getRequest(id))?.preview?.status !== 'found'; i++) {
      await new Promise((r) => setTimeout(r, 5));
    }
    expect((await a.decisions.approve(id, { userId: APPROVER, ...where })).ok).toBe(true);
    await until(() => crashed.calls.length === 1); // sent, never answered: the instance "died" here
    const erased = (await store.getRequest(id))?.preview;
    expect(erased).toEqual({ status: 'erased', fingerprint: expect.any(String) });
    expect(JSON.stringify(erased)).not.toMatch(/Acme|erasable/);
    clock.now += LEASE_MS + 1;
    return { id, crashed };
  }

  it('is not sent when the customer found again has another name (compared against the fingerprint)', async () => {
    const { id, crashed } = await sentThenCrashed();
    const live = new HeldDeleter();
    const renamed = new OneCustomer({ ...listed, name: 'Somebody Else' });
    const b = instance(
      live,
      new Previewer(renamed, { maxPages: 1, budgetMs: 5_000, cacheMs: 0, now: () => clock.now }),
    );
    await b.executor.recover((await store.getRequest(id)) ?? (null as never));
    expect(live.calls).toHaveLength(0);
    expect(await store.getRequest(id)).toMatchObject({
      state: 'failed',
      outcome: { kind: 'customer_changed' },
      preview: { status: 'erased' },
    });
    expect((await store.getRequest(id))?.preview?.fingerprint).toBeUndefined();
    crashed.calls[0]?.answer({ ok: true, status: 200, attempts: 1, message: 'late' }); // fenced off: refused
  });

  it('is sent again when the customer found again is the one shown', async () => {
    const { id, crashed } = await sentThenCrashed();
    const live = new HeldDeleter();
    const b = instance(
      live,
      new Previewer(new OneCustomer(listed), { maxPages: 1, budgetMs: 5_000, cacheMs: 0, now: () => clock.now }),
    );
    const recovering = b.executor.recover((await store.getRequest(id)) ?? (null as never));
    await until(() => live.calls.length === 1);
    live.calls[0]?.answer({ ok: true, status: 200, attempts: 1, message: 'Customer deleted' });
    await recovering;
    expect(await store.getRequest(id)).toMatchObject({ state: 'succeeded', preview: { status: 'erased' } });
    crashed.calls[0]?.answer({ ok: true, status: 200, attempts: 1, message: 'late' }); // fenced off: refused
  });
});
