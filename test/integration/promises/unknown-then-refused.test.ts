// Issue 16, defect 2: once an attempt's outcome is unknown, only proof settles it. The first DELETE times out
// (BotPenguin did delete the customer); the retry is refused with 403. That refusal proves nothing about the first
// attempt: the request must not be recorded "failed", nor the channel told BotPenguin did not delete the customer,
// nor the customer be free to be asked for again while it is uncertain.
import { type Sandbox, startSandbox } from '../../../sandbox/harness';
import { ACTION_APPROVE } from '../../../src/constants';
import { APPROVER, ackText, CUSTOMER, REQUESTER, requestDeletion, settle } from '../../helpers/flow';
import { everythingSaid } from './support';

let sb: Sandbox;
afterEach(async () => {
  await sb?.stop({ fakes: true });
});

describe('a DELETE that timed out, then a retry refused with 403', () => {
  beforeEach(async () => {
    sb = await startSandbox({ env: { BOTPENGUIN_TIMEOUT_MS: '200' } });
    sb.botpenguin.addCustomer(CUSTOMER);
  });

  // Defect 2: only a 404 after an unknown attempt is treated with care; a 403 ends the request "failed".
  it('is not "failed" and never says "not deleted"; uncertain until proof', async () => {
    const { requestId, message } = await requestDeletion(sb);
    await settle(sb);
    // The first DELETE is answered too late for the bot (200 ms timeout), but BotPenguin deletes the customer.
    sb.botpenguin.answerNext('DELETE', {
      status: 200,
      body: { success: true, message: '' },
      delayMs: 1_000,
      takesEffectAfterMs: 0,
    });
    sb.botpenguin.answerNext('DELETE', { status: 403, body: { success: false, message: 'Forbidden', code: 403 } });
    expect((await sb.sender.click(APPROVER, ACTION_APPROVE, requestId)).status).toBe(200);
    await sb.botpenguin.waitFor(() => sb.botpenguin.deletes().length === 2, 10_000, 'the retry');
    await settle(sb);
    expect(sb.botpenguin.deletes()[1]?.status).toBe(403);
    expect(sb.botpenguin.customers).toHaveLength(0);

    const stored = await sb.store.getRequest(requestId);
    // Uncertain until proof; "gone" at a settle look is proof, so a request concluded deleted is fine too.
    expect(['uncertain', 'succeeded']).toContain(stored?.state);
    await settle(sb);
    expect(everythingSaid(sb.slack, message)).not.toMatch(/did not delete|not deleted|Deletion failed/i);
    // While it is uncertain, the customer can't be asked for again.
    const again = ackText((await sb.sender.command(REQUESTER, `${CUSTOMER} once more`)).json);
    expect(again).toMatch(stored?.state === 'uncertain' ? /already has an open request/ : /./);
  });
});
