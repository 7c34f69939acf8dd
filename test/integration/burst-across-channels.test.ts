// A burst of requests over many channels: approvers see every approval message before the bot spends its
// Slack calls on thread replies (the audit trail can wait a moment; the decision can't). Through the sandbox:
// the real app, a fake Slack slow enough that the burst outruns the sync's slots.

import { type Sandbox, startSandbox } from '../../sandbox/harness';

const customerId = (i: number) => `64b7f0c2e4b0a1b2c3d6${String(i).padStart(4, '0')}`;
const channelOf = (i: number) => `C0BURSTX${String(i).padStart(3, '0')}`;
/** More than the sync's slots (8), so approval messages wait for a slot while earlier requests have replies due. */
const BURST = 24;

let sb: Sandbox;
beforeEach(async () => {
  sb = await startSandbox({ sweepIntervalMs: 3_600_000 });
  // Every Web API call takes this long: all the commands are answered before the first posts return.
  sb.slack.latencyMs = 400;
});
afterEach(() => sb.stop({ fakes: true }));

describe('a burst of requests across channels', () => {
  it('every approval message is posted before any thread reply; every reply follows, once', async () => {
    const answers = await Promise.all(
      Array.from({ length: BURST }, (_, i) =>
        sb.sender.command(`UBURST${i}`, `${customerId(i)} erasure`, { channel: channelOf(i) }),
      ),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(BURST).fill(200));
    await sb.slack.waitFor(
      () =>
        Array.from({ length: BURST }, (_, i) => i).every((i) => {
          const messages = sb.slack.channelMessages(channelOf(i));
          return messages.length === 1 && sb.slack.thread(channelOf(i), messages[0]?.ts ?? '').length > 0;
        }),
      60_000,
      'every approval message and its reply',
    );
    await sb.bot.idle();

    const posts = sb.slack.callsTo('chat.postMessage').sort((x, y) => x.hrAt - y.hrAt);
    const isReply = (c: (typeof posts)[number]) => typeof c.args.thread_ts === 'string';
    const lastMessage = posts.map(isReply).lastIndexOf(false);
    const firstReply = posts.map(isReply).indexOf(true);
    expect(posts.filter((c) => !isReply(c))).toHaveLength(BURST);
    expect(firstReply).toBeGreaterThan(lastMessage);
    for (let i = 0; i < BURST; i++) {
      const [message] = sb.slack.channelMessages(channelOf(i));
      const replies = sb.slack.thread(channelOf(i), message?.ts ?? '').map((r) => r.text);
      expect(replies).toHaveLength(1);
      expect(replies[0]).toContain(customerId(i));
    }
  });
});
