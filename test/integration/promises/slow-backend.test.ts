// Issue 16, defect 4: settle checks a slow backend can't fool. BotPenguin's gateway answers every DELETE 504 while
// its backend finishes the first one much later (20 s in the audit). A customer still listed right after a DELETE
// that may still be in progress proves nothing: the request stays uncertain (the customer held) until "still
// listed" has held across checks spread over a window; "gone" may be concluded at once.
import { type Sandbox, startSandbox } from '../../../sandbox/harness';
import { ACTION_APPROVE } from '../../../src/constants';
import { APPROVER, ackText, CUSTOMER, REQUESTER, requestDeletion, settle } from '../../helpers/flow';
import { everythingSaid, handClock } from './support';

const MINUTE = 60_000;

let sb: Sandbox;
afterEach(async () => {
  await sb?.stop({ fakes: true });
});

describe('a DELETE the gateway answers 504 while the backend is still deleting', () => {
  const clock = handClock();
  beforeEach(async () => {
    // The gateway's 504 comes well within our timeout; the clock is the bot's and its store's, moved by hand.
    sb = await startSandbox({ env: { BOTPENGUIN_TIMEOUT_MS: '3000' }, now: clock.now });
    sb.botpenguin.addCustomer(CUSTOMER);
  });

  // Defect 4: the first settle check, made at once, finds the customer still listed and records "Not deleted".
  it('stays uncertain while the DELETE may still be in progress; never "not deleted"', async () => {
    const { requestId, message } = await requestDeletion(sb);
    await settle(sb);
    const gateway504 = { status: 504, body: { success: false, message: 'Gateway Timeout' }, delayMs: 300 };
    sb.botpenguin.answerNext('DELETE', { ...gateway504, takesEffectAfterMs: 20_000 });
    sb.botpenguin.answerNext('DELETE', gateway504, 4);
    expect((await sb.sender.click(APPROVER, ACTION_APPROVE, requestId)).status).toBe(200);
    await sb.botpenguin.waitFor(() => sb.botpenguin.deletes().length === 5, 15_000, 'five DELETE attempts');
    await settle(sb);
    expect(sb.botpenguin.backendWorkLeft).toBe(1); // the backend is still deleting

    // Right after: still listed, but that proves nothing yet.
    expect(await sb.store.getRequest(requestId)).toMatchObject({ state: 'uncertain' });
    expect(ackText((await sb.sender.command(REQUESTER, `${CUSTOMER} again`)).json)).toMatch(
      /already has an open request/,
    );

    // A couple of minutes on, the sweeper's checks still find it listed: still too soon to say.
    clock.advance(2 * MINUTE);
    await sb.bot.requests.executor.settleUncertain();
    await settle(sb);
    expect(await sb.store.getRequest(requestId)).toMatchObject({ state: 'uncertain' });

    // The backend finishes; the next checks find the customer gone.
    sb.botpenguin.finishBackendWork();
    for (let i = 0; i < 3; i++) {
      clock.advance(10 * MINUTE);
      await sb.bot.requests.executor.settleUncertain();
    }
    await settle(sb);
    expect(sb.botpenguin.customers).toHaveLength(0);
    expect((await sb.store.getRequest(requestId))?.state).not.toBe('failed');
    expect(everythingSaid(sb.slack, message)).not.toMatch(/not deleted|did not delete|you can ask again/i);
  });
});
