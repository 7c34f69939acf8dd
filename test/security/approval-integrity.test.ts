// Nothing deletes without a second person, the wrong customer, or a person who lost the right:
// self-approval by every route, removed approvers, an edited approval message, path injection in the id.
import { restartSandbox, SANDBOX_CHANNEL, type Sandbox, startSandbox } from '../../sandbox/harness';
import { ACTION_APPROVE } from '../../src/constants';
import {
  APPROVER,
  APPROVER2,
  actionIds,
  messageText,
  OUTSIDER,
  REQUESTER,
  requestDeletion,
  settle,
  watchListeners,
} from '../helpers/flow';
import { expectNothingChanged, footprint, freshCustomerId } from './support';

async function clickAndHear(sb: Sandbox, user: string, requestId: string, where: { channel?: string } = {}) {
  const told = sb.slack.ephemerals.length;
  await sb.sender.click(user, ACTION_APPROVE, requestId, where);
  await sb.slack.waitFor(() => sb.slack.ephemerals.length > told, 5000, 'the answer to the click');
  await settle(sb);
  return sb.slack.ephemerals.at(-1)?.text ?? '';
}

describe('self-approval, by every route, with two approvals required', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    // A third approver, so that the configuration can reach a quorum of two for a request made by an approver.
    sb = watchListeners(
      await startSandbox({
        env: { APPROVER_USER_IDS: 'UAPPROVER1,UAPPROVER2,UAPPROVER3', APPROVALS_REQUIRED: '2' },
      }),
    );
  });
  afterAll(async () => {
    await sb.stop({ fakes: true });
  });

  it('an approver who asked, plus one other approver clicking twice, never reaches the quorum', async () => {
    const customer = freshCustomerId();
    sb.botpenguin.addCustomer(customer);
    const { requestId } = await requestDeletion(sb, customer, 'asked by an approver', APPROVER);
    await sb.sender.click(APPROVER2, ACTION_APPROVE, requestId);
    await settle(sb);
    const before = await footprint(sb);

    expect(await clickAndHear(sb, APPROVER, requestId)).toMatch(/can’t approve your own request/);
    expect(await clickAndHear(sb, APPROVER, requestId, { channel: 'C0ELSEWHERE' })).toMatch(/does not belong/);
    expect(await clickAndHear(sb, APPROVER2, requestId)).toMatch(/already approved this request/);
    expect(await clickAndHear(sb, OUTSIDER, requestId)).toMatch(/not an authorized approver/);

    await expectNothingChanged(sb, before);
    const request = await sb.store.getRequest(requestId);
    expect(request).toMatchObject({ state: 'pending', approvals: [{ userId: APPROVER2 }] });
    expect(sb.botpenguin.deletes()).toHaveLength(0);
  });
});

describe('an approver removed from APPROVER_USER_IDS loses the right at the restart that applies it', () => {
  it('their click on a message posted before the change is refused', async () => {
    let sb = watchListeners(await startSandbox());
    const { requestId, message } = await requestDeletion(sb, freshCustomerId(), 'before the change');
    sb = watchListeners(await restartSandbox(sb, { env: { APPROVER_USER_IDS: APPROVER } }));
    try {
      expect(await clickAndHear(sb, APPROVER2, requestId)).toMatch(/not an authorized approver/);
      expect(await sb.store.getRequest(requestId)).toMatchObject({ state: 'pending', approvals: [] });
      expect(actionIds(message)).toContain(ACTION_APPROVE);
      expect(sb.botpenguin.deletes()).toHaveLength(0);
    } finally {
      await sb.stop({ fakes: true });
    }
  });
});

describe('an approver removed from the approver user group', () => {
  it('is refused once the one-minute membership cache has passed', async () => {
    const clock = { now: Date.UTC(2030, 0, 1, 12) };
    const sb = watchListeners(
      await startSandbox({
        now: () => clock.now,
        env: { APPROVER_USER_IDS: '', APPROVER_USERGROUP_IDS: 'S0APPROVERS' },
      }),
    );
    try {
      sb.slack.usergroups.set('S0APPROVERS', ['UGROUPMEMBER']);
      const first = await requestDeletion(sb, freshCustomerId(), 'while a member');
      await sb.sender.click('UGROUPMEMBER', ACTION_APPROVE, first.requestId);
      await settle(sb);
      expect((await sb.store.getRequest(first.requestId))?.approvals).toHaveLength(1);

      sb.slack.usergroups.set('S0APPROVERS', []);
      clock.now += 61_000;
      const second = await requestDeletion(sb, freshCustomerId(), 'after the removal');
      expect(await clickAndHear(sb, 'UGROUPMEMBER', second.requestId)).toMatch(/not an authorized approver/);
      expect(await sb.store.getRequest(second.requestId)).toMatchObject({ state: 'pending', approvals: [] });
    } finally {
      await sb.stop({ fakes: true });
    }
  });
});

describe('the approval message is not the truth; the store is', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = watchListeners(await startSandbox());
  });
  afterAll(async () => {
    await sb.stop({ fakes: true });
  });

  it('an edited message showing another customer still deletes the stored one, and the next update shows the truth', async () => {
    const real = freshCustomerId();
    const shown = freshCustomerId();
    sb.botpenguin.addCustomer(real);
    sb.botpenguin.addCustomer(shown);
    const { requestId, message } = await requestDeletion(sb, real, 'the real one');
    // Someone holding the bot token edits the message (Slack lets nobody else edit a bot's message).
    message.blocks = JSON.parse(JSON.stringify(message.blocks).split(real).join(shown));
    expect(messageText(message)).toContain(shown);

    await sb.sender.click(APPROVER, ACTION_APPROVE, requestId, { messageTs: message.ts });
    await sb.botpenguin.waitFor(() => sb.botpenguin.deletes().length === 1);
    await settle(sb);
    expect(sb.botpenguin.deletes().map((d) => d.path)).toEqual([`/customer/${real}`]);
    expect(messageText(message)).toContain(real);
    expect(messageText(message)).not.toContain(shown);
  });
});

describe('path injection in the customer id (default CUSTOMER_ID_PATTERN)', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = watchListeners(await startSandbox());
  });
  afterAll(async () => {
    await sb.stop({ fakes: true });
  });

  it.each([
    '../customer/64b7f0c2e4b0a1b2c3d4e5f6',
    '64b7f0c2e4b0a1b2c3d4e5f6/../../admin',
    '64b7f0c2e4b0a1b2c3d4e5f6%2F..',
    '64b7f0c2e4b0a1b2c3d4e5f6?force=true',
    '64b7f0c2e4b0a1b2c3d4e5f6#',
    '..',
    '%2e%2e',
    '64b7f0c2e4b0a1b2c3d4e5f６',
    '64b7f0c2e4b0a1b2c3d4e5f6\u0000',
  ])('%j is refused as not a customer id; nothing is stored or sent', async (id) => {
    const before = await footprint(sb);
    const res = await sb.sender.command(REQUESTER, `${id} reason`);
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.json)).toMatch(/is not a BotPenguin customer id/);
    await expectNothingChanged(sb, before);
    expect(sb.slack.channelMessages(SANDBOX_CHANNEL)).toHaveLength(0);
  });
});
