// What operators need to run the bot safely, through the real app over signed HTTP: pause and resume every
// DELETE (across a restart and across two instances on one store), deny or cancel a request by its id from
// any channel, and a duplicate request that leaks nothing of a request in another (maybe private) channel.
import { FakeBotPenguin } from '../../sandbox/fake-botpenguin';
import { FakeSlack, type SlackMessage } from '../../sandbox/fake-slack';
import {
  restartSandbox,
  SANDBOX_CHANNEL,
  type Sandbox,
  type SandboxOptions,
  startSandbox,
  tempSqlitePath,
} from '../../sandbox/harness';
import { ACTION_APPROVE } from '../../src/constants';
import {
  APPROVER,
  APPROVER2,
  ackText,
  actionIds,
  buttonValue,
  CUSTOMER,
  messageText,
  REQUESTER,
  requestDeletion,
  settle,
  watchListeners,
} from '../helpers/flow';

const PRIVATE = 'G0MALLORY1';
const MALLORY = 'UMALLORY';

describe('pause and resume', () => {
  let slack: FakeSlack;
  let botpenguin: FakeBotPenguin;
  let sqlitePath: string;
  const sandboxes: Sandbox[] = [];

  beforeEach(async () => {
    slack = new FakeSlack();
    botpenguin = new FakeBotPenguin();
    await Promise.all([slack.start(), botpenguin.start()]);
    botpenguin.addCustomer(CUSTOMER);
    sqlitePath = tempSqlitePath();
  });
  afterEach(async () => {
    await Promise.all(sandboxes.splice(0).map((sb) => sb.stop()));
    await Promise.all([slack.stop(), botpenguin.stop()]);
  });

  const instance = async (options: SandboxOptions = {}) => {
    const sb = watchListeners(await startSandbox({ sqlitePath, slack, botpenguin, sweepIntervalMs: 100, ...options }));
    sandboxes.push(sb);
    return sb;
  };
  /** What the instances were doing is done, then each sweeps once more and that is done too. */
  const everyoneSweeps = async (...instances: Sandbox[]) => {
    await Promise.all(instances.map(settle));
    await Promise.all(instances.map((sb) => sb.bot.sweeper.sweep()));
    await Promise.all(instances.map(settle));
  };

  it('typed on one instance, it holds the other; it survives a restart; approvals are recorded; resume deletes once', async () => {
    const a = await instance();
    const b = await instance();
    const { requestId, message } = await requestDeletion(a);

    // Not an approver: refused, with why; nothing paused.
    const refused = await b.sender.command(REQUESTER, 'pause just because');
    expect(ackText(refused.json)).toMatch(/not an authorized approver/);
    expect(await a.store.getPause()).toBeNull();

    const paused = await a.sender.command(APPROVER, 'pause incident 42: BotPenguin misbehaving');
    expect(ackText(paused.json)).toMatch(/Every DELETE is paused/);
    // Announced in the channel where it was typed, and in the request's thread; the message says so.
    await slack.waitFor(
      () =>
        slack.channelMessages(SANDBOX_CHANNEL).some((m) => /paused every DELETE/.test(m.text) && m.threadTs === null),
      5000,
      'the announcement',
    );
    await slack.waitFor(
      () => messageText(message).includes(`Paused by <@${APPROVER}>: incident 42`),
      5000,
      'the message',
    );
    await slack.waitFor(
      () => slack.thread(SANDBOX_CHANNEL, message.ts).some((m) => m.text.includes('paused every DELETE')),
      5000,
      'the thread reply',
    );
    expect(a.logs.some((l) => l.includes('DELETEs paused') && l.includes(APPROVER) && l.includes('incident 42'))).toBe(
      true,
    );

    // An approval on the other instance is recorded; no DELETE goes out from either.
    expect((await b.sender.click(APPROVER2, ACTION_APPROVE, requestId)).status).toBe(200);
    await everyoneSweeps(a, b);
    expect(botpenguin.deletes()).toHaveLength(0);
    expect(await a.store.getRequest(requestId)).toMatchObject({
      state: 'approved',
      approvals: [{ userId: APPROVER2 }],
    });
    expect(buttonValue(message, ACTION_APPROVE)).toBeUndefined();

    // The pause survives a restart of both.
    sandboxes.splice(0);
    await b.stop();
    const a2 = watchListeners(await restartSandbox(a, { sweepIntervalMs: 100 }));
    sandboxes.push(a2);
    const help = await a2.sender.command(REQUESTER, 'help');
    expect(ackText(help.json)).toMatch(/DELETEs are paused\* by <@UAPPROVER1>: incident 42/);
    await everyoneSweeps(a2);
    expect(botpenguin.deletes()).toHaveLength(0);

    // Resume: the waiting DELETE is sent, once.
    const resumed = await a2.sender.command(APPROVER2, 'resume');
    expect(ackText(resumed.json)).toMatch(/DELETEs are resumed/);
    await slack.waitFor(() => botpenguin.deletes().length === 1, 5000, 'the DELETE after resume');
    await slack.waitFor(() => messageText(message).includes('was deleted'), 5000, 'the outcome');
    expect(messageText(message)).not.toContain('Paused by');
    await everyoneSweeps(a2);
    expect(botpenguin.deletes()).toHaveLength(1);
    expect(ackText((await a2.sender.command(REQUESTER, 'help')).json)).not.toMatch(/paused/);
  });
});

describe('approvers reach every request; a duplicate leaks nothing', () => {
  let sb: Sandbox;
  beforeEach(async () => {
    sb = await startSandbox();
    sb.botpenguin.addCustomer(CUSTOMER);
  });
  afterEach(() => sb.stop({ fakes: true }));

  /** Mallory (not an approver) asks in a private channel with just the bot. */
  async function mallorysRequest(): Promise<{ requestId: string; message: SlackMessage }> {
    const res = await sb.sender.command(MALLORY, `${CUSTOMER} private reason: wipe them`, { channel: PRIVATE });
    expect(res.status).toBe(200);
    await sb.slack.waitFor(() => sb.slack.channelMessages(PRIVATE).length === 1, 5000, 'the private message');
    const message = sb.slack.channelMessages(PRIVATE)[0] as SlackMessage;
    return { requestId: buttonValue(message, ACTION_APPROVE) ?? '', message };
  }

  it("ops asking for the same customer learns the request id and how to end it, not Mallory's channel, name or reason", async () => {
    const { requestId } = await mallorysRequest();
    const res = await sb.sender.command(REQUESTER, `${CUSTOMER} customer asked`);
    const answer = ackText(res.json);
    expect(answer).toContain(requestId);
    expect(answer).toContain(`/bp-delete deny ${requestId}`);
    expect(answer).not.toContain(PRIVATE);
    expect(answer).not.toContain(MALLORY);
    expect(answer).not.toMatch(/private reason|wipe|https?:\/\//);
    expect(sb.slack.callsTo('chat.getPermalink')).toHaveLength(0);
  });

  it('an approver in ops denies it by id; its own message and thread say who, and from where', async () => {
    const { requestId, message } = await mallorysRequest();
    const res = await sb.sender.command(APPROVER, `deny ${requestId} not a real ticket`);
    const answer = ackText(res.json);
    expect(answer).toContain(`${requestId}\` (customer`);
    expect(answer).toMatch(/is denied/);
    expect(answer).not.toContain(PRIVATE);
    await sb.slack.waitFor(() => actionIds(message).length === 0, 5000, 'the denied message');
    expect(messageText(message)).toContain(`Denied by <@${APPROVER}> from <#${SANDBOX_CHANNEL}>`);
    await sb.slack.waitFor(
      () =>
        sb.slack
          .thread(PRIVATE, message.ts)
          .some((m) => m.text.includes(`<@${APPROVER}> denied the request from <#${SANDBOX_CHANNEL}>`)),
      5000,
      'the thread reply',
    );
    // Ops can now ask for it, in its own channel.
    const again = await requestDeletion(sb, CUSTOMER, 'customer asked');
    expect(again.requestId).not.toBe(requestId);
    await settle(sb);
    expect(sb.botpenguin.deletes()).toHaveLength(0);
  });

  it('Mallory cannot deny; the requester cancels by id from another channel', async () => {
    const { requestId } = await requestDeletion(sb);
    expect(ackText((await sb.sender.command(MALLORY, `deny ${requestId}`, { channel: PRIVATE })).json)).toMatch(
      /not an authorized approver/,
    );
    const cancelled = await sb.sender.command(REQUESTER, `cancel ${requestId}`, { channel: PRIVATE });
    expect(ackText(cancelled.json)).toMatch(/is cancelled/);
    expect(await sb.store.getRequest(requestId)).toMatchObject({ state: 'cancelled', closedFrom: PRIVATE });
  });

  it('in the same channel, the duplicate answer still links the open request', async () => {
    const { requestId } = await requestDeletion(sb);
    const answer = ackText((await sb.sender.command(APPROVER, `${CUSTOMER} again`)).json);
    expect(answer).toContain(requestId);
    expect(answer).toContain(`<@${REQUESTER}>`);
    expect(answer).toMatch(/https:\/\/example\.slack\.com\/archives\//);
  });
});
