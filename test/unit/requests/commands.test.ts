// The rules of a deletion request (see world.ts): `/bp-delete` as they see it: asking for a deletion, status
// and list.
import {
  APPROVER,
  actor,
  CHANNEL,
  CUSTOMER,
  CUSTOMER_2,
  create,
  GROUP_MEMBER,
  HOUR,
  OTHER_CHANNEL,
  OUTSIDER,
  REQUESTER,
  REQUESTER_GROUP,
  refusal,
  START,
  stateOf,
  TEAM,
  value,
  world,
} from './world';

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
