// Flooding and a compromised pair of accounts: at most MAX_PENDING_PER_REQUESTER open requests per person,
// and at most MAX_DELETIONS_PER_DAY executed deletions per UTC day, even when approvals arrive all at once.

import { SANDBOX_CHANNEL, type Sandbox, startSandbox } from '../../sandbox/harness';
import { ACTION_APPROVE, ACTION_CANCEL } from '../../src/constants';
import { silentLogger } from '../../src/logger';
import { createRequests } from '../../src/requests';
import type { DeleteResult } from '../../src/requests/ports';
import { SqliteStore } from '../../src/store/dialects/sqlite';
import {
  APPROVER,
  APPROVER2,
  actionIds,
  OUTSIDER,
  REQUESTER,
  requestDeletion,
  settle,
  watchListeners,
} from '../helpers/flow';
import { testPolicy } from '../helpers/policy';
import { expectNothingChanged, footprint, freshCustomerId } from './support';

describe('MAX_PENDING_PER_REQUESTER: one person cannot flood the channel with requests', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = watchListeners(await startSandbox({ env: { MAX_PENDING_PER_REQUESTER: '2' } }));
  });
  afterAll(async () => {
    await sb.stop({ fakes: true });
  });

  it('the third open request is refused with a clear ephemeral answer, and nothing is stored or posted', async () => {
    const first = await requestDeletion(sb, freshCustomerId(), 'one');
    await requestDeletion(sb, freshCustomerId(), 'two');
    const before = await footprint(sb);
    const third = await sb.sender.command(REQUESTER, `${freshCustomerId()} three`);
    expect(third.status).toBe(200);
    expect(third.json).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringMatching(/You already have 2 open deletion requests.*cancel one/),
    });
    await expectNothingChanged(sb, before);

    // Somebody else is not held back by it…
    await requestDeletion(sb, freshCustomerId(), 'someone else', OUTSIDER);
    // …and a request that ends frees a place.
    await sb.sender.click(REQUESTER, ACTION_CANCEL, first.requestId, { messageTs: first.message.ts });
    await sb.slack.waitFor(() => actionIds(first.message).length === 0, 5000, 'the cancel');
    await requestDeletion(sb, freshCustomerId(), 'three, after a cancel');
    expect(sb.slack.channelMessages(SANDBOX_CHANNEL)).toHaveLength(4);
  });
});

describe('MAX_DELETIONS_PER_DAY: after the cap, approvals are refused until the next UTC day', () => {
  let sb: Sandbox;
  const clock = { now: Date.UTC(2031, 2, 14, 22, 0, 0) };
  beforeAll(async () => {
    sb = watchListeners(await startSandbox({ now: () => clock.now, env: { MAX_DELETIONS_PER_DAY: '2' } }));
  });
  afterAll(async () => {
    await sb.stop({ fakes: true });
  });

  async function approveAndDelete(customer: string) {
    const { requestId, message } = await requestDeletion(sb, customer, 'within the cap');
    const deletes = sb.botpenguin.deletes().length;
    await sb.sender.click(APPROVER, ACTION_APPROVE, requestId, { messageTs: message.ts });
    await sb.botpenguin.waitFor(() => sb.botpenguin.deletes().length === deletes + 1, 5000, 'the DELETE');
    await settle(sb);
  }

  it('two deletions go through; the third approval is refused, says until when, and sends nothing; the next day it works', async () => {
    for (const customer of [freshCustomerId(), freshCustomerId()]) {
      sb.botpenguin.addCustomer(customer);
      await approveAndDelete(customer);
    }
    expect(sb.botpenguin.deletes()).toHaveLength(2);

    const customer = freshCustomerId();
    sb.botpenguin.addCustomer(customer);
    const { requestId, message } = await requestDeletion(sb, customer, 'over the cap');
    const before = await footprint(sb);
    for (const approver of [APPROVER, APPROVER2]) {
      const told = sb.slack.ephemerals.length;
      await sb.sender.click(approver, ACTION_APPROVE, requestId, { messageTs: message.ts });
      await sb.slack.waitFor(() => sb.slack.ephemerals.length > told, 5000, 'the refusal');
      const refusal = sb.slack.ephemerals.at(-1);
      expect(refusal).toMatchObject({ user: approver, via: 'chat.postEphemeral' });
      expect(refusal?.text).toMatch(/daily limit of 2 deletions has been reached/);
      expect(refusal?.text).toMatch(/Approvals are refused until <!date\^1931299200\^.*\(00:00 UTC\)/);
    }
    await expectNothingChanged(sb, before);
    expect(await sb.store.getRequest(requestId)).toMatchObject({ state: 'pending', approvals: [] });
    expect(actionIds(message)).toContain(ACTION_APPROVE);

    clock.now = Date.UTC(2031, 2, 15, 0, 0, 5);
    await sb.sender.click(APPROVER, ACTION_APPROVE, requestId, { messageTs: message.ts });
    await sb.botpenguin.waitFor(() => sb.botpenguin.deletes().length === 3, 5000, 'the DELETE the next day');
    await settle(sb);
    expect(sb.botpenguin.deletes().at(-1)?.path).toBe(`/customer/${customer}`);
    expect((await sb.store.getRequest(requestId))?.state).toBe('succeeded');
  });
});

describe('the daily cap holds when many approvals arrive at the same moment', () => {
  it('ten approvals at once with a cap of one: one DELETE; the rest end failed, saying the limit was reached', async () => {
    const store = new SqliteStore(':memory:');
    await store.migrate();
    const sent: string[] = [];
    const deleter = {
      async deleteCustomer(id: string): Promise<DeleteResult> {
        sent.push(id);
        await new Promise((resolve) => setTimeout(resolve, 10));
        return { ok: true, status: 200, attempts: 1, message: 'deleted' };
      },
    };
    const policy = testPolicy({
      approverUserIds: [APPROVER],
      requestTtlMs: 3_600_000,
      customerIdPattern: /^[0-9a-f]{24}$/,
      maxPendingPerRequester: 100,
      maxDeletionsPerDay: 1,
    });
    const requests = createRequests({
      store,
      policy,
      directory: { usergroupMembers: async () => new Set<string>() },
      deleter,
      previewer: null,
      now: Date.now,
      leaseMs: 60_000,
      hearsSlack: () => true,
      onChange: () => {},
      logger: silentLogger,
    });
    const { executor } = requests;
    const where = { teamId: 'T0TEAM', channelId: 'C0OPS' };
    try {
      const ids: string[] = [];
      for (let i = 0; i < 10; i++) {
        const created = await requests.commands.create({ userId: REQUESTER, ...where }, freshCustomerId(), 'bulk');
        if (!created.ok) throw new Error(created.refusal.kind);
        ids.push(created.value.id);
      }
      await Promise.all(ids.map((id) => requests.decisions.approve(id, { userId: APPROVER, ...where })));
      await executor.idle();
      expect(sent).toHaveLength(1);
      const stored = await Promise.all(ids.map((id) => store.getRequest(id)));
      expect(stored.filter((r) => r?.state === 'succeeded')).toHaveLength(1);
      const refused = stored.filter((r) => r?.state !== 'succeeded');
      expect(refused).toHaveLength(9);
      for (const r of refused) {
        expect(r).toMatchObject({ state: 'failed', outcome: { ok: false, kind: 'daily_limit' } });
        expect(r?.outcome?.message).toMatch(/daily limit of 1 deletions was reached/);
      }
    } finally {
      executor.stopTimers();
      await executor.idle();
      await store.close();
    }
  });
});
