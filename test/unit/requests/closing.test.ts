// The rules of a deletion request (see world.ts): ending a request before its DELETE: denying, cancelling,
// aborting, expiring, and by id from any channel.
import { DENY_HOLD_MS } from '../../../src/requests/decisions';
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

describe('a Deny click holds the request (deny wins from the click)', () => {
  it('while it holds, approvals and other Deny clicks are refused as "being denied"; only its holder releases it', async () => {
    const w = await world();
    const request = await create(w);
    expect(value(await w.requests.decisions.startDeny(request.id, actor(APPROVER)))).toMatchObject({
      state: 'pending',
      denyHold: { by: APPROVER, until: START + DENY_HOLD_MS },
    });
    const held = await stateOf(w, request.id);
    expect(await expectUnchanged(w, held, () => w.requests.decisions.approve(request.id, actor(APPROVER_2)))).toEqual({
      kind: 'being_denied',
      by: APPROVER,
    });
    expect(refusal(await w.requests.decisions.startDeny(request.id, actor(APPROVER_2)))).toEqual({
      kind: 'being_denied',
      by: APPROVER,
    });
    expect(await w.requests.decisions.releaseDenyHold(request.id, APPROVER_2)).toBe(false);
    expect((await stateOf(w, request.id))?.denyHold).toMatchObject({ by: APPROVER });
    expect(await w.requests.decisions.releaseDenyHold(request.id, APPROVER)).toBe(true);
    expect(value(await w.requests.decisions.approve(request.id, actor(APPROVER_2)))).toMatchObject({
      state: 'approved',
    });
  });

  it('a hold whose modal never reports back lapses after DENY_HOLD_MS', async () => {
    const w = await world();
    const request = await create(w);
    value(await w.requests.decisions.startDeny(request.id, actor(APPROVER)));
    w.clock.now += DENY_HOLD_MS - 1;
    expect(refusal(await w.requests.decisions.approve(request.id, actor(APPROVER_2))).kind).toBe('being_denied');
    w.clock.now += 1;
    expect(value(await w.requests.decisions.approve(request.id, actor(APPROVER_2))).state).toBe('approved');
  });

  it('the holder’s submitted Deny ends it denied; nothing is deleted', async () => {
    const w = await world();
    const request = await create(w);
    value(await w.requests.decisions.startDeny(request.id, actor(APPROVER)));
    expect(value(await w.requests.decisions.deny(request.id, actor(APPROVER), 'no ticket', 'button')).state).toBe(
      'denied',
    );
    await w.executor.idle();
    expect(w.deleter.calls).toEqual([]);
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

  it('while Slack can’t reach the bot (socket lost), a due DELETE that could have been aborted waits; it runs once Slack is back', async () => {
    const w = await world({ executionDelayMs: DELAY });
    const request = await create(w);
    value(await w.requests.decisions.approve(request.id, actor(APPROVER)));
    w.slack.hears = false;
    w.clock.now = START + DELAY;
    await w.executor.run(request.id);
    expect(w.deleter.calls).toEqual([]);
    expect(await stateOf(w, request.id)).toMatchObject({ state: 'approved', deleteStarts: 0 });
    w.slack.hears = true;
    await w.executor.run(request.id);
    expect(w.deleter.calls).toEqual([CUSTOMER]);
    expect((await stateOf(w, request.id)).state).toBe('succeeded');
  });

  it('without an execution delay there is no Abort window to protect: a lost socket holds nothing', async () => {
    const w = await world({ executionDelayMs: 0 });
    const request = await create(w);
    w.slack.hears = false;
    value(await w.requests.decisions.approve(request.id, actor(APPROVER)));
    await w.executor.idle();
    expect(w.deleter.calls).toEqual([CUSTOMER]);
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
    const aborted = value(await w.requests.decisions.abort(request.id, actor(userId), 'button'));
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
    expect(
      await expectUnchanged(w, approved, () => w.requests.decisions.abort(request.id, actor(OUTSIDER), 'button')),
    ).toEqual({
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
      await expectUnchanged(w, approved, () => w.requests.decisions.abort(request.id, actor(GROUP_MEMBER), 'button')),
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
      (await expectUnchanged(w, approved, () => w.requests.decisions.abort(request.id, actor(REQUESTER), 'button')))
        .kind,
    ).toBe('not_abortable');
  });

  it('a pending request cannot be aborted (it is cancelled or denied instead)', async () => {
    const w = await world({ executionDelayMs: DELAY });
    const request = await create(w);
    expect(
      (await expectUnchanged(w, request, () => w.requests.decisions.abort(request.id, actor(REQUESTER), 'button')))
        .kind,
    ).toBe('not_abortable');
  });

  it('without an execution delay, a finished deletion cannot be aborted', async () => {
    const w = await world();
    const request = await create(w);
    value(await w.requests.decisions.approve(request.id, actor(APPROVER)));
    await w.executor.idle();
    const done = await stateOf(w, request.id);
    expect(done.state).toBe('succeeded');
    expect(
      (await expectUnchanged(w, done, () => w.requests.decisions.abort(request.id, actor(REQUESTER), 'button'))).kind,
    ).toBe('not_abortable');
  });

  it('an abort from another channel is refused', async () => {
    const w = await world({ executionDelayMs: DELAY });
    const request = await create(w);
    const approved = value(await w.requests.decisions.approve(request.id, actor(APPROVER)));
    expect(
      await expectUnchanged(w, approved, () =>
        w.requests.decisions.abort(request.id, actor(REQUESTER, { channelId: OTHER_CHANNEL }), 'button'),
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
