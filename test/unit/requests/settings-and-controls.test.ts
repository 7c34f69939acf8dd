// The rules of a deletion request (see world.ts): dry run, stricter settings reaching open requests, pause and
// resume, and when onChange is called.
import {
  APPROVER,
  APPROVER_2,
  APPROVER_GROUP,
  actor,
  CUSTOMER,
  CUSTOMER_2,
  create,
  GROUP_MEMBER,
  HOUR,
  instance,
  OTHER_CHANNEL,
  OUTSIDER,
  REQUESTER,
  refusal,
  START,
  stateOf,
  value,
  world,
} from './world';

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
    await w.requests.decisions.abort(request.id, actor(REQUESTER), 'button'); // refused
    expect(w.changes).toHaveLength(afterOutcome);
  });
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
    expect(kinds).toEqual(['requested', 'paused', 'approved', 'resumed', 'delete_sent', 'deleted']);
  });
});
