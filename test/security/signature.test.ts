// Forged and replayed requests (docs/DESIGN.md §3) and payloads from another workspace (SLACK_TEAM_ID):
// over signed HTTP to the real app, checking the answer AND that nothing was stored, posted or sent.
import { createHmac } from 'node:crypto';
import { SANDBOX_CHANNEL, SANDBOX_SECRETS, SANDBOX_TEAM, type Sandbox, startSandbox } from '../../sandbox/harness';
import { signSlackRequest } from '../../sandbox/slack-sender';
import { ACTION_APPROVE, ACTION_DENY, VIEW_DENY_REASON } from '../../src/constants';
import { APPROVER, REQUESTER, requestDeletion, settle, watchListeners } from '../helpers/flow';
import { expectNothingChanged, expectStillServes, footprint, freshCustomerId } from './support';

const SECRET: string = SANDBOX_SECRETS.SLACK_SIGNING_SECRET;
const nowSeconds = () => Math.floor(Date.now() / 1000);
const sign = (body: string, timestamp = nowSeconds(), secret = SECRET, version = 'v0') => ({
  'x-slack-request-timestamp': String(timestamp),
  'x-slack-signature': `${version}=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`,
});

describe('a request Slack did not sign, or signed long ago, gets 401 and changes nothing', () => {
  let sb: Sandbox;
  let pendingId: string;
  beforeAll(async () => {
    sb = watchListeners(await startSandbox());
    ({ requestId: pendingId } = await requestDeletion(sb, freshCustomerId(), 'a pending request to attack'));
  });
  afterAll(async () => {
    await sb.stop({ fakes: true });
  });

  const command = () => sb.sender.commandBody(REQUESTER, `${freshCustomerId()} forged`);
  const click = () =>
    new URLSearchParams({
      payload: JSON.stringify(sb.sender.clickPayload(APPROVER, ACTION_APPROVE, pendingId)),
    }).toString();

  const cases: [string, () => { body: string; headers: Record<string, string> }][] = [
    ['a command with no signature headers at all', () => ({ body: command(), headers: {} })],
    [
      'a command with a timestamp but no signature',
      () => ({ body: command(), headers: { 'x-slack-request-timestamp': String(nowSeconds()) } }),
    ],
    [
      'a command with a signature but no timestamp',
      () => {
        const body = command();
        return { body, headers: { 'x-slack-signature': sign(body)['x-slack-signature'] } };
      },
    ],
    [
      'a command with a wrong signature',
      () => ({
        body: command(),
        headers: { 'x-slack-request-timestamp': String(nowSeconds()), 'x-slack-signature': `v0=${'0'.repeat(64)}` },
      }),
    ],
    [
      'a command signed with another secret',
      () => {
        const body = command();
        return { body, headers: sign(body, nowSeconds(), 'not-the-signing-secret') };
      },
    ],
    [
      'a command with an unknown signature version',
      () => {
        const body = command();
        return { body, headers: sign(body, nowSeconds(), SECRET, 'v1') };
      },
    ],
    [
      'a command correctly signed 6 minutes ago (a replay)',
      () => {
        const body = command();
        return { body, headers: sign(body, nowSeconds() - 6 * 60) };
      },
    ],
    [
      'a command correctly signed with a timestamp 6 minutes in the future',
      () => {
        const body = command();
        return { body, headers: sign(body, nowSeconds() + 6 * 60) };
      },
    ],
    [
      'a command whose body was changed after signing (another customer id)',
      () => ({ body: command(), headers: sign(command()) }),
    ],
    [
      'a command whose reason was extended after signing',
      () => {
        const body = command();
        return { body: `${body}%20and%20more`, headers: sign(body) };
      },
    ],
    ['an approve click with no signature', () => ({ body: click(), headers: {} })],
    [
      'an approve click correctly signed 6 minutes ago (a replay)',
      () => {
        const body = click();
        return { body, headers: sign(body, nowSeconds() - 6 * 60) };
      },
    ],
    [
      'an approve click whose user was changed after signing',
      () => {
        const signedBody = new URLSearchParams({
          payload: JSON.stringify(sb.sender.clickPayload('UOUTSIDER', ACTION_APPROVE, pendingId)),
        }).toString();
        return { body: click(), headers: sign(signedBody) };
      },
    ],
    [
      'a JSON url_verification with no signature',
      () => ({
        body: JSON.stringify({ type: 'url_verification', challenge: 'abc', token: 'x' }),
        headers: { 'content-type': 'application/json' },
      }),
    ],
  ];

  it.each(cases)('%s', async (_name, build) => {
    const before = await footprint(sb);
    const { body, headers } = build();
    const res = await sb.sender.raw(body, headers);
    expect(res.status).toBe(401);
    expect(res.text).toBe('');
    await expectNothingChanged(sb, before);
    expect((await sb.store.getRequest(pendingId))?.approvals).toEqual([]);
  });

  it('an unsigned ssl_check with a command smuggled in is answered 200 and the command is ignored', async () => {
    const before = await footprint(sb);
    const res = await sb.sender.raw(`ssl_check=1&${command()}`, {});
    expect(res.status).toBe(200);
    expect(res.text).toBe('');
    await expectNothingChanged(sb, before);
  });

  it('a signed request replayed within five minutes is harmless: same customer refused, same approval not counted twice', async () => {
    const customer = freshCustomerId();
    sb.botpenguin.addCustomer(customer);
    const commandBody = sb.sender.commandBody(REQUESTER, `${customer} replayed`);
    const headers = sign(commandBody);
    expect((await sb.sender.raw(commandBody, headers)).status).toBe(200);
    const replay = await sb.sender.raw(commandBody, headers);
    expect(replay.status).toBe(200);
    expect(JSON.stringify(replay.json)).toMatch(/already has an open request/);
    const requests = await sb.store.listRequests({ customerId: customer, limit: 10 });
    expect(requests).toHaveLength(1);

    const approve = new URLSearchParams({
      payload: JSON.stringify(sb.sender.clickPayload(APPROVER, ACTION_APPROVE, requests[0]?.id ?? '')),
    }).toString();
    const approveHeaders = sign(approve);
    await sb.sender.raw(approve, approveHeaders);
    await sb.botpenguin.waitFor(() => sb.botpenguin.deletes().some((d) => d.path.endsWith(customer)));
    await settle(sb);
    await sb.sender.raw(approve, approveHeaders);
    await settle(sb);
    expect(sb.botpenguin.deletes().filter((d) => d.path.endsWith(customer))).toHaveLength(1);
  });

  it('after all of that, a normal request still works', async () => {
    await expectStillServes(sb);
  });
});

describe('SLACK_TEAM_ID set: payloads from another workspace are refused before any listener runs', () => {
  const OTHER_TEAM = 'T0ELSEWHERE';
  let sb: Sandbox;
  let pendingId: string;
  beforeAll(async () => {
    sb = watchListeners(await startSandbox({ env: { SLACK_TEAM_ID: SANDBOX_TEAM } }));
    ({ requestId: pendingId } = await requestDeletion(sb, freshCustomerId(), 'pending'));
  });
  afterAll(async () => {
    await sb.stop({ fakes: true });
  });

  it('a slash command from another workspace is answered that the bot does not serve it; nothing is stored', async () => {
    const before = await footprint(sb);
    const res = await sb.sender.command(REQUESTER, `${freshCustomerId()} from elsewhere`, { team: OTHER_TEAM });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ response_type: 'ephemeral', text: expect.stringMatching(/does not serve/) });
    await expectNothingChanged(sb, before);
  });

  it('an approve click from another workspace, naming our pending request, changes nothing', async () => {
    const before = await footprint(sb);
    const res = await sb.sender.click(APPROVER, ACTION_APPROVE, pendingId, { team: OTHER_TEAM });
    expect(res.status).toBe(200);
    await expectNothingChanged(sb, before);
    expect((await sb.store.getRequest(pendingId))?.state).toBe('pending');
  });

  it('a deny-modal submission from another workspace changes nothing', async () => {
    const before = await footprint(sb);
    const res = await sb.sender.viewSubmission(
      APPROVER,
      {
        callback_id: VIEW_DENY_REASON,
        private_metadata: JSON.stringify({ requestId: pendingId, channelId: SANDBOX_CHANNEL }),
      },
      {},
      { team: OTHER_TEAM },
    );
    expect(res.status).toBe(200);
    await expectNothingChanged(sb, before);
  });

  it('a payload that names no workspace at all is refused too (fail closed)', async () => {
    const before = await footprint(sb);
    const click = sb.sender.clickPayload(APPROVER, ACTION_DENY, pendingId);
    const res = await sb.sender.signedPayload({ ...click, team: null, user: { id: APPROVER } });
    expect(res.status).toBe(200);
    await expectNothingChanged(sb, before);
  });

  it('our own workspace is served', async () => {
    await expectStillServes(sb);
  });
});

describe('SLACK_TEAM_ID set to an Enterprise Grid id: its workspaces are served, others refused', () => {
  it('a command from the organisation is served; one from another organisation is refused', async () => {
    const sb = watchListeners(await startSandbox({ env: { SLACK_TEAM_ID: 'E0GRID001' } }));
    try {
      const ours = await sb.sender.signed(`${sb.sender.commandBody(REQUESTER, 'help')}&enterprise_id=E0GRID001`);
      expect(ours.json).toMatchObject({ text: expect.stringMatching(/deletes a BotPenguin customer/) });
      const theirs = await sb.sender.signed(`${sb.sender.commandBody(REQUESTER, 'help')}&enterprise_id=E0OTHER01`);
      expect(theirs.json).toMatchObject({ text: expect.stringMatching(/does not serve/) });
      const none = await sb.sender.command(REQUESTER, 'help');
      expect(none.json).toMatchObject({ text: expect.stringMatching(/does not serve/) });
    } finally {
      await sb.stop({ fakes: true });
    }
  });
});

describe('without SLACK_TEAM_ID, a click from another workspace still cannot act on our request', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = watchListeners(await startSandbox());
  });
  afterAll(async () => {
    await sb.stop({ fakes: true });
  });

  it('is refused as not belonging here (wrong_place), and nothing changes', async () => {
    const { requestId } = await requestDeletion(sb, freshCustomerId(), 'pending');
    const before = await footprint(sb);
    await sb.sender.click(APPROVER, ACTION_APPROVE, requestId, { team: 'T0ELSEWHERE' });
    await sb.slack.waitFor(() => sb.slack.ephemerals.length > 0, 5000, 'the refusal');
    expect(sb.slack.ephemerals.at(-1)?.text).toMatch(/does not belong to a request of this channel/);
    await expectNothingChanged(sb, before);
  });
});

// Keep the helper honest: the sender's signature is exactly what this file computes.
test('the test signer agrees with the sandbox signer', () => {
  expect(sign('a=b', 1_700_000_000)).toEqual(signSlackRequest(SECRET, 'a=b', 1_700_000_000));
});
