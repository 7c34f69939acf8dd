// The rules of a deletion request (docs/DESIGN.md §4, §5), with the real SQLite store, policy and executor: the
// world the tests of test/unit/requests/ act in. Only the edges are fakes: Slack's user group directory,
// BotPenguin's DELETE and the clock. Importing this registers the afterEach that closes every world.
import type { Policy } from '../../../src/config';
import { silentLogger } from '../../../src/logger';
import { createRequests, type Requests } from '../../../src/requests';
import type { Executor } from '../../../src/requests/executor';
import type { AttemptGate, DeleteResult, Directory } from '../../../src/requests/ports';
import type { Refusal, Result } from '../../../src/requests/refusals';
import type { Actor, DeletionRequest } from '../../../src/requests/types';
import { SqliteStore } from '../../../src/store/dialects/sqlite';
import { testPolicy as basePolicy } from '../../helpers/policy';

export const TEAM = 'T0TEAM';
export const CHANNEL = 'C0OPS';
export const OTHER_CHANNEL = 'C0RANDOM';
export const CUSTOMER = '64b7f0c2e4b0a1b2c3d4e5f6';
export const CUSTOMER_2 = '64b7f0c2e4b0a1b2c3d4e5f7';
export const REQUESTER = 'U0REQUESTER';
export const APPROVER = 'U0APPROVER1';
export const APPROVER_2 = 'U0APPROVER2';
export const GROUP_MEMBER = 'U0GROUPMEMBER';
export const OUTSIDER = 'U0OUTSIDER';
export const APPROVER_GROUP = 'S0APPROVERS';
export const REQUESTER_GROUP = 'S0SUPPORT';

export const HOUR = 3_600_000;
// A fixed past moment, mid-day UTC.
export const START = Date.UTC(2025, 0, 15, 12, 0, 0);

export const actor = (userId: string, where: Partial<Actor> = {}): Actor => ({
  userId,
  teamId: TEAM,
  channelId: CHANNEL,
  ...where,
});

/** Slack's user group membership, scripted; a group in `failing` cannot be read. */
export class FakeDirectory implements Directory {
  readonly groups = new Map<string, Set<string>>();
  readonly failing = new Set<string>();
  async usergroupMembers(groupId: string): Promise<ReadonlySet<string>> {
    if (this.failing.has(groupId)) throw new Error(`usergroups.users.list failed for ${groupId}`);
    return this.groups.get(groupId) ?? new Set();
  }
}

export const DELETED: DeleteResult = { ok: true, status: 200, attempts: 1, message: 'Customer deleted successfully' };

/** BotPenguin's DELETE: one attempt, if the executor's gate lets it through; records it and answers from a script (then DELETED). */
export class FakeDeleter {
  readonly calls: string[] = [];
  readonly script: DeleteResult[] = [];
  async deleteCustomer(customerId: string, mayAttempt: AttemptGate): Promise<DeleteResult> {
    if (!(await mayAttempt(1))) return { ok: false, kind: 'held', attempts: 0, message: 'held before attempt 1' };
    this.calls.push(customerId);
    await new Promise((resolve) => setImmediate(resolve)); // answer later, like a real call
    return this.script.shift() ?? DELETED;
  }
}

export function testPolicy(overrides: Partial<Policy>): Policy {
  return basePolicy({ approverUserIds: [APPROVER, APPROVER_2], ...overrides });
}

export interface World {
  requests: Requests;
  store: SqliteStore;
  executor: Executor;
  deleter: FakeDeleter;
  directory: FakeDirectory;
  /** Request ids passed to onChange, in order. */
  changes: string[];
  clock: { now: number };
  /** Whether Slack can reach the bot (hearsSlack); a test sets it false to drop the socket. */
  slack: { hears: boolean };
}

const open: World[] = [];

export async function world(overrides: Partial<Policy> = {}): Promise<World> {
  const policy = testPolicy(overrides);
  const clock = { now: START };
  const now = () => clock.now;
  // The store's clock (lease and due times) is the same fake one.
  const store = new SqliteStore(':memory:', { now });
  await store.migrate();
  const directory = new FakeDirectory();
  const deleter = new FakeDeleter();
  // Whether Slack can reach the bot (in Socket Mode: the socket is connected); a test drops it.
  const slack = { hears: true };
  const changes: string[] = [];
  const onChange = (id: string) => {
    changes.push(id);
  };
  const requests = createRequests({
    store,
    policy,
    directory,
    deleter,
    previewer: null,
    now,
    leaseMs: 60_000,
    hearsSlack: () => slack.hears,
    onChange,
    logger: silentLogger,
  });
  const { executor } = requests;
  const w = { requests, store, executor, deleter, directory, changes, clock, slack };
  open.push(w);
  return w;
}

afterEach(async () => {
  for (const w of open.splice(0)) {
    w.executor.stopTimers();
    await w.executor.idle();
    await w.store.close();
  }
});

export function value<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`expected success, got refusal ${JSON.stringify(result.refusal.kind)}`);
  return result.value;
}

export function refusal<T>(result: Result<T>): Refusal {
  if (result.ok) throw new Error('expected a refusal, got success');
  return result.refusal;
}

export async function create(
  w: World,
  customerId = CUSTOMER,
  who = REQUESTER,
  reason = 'customer asked to close the account',
) {
  return value(await w.requests.commands.create(actor(who), customerId, reason));
}

export async function stateOf(w: World, id: string): Promise<DeletionRequest> {
  const request = await w.store.getRequest(id);
  if (!request) throw new Error(`request ${id} not found`);
  return request;
}

/** A refused action changes nothing: same stored request, no onChange, no DELETE. */
export async function expectUnchanged(w: World, before: DeletionRequest, act: () => Promise<Result<unknown>>) {
  const changes = w.changes.length;
  const calls = w.deleter.calls.length;
  const result = await act();
  await w.executor.idle();
  expect(result.ok).toBe(false);
  expect(await stateOf(w, before.id)).toEqual(before);
  expect(w.changes).toHaveLength(changes);
  expect(w.deleter.calls).toHaveLength(calls);
  return refusal(result);
}

/** Another instance on the same store, started with other settings (as after a restart with a new config). */
export async function instance(
  w: World,
  overrides: Partial<Policy>,
  onPause: (change: unknown) => void = () => undefined,
) {
  const requests = createRequests({
    store: w.store,
    policy: testPolicy(overrides),
    directory: w.directory,
    deleter: w.deleter,
    previewer: null,
    now: () => w.clock.now,
    leaseMs: 60_000,
    hearsSlack: () => w.slack.hears,
    onChange: (id) => {
      w.changes.push(id);
    },
    onPause,
    logger: silentLogger,
  });
  later.push(requests.executor);
  return requests;
}
const later: Executor[] = [];
afterEach(async () => {
  for (const executor of later.splice(0)) {
    executor.stopTimers();
    await executor.idle();
  }
});
