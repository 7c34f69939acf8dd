// Issue 16, defect 1: "paused" holds for a DELETE already under way. BotPenguin answers the first DELETE 503 with
// Retry-After: 3; an approver pauses while the bot waits to retry. No DELETE may reach BotPenguin after the answer
// "Every DELETE is paused", and the customer must not be deleted.
import { SANDBOX_CHANNEL, type Sandbox, startSandbox } from '../../../sandbox/harness';
import { ACTION_APPROVE } from '../../../src/constants';
import { APPROVER, APPROVER2, ackText, CUSTOMER, requestDeletion, settle } from '../../helpers/flow';
import { everythingSaid } from './support';

let sb: Sandbox;
afterEach(async () => {
  await sb?.stop({ fakes: true });
});

describe('a pause typed while a DELETE waits to be retried', () => {
  beforeEach(async () => {
    sb = await startSandbox();
    sb.botpenguin.addCustomer(CUSTOMER);
  });

  // Defect 1: the pause is checked only at the claim; the retry loop sends two more DELETEs and deletes the customer.
  it('stops every DELETE not yet sent: none reaches BotPenguin after the pause answer', async () => {
    const { requestId, message } = await requestDeletion(sb);
    await settle(sb);
    sb.botpenguin.answerNext('DELETE', {
      status: 503,
      body: { success: false, message: 'Service Unavailable' },
      headers: { 'retry-after': '3' },
    });
    expect((await sb.sender.click(APPROVER2, ACTION_APPROVE, requestId)).status).toBe(200);
    await sb.botpenguin.waitFor(() => sb.botpenguin.deletes()[0]?.status === 503, 5_000, 'the 503 answer');

    const paused = await sb.sender.command(APPROVER, 'pause incident 42');
    expect(ackText(paused.json)).toMatch(/Every DELETE is paused/);
    // The answer says what it holds: the one DELETE under way, whose further attempts are not sent.
    expect(ackText(paused.json)).toMatch(
      new RegExp(`1 DELETE was under way \\(\`${requestId}\`\\): no further attempt`),
    );
    const deletesWhenPaused = sb.botpenguin.deletes().length;
    expect(deletesWhenPaused).toBe(1); // the pause came while the retry waited, as in the audit
    // The retry (3 s on) has come and gone once the executor is idle: what was sent after the pause is known.
    await settle(sb);

    expect(sb.botpenguin.deletes().length - deletesWhenPaused).toBe(0);
    expect(sb.botpenguin.customers.map((c) => c._id)).toContain(CUSTOMER);
    const stored = await sb.store.getRequest(requestId);
    expect(stored?.state).not.toBe('succeeded');
    expect(everythingSaid(sb.slack, message)).not.toMatch(/was deleted/);
    expect(sb.slack.channelMessages(SANDBOX_CHANNEL).some((m) => /paused every DELETE/.test(m.text))).toBe(true);
    // The 503 may have come after BotPenguin acted: outcome unknown, and the customer held until the checks settle it.
    expect(stored).toMatchObject({ state: 'uncertain', outcome: { kind: 'uncertain', attempts: 1 } });
    expect(stored?.outcome?.message).toMatch(/DELETEs were paused, so no further DELETE was sent/);
  });
});
