// The Slack Web API failing (429 with Retry-After, 500, timing out) never loses state: the store is the
// truth, the DELETE goes on, and the message and its thread are brought up to date, once, when Slack
// answers again (the sweeper). The sweeper only runs when a test says so here.
import type { Failure } from '../../sandbox/fake-slack';
import { SANDBOX_CHANNEL, type Sandbox, startSandbox } from '../../sandbox/harness';
import { ACTION_APPROVE } from '../../src/constants';
import {
  APPROVER,
  ackText,
  actionIds,
  buttonValue,
  CUSTOMER,
  messageText,
  REQUESTER,
  requestDeletion,
  settle,
} from '../helpers/flow';

let sb: Sandbox;
/** The bot's clock runs this far ahead of the wall clock; `later()` moves it past any sync backoff. */
let skew = 0;
let slackTimeoutMs = 300;
const later = () => {
  skew += 11 * 60_000; // past the longest backoff (10 min)
};
beforeEach(async () => {
  skew = 0;
  sb = await startSandbox({
    now: () => Date.now() + skew,
    sweepIntervalMs: 3_600_000,
    // A Slack call times out after 300 ms (unless a test needs Slack's answer, slow as it may be on a loaded
    // machine) and is retried once before the sync gives up.
    timings: { slackTimeoutMs, slackRetries: 1 },
  });
  sb.botpenguin.addCustomer(CUSTOMER);
});
afterEach(() => sb.stop({ fakes: true }));

const thread = (ts: string) => sb.slack.thread(SANDBOX_CHANNEL, ts).map((m) => m.text);

describe('Slack failing to post the approval message', () => {
  it('chat.postMessage answering 500: the request is kept, and its message is posted once Slack answers', async () => {
    sb.slack.failNext('chat.postMessage', { status: 500 }, 100);
    const res = await sb.sender.command(REQUESTER, `${CUSTOMER} closing the account`);
    expect(res.status).toBe(200);
    expect(ackText(res.json)).not.toMatch(/went wrong/);
    await settle(sb);
    expect(sb.slack.channelMessages(SANDBOX_CHANNEL)).toHaveLength(0);
    const [request] = await sb.store.listRequests({ customerId: CUSTOMER, limit: 1 });
    expect(request).toMatchObject({ state: 'pending', messageTs: null });

    sb.slack.clearFailures();
    later(); // a failing sync is retried after its backoff
    await sb.bot.sweeper.sweep();
    await settle(sb);
    const messages = sb.slack.channelMessages(SANDBOX_CHANNEL);
    expect(messages).toHaveLength(1);
    expect(buttonValue(messages[0]!, ACTION_APPROVE)).toBe(request?.id);
    expect(thread(messages[0]!.ts)).toEqual([expect.stringContaining('asked to delete')]);
    await sb.bot.sweeper.sweep();
    await settle(sb);
    expect(sb.slack.channelMessages(SANDBOX_CHANNEL)).toHaveLength(1);
  });
});

describe('Slack rate-limiting the update of the message', () => {
  // The 429 must be read, not timed out: a timed-out call is retried at once (it was in flight, not sent into
  // a Retry-After the bot knew of), which on a loaded machine lands right after the 429.
  beforeAll(() => {
    slackTimeoutMs = 10_000;
  });
  afterAll(() => {
    slackTimeoutMs = 300;
  });
  it('chat.update answering 429 with Retry-After: the call is retried after the wait, and the message ends right', async () => {
    const { requestId, message } = await requestDeletion(sb);
    await settle(sb);
    const mark = Date.now();
    sb.slack.failNext('chat.update', { status: 429, retryAfterSeconds: 1 });
    await sb.sender.click(APPROVER, ACTION_APPROVE, requestId);
    await sb.slack.waitFor(() => messageText(message).includes('was deleted'), 8000, 'the outcome');
    await settle(sb);
    const updates = sb.slack.callsTo('chat.update').filter((c) => c.at >= mark);
    const limited = updates.findIndex((c) => c.status === 429);
    expect(limited).toBeGreaterThanOrEqual(0);
    const [answered429, retried] = [updates[limited]!, updates[limited + 1]!];
    expect(retried.at - answered429.at).toBeGreaterThanOrEqual(950);
    expect(actionIds(message)).toEqual([]);
    expect(sb.botpenguin.deletes()).toHaveLength(1);
  });
});

describe('Slack failing to update the message', () => {
  it.each<[string, Failure]>([
    ['answering 429 past the client’s retries', { status: 429, retryAfterSeconds: 0 }],
    ['answering 500', { status: 500 }],
    ['timing out', { status: 500, delayMs: 1_000 }],
  ])(
    'chat.update %s: the DELETE goes on, the store keeps the outcome, the sweeper updates the message later',
    async (_, failure) => {
      const { requestId, message } = await requestDeletion(sb);
      await settle(sb);
      sb.slack.failNext('chat.update', failure, 100);
      await sb.sender.click(APPROVER, ACTION_APPROVE, requestId);
      await sb.botpenguin.waitFor(() => sb.botpenguin.deletes().length === 1, 5000, 'the DELETE');
      await settle(sb);
      expect(await sb.store.getRequest(requestId)).toMatchObject({ state: 'succeeded', outcome: { kind: 'deleted' } });
      expect(actionIds(message)).toContain(ACTION_APPROVE); // Slack still shows the old state
      expect((await sb.store.listOutOfSync(10)).map((r) => r.id)).toEqual([requestId]);

      sb.slack.clearFailures();
      later(); // a failing sync is retried after its backoff
      await sb.bot.sweeper.sweep();
      await settle(sb);
      expect(actionIds(message)).toEqual([]);
      expect(messageText(message)).toContain('was deleted');
      const replies = thread(message.ts);
      expect(replies.filter((t) => t.includes(`<@${APPROVER}> approved`))).toHaveLength(1);
      expect(replies.filter((t) => t.includes(':wastebasket:'))).toHaveLength(1);
      expect(await sb.store.listOutOfSync(10)).toEqual([]);
      expect(sb.botpenguin.deletes()).toHaveLength(1);
    },
  );
});

describe('Slack failing to post thread replies', () => {
  it('no reply is lost or posted twice: the ones that failed are posted by the sweeper', async () => {
    const { requestId, message } = await requestDeletion(sb);
    await settle(sb);
    sb.slack.failNext('chat.postMessage', { status: 500 }, 100);
    await sb.sender.click(APPROVER, ACTION_APPROVE, requestId);
    await sb.slack.waitFor(() => messageText(message).includes('was deleted'), 5000, 'the updated message');
    await settle(sb);
    expect(thread(message.ts)).toHaveLength(1); // only "asked to delete"

    sb.slack.clearFailures();
    later(); // a failing sync is retried after its backoff
    await sb.bot.sweeper.sweep();
    await settle(sb);
    await sb.bot.sweeper.sweep();
    await settle(sb);
    const replies = thread(message.ts);
    expect(replies).toHaveLength(4);
    expect(replies[1]).toContain(`<@${APPROVER}> approved`);
    expect(replies[2]).toContain('sending the DELETE');
    expect(replies[3]).toContain(':wastebasket:');
  });
});
