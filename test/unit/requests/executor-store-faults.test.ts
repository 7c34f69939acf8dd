// The look before a DELETE attempt (still ours? paused?) when the store fails for a while, as a failover cuts
// its connections (docs/DESIGN.md §6): a read that fails once is asked again and the DELETE goes out once;
// a store that keeps failing holds the DELETE (nothing is sent while the pause can't be read), the request
// goes back to approved with a trail entry that says why without claiming a pause, and once the store
// answers the sweeper's run sends it exactly once. The erasure of the customer's details before the DELETE,
// cut once, is tried again rather than costing a start. Real SQLite store behind a switch; only BotPenguin's
// DELETE and the clock are fakes.
import { createLogger } from '../../../src/logger';
import { createRequests } from '../../../src/requests';
import { SqliteStore } from '../../../src/store/dialects/sqlite';
import { switchable } from '../../helpers/switchable-store';
import { APPROVER, actor, CUSTOMER, FakeDeleter, REQUESTER, START, testPolicy } from './world';

let real: SqliteStore;
const logs: string[] = [];

beforeEach(async () => {
  real = new SqliteStore(':memory:', { now: () => START });
  await real.migrate();
  logs.length = 0;
});

async function pendingRequest() {
  const { store, state } = switchable(real);
  const deleter = new FakeDeleter();
  const requests = createRequests({
    store,
    policy: testPolicy({}),
    directory: { usergroupMembers: async () => new Set<string>() },
    deleter,
    previewer: null,
    now: () => START,
    leaseMs: 60_000,
    hearsSlack: () => true,
    onChange: () => {},
    logger: createLogger({ level: 'debug', secrets: [], write: (line) => logs.push(line) }),
  });
  const created = await requests.commands.create(actor(REQUESTER), CUSTOMER, 'customer asked to close the account');
  if (!created.ok) throw new Error(created.refusal.kind);
  return { requests, deleter, state, id: created.value.id };
}

afterEach(async () => {
  await real.close();
});

it('a pause read cut once before the attempt is asked again: the DELETE goes out once and is recorded', async () => {
  const { requests, deleter, state, id } = await pendingRequest();
  let cut = 0;
  state.failing = (method) => method === 'getPause' && cut++ === 0 && state.calls.includes('renewLease');
  expect((await requests.decisions.approve(id, actor(APPROVER))).ok).toBe(true);
  await requests.executor.idle();

  expect(cut).toBeGreaterThan(1);
  expect(deleter.calls).toEqual([CUSTOMER]);
  expect(await real.getRequest(id)).toMatchObject({ state: 'succeeded', deleteStarts: 1 });
  expect(logs.some((l) => l.includes('could not check the pause before a DELETE attempt; checking again'))).toBe(true);
  expect(logs.some((l) => l.includes('holding it'))).toBe(false);
  requests.executor.stopTimers();
});

it('a pause that cannot be read holds the DELETE: back to approved, the trail says why, sent once the store answers', async () => {
  const { requests, deleter, state, id } = await pendingRequest();
  // Everything works but the pause read, as long as the switch is on.
  state.failing = 'getPause';
  // The claim reads the pause in its own transaction (not through getPause), so the request is claimed and
  // only the executor's look before the attempt fails.
  expect((await requests.decisions.approve(id, actor(APPROVER))).ok).toBe(true);
  await requests.executor.idle();

  expect(deleter.calls).toEqual([]);
  expect(await real.getRequest(id)).toMatchObject({ state: 'approved', leaseUntil: null, outcome: null });
  expect(logs.filter((l) => l.includes('could not check the pause before a DELETE attempt'))).toHaveLength(3);
  const held = (await real.listEvents(id)).at(-1);
  expect(held).toMatchObject({ kind: 'paused', actorId: null });
  expect(held?.detail).toContain('could not check whether DELETEs are paused');
  expect(held?.detail).not.toContain('until DELETEs are resumed');
  expect(await real.getPause()).toBeNull();

  // The store answers again: the sweeper's next run of the due request sends it, once.
  state.failing = null;
  await requests.executor.run(id);
  await requests.executor.idle();
  expect(deleter.calls).toEqual([CUSTOMER]);
  expect(await real.getRequest(id)).toMatchObject({ state: 'succeeded' });
  requests.executor.stopTimers();
});

it('the erasure before the DELETE, cut once, is tried again: one start, the details gone, the DELETE sent', async () => {
  const { requests, deleter, state, id } = await pendingRequest();
  const shown = { status: 'found' as const, name: 'Ada Lovelace', email: 'ada@example.com' };
  expect(await real.setPreview(id, shown, ['pending'])).toBe(true);
  let cut = 0;
  state.failing = (method) => method === 'setPreview' && cut++ === 0;
  expect((await requests.decisions.approve(id, actor(APPROVER))).ok).toBe(true);
  await requests.executor.idle();

  expect(cut).toBeGreaterThan(1);
  expect(deleter.calls).toEqual([CUSTOMER]);
  const stored = await real.getRequest(id);
  expect(stored).toMatchObject({ state: 'succeeded', deleteStarts: 1, preview: { status: 'erased' } });
  expect(JSON.stringify(stored)).not.toContain('ada@example.com');
  expect(logs.some((l) => l.includes('could not record the erasure; will try again'))).toBe(true);
  requests.executor.stopTimers();
});
