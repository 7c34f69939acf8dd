// A request's life over signed HTTP: expiry, dry run, the execution delay with abort, the customer
// preview, and the help / status / list commands.
import { restartSandbox, SANDBOX_CHANNEL, type Sandbox, startSandbox } from '../../sandbox/harness';
import { ACTION_ABORT, ACTION_APPROVE } from '../../src/constants';
import {
  APPROVER,
  ackText,
  actionIds,
  CUSTOMER,
  messageText,
  OUTSIDER,
  REQUESTER,
  requestDeletion,
  settle,
} from '../helpers/flow';

describe('requests expire', () => {
  it('after REQUEST_TTL the sweeper marks it expired, removes the buttons, and approval is refused', async () => {
    let t = Date.now();
    const sb = await startSandbox({ env: { REQUEST_TTL: '15m' }, now: () => t });
    try {
      const { requestId, message } = await requestDeletion(sb);
      t += 15 * 60_000 + 1;
      await sb.sender.click(APPROVER, ACTION_APPROVE, requestId);
      await sb.slack.waitFor(() => sb.slack.ephemeralsFor(APPROVER).length === 1);
      expect(sb.slack.ephemeralsFor(APPROVER)[0]?.text).toMatch(/expired/);
      await sb.bot.sweeper.sweep();
      await settle(sb);
      expect(actionIds(message)).toEqual([]);
      expect(messageText(message)).toContain('Expired, nothing was deleted');
      expect(sb.slack.thread(SANDBOX_CHANNEL, message.ts).at(-1)?.text).toContain('expired');
      expect(sb.botpenguin.deletes()).toHaveLength(0);
    } finally {
      await sb.stop({ fakes: true });
    }
  });

  it('a request that expired while the bot was down is marked expired when it starts', async () => {
    let t = Date.now();
    let sb = await startSandbox({ env: { REQUEST_TTL: '90s' }, now: () => t });
    const { message } = await requestDeletion(sb);
    const { slack } = sb;
    t += 10 * 60_000;
    sb = await restartSandbox(sb, { env: { REQUEST_TTL: '90s' }, now: () => t });
    try {
      // Not just "no buttons": a render of the still-pending request after the clock moved has none either.
      await slack.waitFor(
        () => actionIds(message).length === 0 && messageText(message).includes('Expired'),
        5000,
        'the sweep at start',
      );
      await settle(sb);
      expect(messageText(message)).toContain('Expired, nothing was deleted');
    } finally {
      await sb.stop({ fakes: true });
    }
  });
});

describe('DRY_RUN', () => {
  it('runs the whole flow, sends no DELETE, and says DRY RUN everywhere', async () => {
    const sb = await startSandbox({ env: { DRY_RUN: 'true' } });
    try {
      sb.botpenguin.addCustomer(CUSTOMER);
      const { requestId, message, ack } = await requestDeletion(sb);
      expect(ackText(ack)).toContain('DRY RUN');
      expect(messageText(message)).toContain('DRY RUN');
      await sb.sender.click(APPROVER, ACTION_APPROVE, requestId);
      await sb.slack.waitFor(() => actionIds(message).length === 0);
      await settle(sb);
      expect(sb.botpenguin.deletes()).toHaveLength(0);
      expect(messageText(message)).toContain('no DELETE was sent');
      const thread = sb.slack.thread(SANDBOX_CHANNEL, message.ts);
      expect(thread.length).toBeGreaterThanOrEqual(3);
      for (const reply of thread) expect(reply.text).toContain('DRY RUN');
    } finally {
      await sb.stop({ fakes: true });
    }
  });
});

describe('EXECUTION_DELAY', () => {
  let t: number;
  let sb: Sandbox;
  beforeEach(async () => {
    t = Date.UTC(2026, 10, 29, 14, 3, 0);
    sb = await startSandbox({ env: { EXECUTION_DELAY: '2m' }, now: () => t });
    sb.botpenguin.addCustomer(CUSTOMER);
  });
  afterEach(() => sb.stop({ fakes: true }));

  it('counts down with an Abort button, and the DELETE goes out only when the delay has passed', async () => {
    const { requestId, message } = await requestDeletion(sb);
    await sb.sender.click(APPROVER, ACTION_APPROVE, requestId);
    await sb.slack.waitFor(() => actionIds(message).join() === ACTION_ABORT, 5000, 'the abort button');
    expect(messageText(message)).toContain('Deleting at 14:05 UTC');
    await sb.bot.sweeper.sweep();
    expect(sb.botpenguin.deletes()).toHaveLength(0);
    t += 2 * 60_000;
    await sb.bot.sweeper.sweep();
    await settle(sb);
    expect(sb.botpenguin.deletes()).toHaveLength(1);
    expect(messageText(message)).toContain('was deleted');
    expect(actionIds(message)).toEqual([]);
  });

  it('the requester aborts during the delay: nothing is deleted; an outsider cannot abort', async () => {
    const { requestId, message } = await requestDeletion(sb);
    await sb.sender.click(APPROVER, ACTION_APPROVE, requestId);
    await sb.slack.waitFor(() => actionIds(message).join() === ACTION_ABORT);
    await sb.sender.click(OUTSIDER, ACTION_ABORT, requestId);
    await sb.slack.waitFor(() => sb.slack.ephemeralsFor(OUTSIDER).length === 1);
    expect(sb.slack.ephemeralsFor(OUTSIDER)[0]?.text).toMatch(/Only the requester or an authorized approver/);
    await sb.sender.click(REQUESTER, ACTION_ABORT, requestId);
    await sb.slack.waitFor(() => actionIds(message).length === 0);
    t += 5 * 60_000;
    await sb.bot.sweeper.sweep();
    await settle(sb);
    expect(sb.botpenguin.deletes()).toHaveLength(0);
    expect(messageText(message)).toContain(`Aborted by <@${REQUESTER}>`);
  });

  it('survives a restart: the approved request is deleted when its time comes', async () => {
    const { requestId, message } = await requestDeletion(sb);
    await sb.sender.click(APPROVER, ACTION_APPROVE, requestId);
    await sb.slack.waitFor(() => actionIds(message).join() === ACTION_ABORT);
    await settle(sb);
    const { botpenguin } = sb;
    t += 3 * 60_000;
    sb = await restartSandbox(sb, { env: { EXECUTION_DELAY: '2m' }, now: () => t });
    await botpenguin.waitFor(() => botpenguin.deletes().length === 1, 5000, 'the DELETE after restart');
    await settle(sb);
    expect(messageText(message)).toContain('was deleted');
  });
});

describe('the customer preview', () => {
  let sb: Sandbox;
  beforeEach(async () => {
    sb = await startSandbox();
  });
  afterEach(() => sb.stop({ fakes: true }));

  it('shows the name, email and status found in BotPenguin’s customer list', async () => {
    for (let i = 0; i < 15; i++) sb.botpenguin.addCustomer(`64b7f0c2e4b0a1b2c3d4e${String(i).padStart(3, '0')}`);
    sb.botpenguin.addCustomer(CUSTOMER, 'Acme <!channel> Ltd', 'ops@acme.test', 'active');
    const { message } = await requestDeletion(sb);
    await sb.slack.waitFor(() => messageText(message).includes('ops@acme.test'), 5000, 'the preview');
    expect(messageText(message)).toContain('Acme &lt;!channel&gt; Ltd');
    expect(messageText(message)).toContain('active');
  });

  it('is part of the work the bot waits for when idle (tests, shutdown): a slow lookup still reaches the message', async () => {
    sb.botpenguin.addCustomer(CUSTOMER, 'Acme Ltd', 'ops@acme.test');
    sb.botpenguin.latencyMs = 300;
    const { message } = await requestDeletion(sb);
    await settle(sb);
    expect(messageText(message)).toContain('ops@acme.test');
  });

  it('says when the customer was not found, and when BotPenguin could not be asked', async () => {
    sb.botpenguin.answerNext('GET', { status: 500, body: {} });
    const { message } = await requestDeletion(sb);
    await sb.slack.waitFor(() => messageText(message).includes('preview unavailable'), 5000, 'unavailable');
    // A failed page is not reused: the next lookup asks again.
    const other = await requestDeletion(sb, '64b7f0c2e4b0a1b2c3d4ffff');
    await sb.slack.waitFor(() => messageText(other.message).includes('Not found in the first'), 5000, 'not found');
  });

  it('a burst of requests walks the customer list once, not once per request', async () => {
    for (let i = 0; i < 25; i++) sb.botpenguin.addCustomer(`64b7f0c2e4b0a1b2c3d4e${String(i).padStart(3, '0')}`);
    const targets = ['64b7f0c2e4b0a1b2c3d4e020', '64b7f0c2e4b0a1b2c3d4e021', '64b7f0c2e4b0a1b2c3d4e022'];
    const made = [];
    for (const id of targets) made.push(await requestDeletion(sb, id));
    for (const { message } of made) {
      await sb.slack.waitFor(() => messageText(message).includes('@example.com'), 5000, 'the preview');
    }
    const pageCalls = sb.botpenguin.calls.filter((c) => c.method === 'GET').map((c) => c.path);
    expect(new Set(pageCalls).size).toBe(pageCalls.length);
  });

  it('does not delete when the customer’s name or email changed since it was shown', async () => {
    const customer = sb.botpenguin.addCustomer(CUSTOMER, 'Acme Ltd', 'ops@acme.test');
    const { requestId, message } = await requestDeletion(sb);
    await sb.slack.waitFor(() => messageText(message).includes('ops@acme.test'), 5000, 'the preview');
    customer.contact.email = 'someone-else@other.test';
    await sb.sender.click(APPROVER, ACTION_APPROVE, requestId);
    await sb.slack.waitFor(() => actionIds(message).length === 0);
    await settle(sb);
    expect(sb.botpenguin.deletes()).toHaveLength(0);
    expect(messageText(message)).toContain('changed since the request was shown');
  });
});

describe('help, status and list', () => {
  let sb: Sandbox;
  beforeEach(async () => {
    // A third approver, so that a quorum of two stays reachable for a request made by an approver.
    sb = await startSandbox({
      env: { APPROVER_USER_IDS: 'UAPPROVER1,UAPPROVER2,UAPPROVER3', APPROVALS_REQUIRED: '2', REQUEST_TTL: '1h' },
    });
  });
  afterEach(() => sb.stop({ fakes: true }));

  it('help (and no text) explains usage, the approvers and the settings that apply', async () => {
    for (const text of ['help', '']) {
      const res = await sb.sender.command(REQUESTER, text);
      const reply = ackText(res.json);
      expect(res.json).toMatchObject({ response_type: 'ephemeral' });
      expect(reply).toContain('/bp-delete &lt;customer_id&gt; [reason]');
      expect(reply).toContain('<@UAPPROVER1>');
      expect(reply).toContain('*Approvals needed:* 2');
      expect(reply).toContain('1h');
    }
  });

  it('status shows the state, the history and a permalink, by request id or customer id', async () => {
    const { requestId } = await requestDeletion(sb);
    await sb.sender.click(APPROVER, ACTION_APPROVE, requestId);
    await sb.slack.waitFor(() => sb.slack.callsTo('chat.update').length > 0);
    await settle(sb);
    for (const target of [requestId, CUSTOMER]) {
      const reply = ackText((await sb.sender.command(OUTSIDER, `status ${target}`)).json);
      expect(reply).toContain(requestId);
      expect(reply).toContain('*pending*');
      expect(reply).toContain('asked to delete');
      expect(reply).toContain(`<@${APPROVER}> approved`);
      expect(reply).toMatch(/https:\/\/example\.slack\.com\/archives\//);
    }
    expect(ackText((await sb.sender.command(OUTSIDER, 'status R000000000')).json)).toMatch(/No request found/);
    // Another channel learns where the request lives, not its reason or history.
    const elsewhere = ackText(
      (await sb.sender.command(OUTSIDER, `status ${requestId}`, { channel: 'C0ELSEWHERE' })).json,
    );
    expect(elsewhere).toContain(`belongs to <#${SANDBOX_CHANNEL}>`);
    expect(elsewhere).not.toContain('asked to delete');
    const byCustomer = ackText(
      (await sb.sender.command(OUTSIDER, `status ${CUSTOMER}`, { channel: 'C0ELSEWHERE' })).json,
    );
    expect(byCustomer).toMatch(/No request found/);
  });

  it('list shows the open requests of this channel with links', async () => {
    const first = await requestDeletion(sb);
    const second = await requestDeletion(sb, '64b7f0c2e4b0a1b2c3d4e5f7', 'second');
    await settle(sb);
    const reply = ackText((await sb.sender.command(OUTSIDER, 'list')).json);
    expect(reply).toContain('(2)');
    expect(reply).toContain(first.requestId);
    expect(reply).toContain(second.requestId);
    const elsewhere = ackText((await sb.sender.command(OUTSIDER, 'list', { channel: 'C0ELSEWHERE' })).json);
    expect(elsewhere).toMatch(/No open deletion requests/);
  });
});
