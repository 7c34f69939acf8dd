// Issue 16: `/bp-delete abort <id>`, for approvers and the requester, from any channel, as the Abort button does:
// when the button can't be seen or clicked, an approved DELETE waiting out EXECUTION_DELAY can still be stopped
// without pausing every DELETE.
import { type Sandbox, startSandbox } from '../../../sandbox/harness';
import { ACTION_APPROVE } from '../../../src/constants';
import {
  APPROVER,
  APPROVER2,
  ackText,
  actionIds,
  CUSTOMER,
  messageText,
  OUTSIDER,
  REQUESTER,
  requestDeletion,
  settle,
} from '../../helpers/flow';

const ELSEWHERE = 'C0ELSEWHERE';

let sb: Sandbox;
beforeEach(async () => {
  // A delay no test outlives: the DELETE is never due while these run.
  sb = await startSandbox({ env: { EXECUTION_DELAY: '10m' } });
  sb.botpenguin.addCustomer(CUSTOMER);
});
afterEach(async () => {
  await sb?.stop({ fakes: true });
});

async function approvedRequest() {
  const asked = await requestDeletion(sb);
  await settle(sb);
  expect((await sb.sender.click(APPROVER, ACTION_APPROVE, asked.requestId)).status).toBe(200);
  await settle(sb);
  expect(await sb.store.getRequest(asked.requestId)).toMatchObject({ state: 'approved' });
  return asked;
}

describe('/bp-delete abort <id>', () => {
  // There is no `abort` subcommand: the word is taken for a customer id and refused as not one.
  it('an approver aborts from another channel: aborted, no DELETE, the message says who', async () => {
    const { requestId, message } = await approvedRequest();
    const res = await sb.sender.command(APPROVER2, `abort ${requestId}`, { channel: ELSEWHERE });
    expect(ackText(res.json)).toMatch(/aborted/);
    expect(ackText(res.json)).toContain(requestId);
    await settle(sb);
    expect(await sb.store.getRequest(requestId)).toMatchObject({ state: 'aborted', closedBy: APPROVER2 });
    await sb.slack.waitFor(() => actionIds(message).length === 0, 5_000, 'the aborted message');
    expect(messageText(message)).toContain(`Aborted by <@${APPROVER2}>`);
    expect(sb.botpenguin.deletes()).toHaveLength(0);
  });

  it('the requester aborts their own request by id', async () => {
    const { requestId } = await approvedRequest();
    const res = await sb.sender.command(REQUESTER, `abort ${requestId}`, { channel: ELSEWHERE });
    expect(ackText(res.json)).toMatch(/aborted/);
    expect(await sb.store.getRequest(requestId)).toMatchObject({ state: 'aborted', closedBy: REQUESTER });
  });

  it('anyone else is refused, and nothing changes', async () => {
    const { requestId } = await approvedRequest();
    const res = await sb.sender.command(OUTSIDER, `abort ${requestId}`);
    expect(ackText(res.json)).toMatch(/Only the requester or an authorized approver can abort/);
    expect(await sb.store.getRequest(requestId)).toMatchObject({ state: 'approved' });
  });

  it('without an id it says how to use it', async () => {
    const res = await sb.sender.command(APPROVER, 'abort');
    expect(ackText(res.json)).toMatch(/Usage: `\/bp-delete abort/);
  });

  it('help lists it', async () => {
    const res = await sb.sender.command(REQUESTER, 'help');
    expect(ackText(res.json)).toMatch(/\/bp-delete abort/);
  });
});
