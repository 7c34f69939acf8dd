// The requester is told by direct message, once, what became of their request (NOTIFY_REQUESTER), however
// many instances share the work and across a restart; a direct message Slack refuses changes nothing else.
// A direct message is a chat.postMessage whose channel is the requester's user id (the app's Messages tab).
import { FakeBotPenguin } from '../../sandbox/fake-botpenguin';
import { FakeSlack, type SlackMessage } from '../../sandbox/fake-slack';
import { SANDBOX_CHANNEL, type Sandbox, startSandbox } from '../../sandbox/harness';
import { ACTION_APPROVE, ACTION_CANCEL } from '../../src/constants';
import { APPROVER, actionIds, REQUESTER, requestDeletion, settle, until } from '../helpers/flow';
import { type Backend, sharedStoreBackends } from '../helpers/shared-store';

const backends = sharedStoreBackends('requester-notice');

const customerId = (i: number) => `64b7f0c2e4b0a1b2c3d4${String(i).padStart(4, '0')}`;
const HOUR = 3_600_000;

describe.each(backends)('$name: the requester is told once, by direct message', (backend) => {
  let slack: FakeSlack;
  let botpenguin: FakeBotPenguin;
  let shared: Awaited<ReturnType<Backend['shared']>>;
  const sandboxes: Sandbox[] = [];
  let t = Date.now();

  beforeEach(async () => {
    slack = new FakeSlack();
    botpenguin = new FakeBotPenguin();
    await Promise.all([slack.start(), botpenguin.start()]);
    shared = await backend.shared();
    t = Date.now();
  });
  afterEach(async () => {
    await Promise.all(sandboxes.splice(0).map((sb) => sb.stop()));
    await Promise.all([slack.stop(), botpenguin.stop()]);
    await shared.cleanup();
  });

  const instance = async (env: Record<string, string> = {}) => {
    const sb = await startSandbox({
      ...shared.options,
      env: { ...shared.options.env, REQUEST_TTL: '1h', REMIND_AFTER: '0', ...env },
      now: () => t,
      sweepIntervalMs: 3_600_000,
      slack,
      botpenguin,
    });
    sandboxes.push(sb);
    return sb;
  };
  const dms = (): SlackMessage[] => slack.channelMessages(REQUESTER);
  const sweepAll = async (instances: Sandbox[]) => {
    for (let round = 0; round < 2; round++) {
      await Promise.all(instances.flatMap((sb) => [sb.bot.sweeper.sweep(), sb.bot.sweeper.sweep()]));
      await Promise.all(instances.map(settle));
    }
  };

  it(`${backend.name}: a deletion, a denial with its reason and an expiry give one direct message each, with a link`, async () => {
    const a = await instance();
    let b = await instance();
    const [deleted, denied, expiring] = [customerId(1), customerId(2), customerId(3)];
    for (const id of [deleted, denied, expiring]) botpenguin.addCustomer(id, 'Jane Roe', 'jane.roe@example.com');

    const one = await requestDeletion(a, deleted, 'ticket DSR-1');
    expect((await b.sender.click(APPROVER, ACTION_APPROVE, one.requestId)).status).toBe(200);
    const two = await requestDeletion(b, denied, 'ticket DSR-2');
    expect((await a.sender.command(APPROVER, `deny ${two.requestId} no ticket was signed off`)).status).toBe(200);
    await Promise.all([settle(a), settle(b)]);
    await sweepAll([a, b]);

    // One instance restarts (a new app on the same store); the other keeps going.
    const i = sandboxes.indexOf(b);
    await b.stop();
    sandboxes.splice(i, 1);
    b = await instance();
    const three = await requestDeletion(b, expiring, 'ticket DSR-3');
    await settle(b);
    t += 2 * HOUR;
    await sweepAll([a, b]);
    await sweepAll([a, b]);

    expect(dms()).toHaveLength(3);
    const about = (requestId: string) => dms().filter((m) => m.text.includes(requestId));
    for (const { requestId, message } of [one, two, three]) {
      expect(about(requestId)).toHaveLength(1);
      // The link to the approval message (chat.getPermalink's answer for its ts).
      expect(about(requestId)[0]?.text).toContain(`p${message.ts.replace('.', '')}|`);
    }
    expect(about(one.requestId)[0]?.text).toMatch(/Deleted\. Customer `\w+` was deleted by BotPenguin/);
    expect(about(two.requestId)[0]?.text).toContain(`Denied by <@${APPROVER}>`);
    expect(about(two.requestId)[0]?.text).toContain('no ticket was signed off');
    expect(about(three.requestId)[0]?.text).toContain('Expired.');
    for (const dm of dms()) {
      expect(dm.threadTs).toBeNull();
      expect(dm.text).not.toMatch(/Jane Roe|jane\.roe@example\.com/);
      expect(dm.text.length).toBeLessThanOrEqual(4000);
    }
    // The trail says who was told what: one record per request, in its row.
    expect(await a.store.getRequest(one.requestId)).toMatchObject({ state: 'succeeded', requesterTold: 'succeeded' });
    expect(await a.store.getRequest(two.requestId)).toMatchObject({ state: 'denied', requesterTold: 'denied' });
    expect(await a.store.getRequest(three.requestId)).toMatchObject({ state: 'expired', requesterTold: 'expired' });
  });
});

describe('direct messages the requester does not get, and one Slack refuses', () => {
  const sandboxes: Sandbox[] = [];
  afterEach(async () => {
    await Promise.all(sandboxes.splice(0).map((sb) => sb.stop({ fakes: true })));
  });
  const start = async (env: Record<string, string> = {}) => {
    const sb = await startSandbox({ env: { REMIND_AFTER: '0', ...env } });
    sandboxes.push(sb);
    return sb;
  };

  it('none when the requester cancels their own request', async () => {
    const sb = await start();
    const { requestId, message } = await requestDeletion(sb);
    expect((await sb.sender.click(REQUESTER, ACTION_CANCEL, requestId)).status).toBe(200);
    await settle(sb);
    await sb.slack.waitFor(() => actionIds(message).length === 0, 5000, 'the cancelled message');
    expect(sb.slack.channelMessages(REQUESTER)).toEqual([]);
  });

  it('none with NOTIFY_REQUESTER=false', async () => {
    const sb = await start({ NOTIFY_REQUESTER: 'false' });
    const { requestId } = await requestDeletion(sb);
    await sb.sender.command(APPROVER, `deny ${requestId} not today`);
    await settle(sb);
    expect((await sb.store.getRequest(requestId))?.state).toBe('denied');
    expect(sb.slack.channelMessages(REQUESTER)).toEqual([]);
    // The thread still says it: only the direct message is off.
    expect(sb.slack.thread(SANDBOX_CHANNEL, (await sb.store.getRequest(requestId))?.messageTs ?? '')).not.toEqual([]);
  });

  it('one Slack refuses is logged, and the message, the thread and the request go on as without it', async () => {
    const sb = await start();
    sb.slack.failWhere({ method: 'chat.postMessage', channel: REQUESTER }, { status: 200, error: 'cannot_dm_bot' });
    sb.botpenguin.addCustomer('64b7f0c2e4b0a1b2c3d4e5f6');
    const { requestId, message } = await requestDeletion(sb);
    await sb.sender.click(APPROVER, ACTION_APPROVE, requestId);
    await settle(sb);
    await until(() => sb.logs.some((l) => l.includes('refused the direct message')), 'the refusal logged');
    expect(sb.slack.callsTo('chat.postMessage').filter((c) => c.args.channel === REQUESTER)).toHaveLength(1);
    expect(await sb.store.getRequest(requestId)).toMatchObject({ state: 'succeeded', requesterTold: 'succeeded' });
    expect(actionIds(message)).toEqual([]);
    expect(sb.slack.thread(SANDBOX_CHANNEL, message.ts).some((m) => m.text.includes('was deleted'))).toBe(true);
    // Not tried again by later sweeps.
    await sb.bot.sweeper.sweep();
    await settle(sb);
    expect(sb.slack.callsTo('chat.postMessage').filter((c) => c.args.channel === REQUESTER)).toHaveLength(1);
  });
});
