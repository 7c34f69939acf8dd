// The rules of a deletion request (see world.ts): approving, who may, what counts, the quorum and the daily
// limit; exactly once under racing clicks.
import {
  APPROVER,
  APPROVER_2,
  APPROVER_GROUP,
  actor,
  CUSTOMER,
  CUSTOMER_2,
  create,
  expectUnchanged,
  GROUP_MEMBER,
  HOUR,
  OTHER_CHANNEL,
  OUTSIDER,
  REQUESTER,
  refusal,
  START,
  stateOf,
  value,
  world,
} from './world';

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
    expect((await w.store.listEvents(request.id)).map((e) => e.kind)).toEqual([
      'requested',
      'approved',
      'delete_sent',
      'deleted',
    ]);
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
