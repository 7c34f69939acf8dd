// Issue 16, defect 8: no request nobody can see. When Slack refuses the first post of the approval message for
// good with an error outside the "can't post here" list, the request is withdrawn, the requester is told privately
// why, and the command's immediate answer never claimed the message was posted.
import { type Sandbox, startSandbox } from '../../../sandbox/harness';
import { OPEN_STATES } from '../../../src/requests/types';
import { ackText, CUSTOMER, REQUESTER, settle } from '../../helpers/flow';

let sb: Sandbox;
afterEach(async () => {
  await sb?.stop({ fakes: true });
});

describe('the first post of the approval message refused for good', () => {
  beforeEach(async () => {
    sb = await startSandbox();
    sb.botpenguin.addCustomer(CUSTOMER);
  });

  // Defect 8: the answer says "posted", the sync ends quietly, and the request holds the customer until it expires.
  it.each([
    ['invalid_blocks'],
    ['msg_too_long'],
    // `/bp-delete` typed in the app's DM while its Messages tab is off.
    ['messages_tab_disabled'],
  ])('(%s): withdrawn, the requester told privately why, never "posted"', async (error) => {
    sb.slack.failNext('chat.postMessage', { status: 200, error });
    const res = await sb.sender.command(REQUESTER, `${CUSTOMER} customer asked to close the account`);
    expect(res.status).toBe(200);
    const answer = ackText(res.json);
    expect(answer).not.toMatch(/is posted/);
    await settle(sb);

    expect(sb.slack.channelMessages(sb.sender.defaults.channel)).toHaveLength(0);
    const [request] = await sb.store.listRequests({ customerId: CUSTOMER, limit: 5 });
    expect(request?.state).toBeDefined();
    expect(OPEN_STATES).not.toContain(request?.state); // withdrawn: nothing to approve, the customer free
    // Told privately, in words, after the immediate answer.
    await sb.slack.waitFor(
      () => sb.slack.ephemerals.some((e) => /withdrawn/.test(e.text)),
      5_000,
      'the private note that the request was withdrawn',
    );
    const note = sb.slack.ephemerals.find((e) => /withdrawn/.test(e.text));
    expect(note?.text).toMatch(/not be posted|wasn’t posted|was not posted|couldn’t be posted/);
    // The customer is free again: a new request is made (and posted, now that Slack takes it).
    const again = await sb.sender.command(REQUESTER, `${CUSTOMER} once more`);
    expect(ackText(again.json)).not.toMatch(/already has an open request/);
  });
});
