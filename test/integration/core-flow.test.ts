import { restartSandbox, SANDBOX_CHANNEL, type Sandbox, startSandbox } from '../../sandbox/harness';
import { ACTION_APPROVE, ACTION_CANCEL, ACTION_DENY } from '../../src/constants';
import {
  APPROVER,
  actionIds,
  CUSTOMER,
  messageText,
  OUTSIDER,
  REQUESTER,
  requestDeletion,
  settle,
} from '../helpers/flow';

describe('the two-person deletion flow over signed HTTP', () => {
  let sb: Sandbox;
  beforeEach(async () => {
    sb = await startSandbox();
    sb.botpenguin.addCustomer(CUSTOMER, 'Acme Ltd', 'ops@acme.test');
  });
  afterEach(async () => {
    await sb.stop({ fakes: true });
  });

  it('a request posts one approval message, and an approver’s click deletes the customer once', async () => {
    const { requestId, message, ack } = await requestDeletion(sb);
    expect(ack).toMatchObject({ response_type: 'ephemeral' });
    expect(JSON.stringify(ack)).toContain(requestId);
    expect(actionIds(message)).toEqual([ACTION_APPROVE, ACTION_DENY, ACTION_CANCEL]);
    const text = messageText(message);
    expect(text).toContain(CUSTOMER);
    expect(text).toContain(`<@${REQUESTER}>`);
    expect(text).toContain('customer asked to close account');
    expect(text).toContain('0 of 1 approval');

    const click = await sb.sender.click(APPROVER, ACTION_APPROVE, requestId, { messageTs: message.ts });
    expect(click.status).toBe(200);
    await sb.botpenguin.waitFor(() => sb.botpenguin.deletes().length === 1);
    await settle(sb);

    const [del] = sb.botpenguin.deletes();
    expect(del?.path).toBe(`/customer/${CUSTOMER}`);
    expect(del?.headers.authorization).toBe(`Bearer ${sb.config.botpenguin.token}`);
    expect(del?.headers.authtype).toBe('Key');
    expect(actionIds(message)).toEqual([]);
    expect(messageText(message)).toContain('was deleted');
    expect(messageText(message)).toContain(`<@${APPROVER}>`);
    const thread = sb.slack.thread(SANDBOX_CHANNEL, message.ts).map((m) => m.text);
    // Who asked, who approved, when the DELETE was sent, what BotPenguin said (telling the requester).
    expect(thread).toHaveLength(4);
    expect(thread[0]).toContain('asked to delete');
    expect(thread[1]).toContain(`<@${APPROVER}> approved`);
    expect(thread[2]).toContain('sending the DELETE to BotPenguin (start 1)');
    expect(thread[3]).toContain('was deleted');
    expect(thread[3]).toContain(`<@${REQUESTER}>`);
    expect(sb.slack.channelMessages(SANDBOX_CHANNEL)).toHaveLength(1);
  });

  it('the requester cannot approve their own request', async () => {
    const { requestId, message } = await requestDeletion(sb, CUSTOMER, 'x', APPROVER);
    await sb.sender.click(APPROVER, ACTION_APPROVE, requestId);
    await sb.slack.waitFor(() => sb.slack.ephemeralsFor(APPROVER).length > 0);
    await settle(sb);
    expect(sb.slack.ephemeralsFor(APPROVER)[0]?.text).toMatch(/can’t approve your own request/);
    expect(sb.botpenguin.deletes()).toHaveLength(0);
    expect(actionIds(message)).toContain(ACTION_APPROVE);
  });

  it('someone who is not an approver is refused', async () => {
    const { requestId } = await requestDeletion(sb);
    await sb.sender.click(OUTSIDER, ACTION_APPROVE, requestId);
    await sb.slack.waitFor(() => sb.slack.ephemeralsFor(OUTSIDER).length > 0);
    expect(sb.slack.ephemeralsFor(OUTSIDER)[0]?.text).toMatch(/not an authorized approver/);
    expect(sb.botpenguin.deletes()).toHaveLength(0);
  });
});

describe('ending a request without a deletion', () => {
  let sb: Sandbox;
  beforeEach(async () => {
    sb = await startSandbox();
  });
  afterEach(async () => {
    await sb.stop({ fakes: true });
  });

  it('an approver denies with a reason given in the modal: message updated, buttons gone, nothing deleted', async () => {
    const { requestId, message } = await requestDeletion(sb);
    await sb.sender.click(APPROVER, ACTION_DENY, requestId);
    await sb.slack.waitFor(() => sb.slack.views.length === 1, 5000, 'the deny modal');
    const view = sb.slack.views[0] as { callback_id: string; private_metadata: string; title: { text: string } };
    expect(view.title.text.length).toBeLessThanOrEqual(24);
    const res = await sb.sender.viewSubmission(APPROVER, view, {
      deny_reason: { reason: { type: 'plain_text_input', value: 'wrong <!channel> customer' } },
    });
    expect(res.status).toBe(200);
    await sb.slack.waitFor(() => actionIds(message).length === 0, 5000, 'the buttons to go');
    await settle(sb);
    const text = messageText(message);
    expect(text).toContain(`Denied by <@${APPROVER}>`);
    expect(text).toContain('wrong &lt;!channel&gt; customer');
    expect(sb.slack.thread(SANDBOX_CHANNEL, message.ts).at(-1)?.text).toContain('denied');
    expect(sb.botpenguin.deletes()).toHaveLength(0);
  });

  it('deny still works when the modal cannot be opened', async () => {
    const { requestId, message } = await requestDeletion(sb);
    sb.slack.failNext('views.open', { status: 200, error: 'expired_trigger_id' });
    await sb.sender.click(APPROVER, ACTION_DENY, requestId);
    await sb.slack.waitFor(() => actionIds(message).length === 0, 5000, 'the buttons to go');
    expect(messageText(message)).toContain(`Denied by <@${APPROVER}>`);
  });

  it('the requester cancels: message updated, buttons gone; nobody else can cancel', async () => {
    const { requestId, message } = await requestDeletion(sb);
    await sb.sender.click(APPROVER, ACTION_CANCEL, requestId);
    await sb.slack.waitFor(() => sb.slack.ephemeralsFor(APPROVER).length > 0);
    expect(sb.slack.ephemeralsFor(APPROVER)[0]?.text).toMatch(/Only the person who asked can cancel/);
    expect(actionIds(message)).toHaveLength(3);

    await sb.sender.click(REQUESTER, ACTION_CANCEL, requestId);
    await sb.slack.waitFor(() => actionIds(message).length === 0, 5000, 'the buttons to go');
    await settle(sb);
    expect(messageText(message)).toContain(`Cancelled by <@${REQUESTER}>`);

    await sb.sender.click(APPROVER, ACTION_APPROVE, requestId);
    await sb.slack.waitFor(() => sb.slack.ephemeralsFor(APPROVER).length > 1);
    expect(sb.slack.ephemeralsFor(APPROVER)[1]?.text).toMatch(/already cancelled/);
    expect(sb.botpenguin.deletes()).toHaveLength(0);
  });
});

describe('exactly once', () => {
  let sb: Sandbox;
  afterEach(async () => {
    await sb.stop({ fakes: true });
  });

  it('20 approve clicks at once send one DELETE; the late clicks are told it is decided', async () => {
    const approvers = Array.from({ length: 20 }, (_, i) => `UAPPR${String(i).padStart(4, '0')}`);
    sb = await startSandbox({ env: { APPROVER_USER_IDS: approvers.join(',') } });
    sb.botpenguin.addCustomer(CUSTOMER);
    sb.botpenguin.latencyMs = 50;
    const { requestId, message } = await requestDeletion(sb);
    const answers = await Promise.all(approvers.map((u) => sb.sender.click(u, ACTION_APPROVE, requestId)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    await sb.slack.waitFor(() => sb.slack.ephemerals.length === 19, 10000, '19 refusals');
    await settle(sb);
    expect(sb.botpenguin.deletes()).toHaveLength(1);
    expect(messageText(message)).toContain('was deleted');
    expect(sb.slack.ephemerals.every((e) => /already (approved|executing|deleted)/.test(e.text))).toBe(true);
  });

  it('a second click by the same person after the decision changes nothing', async () => {
    sb = await startSandbox();
    sb.botpenguin.addCustomer(CUSTOMER);
    const { requestId } = await requestDeletion(sb);
    await sb.sender.click(APPROVER, ACTION_APPROVE, requestId);
    await sb.botpenguin.waitFor(() => sb.botpenguin.deletes().length === 1);
    await settle(sb);
    await sb.sender.click(APPROVER, ACTION_APPROVE, requestId);
    await sb.slack.waitFor(() => sb.slack.ephemeralsFor(APPROVER).length === 1);
    await settle(sb);
    expect(sb.slack.ephemeralsFor(APPROVER)[0]?.text).toMatch(/already deleted/);
    expect(sb.botpenguin.deletes()).toHaveLength(1);
  });
});

describe('a restart between the request and the approval', () => {
  it('the old message’s buttons still work after the bot starts again on the same store', async () => {
    let sb = await startSandbox();
    sb.botpenguin.addCustomer(CUSTOMER);
    const { requestId, message } = await requestDeletion(sb);
    const { slack, botpenguin } = sb;
    sb = await restartSandbox(sb);
    try {
      await sb.sender.click(APPROVER, ACTION_APPROVE, requestId);
      await botpenguin.waitFor(() => botpenguin.deletes().length === 1);
      await settle(sb);
      expect(messageText(message)).toContain('was deleted');
      expect(slack.channelMessages(SANDBOX_CHANNEL)).toHaveLength(1);
    } finally {
      await sb.stop({ fakes: true });
    }
  });
});

describe('BotPenguin refusing or failing', () => {
  let sb: Sandbox;
  beforeEach(async () => {
    sb = await startSandbox();
  });
  afterEach(async () => {
    await sb.stop({ fakes: true });
  });

  it('a success:false answer is shown in the channel with BotPenguin’s message', async () => {
    sb.botpenguin.answerNext('DELETE', {
      status: 200,
      body: { success: false, message: 'Customer has active <!here> subscription', code: 400 },
    });
    const { requestId, message } = await requestDeletion(sb);
    await sb.sender.click(APPROVER, ACTION_APPROVE, requestId);
    await sb.botpenguin.waitFor(() => sb.botpenguin.deletes().length === 1);
    await settle(sb);
    const text = messageText(message);
    expect(text).toContain('Deletion failed');
    expect(text).toContain('Customer has active &lt;!here&gt; subscription');
    expect(actionIds(message)).toEqual([]);
    const last = sb.slack.thread(SANDBOX_CHANNEL, message.ts).at(-1)?.text ?? '';
    expect(last).toContain(`<@${REQUESTER}>`);
    expect(last).toContain('did not delete');
  });

  it('an unknown customer (404) is reported as a failure, not retried', async () => {
    const { requestId, message } = await requestDeletion(sb);
    await sb.sender.click(APPROVER, ACTION_APPROVE, requestId);
    await sb.botpenguin.waitFor(() => sb.botpenguin.deletes().length === 1);
    await settle(sb);
    expect(sb.botpenguin.deletes()).toHaveLength(1);
    expect(messageText(message)).toContain('Customer not found');
  });

  it('a 500 then a success is retried and ends deleted', async () => {
    sb.botpenguin.addCustomer(CUSTOMER);
    sb.botpenguin.answerNext('DELETE', { status: 500, body: { success: false, message: 'oops' } });
    const { requestId, message } = await requestDeletion(sb);
    await sb.sender.click(APPROVER, ACTION_APPROVE, requestId);
    await sb.botpenguin.waitFor(() => sb.botpenguin.deletes().length === 2, 10000);
    await settle(sb);
    expect(messageText(message)).toContain('was deleted');
  });
});

describe('requests that do not come from Slack', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await startSandbox();
  });
  afterAll(async () => {
    await sb.stop({ fakes: true });
  });

  it('a wrong signature gets 401 and posts nothing', async () => {
    const body = sb.sender.commandBody(REQUESTER, `${CUSTOMER} sneaky`);
    const res = await sb.sender.raw(body, {
      'x-slack-request-timestamp': String(Math.floor(Date.now() / 1000)),
      'x-slack-signature': 'v0=0000000000000000000000000000000000000000000000000000000000000000',
    });
    expect(res.status).toBe(401);
    // The 401 is the whole answer: refused before any listener, so nothing can follow it but background work.
    await settle(sb);
    expect(sb.slack.callsTo('chat.postMessage')).toHaveLength(0);
    expect(await sb.store.listRequests({ limit: 10 })).toHaveLength(0);
  });

  it('GET /healthz answers 200; GET /readyz answers 200 with the store kind and nothing failing', async () => {
    const live = await fetch(`http://127.0.0.1:${sb.port}/healthz`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ ok: true });
    const ready = await fetch(`http://127.0.0.1:${sb.port}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ok: true, store: 'sqlite', failing: [] });
  });
});

describe('a channel the bot cannot post in', () => {
  it('the request is withdrawn and the requester is told why, privately, through the command’s response_url', async () => {
    const sb = await startSandbox();
    try {
      sb.slack.failNext('chat.postMessage', { status: 200, error: 'not_in_channel' });
      const res = await sb.sender.command(REQUESTER, `${CUSTOMER} closing`);
      expect(res.status).toBe(200);
      await sb.slack.waitFor(() => sb.slack.callsTo('response_url').length === 1, 5000, 'the follow-up');
      expect(String(sb.slack.callsTo('response_url')[0]?.args.text)).toMatch(
        /could not be posted in this channel.*not_in_channel.*\/invite @bp-delete/s,
      );
      await settle(sb);
      const [request] = await sb.store.listRequests({ limit: 1 });
      expect(request?.state).toBe('cancelled');
      // Nothing keeps trying: a sweep posts nothing, and the customer can be asked for again.
      await sb.bot.sweeper.sweep();
      await settle(sb);
      const posts = sb.slack.callsTo('chat.postMessage');
      expect(posts.filter((c) => c.args.channel === SANDBOX_CHANNEL)).toHaveLength(1);
      // Besides: one direct message that keeps the answer where the requester finds it later (NOTIFY_REQUESTER).
      expect(posts.filter((c) => c.args.channel === REQUESTER).map((c) => String(c.args.text))).toEqual([
        expect.stringMatching(/could not be posted in this channel.*not_in_channel/s),
      ]);
      expect(posts).toHaveLength(2);
      await requestDeletion(sb);
    } finally {
      await sb.stop({ fakes: true });
    }
  });
});
