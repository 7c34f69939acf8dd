// The rules of a deletion request (docs/DESIGN.md §4, §5), with the real SQLite store, policy and executor.
// Only the edges are fakes: Slack's user group directory, BotPenguin's DELETE and the clock.
import type { Policy } from '../../../src/config';
import { silentLogger } from '../../../src/logger';
import { createRequests, type Requests } from '../../../src/requests';
import type { Executor } from '../../../src/requests/executor';
import type { DeleteResult, Directory } from '../../../src/requests/ports';
import type { Refusal, Result } from '../../../src/requests/refusals';
import type { Actor, DeletionRequest } from '../../../src/requests/types';
import { SqliteStore } from '../../../src/store/dialects/sqlite';
import { testPolicy as basePolicy } from '../../helpers/policy';

const TEAM = 'T0TEAM';
const CHANNEL = 'C0OPS';
const OTHER_CHANNEL = 'C0RANDOM';
const CUSTOMER = '64b7f0c2e4b0a1b2c3d4e5f6';
const CUSTOMER_2 = '64b7f0c2e4b0a1b2c3d4e5f7';
const REQUESTER = 'U0REQUESTER';
const APPROVER = 'U0APPROVER1';
const APPROVER_2 = 'U0APPROVER2';
const GROUP_MEMBER = 'U0GROUPMEMBER';
const OUTSIDER = 'U0OUTSIDER';
const APPROVER_GROUP = 'S0APPROVERS';
const REQUESTER_GROUP = 'S0SUPPORT';

const HOUR = 3_600_000;
// A fixed past moment, mid-day UTC.
const START = Date.UTC(2025, 0, 15, 12, 0, 0);

const actor = (userId: string, where: Partial<Actor> = {}): Actor => ({
  userId,
  teamId: TEAM,
  channelId: CHANNEL,
  ...where,
});

/** Slack's user group membership, scripted; a group in `failing` cannot be read. */
class FakeDirectory implements Directory {
  readonly groups = new Map<string, Set<string>>();
  readonly failing = new Set<string>();
  async usergroupMembers(groupId: string): Promise<ReadonlySet<string>> {
    if (this.failing.has(groupId)) throw new Error(`usergroups.users.list failed for ${groupId}`);
    return this.groups.get(groupId) ?? new Set();
  }
}

const DELETED: DeleteResult = { ok: true, status: 200, attempts: 1, message: 'Customer deleted successfully' };

/** BotPenguin's DELETE: records every call and answers from a script (then DELETED). */
class FakeDeleter {
  readonly calls: string[] = [];
  readonly script: DeleteResult[] = [];
  async deleteCustomer(customerId: string): Promise<DeleteResult> {
    this.calls.push(customerId);
    await new Promise((resolve) => setImmediate(resolve)); // answer later, like a real call
    return this.script.shift() ?? DELETED;
  }
}

function testPolicy(overrides: Partial<Policy>): Policy {
  return basePolicy({ approverUserIds: [APPROVER, APPROVER_2], ...overrides });
}

interface World {
  requests: Requests;
  store: SqliteStore;
  executor: Executor;
  deleter: FakeDeleter;
  directory: FakeDirectory;
  /** Request ids passed to onChange, in order. */
  changes: string[];
  clock: { now: number };
}

const open: World[] = [];

async function world(overrides: Partial<Policy> = {}): Promise<World> {
  const policy = testPolicy(overrides);
  const clock = { now: START };
  const now = () => clock.now;
  // The store's clock (lease and due times) is the same fake one.
  const store = new SqliteStore(':memory:', { now });
  await store.migrate();
  const directory = new FakeDirectory();
  const deleter = new FakeDeleter();
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
    onChange,
    logger: silentLogger,
  });
  const { executor } = requests;
  const w = { requests, store, executor, deleter, directory, changes, clock };
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

function value<T>(result: Result<T>): T {
  if (!result.ok) throw new Error(`expected success, got refusal ${JSON.stringify(result.refusal.kind)}`);
  return result.value;
}

function refusal<T>(result: Result<T>): Refusal {
  if (result.ok) throw new Error('expected a refusal, got success');
  return result.refusal;
}

async function create(
  w: World,
  customerId = CUSTOMER,
  who = REQUESTER,
  reason = 'customer asked to close the account',
) {
  return value(await w.requests.commands.create(actor(who), customerId, reason));
}

async function stateOf(w: World, id: string): Promise<DeletionRequest> {
  const request = await w.store.getRequest(id);
  if (!request) throw new Error(`request ${id} not found`);
  return request;
}

/** A refused action changes nothing: same stored request, no onChange, no DELETE. */
async function expectUnchanged(w: World, before: DeletionRequest, act: () => Promise<Result<unknown>>) {
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

describe('asking for a deletion', () => {
  it('creates a pending request with its facts, and reports the change', async () => {
    const w = await world({ approvalsRequired: 2, requestTtlMs: 2 * HOUR });
    const request = await create(w, CUSTOMER, REQUESTER, 'GDPR erasure\nticket 42');
    expect(request).toMatchObject({
      teamId: TEAM,
      channelId: CHANNEL,
      customerId: CUSTOMER,
      reason: 'GDPR erasure\nticket 42',
      requesterId: REQUESTER,
      state: 'pending',
      approvalsRequired: 2,
      approvals: [],
      createdAt: START,
      expiresAt: START + 2 * HOUR,
      executeAt: null,
      dryRun: false,
    });
    expect(await stateOf(w, request.id)).toEqual(request);
    expect(w.changes).toEqual([request.id]);
    expect((await w.store.listEvents(request.id)).map((e) => [e.kind, e.actorId])).toEqual([['requested', REQUESTER]]);
  });

  it('through the slash command text, the first word is the id and the rest the reason', async () => {
    const w = await world();
    const result = await w.requests.commands.command(actor(REQUESTER), `  ${CUSTOMER}   closing   account `);
    expect(result.kind).toBe('created');
    if (result.kind !== 'created') return;
    expect(result.request).toMatchObject({ customerId: CUSTOMER, reason: 'closing   account' });
  });

  it('in a channel that is not allowed is refused, and the refusal lists the allowed channels', async () => {
    const w = await world({ allowedChannelIds: ['C0ALLOWED1', 'G0ALLOWED2'] });
    const result = await w.requests.commands.create(actor(REQUESTER, { channelId: OTHER_CHANNEL }), CUSTOMER, 'x');
    expect(refusal(result)).toEqual({ kind: 'channel_not_allowed', allowedChannelIds: ['C0ALLOWED1', 'G0ALLOWED2'] });
    expect(await w.store.listRequests({ limit: 10 })).toEqual([]);
    expect(w.changes).toEqual([]);
    // …and works in a listed channel.
    value(await w.requests.commands.create(actor(REQUESTER, { channelId: 'G0ALLOWED2' }), CUSTOMER, 'x'));
  });

  it.each([
    ['too short', CUSTOMER.slice(2)],
    ['not hex', 'not-a-customer-id'],
    ['with a mention', '<!channel>'],
  ])('with an invalid customer id (%s) is refused', async (_what, id) => {
    const w = await world();
    expect(refusal(await w.requests.commands.create(actor(REQUESTER), id, 'x'))).toMatchObject({
      kind: 'invalid_customer_id',
      given: id,
      pattern: '^[0-9a-fA-F]{24}$',
    });
    expect(await w.store.listRequests({ limit: 10 })).toEqual([]);
    expect(w.changes).toEqual([]);
  });

  it('by someone who is not an allowed requester is refused', async () => {
    const w = await world({ requesterUserIds: [REQUESTER] });
    expect(refusal(await w.requests.commands.create(actor(OUTSIDER), CUSTOMER, 'x'))).toEqual({
      kind: 'requester_not_allowed',
    });
    expect(w.changes).toEqual([]);
    value(await w.requests.commands.create(actor(REQUESTER), CUSTOMER, 'x'));
  });

  it('by a member of an allowed requester group is accepted', async () => {
    const w = await world({ requesterUsergroupIds: [REQUESTER_GROUP] });
    w.directory.groups.set(REQUESTER_GROUP, new Set([GROUP_MEMBER]));
    value(await w.requests.commands.create(actor(GROUP_MEMBER), CUSTOMER, 'x'));
    expect(refusal(await w.requests.commands.create(actor(OUTSIDER), CUSTOMER_2, 'x'))).toEqual({
      kind: 'requester_not_allowed',
    });
  });

  it('when the requester group cannot be read, it is refused (fail closed)', async () => {
    const w = await world({ requesterUsergroupIds: [REQUESTER_GROUP] });
    w.directory.failing.add(REQUESTER_GROUP);
    expect(refusal(await w.requests.commands.create(actor(GROUP_MEMBER), CUSTOMER, 'x'))).toEqual({
      kind: 'directory_unavailable',
    });
    expect(await w.store.listRequests({ limit: 10 })).toEqual([]);
    expect(w.changes).toEqual([]);
  });

  it('beyond the open requests one person may have is refused; others may still ask; a closed one frees a place', async () => {
    const w = await world({ maxPendingPerRequester: 2 });
    const first = await create(w, '000000000000000000000001');
    await create(w, '000000000000000000000002');
    const changes = w.changes.length;
    expect(refusal(await w.requests.commands.create(actor(REQUESTER), '000000000000000000000003', 'x'))).toEqual({
      kind: 'too_many_pending',
      max: 2,
    });
    expect(w.changes).toHaveLength(changes);
    value(await w.requests.commands.create(actor(OUTSIDER), '000000000000000000000003', 'x'));
    value(await w.requests.decisions.cancel(first.id, actor(REQUESTER), 'button'));
    value(await w.requests.commands.create(actor(REQUESTER), '000000000000000000000004', 'x'));
  });

  it('a second open request for the same customer is refused and points to the first', async () => {
    const w = await world();
    const first = await create(w);
    const changes = w.changes.length;
    for (const [who, id] of [
      [REQUESTER, CUSTOMER],
      [OUTSIDER, CUSTOMER],
      [OUTSIDER, CUSTOMER.toUpperCase()],
    ] as const) {
      const r = refusal(await w.requests.commands.create(actor(who), id, 'again'));
      expect(r.kind).toBe('already_open');
      if (r.kind === 'already_open') expect(r.existing.id).toBe(first.id);
    }
    expect(w.changes).toHaveLength(changes);
    expect(await w.store.listRequests({ limit: 10 })).toHaveLength(1);
  });

  it('once the first request is decided, the customer may be asked for again', async () => {
    const w = await world();
    const first = await create(w);
    value(await w.requests.decisions.deny(first.id, actor(APPROVER), 'not yet', 'button'));
    const second = await create(w);
    expect(second.id).not.toBe(first.id);
  });
});

describe('approving', () => {
  it('an approver approves: the DELETE is sent once with the customer id and the request ends succeeded', async () => {
    const w = await world();
    const request = await create(w);
    const approved = value(await w.requests.decisions.approve(request.id, actor(APPROVER)));
    expect(approved.state).toBe('approved');
    expect(approved.approvals).toEqual([{ userId: APPROVER, at: START }]);
    await w.executor.idle();
    expect(w.deleter.calls).toEqual([CUSTOMER]);
    const done = await stateOf(w, request.id);
    expect(done.state).toBe('succeeded');
    expect(done.outcome).toMatchObject({
      ok: true,
      kind: 'deleted',
      httpStatus: 200,
      message: 'Customer deleted successfully',
    });
    expect(done.finishedAt).toBe(START);
    expect((await w.store.listEvents(request.id)).map((e) => e.kind)).toEqual(['requested', 'approved', 'deleted']);
  });

  it('BotPenguin answering success:false ends the request failed, with BotPenguin’s message', async () => {
    const w = await world();
    w.deleter.script.push({
      ok: false,
      kind: 'rejected',
      status: 400,
      attempts: 1,
      message: 'Customer has active subscription',
    });
    const request = await create(w);
    value(await w.requests.decisions.approve(request.id, actor(APPROVER)));
    await w.executor.idle();
    expect(w.deleter.calls).toEqual([CUSTOMER]);
    const done = await stateOf(w, request.id);
    expect(done.state).toBe('failed');
    expect(done.outcome).toMatchObject({
      ok: false,
      kind: 'rejected',
      httpStatus: 400,
      message: 'Customer has active subscription',
    });
    expect((await w.store.listEvents(request.id)).map((e) => e.kind)).toContain('failed');
    // A failed request is decided: no second DELETE from another click.
    expect(refusal(await w.requests.decisions.approve(request.id, actor(APPROVER_2))).kind).toBe('decided');
    await w.executor.idle();
    expect(w.deleter.calls).toHaveLength(1);
  });

  it('the requester cannot approve their own request, even when they are an approver', async () => {
    const w = await world();
    const request = value(await w.requests.commands.create(actor(APPROVER), CUSTOMER, 'mine'));
    expect(await expectUnchanged(w, request, () => w.requests.decisions.approve(request.id, actor(APPROVER)))).toEqual({
      kind: 'self_approval',
    });
  });

  it('someone who is not an approver is refused', async () => {
    const w = await world();
    const request = await create(w);
    expect(await expectUnchanged(w, request, () => w.requests.decisions.approve(request.id, actor(OUTSIDER)))).toEqual({
      kind: 'not_approver',
    });
  });

  it('a member of an approver user group may approve', async () => {
    const w = await world({ approverUserIds: [], approverUsergroupIds: [APPROVER_GROUP] });
    w.directory.groups.set(APPROVER_GROUP, new Set([GROUP_MEMBER]));
    const request = await create(w);
    expect(value(await w.requests.decisions.approve(request.id, actor(GROUP_MEMBER))).state).toBe('approved');
    await w.executor.idle();
    expect(w.deleter.calls).toEqual([CUSTOMER]);
  });

  it('when the approver group cannot be read, a group member is refused (fail closed)', async () => {
    const w = await world({ approverUserIds: [], approverUsergroupIds: [APPROVER_GROUP] });
    w.directory.groups.set(APPROVER_GROUP, new Set([GROUP_MEMBER]));
    w.directory.failing.add(APPROVER_GROUP);
    const request = await create(w);
    expect(
      await expectUnchanged(w, request, () => w.requests.decisions.approve(request.id, actor(GROUP_MEMBER))),
    ).toEqual({
      kind: 'directory_unavailable',
    });
  });

  it('an approver listed by user id still may approve while the group cannot be read', async () => {
    const w = await world({ approverUserIds: [APPROVER], approverUsergroupIds: [APPROVER_GROUP] });
    w.directory.failing.add(APPROVER_GROUP);
    const request = await create(w);
    value(await w.requests.decisions.approve(request.id, actor(APPROVER)));
  });

  it('with two approvals required: the first is recorded, the same person again is refused, the second approves', async () => {
    const w = await world({ approvalsRequired: 2 });
    const request = await create(w);

    const first = value(await w.requests.decisions.approve(request.id, actor(APPROVER)));
    expect(first.state).toBe('pending');
    expect(first.approvals.map((a) => a.userId)).toEqual([APPROVER]);
    await w.executor.idle();
    expect(w.deleter.calls).toEqual([]);
    expect(w.changes).toEqual([request.id, request.id]);

    const again = await expectUnchanged(w, first, () => w.requests.decisions.approve(request.id, actor(APPROVER)));
    expect(again).toEqual({ kind: 'already_approved' });

    w.clock.now += 1000;
    const second = value(await w.requests.decisions.approve(request.id, actor(APPROVER_2)));
    expect(second.state).toBe('approved');
    expect(second.approvals.map((a) => a.userId)).toEqual([APPROVER, APPROVER_2]);
    await w.executor.idle();
    expect(w.deleter.calls).toEqual([CUSTOMER]);
    expect((await stateOf(w, request.id)).state).toBe('succeeded');
  });

  it('a request whose time ran out cannot be approved, even before the sweeper marks it', async () => {
    const w = await world({ requestTtlMs: HOUR });
    const request = await create(w);
    w.clock.now = request.expiresAt;
    expect(
      (await expectUnchanged(w, request, () => w.requests.decisions.approve(request.id, actor(APPROVER)))).kind,
    ).toBe('expired');
  });

  it('one millisecond before expiry it still can', async () => {
    const w = await world({ requestTtlMs: HOUR });
    const request = await create(w);
    w.clock.now = request.expiresAt - 1;
    value(await w.requests.decisions.approve(request.id, actor(APPROVER)));
  });

  it('a request already decided cannot be approved', async () => {
    const w = await world();
    const request = await create(w);
    const cancelled = value(await w.requests.decisions.cancel(request.id, actor(REQUESTER), 'button'));
    const r = await expectUnchanged(w, cancelled, () => w.requests.decisions.approve(request.id, actor(APPROVER)));
    expect(r.kind).toBe('decided');
    if (r.kind === 'decided') expect(r.request.state).toBe('cancelled');
  });

  it.each(['R0000000000', 'RZZZZZZZZZ', 'not-an-id', ''])('an unknown request id (%p) is refused', async (id) => {
    const w = await world();
    await create(w);
    expect(refusal(await w.requests.decisions.approve(id, actor(APPROVER)))).toEqual({ kind: 'unknown_request' });
    expect(w.changes).toHaveLength(1);
  });

  it('a click from another channel is refused', async () => {
    const w = await world();
    const request = await create(w);
    expect(
      await expectUnchanged(w, request, () =>
        w.requests.decisions.approve(request.id, actor(APPROVER, { channelId: OTHER_CHANNEL })),
      ),
    ).toEqual({ kind: 'wrong_place' });
  });

  it('a click from another workspace is refused', async () => {
    const w = await world();
    const request = await create(w);
    expect(
      await expectUnchanged(w, request, () =>
        w.requests.decisions.approve(request.id, actor(APPROVER, { teamId: 'T0OTHERTEAM' })),
      ),
    ).toEqual({ kind: 'wrong_place' });
  });

  it('once the daily limit of deletions is reached, approvals are refused and nothing is approved', async () => {
    const w = await world({ maxDeletionsPerDay: 1 });
    const first = await create(w, CUSTOMER);
    value(await w.requests.decisions.approve(first.id, actor(APPROVER)));
    await w.executor.idle();
    expect(w.deleter.calls).toEqual([CUSTOMER]);

    const second = await create(w, CUSTOMER_2);
    const r = await expectUnchanged(w, second, () => w.requests.decisions.approve(second.id, actor(APPROVER)));
    expect(r).toEqual({ kind: 'daily_limit', max: 1, resetsAt: Date.UTC(2025, 0, 16) });
    expect((await stateOf(w, second.id)).approvals).toEqual([]);
    expect(w.deleter.calls).toEqual([CUSTOMER]);
  });

  it('the daily limit counts per UTC day: after midnight UTC approvals work again', async () => {
    const w = await world({ maxDeletionsPerDay: 1 });
    const first = await create(w, CUSTOMER);
    value(await w.requests.decisions.approve(first.id, actor(APPROVER)));
    await w.executor.idle();
    const second = await create(w, CUSTOMER_2);
    expect(refusal(await w.requests.decisions.approve(second.id, actor(APPROVER))).kind).toBe('daily_limit');
    w.clock.now = Date.UTC(2025, 0, 16, 0, 0, 0);
    value(await w.requests.decisions.approve(second.id, actor(APPROVER)));
    await w.executor.idle();
    expect(w.deleter.calls).toEqual([CUSTOMER, CUSTOMER_2]);
  });

  it('a limit of zero deletions a day refuses every approval', async () => {
    const w = await world({ maxDeletionsPerDay: 0 });
    const request = await create(w);
    expect(
      (await expectUnchanged(w, request, () => w.requests.decisions.approve(request.id, actor(APPROVER)))).kind,
    ).toBe('daily_limit');
  });

  it('the daily limit only refuses the approval that would send a DELETE', async () => {
    const w = await world({ maxDeletionsPerDay: 0, approvalsRequired: 2 });
    const request = await create(w);
    expect(value(await w.requests.decisions.approve(request.id, actor(APPROVER))).state).toBe('pending');
    expect(refusal(await w.requests.decisions.approve(request.id, actor(APPROVER_2))).kind).toBe('daily_limit');
    expect((await stateOf(w, request.id)).approvals.map((a) => a.userId)).toEqual([APPROVER]);
  });
});

describe('exactly once: many approve clicks at the same moment', () => {
  it('20 approvers clicking at once (one approval needed) send one DELETE; every other click is refused', async () => {
    const approvers = Array.from({ length: 20 }, (_, i) => `U0APPR${String(i).padStart(2, '0')}`);
    const w = await world({ approverUserIds: approvers });
    const request = await create(w);
    const results = await Promise.all(approvers.map((a) => w.requests.decisions.approve(request.id, actor(a))));
    await w.executor.idle();
    expect(w.deleter.calls).toEqual([CUSTOMER]);
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    for (const r of results.filter((x) => !x.ok)) expect(refusal(r).kind).toBe('decided');
    const done = await stateOf(w, request.id);
    expect(done.state).toBe('succeeded');
    expect(done.approvals).toHaveLength(1);
  });

  it('20 approvers clicking at once with two approvals needed: two approvals, one DELETE', async () => {
    const approvers = Array.from({ length: 20 }, (_, i) => `U0APPR${String(i).padStart(2, '0')}`);
    const w = await world({ approverUserIds: approvers, approvalsRequired: 2 });
    const request = await create(w);
    const results = await Promise.all(approvers.map((a) => w.requests.decisions.approve(request.id, actor(a))));
    await w.executor.idle();
    expect(w.deleter.calls).toEqual([CUSTOMER]);
    expect(results.filter((r) => r.ok)).toHaveLength(2);
    expect((await stateOf(w, request.id)).approvals).toHaveLength(2);
  });

  it('the same approver double-clicking records one approval', async () => {
    const w = await world({ approvalsRequired: 2 });
    const request = await create(w);
    const results = await Promise.all([1, 2, 3].map(() => w.requests.decisions.approve(request.id, actor(APPROVER))));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    const after = await stateOf(w, request.id);
    expect(after.state).toBe('pending');
    expect(after.approvals).toHaveLength(1);
  });

  it('a timer, the sweeper and another instance running the same due request at once send one DELETE', async () => {
    const w = await world({ executionDelayMs: 60_000 });
    const request = await create(w);
    value(await w.requests.decisions.approve(request.id, actor(APPROVER)));
    w.clock.now += 60_000;
    await Promise.all(Array.from({ length: 5 }, () => w.executor.run(request.id)));
    await w.executor.idle();
    expect(w.deleter.calls).toEqual([CUSTOMER]);
    expect((await stateOf(w, request.id)).state).toBe('succeeded');
  });

  it('running the executor again for a finished request sends nothing', async () => {
    const w = await world();
    const request = await create(w);
    value(await w.requests.decisions.approve(request.id, actor(APPROVER)));
    await w.executor.idle();
    await Promise.all([w.executor.run(request.id), w.executor.run(request.id)]);
    expect(w.deleter.calls).toHaveLength(1);
  });
});

describe('denying', () => {
  it('an approver denies with a reason: the request ends denied, the reason is kept, nothing is deleted', async () => {
    const w = await world();
    const request = await create(w);
    w.clock.now += 5000;
    const denied = value(
      await w.requests.decisions.deny(request.id, actor(APPROVER), 'ticket not signed off', 'button'),
    );
    expect(denied).toMatchObject({
      state: 'denied',
      closedBy: APPROVER,
      closeReason: 'ticket not signed off',
      finishedAt: START + 5000,
    });
    expect(await stateOf(w, request.id)).toEqual(denied);
    const events = await w.store.listEvents(request.id);
    expect(events.at(-1)).toMatchObject({ kind: 'denied', actorId: APPROVER, detail: 'ticket not signed off' });
    expect(w.changes).toEqual([request.id, request.id]);
    await w.executor.idle();
    expect(w.deleter.calls).toEqual([]);
  });

  it('without a reason', async () => {
    const w = await world();
    const request = await create(w);
    expect(value(await w.requests.decisions.deny(request.id, actor(APPROVER), null, 'button'))).toMatchObject({
      state: 'denied',
      closeReason: null,
    });
  });

  it('only an approver may deny: the requester and outsiders are refused', async () => {
    const w = await world();
    const request = await create(w);
    expect(
      await expectUnchanged(w, request, () => w.requests.decisions.deny(request.id, actor(REQUESTER), 'no', 'button')),
    ).toEqual({
      kind: 'not_approver',
    });
    expect(
      await expectUnchanged(w, request, () => w.requests.decisions.deny(request.id, actor(OUTSIDER), 'no', 'button')),
    ).toEqual({
      kind: 'not_approver',
    });
    expect(refusal(await w.requests.decisions.checkDeny(request.id, actor(OUTSIDER), 'button'))).toEqual({
      kind: 'not_approver',
    });
    value(await w.requests.decisions.checkDeny(request.id, actor(APPROVER), 'button'));
  });

  it('a denied request cannot then be approved, denied again or cancelled', async () => {
    const w = await world();
    const request = await create(w);
    const denied = value(await w.requests.decisions.deny(request.id, actor(APPROVER), 'no', 'button'));
    expect(
      (await expectUnchanged(w, denied, () => w.requests.decisions.approve(request.id, actor(APPROVER_2)))).kind,
    ).toBe('decided');
    expect(
      (await expectUnchanged(w, denied, () => w.requests.decisions.deny(request.id, actor(APPROVER_2), 'x', 'button')))
        .kind,
    ).toBe('decided');
    expect(
      (await expectUnchanged(w, denied, () => w.requests.decisions.cancel(request.id, actor(REQUESTER), 'button')))
        .kind,
    ).toBe('decided');
  });

  it('an expired request cannot be denied', async () => {
    const w = await world({ requestTtlMs: HOUR });
    const request = await create(w);
    w.clock.now += HOUR;
    expect(
      (
        await expectUnchanged(w, request, () =>
          w.requests.decisions.deny(request.id, actor(APPROVER), 'late', 'button'),
        )
      ).kind,
    ).toBe('expired');
  });

  it('a deny from another channel is refused', async () => {
    const w = await world();
    const request = await create(w);
    expect(
      await expectUnchanged(w, request, () =>
        w.requests.decisions.deny(request.id, actor(APPROVER, { channelId: OTHER_CHANNEL }), 'x', 'button'),
      ),
    ).toEqual({ kind: 'wrong_place' });
  });
});

describe('cancelling', () => {
  it('the requester cancels: the request ends cancelled and nothing is deleted', async () => {
    const w = await world();
    const request = await create(w);
    const cancelled = value(await w.requests.decisions.cancel(request.id, actor(REQUESTER), 'button'));
    expect(cancelled).toMatchObject({ state: 'cancelled', closedBy: REQUESTER });
    expect(w.changes).toEqual([request.id, request.id]);
    expect((await w.store.listEvents(request.id)).at(-1)).toMatchObject({ kind: 'cancelled', actorId: REQUESTER });
    expect(w.deleter.calls).toEqual([]);
  });

  it('nobody else may cancel, approvers included', async () => {
    const w = await world();
    const request = await create(w);
    for (const who of [APPROVER, OUTSIDER]) {
      expect(
        await expectUnchanged(w, request, () => w.requests.decisions.cancel(request.id, actor(who), 'button')),
      ).toEqual({
        kind: 'only_requester_cancels',
      });
    }
  });

  it('an approved request can no longer be cancelled', async () => {
    const w = await world({ executionDelayMs: 60_000 });
    const request = await create(w);
    const approved = value(await w.requests.decisions.approve(request.id, actor(APPROVER)));
    expect(
      (await expectUnchanged(w, approved, () => w.requests.decisions.cancel(request.id, actor(REQUESTER), 'button')))
        .kind,
    ).toBe('decided');
  });
});

describe('aborting during the execution delay', () => {
  const DELAY = 10 * 60_000;

  it('the approval waits for the delay before any DELETE', async () => {
    const w = await world({ executionDelayMs: DELAY });
    const request = await create(w);
    const approved = value(await w.requests.decisions.approve(request.id, actor(APPROVER)));
    expect(approved).toMatchObject({ state: 'approved', executeAt: START + DELAY });
    await w.executor.idle();
    expect(w.deleter.calls).toEqual([]);
    // Run before its time (a sweeper tick, a stray timer): still nothing.
    await w.executor.run(request.id);
    expect(w.deleter.calls).toEqual([]);
    // Once the time has come, the DELETE goes out.
    w.clock.now = START + DELAY;
    await w.executor.run(request.id);
    expect(w.deleter.calls).toEqual([CUSTOMER]);
    expect((await stateOf(w, request.id)).state).toBe('succeeded');
  });

  it.each([
    ['the requester', REQUESTER],
    ['an approver', APPROVER],
    ['the approver who approved', APPROVER_2],
  ])('%s may abort: the request ends aborted and the DELETE is never sent', async (_who, userId) => {
    const w = await world({ executionDelayMs: DELAY });
    const request = await create(w);
    value(await w.requests.decisions.approve(request.id, actor(APPROVER_2)));
    w.clock.now += DELAY / 2;
    const changes = w.changes.length;
    const aborted = value(await w.requests.decisions.abort(request.id, actor(userId)));
    expect(aborted).toMatchObject({ state: 'aborted', closedBy: userId });
    expect(w.changes).toHaveLength(changes + 1);
    w.clock.now = START + DELAY + 1;
    await w.executor.run(request.id);
    expect(w.deleter.calls).toEqual([]);
    expect((await stateOf(w, request.id)).state).toBe('aborted');
  });

  it('an outsider may not abort', async () => {
    const w = await world({ executionDelayMs: DELAY });
    const request = await create(w);
    const approved = value(await w.requests.decisions.approve(request.id, actor(APPROVER)));
    expect(await expectUnchanged(w, approved, () => w.requests.decisions.abort(request.id, actor(OUTSIDER)))).toEqual({
      kind: 'not_allowed_to_abort',
    });
  });

  it('a group approver whose group cannot be read may not abort (fail closed)', async () => {
    const w = await world({ executionDelayMs: DELAY, approverUsergroupIds: [APPROVER_GROUP] });
    w.directory.groups.set(APPROVER_GROUP, new Set([GROUP_MEMBER]));
    const request = await create(w);
    const approved = value(await w.requests.decisions.approve(request.id, actor(APPROVER)));
    w.directory.failing.add(APPROVER_GROUP);
    expect(
      await expectUnchanged(w, approved, () => w.requests.decisions.abort(request.id, actor(GROUP_MEMBER))),
    ).toEqual({
      kind: 'directory_unavailable',
    });
  });

  it('once executeAt has passed, it can no longer be aborted', async () => {
    const w = await world({ executionDelayMs: DELAY });
    const request = await create(w);
    const approved = value(await w.requests.decisions.approve(request.id, actor(APPROVER)));
    w.clock.now = START + DELAY;
    expect(
      (await expectUnchanged(w, approved, () => w.requests.decisions.abort(request.id, actor(REQUESTER)))).kind,
    ).toBe('not_abortable');
  });

  it('a pending request cannot be aborted (it is cancelled or denied instead)', async () => {
    const w = await world({ executionDelayMs: DELAY });
    const request = await create(w);
    expect(
      (await expectUnchanged(w, request, () => w.requests.decisions.abort(request.id, actor(REQUESTER)))).kind,
    ).toBe('not_abortable');
  });

  it('without an execution delay, a finished deletion cannot be aborted', async () => {
    const w = await world();
    const request = await create(w);
    value(await w.requests.decisions.approve(request.id, actor(APPROVER)));
    await w.executor.idle();
    const done = await stateOf(w, request.id);
    expect(done.state).toBe('succeeded');
    expect((await expectUnchanged(w, done, () => w.requests.decisions.abort(request.id, actor(REQUESTER)))).kind).toBe(
      'not_abortable',
    );
  });

  it('an abort from another channel is refused', async () => {
    const w = await world({ executionDelayMs: DELAY });
    const request = await create(w);
    const approved = value(await w.requests.decisions.approve(request.id, actor(APPROVER)));
    expect(
      await expectUnchanged(w, approved, () =>
        w.requests.decisions.abort(request.id, actor(REQUESTER, { channelId: OTHER_CHANNEL })),
      ),
    ).toEqual({ kind: 'wrong_place' });
  });
});

describe('expiring', () => {
  it('a request is expired only once its time has come, and only once', async () => {
    const w = await world({ requestTtlMs: HOUR });
    const request = await create(w);

    w.clock.now = request.expiresAt - 1;
    expect(await w.requests.decisions.expire(request)).toBe(false);
    expect((await stateOf(w, request.id)).state).toBe('pending');
    expect(w.changes).toEqual([request.id]);

    w.clock.now = request.expiresAt;
    expect(await w.requests.decisions.expire(request)).toBe(true);
    const expired = await stateOf(w, request.id);
    expect(expired).toMatchObject({ state: 'expired', finishedAt: request.expiresAt });
    expect(w.changes).toEqual([request.id, request.id]);
    expect((await w.store.listEvents(request.id)).at(-1)).toMatchObject({ kind: 'expired', actorId: null });

    // The sweeper seeing the old copy again changes nothing.
    expect(await w.requests.decisions.expire(request)).toBe(false);
    expect(w.changes).toHaveLength(2);
  });

  it('an expired request cannot be approved', async () => {
    const w = await world({ requestTtlMs: HOUR });
    const request = await create(w);
    w.clock.now = request.expiresAt;
    await w.requests.decisions.expire(request);
    const expired = await stateOf(w, request.id);
    w.clock.now = START; // even with a clock that went back
    expect(
      (await expectUnchanged(w, expired, () => w.requests.decisions.approve(request.id, actor(APPROVER)))).kind,
    ).toBe('expired');
  });

  it('a request decided before its expiry is not expired', async () => {
    const w = await world({ requestTtlMs: HOUR });
    const request = await create(w);
    value(await w.requests.decisions.cancel(request.id, actor(REQUESTER), 'button'));
    w.clock.now = request.expiresAt + 1;
    expect(await w.requests.decisions.expire(request)).toBe(false);
    expect((await stateOf(w, request.id)).state).toBe('cancelled');
  });

  it('after expiry the customer may be asked for again', async () => {
    const w = await world({ requestTtlMs: HOUR });
    const request = await create(w);
    w.clock.now = request.expiresAt;
    await w.requests.decisions.expire(request);
    value(await w.requests.commands.create(actor(REQUESTER), CUSTOMER, 'again'));
  });
});

describe('dry run', () => {
  it('the whole flow runs but no DELETE is sent; the request ends succeeded as a dry run', async () => {
    const w = await world({ dryRun: true });
    const request = await create(w);
    expect(request.dryRun).toBe(true);
    value(await w.requests.decisions.approve(request.id, actor(APPROVER)));
    await w.executor.idle();
    expect(w.deleter.calls).toEqual([]);
    const done = await stateOf(w, request.id);
    expect(done.state).toBe('succeeded');
    expect(done.outcome).toMatchObject({ ok: true, kind: 'dry_run' });
  });

  it('dry runs are not held back by, nor counted in, the daily limit', async () => {
    const w = await world({ dryRun: true, maxDeletionsPerDay: 0 });
    const request = await create(w);
    value(await w.requests.decisions.approve(request.id, actor(APPROVER)));
    await w.executor.idle();
    expect((await stateOf(w, request.id)).outcome?.kind).toBe('dry_run');
    expect(w.deleter.calls).toEqual([]);
  });
});

describe('onChange is called after each change, never after a refusal', () => {
  it('follows a request from creation to its outcome', async () => {
    const w = await world({ approvalsRequired: 2 });
    const request = await create(w);
    expect(w.changes).toEqual([request.id]);
    await w.requests.decisions.approve(request.id, actor(OUTSIDER)); // refused
    await w.requests.decisions.approve(request.id, actor(REQUESTER)); // refused
    await w.requests.decisions.cancel(request.id, actor(APPROVER), 'button'); // refused
    expect(w.changes).toEqual([request.id]);
    await w.requests.decisions.approve(request.id, actor(APPROVER)); // recorded
    expect(w.changes).toEqual([request.id, request.id]);
    await w.requests.decisions.approve(request.id, actor(APPROVER_2)); // approved → executing → succeeded
    await w.executor.idle();
    expect(w.changes.length).toBeGreaterThanOrEqual(4);
    expect(new Set(w.changes)).toEqual(new Set([request.id]));
    const afterOutcome = w.changes.length;
    await w.requests.decisions.deny(request.id, actor(APPROVER), 'too late', 'button'); // refused
    await w.requests.decisions.abort(request.id, actor(REQUESTER)); // refused
    expect(w.changes).toHaveLength(afterOutcome);
  });
});

describe('`/bp-delete status` and `list`', () => {
  it('status by request id (any case) or by customer id shows the request and its history', async () => {
    const w = await world();
    const request = await create(w);
    for (const target of [request.id, request.id.toLowerCase(), CUSTOMER, CUSTOMER.toUpperCase()]) {
      const result = await w.requests.commands.command(actor(OUTSIDER), `status ${target}`);
      expect(result.kind).toBe('status');
      if (result.kind !== 'status') continue;
      expect(result.request.id).toBe(request.id);
      expect(result.events.map((e) => e.kind)).toEqual(['requested']);
    }
  });

  it('status without a target, or of something unknown, is refused', async () => {
    const w = await world();
    expect(await w.requests.commands.command(actor(OUTSIDER), 'status')).toEqual({
      kind: 'refused',
      refusal: { kind: 'status_needs_target' },
    });
    expect(await w.requests.commands.command(actor(OUTSIDER), 'status R7K2M9QXAB')).toEqual({
      kind: 'refused',
      refusal: { kind: 'status_not_found', target: 'R7K2M9QXAB' },
    });
  });

  it('list shows the open requests of this channel only', async () => {
    const w = await world();
    const here = await create(w, CUSTOMER);
    value(await w.requests.commands.create(actor(REQUESTER, { channelId: OTHER_CHANNEL }), CUSTOMER_2, 'x'));
    const closed = await create(w, '000000000000000000000009');
    value(await w.requests.decisions.cancel(closed.id, actor(REQUESTER), 'button'));
    const result = await w.requests.commands.command(actor(OUTSIDER), 'list');
    expect(result.kind).toBe('list');
    if (result.kind === 'list') expect(result.requests.map((r) => r.id)).toEqual([here.id]);
  });

  it('help changes nothing', async () => {
    const w = await world();
    expect(await w.requests.commands.command(actor(OUTSIDER), 'help')).toEqual({ kind: 'help', pause: null });
    expect(w.changes).toEqual([]);
  });
});

/** Another instance on the same store, started with other settings (as after a restart with a new config). */
async function instance(w: World, overrides: Partial<Policy>, onPause: (change: unknown) => void = () => undefined) {
  const requests = createRequests({
    store: w.store,
    policy: testPolicy(overrides),
    directory: w.directory,
    deleter: w.deleter,
    previewer: null,
    now: () => w.clock.now,
    leaseMs: 60_000,
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

describe('a stricter policy reaches open requests at once', () => {
  it('DRY_RUN=true on a new instance: an approved request of an older one is run as a dry run, and so marked', async () => {
    const w = await world({ executionDelayMs: HOUR });
    const request = await create(w);
    value(await w.requests.decisions.approve(request.id, actor(APPROVER)));
    w.executor.stopTimers();
    const strict = await instance(w, { executionDelayMs: HOUR, dryRun: true });
    w.clock.now += HOUR;
    await strict.executor.run(request.id); // decided in the claim, even before applyPolicy ran
    expect(w.deleter.calls).toEqual([]);
    expect(await stateOf(w, request.id)).toMatchObject({
      state: 'succeeded',
      dryRun: true,
      outcome: { ok: true, kind: 'dry_run' },
    });
    expect(await w.store.countDeletionsSince(START - HOUR)).toBe(0);
  });

  it('at start, DRY_RUN=true marks every pending and approved request dry, so older instances send no DELETE either', async () => {
    const w = await world({ executionDelayMs: HOUR });
    const approved = await create(w);
    value(await w.requests.decisions.approve(approved.id, actor(APPROVER)));
    const pending = await create(w, CUSTOMER_2);
    await (await instance(w, { dryRun: true })).applyPolicy();
    expect((await stateOf(w, approved.id)).dryRun).toBe(true);
    expect((await stateOf(w, pending.id)).dryRun).toBe(true);
    expect(w.changes).toEqual(expect.arrayContaining([approved.id, pending.id]));
    // The old instance (DRY_RUN=false) reaches the DELETE time: the stored mark is enough.
    w.clock.now += HOUR;
    await w.executor.run(approved.id);
    expect(w.deleter.calls).toEqual([]);
    expect((await stateOf(w, approved.id)).outcome?.kind).toBe('dry_run');
  });

  it('a higher APPROVALS_REQUIRED: an approved request goes back to pending at its DELETE time, saying why', async () => {
    const w = await world({ executionDelayMs: HOUR });
    const request = await create(w);
    value(await w.requests.decisions.approve(request.id, actor(APPROVER)));
    w.executor.stopTimers();
    const strict = await instance(w, { executionDelayMs: HOUR, approvalsRequired: 2 });
    w.clock.now += HOUR;
    await strict.executor.run(request.id);
    expect(w.deleter.calls).toEqual([]);
    expect(await stateOf(w, request.id)).toMatchObject({ state: 'pending', approvalsRequired: 2, executeAt: null });
    const events = await w.store.listEvents(request.id);
    expect(events.at(-1)).toMatchObject({ kind: 'reopened' });
    expect(events.at(-1)?.detail).toContain('1 of 2 approvals count');
    // A second approver brings it to the raised quorum; then it is deleted.
    value(await strict.decisions.approve(request.id, actor(APPROVER_2)));
    w.clock.now += HOUR;
    await strict.executor.run(request.id);
    expect(w.deleter.calls).toEqual([CUSTOMER]);
  });

  it('a higher APPROVALS_REQUIRED raises the quorum of a pending request asked under the lower one', async () => {
    const w = await world();
    const request = await create(w);
    const strict = await instance(w, { approvalsRequired: 2 });
    const first = value(await strict.decisions.approve(request.id, actor(APPROVER)));
    expect(first).toMatchObject({ state: 'pending', approvalsRequired: 2 });
    await strict.executor.idle();
    expect(w.deleter.calls).toEqual([]);
  });

  it('an approver removed from the group: their approval stops counting when the DELETE is claimed', async () => {
    const w = await world({ approverUsergroupIds: [APPROVER_GROUP], approverUserIds: [], executionDelayMs: HOUR });
    w.directory.groups.set(APPROVER_GROUP, new Set([GROUP_MEMBER]));
    const request = await create(w);
    value(await w.requests.decisions.approve(request.id, actor(GROUP_MEMBER)));
    w.executor.stopTimers();
    w.directory.groups.set(APPROVER_GROUP, new Set());
    w.clock.now += HOUR;
    await w.executor.run(request.id);
    expect(w.deleter.calls).toEqual([]);
    expect(await stateOf(w, request.id)).toMatchObject({ state: 'pending', approvals: [] });
    const kinds = (await w.store.listEvents(request.id)).map((e) => e.kind);
    expect(kinds.slice(-2)).toEqual(['policy', 'reopened']);
  });

  it('an approver removed from the group: their approval stops counting when the next approval arrives', async () => {
    const w = await world({ approverUsergroupIds: [APPROVER_GROUP], approvalsRequired: 2 });
    w.directory.groups.set(APPROVER_GROUP, new Set([GROUP_MEMBER]));
    const request = await create(w);
    value(await w.requests.decisions.approve(request.id, actor(GROUP_MEMBER)));
    w.directory.groups.set(APPROVER_GROUP, new Set());
    const second = value(await w.requests.decisions.approve(request.id, actor(APPROVER)));
    expect(second).toMatchObject({ state: 'pending', approvals: [{ userId: APPROVER }] });
    await w.executor.idle();
    expect(w.deleter.calls).toEqual([]);
  });

  it("when an earlier approver's group can't be read, the next approval is refused and drops nothing", async () => {
    const w = await world({ approverUsergroupIds: [APPROVER_GROUP], approvalsRequired: 2 });
    w.directory.groups.set(APPROVER_GROUP, new Set([GROUP_MEMBER]));
    const request = await create(w);
    value(await w.requests.decisions.approve(request.id, actor(GROUP_MEMBER)));
    w.directory.failing.add(APPROVER_GROUP);
    expect(refusal(await w.requests.decisions.approve(request.id, actor(APPROVER))).kind).toBe('directory_unavailable');
    expect((await stateOf(w, request.id)).approvals.map((a) => a.userId)).toEqual([GROUP_MEMBER]);
  });

  it("when the group can't be read at DELETE time, nothing is sent and the request stays approved and due", async () => {
    const w = await world({ approverUsergroupIds: [APPROVER_GROUP], approverUserIds: [] });
    w.directory.groups.set(APPROVER_GROUP, new Set([GROUP_MEMBER]));
    const request = await create(w);
    w.directory.failing.add(APPROVER_GROUP);
    // The approval itself is refused while the group can't be read (fail closed) …
    expect(refusal(await w.requests.decisions.approve(request.id, actor(GROUP_MEMBER))).kind).toBe(
      'directory_unavailable',
    );
    w.directory.failing.delete(APPROVER_GROUP);
    w.executor.stopAccepting(); // … so approve now and claim later, with the group unreadable again
    value(await w.requests.decisions.approve(request.id, actor(GROUP_MEMBER)));
    w.directory.failing.add(APPROVER_GROUP);
    const other = await instance(w, { approverUsergroupIds: [APPROVER_GROUP], approverUserIds: [] });
    await other.executor.run(request.id);
    expect(w.deleter.calls).toEqual([]);
    expect((await stateOf(w, request.id)).state).toBe('approved');
  });
});

describe('pause and resume', () => {
  it('only an approver pauses; while paused approvals are recorded and no DELETE goes out; resume sends it', async () => {
    const w = await world();
    const announced: unknown[] = [];
    const ops = await instance(w, {}, (change) => announced.push(change));
    const request = await create(w);
    const refused = await ops.commands.command(actor(OUTSIDER), 'pause no reason');
    expect(refused).toEqual({ kind: 'refused', refusal: { kind: 'not_approver' } });
    expect(await w.store.getPause()).toBeNull();

    const paused = await ops.commands.command(actor(APPROVER, { channelId: OTHER_CHANNEL }), 'pause incident 42');
    expect(paused).toMatchObject({ kind: 'paused', changed: true, pause: { by: APPROVER, reason: 'incident 42' } });
    expect(announced).toEqual([{ paused: true, by: APPROVER, reason: 'incident 42', channelId: OTHER_CHANNEL }]);
    expect(await ops.commands.command(actor(OUTSIDER), 'help')).toMatchObject({
      kind: 'help',
      pause: { by: APPROVER },
    });

    value(await w.requests.decisions.approve(request.id, actor(APPROVER_2))); // on the other instance
    await w.executor.run(request.id);
    expect(w.deleter.calls).toEqual([]);
    expect(await stateOf(w, request.id)).toMatchObject({ state: 'approved', pause: { by: APPROVER } });

    expect(await ops.commands.command(actor(APPROVER), 'resume')).toEqual({ kind: 'resumed', changed: true });
    await ops.executor.idle();
    expect(w.deleter.calls).toEqual([CUSTOMER]);
    const kinds = (await w.store.listEvents(request.id)).map((e) => e.kind);
    expect(kinds).toEqual(['requested', 'paused', 'approved', 'resumed', 'deleted']);
  });
});

describe('approvers reach every request by its id', () => {
  it('deny <id> from another channel: an approver only, and the request says from where', async () => {
    const w = await world();
    const request = await create(w);
    const elsewhere = { channelId: OTHER_CHANNEL };
    expect(await w.requests.commands.command(actor(OUTSIDER, elsewhere), `deny ${request.id} nope`)).toEqual({
      kind: 'refused',
      refusal: { kind: 'not_approver' },
    });
    const denied = await w.requests.commands.command(
      actor(APPROVER, elsewhere),
      `deny ${request.id.toLowerCase()} not legit`,
    );
    expect(denied).toMatchObject({
      kind: 'decided',
      request: { state: 'denied', closedBy: APPROVER, closeReason: 'not legit', closedFrom: OTHER_CHANNEL },
    });
  });

  it('cancel <id>: the requester or an approver, from any channel; others are refused', async () => {
    const w = await world();
    const first = await create(w);
    const second = await create(w, CUSTOMER_2);
    const elsewhere = { channelId: OTHER_CHANNEL };
    expect(await w.requests.commands.command(actor(OUTSIDER, elsewhere), `cancel ${first.id}`)).toEqual({
      kind: 'refused',
      refusal: { kind: 'only_requester_or_approver_cancels' },
    });
    expect(await w.requests.commands.command(actor(REQUESTER, elsewhere), `cancel ${first.id}`)).toMatchObject({
      kind: 'decided',
      request: { state: 'cancelled', closedBy: REQUESTER },
    });
    expect(await w.requests.commands.command(actor(APPROVER), `cancel ${second.id}`)).toMatchObject({
      kind: 'decided',
      request: { state: 'cancelled', closedBy: APPROVER, closedFrom: null },
    });
    expect(await w.requests.commands.command(actor(APPROVER), 'deny')).toEqual({
      kind: 'refused',
      refusal: { kind: 'needs_request_id', subcommand: 'deny' },
    });
  });

  it('a duplicate of a request in another channel names only its id, not its channel, requester or reason', async () => {
    const w = await world();
    const hidden = await create(w, CUSTOMER, OUTSIDER, 'secret reason');
    const result = await w.requests.commands.create(actor(REQUESTER, { channelId: OTHER_CHANNEL }), CUSTOMER, 'x');
    expect(refusal(result)).toEqual({ kind: 'already_open_elsewhere', requestId: hidden.id, customerId: CUSTOMER });
  });
});
