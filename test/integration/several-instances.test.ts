// Several instances on one store, in one test process: two real apps sharing an SQLite file, and (when
// TEST_DATABASE_URL is set) a PostgreSQL schema. The execution lease is held by renewal while a DELETE is
// under way, so no other instance re-sends it; and sweepers running at once on every instance each do a
// piece of work once: one wins, the others skip.
import { FakeBotPenguin } from '../../sandbox/fake-botpenguin';
import { FakeSlack } from '../../sandbox/fake-slack';
import { SANDBOX_CHANNEL, type Sandbox, type SandboxOptions, startSandbox } from '../../sandbox/harness';
import { ACTION_APPROVE } from '../../src/constants';
import { APPROVER, actionIds, CUSTOMER, messageText, requestDeletion, settle } from '../helpers/flow';
import { type Backend, sharedStoreBackends } from '../helpers/shared-store';

const backends = sharedStoreBackends('several-instances');

const customerId = (i: number) => `64b7f0c2e4b0a1b2c3d4${String(i).padStart(4, '0')}`;

describe.each(backends)('$name: several instances on one store', (backend) => {
  let slack: FakeSlack;
  let botpenguin: FakeBotPenguin;
  let shared: Awaited<ReturnType<Backend['shared']>>;
  const sandboxes: Sandbox[] = [];

  beforeEach(async () => {
    slack = new FakeSlack();
    botpenguin = new FakeBotPenguin();
    await Promise.all([slack.start(), botpenguin.start()]);
    shared = await backend.shared();
  });
  afterEach(async () => {
    await Promise.all(sandboxes.splice(0).map((sb) => sb.stop()));
    await Promise.all([slack.stop(), botpenguin.stop()]);
    await shared.cleanup();
  });

  const instance = async (options: SandboxOptions) => {
    const sb = await startSandbox({
      ...shared.options,
      ...options,
      env: { ...shared.options.env, ...options.env },
      slack,
      botpenguin,
    });
    sandboxes.push(sb);
    return sb;
  };

  it(`${backend.name}: a DELETE that outlasts the lease keeps it by renewal; the other instance never re-sends it`, async () => {
    const env = { BOTPENGUIN_TIMEOUT_MS: '10000' };
    const timings = { leaseMs: 600 };
    const owner = await instance({ env, timings, sweepIntervalMs: 3_600_000 });
    const other = await instance({ env, timings, sweepIntervalMs: 50 }); // looking for stale executions all the time
    botpenguin.addCustomer(CUSTOMER);
    const { requestId, message } = await requestDeletion(owner);
    await settle(owner);
    botpenguin.answerNext('DELETE', { status: 200, body: { success: true, message: '' }, delayMs: 2_500 });

    await owner.sender.click(APPROVER, ACTION_APPROVE, requestId);
    const leases = new Set<number>();
    for (;;) {
      const request = await owner.store.getRequest(requestId);
      if (request?.state !== 'executing' && leases.size > 0) break;
      if (request?.state === 'executing' && request.leaseUntil) leases.add(request.leaseUntil);
      await new Promise((r) => setTimeout(r, 50));
    }
    await settle(owner);
    await settle(other);

    expect(botpenguin.deletes()).toHaveLength(1);
    expect(leases.size).toBeGreaterThanOrEqual(3); // renewed every 200 ms over a 2.5 s DELETE
    expect(await owner.store.getRequest(requestId)).toMatchObject({
      state: 'succeeded',
      deleteStarts: 1,
      outcome: { kind: 'deleted' },
    });
    await slack.waitFor(() => messageText(message).includes('was deleted'), 5000, 'the outcome');
  });

  it(`${backend.name}: sweepers on two instances at once expire, run and recover each request exactly once`, async () => {
    let t = Date.now();
    const options = { env: { REQUEST_TTL: '1h', EXECUTION_DELAY: '1m' }, now: () => t, sweepIntervalMs: 3_600_000 };
    const a = await instance(options);
    const b = await instance(options);
    const make = async (from: number) => {
      const made = [];
      for (let i = from; i < from + 4; i++) {
        const id = customerId(i);
        botpenguin.addCustomer(id);
        made.push({ id, ...(await requestDeletion(a, id, 'sweep race', `UREQ${i}`)) });
      }
      return made;
    };
    // Pending requests that will expire.
    const pending = await make(0);
    // Approved requests waiting out EXECUTION_DELAY (as after a restart: no timer of ours will run them).
    const approved = await make(4);
    for (const r of approved) expect((await a.sender.click(APPROVER, ACTION_APPROVE, r.requestId)).status).toBe(200);
    // Executions whose owner died mid-DELETE: executing, with a lease that will run out.
    const orphaned = await make(8);
    for (const r of orphaned) {
      await a.store.transition(r.requestId, ['pending'], 'approved', { executeAt: t }, null);
      const claim = await a.store.claimExecution(r.requestId, {
        now: t,
        leaseMs: 1_000,
        dayStart: 0,
        maxPerDay: 1000,
        dryRun: false,
        drop: null,
        sent: { kind: 'delete_sent', actorId: null, detail: 'start 1', at: t },
      });
      expect(claim.kind).toBe('claimed');
    }
    await settle(a);
    a.bot.requests.executor.stopTimers(); // only the sweepers may run the approved ones
    await slack.waitFor(
      () => approved.every((r) => messageText(r.message).includes('Deleting at')),
      5000,
      'the countdowns',
    );

    t += 2 * 3_600_000;
    // Due and stale are the store's clock's to say, and PostgreSQL's can't be moved: let their times pass there.
    for (const r of approved) await a.store.transition(r.requestId, ['approved'], 'approved', { executeAt: 1 }, null);
    for (const r of orphaned)
      await a.store.transition(r.requestId, ['executing'], 'executing', { leaseUntil: 1 }, null);
    for (let round = 0; round < 3; round++) {
      await Promise.all([a.bot.sweeper.sweep(), b.bot.sweeper.sweep(), a.bot.sweeper.sweep(), b.bot.sweeper.sweep()]);
    }
    await Promise.all([settle(a), settle(b)]);

    const deletesOf = (id: string) => botpenguin.deletes().filter((c) => c.path === `/customer/${id}`).length;
    for (const r of pending) {
      const events = await a.store.listEvents(r.requestId);
      expect(events.filter((e) => e.kind === 'expired')).toHaveLength(1);
      expect(deletesOf(r.id)).toBe(0);
    }
    for (const r of [...approved, ...orphaned]) {
      expect(deletesOf(r.id)).toBe(1);
      const events = await a.store.listEvents(r.requestId);
      expect(events.filter((e) => e.kind === 'deleted' || e.kind === 'failed')).toHaveLength(1);
      expect(await a.store.getRequest(r.requestId)).toMatchObject({ state: 'succeeded', outcome: { kind: 'deleted' } });
    }
    // Each message in its final state, with one reply for its ending.
    for (const r of [...pending, ...approved, ...orphaned]) {
      await slack.waitFor(() => actionIds(r.message).length === 0, 5000, 'the final message');
      const replies = slack.thread(SANDBOX_CHANNEL, r.message.ts).map((m) => m.text);
      expect(replies.filter((m) => /expired without|:wastebasket:|:x:/.test(m))).toHaveLength(1);
    }
    expect(botpenguin.deletes()).toHaveLength(approved.length + orphaned.length);
  });
});
