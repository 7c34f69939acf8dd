// REMIND_AFTER: a request nobody has decided gets thread replies that mention the approvers after 2 s, then
// 4 s later, then 8 s later (a 30-second TTL ends it before the next), one per interval however many
// instances sweep; a decided or paused one gets none. The clock is injected and sweeps are explicit.
import { FakeBotPenguin } from '../../sandbox/fake-botpenguin';
import { FakeSlack } from '../../sandbox/fake-slack';
import { SANDBOX_CHANNEL, type Sandbox, startSandbox } from '../../sandbox/harness';
import { APPROVER, APPROVER2, messageText, requestDeletion, settle } from '../helpers/flow';
import { type Backend, sharedStoreBackends } from '../helpers/shared-store';

const backends = sharedStoreBackends('reminder');

const GROUP = 'S0OPSLEADS';

describe.each(backends)('$name: reminders to the approvers', (backend) => {
  let slack: FakeSlack;
  let botpenguin: FakeBotPenguin;
  let shared: Awaited<ReturnType<Backend['shared']>>;
  const sandboxes: Sandbox[] = [];
  let t0 = 0;
  let t = 0;

  beforeEach(async () => {
    slack = new FakeSlack();
    botpenguin = new FakeBotPenguin();
    await Promise.all([slack.start(), botpenguin.start()]);
    slack.usergroups.set(GROUP, [APPROVER2]);
    shared = await backend.shared();
    t0 = Date.now();
    t = t0;
  });
  afterEach(async () => {
    await Promise.all(sandboxes.splice(0).map((sb) => sb.stop()));
    await Promise.all([slack.stop(), botpenguin.stop()]);
    await shared.cleanup();
  });

  /** Two instances on one store, sharing the clock; only explicit sweeps run. */
  const twoInstances = async () => {
    const start = () =>
      startSandbox({
        ...shared.options,
        env: {
          ...shared.options.env,
          REMIND_AFTER: '2s',
          REQUEST_TTL: '30s',
          APPROVER_USER_IDS: APPROVER,
          APPROVER_USERGROUP_IDS: GROUP,
        },
        now: () => t,
        sweepIntervalMs: 3_600_000,
        slack,
        botpenguin,
      });
    const pair = [await start(), await start()];
    sandboxes.push(...pair);
    return pair as [Sandbox, Sandbox];
  };
  /** Both instances sweep at once, twice, at `at` ms after the start; then their Slack work is done. */
  const sweepAt = async (instances: Sandbox[], at: number) => {
    t = t0 + at;
    await Promise.all(instances.flatMap((sb) => [sb.bot.sweeper.sweep(), sb.bot.sweeper.sweep()]));
    await Promise.all(instances.map(settle));
  };
  const reminders = (ts: string) => slack.thread(SANDBOX_CHANNEL, ts).filter((m) => m.text.startsWith(':bell:'));

  it(`${backend.name}: an undecided request is reminded at 2 s, 6 s and 14 s, mentioning the approvers`, async () => {
    const [a, b] = await twoInstances();
    const { requestId, message } = await requestDeletion(a);
    await settle(a);
    expect(messageText(message)).toContain('The approvers are reminded');

    const seen: number[] = [];
    for (let at = 1000; at <= 29_000; at += 1000) {
      await sweepAt([a, b], at);
      if (reminders(message.ts).length > seen.length) seen.push(at);
    }
    expect(seen).toEqual([2000, 6000, 14_000]);
    const texts = reminders(message.ts).map((m) => m.text);
    expect(texts).toHaveLength(3);
    for (const text of texts) {
      expect(text).toContain(`<@${APPROVER}>`);
      expect(text).toContain(`<!subteam^${GROUP}>`);
    }
    // The card said when the next one was due while there was one; after the last, none before the expiry.
    expect(messageText(message)).not.toContain('The approvers are reminded');
    expect((await a.store.getRequest(requestId))?.remindersSent).toBe(3);
    const events = await b.store.listEvents(requestId);
    expect(events.filter((e) => e.kind === 'reminded')).toHaveLength(3);
  });

  it(`${backend.name}: a decided request gets none, and neither does a paused one`, async () => {
    const [a, b] = await twoInstances();
    const decided = await requestDeletion(a);
    expect((await a.sender.command(APPROVER, `deny ${decided.requestId} not this one`)).status).toBe(200);
    botpenguin.addCustomer('64b7f0c2e4b0a1b2c3d40001');
    const paused = await requestDeletion(a, '64b7f0c2e4b0a1b2c3d40001', 'while paused');
    expect((await b.sender.command(APPROVER, 'pause incident 42')).status).toBe(200);
    await Promise.all([settle(a), settle(b)]);
    expect(messageText(paused.message)).not.toContain('The approvers are reminded');

    for (let at = 1000; at <= 20_000; at += 1000) await sweepAt([a, b], at);
    expect(reminders(decided.message.ts)).toEqual([]);
    expect(reminders(paused.message.ts)).toEqual([]);
  });
});
