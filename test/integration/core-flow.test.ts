import { ACTION_APPROVE, ACTION_CANCEL, ACTION_DENY } from '../../src/constants';
import { type Sandbox, SANDBOX_CHANNEL, startSandbox } from '../../src/sandbox/harness';
import { APPROVER, CUSTOMER, OUTSIDER, REQUESTER, actionIds, messageText, requestDeletion, settle } from '../helpers/flow';

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
    expect(thread).toHaveLength(3);
    expect(thread[0]).toContain('asked to delete');
    expect(thread[1]).toContain(`<@${APPROVER}> approved`);
    expect(thread[2]).toContain(`<@${REQUESTER}>`);
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
