// Approval policy over signed HTTP: quorum, user groups, requesters, channels, one open request per customer.
import { SANDBOX_CHANNEL, type Sandbox, startSandbox } from '../../sandbox/harness';
import { ACTION_APPROVE } from '../../src/constants';
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
} from '../helpers/flow';

describe('two approvals required', () => {
  let sb: Sandbox;
  beforeEach(async () => {
    // A third approver, so that a quorum of two stays reachable for a request made by an approver.
    sb = await startSandbox({
      env: { APPROVER_USER_IDS: 'UAPPROVER1,UAPPROVER2,UAPPROVER3', APPROVALS_REQUIRED: '2' },
    });
    sb.botpenguin.addCustomer(CUSTOMER);
  });
  afterEach(() => sb.stop({ fakes: true }));

  it('the first approval shows "1 of 2 approvals: @who" and deletes nothing; the second deletes', async () => {
    const { requestId, message } = await requestDeletion(sb);
    expect(messageText(message)).toContain('0 of 2 approvals');
    await sb.sender.click(APPROVER, ACTION_APPROVE, requestId);
    await sb.slack.waitFor(() => messageText(message).includes(`1 of 2 approvals: <@${APPROVER}>`), 5000, 'the count');
    await settle(sb);
    expect(sb.botpenguin.deletes()).toHaveLength(0);
    expect(actionIds(message)).toContain(ACTION_APPROVE);

    await sb.sender.click(APPROVER, ACTION_APPROVE, requestId);
    await sb.slack.waitFor(() => sb.slack.ephemeralsFor(APPROVER).length === 1);
    expect(sb.slack.ephemeralsFor(APPROVER)[0]?.text).toMatch(/already approved/);
    expect(sb.botpenguin.deletes()).toHaveLength(0);

    await sb.sender.click(APPROVER2, ACTION_APPROVE, requestId);
    await sb.botpenguin.waitFor(() => sb.botpenguin.deletes().length === 1);
    await settle(sb);
    expect(messageText(message)).toContain(`2 of 2 approvals: <@${APPROVER}>, <@${APPROVER2}>`);
    expect(messageText(message)).toContain('was deleted');
  });
});

describe('approvers from a Slack user group', () => {
  let sb: Sandbox;
  let t: number;
  beforeEach(async () => {
    t = Date.now();
    sb = await startSandbox({ env: { APPROVER_USER_IDS: '', APPROVER_USERGROUP_IDS: 'S0OPSLEADS' }, now: () => t });
    sb.slack.usergroups.set('S0OPSLEADS', ['ULEAD1', 'ULEAD2']);
    sb.botpenguin.addCustomer(CUSTOMER);
  });
  afterEach(() => sb.stop({ fakes: true }));

  it('a member approves; a non-member is refused', async () => {
    const { requestId } = await requestDeletion(sb);
    await sb.sender.click(OUTSIDER, ACTION_APPROVE, requestId);
    await sb.slack.waitFor(() => sb.slack.ephemeralsFor(OUTSIDER).length === 1);
    expect(sb.slack.ephemeralsFor(OUTSIDER)[0]?.text).toMatch(/not an authorized approver/);
    await sb.sender.click('ULEAD1', ACTION_APPROVE, requestId);
    await sb.botpenguin.waitFor(() => sb.botpenguin.deletes().length === 1);
    expect(sb.slack.callsTo('usergroups.users.list')[0]?.args.usergroup).toBe('S0OPSLEADS');
  });

  it('someone removed from the group loses the right within a minute', async () => {
    const { requestId } = await requestDeletion(sb);
    await sb.sender.click(OUTSIDER, ACTION_APPROVE, requestId); // fills the cache
    await sb.slack.waitFor(() => sb.slack.ephemeralsFor(OUTSIDER).length === 1);
    sb.slack.usergroups.set('S0OPSLEADS', ['ULEAD2']); // ULEAD1 removed
    t += 61_000;
    await sb.sender.click('ULEAD1', ACTION_APPROVE, requestId);
    await sb.slack.waitFor(() => sb.slack.ephemeralsFor('ULEAD1').length === 1);
    expect(sb.slack.ephemeralsFor('ULEAD1')[0]?.text).toMatch(/not an authorized approver/);
    expect(sb.botpenguin.deletes()).toHaveLength(0);
  });

  it('when Slack cannot say who is in the group, the approval is refused (fail closed)', async () => {
    const { requestId } = await requestDeletion(sb);
    sb.slack.failNext('usergroups.users.list', { status: 200, error: 'internal_error' }, 10);
    await sb.sender.click('ULEAD1', ACTION_APPROVE, requestId);
    await sb.slack.waitFor(() => sb.slack.ephemeralsFor('ULEAD1').length === 1, 10000);
    expect(sb.slack.ephemeralsFor('ULEAD1')[0]?.text).toMatch(/could not tell me who is in the allowed user groups/);
    expect(sb.botpenguin.deletes()).toHaveLength(0);
  });
});

describe('who may ask, and where', () => {
  let sb: Sandbox;
  afterEach(() => sb.stop({ fakes: true }));

  it('with REQUESTER_USER_IDS set, anyone else is refused and nothing is posted', async () => {
    sb = await startSandbox({ env: { REQUESTER_USER_IDS: 'USUPPORT1' } });
    const res = await sb.sender.command(REQUESTER, `${CUSTOMER} please`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ response_type: 'ephemeral' });
    expect(ackText(res.json)).toMatch(/not allowed to ask/);
    const ok = await sb.sender.command('USUPPORT1', `${CUSTOMER} please`);
    expect(ackText(ok.json)).toMatch(/is being posted in this channel/);
    await sb.slack.waitFor(() => sb.slack.channelMessages(SANDBOX_CHANNEL).length === 1);
  });

  it('with REQUESTER_USERGROUP_IDS set, members may ask', async () => {
    sb = await startSandbox({ env: { REQUESTER_USERGROUP_IDS: 'S0SUPPORT' } });
    sb.slack.usergroups.set('S0SUPPORT', ['USUPPORT2']);
    expect(ackText((await sb.sender.command(REQUESTER, CUSTOMER)).json)).toMatch(/not allowed to ask/);
    expect(ackText((await sb.sender.command('USUPPORT2', CUSTOMER)).json)).toMatch(/is being posted/);
  });

  it('outside ALLOWED_CHANNEL_IDS the command is refused with the channels where it works', async () => {
    sb = await startSandbox({ env: { ALLOWED_CHANNEL_IDS: `${SANDBOX_CHANNEL},C0OTHER01` } });
    const res = await sb.sender.command(REQUESTER, `${CUSTOMER} x`, { channel: 'C0RANDOM1' });
    expect(ackText(res.json)).toContain(`<#${SANDBOX_CHANNEL}>, <#C0OTHER01>`);
    // A command is decided before its answer; what it starts (the post) is background work settle() waits for.
    await settle(sb);
    expect(sb.slack.callsTo('chat.postMessage')).toHaveLength(0);
  });

  it('an invalid customer id is refused before anything is stored or posted', async () => {
    sb = await startSandbox();
    const res = await sb.sender.command(REQUESTER, '../../admin oops');
    expect(ackText(res.json)).toMatch(/is not a BotPenguin customer id/);
    await settle(sb);
    expect(sb.slack.callsTo('chat.postMessage')).toHaveLength(0);
    expect(await sb.store.listRequests({ limit: 5 })).toHaveLength(0);
  });

  it('a second request for a customer with an open one answers with a link to it', async () => {
    sb = await startSandbox();
    const { requestId } = await requestDeletion(sb);
    const res = await sb.sender.command(OUTSIDER, `${CUSTOMER.toUpperCase()} again`);
    const text = ackText(res.json);
    expect(text).toContain(requestId);
    expect(text).toMatch(/<https:\/\/example\.slack\.com\/archives\/C0OPS0001\/p\d+\|see the request>/);
    expect(sb.slack.channelMessages(SANDBOX_CHANNEL)).toHaveLength(1);
  });
});
