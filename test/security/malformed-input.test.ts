// Malformed and tampered input, correctly signed (so it reaches Bolt and our listeners): every one gets an
// answer, nothing is half-written, and the bot still serves a normal request afterwards.
import { SANDBOX_CHANNEL, SANDBOX_SECRETS, SANDBOX_TEAM, type Sandbox, startSandbox } from '../../sandbox/harness';
import { signSlackRequest } from '../../sandbox/slack-sender';
import { ACTION_APPROVE, ACTION_CANCEL, ACTION_DENY, VIEW_DENY_REASON } from '../../src/constants';
import { APPROVER, OUTSIDER, REQUESTER, requestDeletion, settle, watchListeners } from '../helpers/flow';
import { expectNothingChanged, expectStillServes, footprint, freshCustomerId, postInPieces } from './support';

const OTHER_CHANNEL = 'C0ELSEWHERE';
const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
const payloadBody = (payload: unknown) => form({ payload: JSON.stringify(payload) });

let sb: Sandbox;
let pendingId: string;
let pendingTs: string;
beforeAll(async () => {
  sb = watchListeners(await startSandbox());
  const made = await requestDeletion(sb, freshCustomerId(), 'the request attacks aim at');
  pendingId = made.requestId;
  pendingTs = made.message.ts;
});
afterAll(async () => {
  await sb.stop({ fakes: true });
});

/** Send, check the answer, check nothing changed, and return what the clicker was told (if anything). */
async function sendHarmless(body: string, status: number, contentType?: string): Promise<string | undefined> {
  const before = await footprint(sb);
  const told = sb.slack.ephemerals.length;
  const headers = signSlackRequest(SANDBOX_SECRETS.SLACK_SIGNING_SECRET, body);
  const res = await sb.sender.raw(body, contentType ? { ...headers, 'content-type': contentType } : headers);
  expect(res.status).toBe(status);
  await expectNothingChanged(sb, before);
  expect(await sb.store.getRequest(pendingId)).toMatchObject({ state: 'pending', approvals: [] });
  return sb.slack.ephemerals.slice(told).at(-1)?.text;
}

describe('bodies that are not a Slack payload at all get 400 (a `null` payload used to stop the process)', () => {
  it.each([
    ['invalid JSON in `payload`', form({ payload: '{"type":"block_actions",' })],
    ['`payload` is JSON null', form({ payload: 'null' })],
    ['`payload` is a number', form({ payload: '42' })],
    ['`payload` is a string', form({ payload: '"block_actions"' })],
    ['`payload` is an array', form({ payload: JSON.stringify([{ type: 'block_actions' }]) })],
  ])('%s', async (_name, body) => {
    await sendHarmless(body, 400);
  });

  it('a `null` payload sent with a charset in its content type: 415, as Bolt would not read it as a form', async () => {
    await sendHarmless(form({ payload: 'null' }), 415, 'application/x-www-form-urlencoded; charset=utf-8');
  });

  it('a JSON body that is null', async () => {
    await sendHarmless('null', 400, 'application/json');
  });

  it('a JSON body that is not JSON', async () => {
    await sendHarmless('{"type":', 400, 'application/json');
  });

  it('the bot still serves a normal request', async () => {
    await expectStillServes(sb);
  });
});

describe('payloads no listener handles are acknowledged at once (not 404 after Bolt’s 3 seconds) and change nothing', () => {
  it('no actions, empty actions, an unknown action id, an unknown type, another command, no command', async () => {
    const click = sb.sender.clickPayload(APPROVER, ACTION_APPROVE, pendingId);
    const bodies = [
      payloadBody({ ...click, actions: undefined }),
      payloadBody({ ...click, actions: [] }),
      payloadBody({ ...click, actions: [{ action_id: 'bp_delete_approve_all', type: 'button', value: pendingId }] }),
      payloadBody({ ...click, type: 'block_suggestion' }),
      sb.sender.commandBody(APPROVER, pendingId).replace('%2Fbp-delete', '%2Fother-command'),
      form({ text: pendingId, user_id: APPROVER, channel_id: SANDBOX_CHANNEL }),
      '',
    ];
    const before = await footprint(sb);
    const answers = await Promise.all(bodies.map((body) => sb.sender.signed(body)));
    expect(answers.map((a) => a.status)).toEqual(bodies.map(() => 200));
    for (const answer of answers) expect(answer.ms).toBeLessThan(1_000);
    await expectNothingChanged(sb, before);
    expect(await sb.store.getRequest(pendingId)).toMatchObject({ state: 'pending', approvals: [] });
  }, 15_000);
});

describe('clicks with fields missing or of the wrong type are refused and change nothing', () => {
  it('a click without a user gets 500 from Bolt (before any listener), not a crash', async () => {
    await sendHarmless(
      payloadBody({ ...sb.sender.clickPayload(APPROVER, ACTION_APPROVE, pendingId), user: undefined }),
      500,
    );
  });

  it('an approver’s click that names no channel is refused as not belonging here (it used to be waved through)', async () => {
    const click = {
      ...sb.sender.clickPayload(APPROVER, ACTION_APPROVE, pendingId),
      channel: undefined,
      container: undefined,
    };
    const before = sb.slack.calls.filter((c) => c.method === 'response_url').length;
    await sendHarmless(payloadBody(click), 200);
    await sb.slack.waitFor(() => sb.slack.calls.filter((c) => c.method === 'response_url').length > before);
    expect(sb.slack.calls.filter((c) => c.method === 'response_url').at(-1)?.args.text).toMatch(
      /does not belong to a request of this channel/,
    );
  });

  it.each([
    ['no value', undefined],
    ['a number', 12345],
    ['an object', { id: 'R0000000000' }],
    ['an array', ['R0000000000']],
    ['an empty string', ''],
  ])('a button value that is %s: "no longer exists"', async (_name, value) => {
    const click = sb.sender.clickPayload(APPROVER, ACTION_DENY, pendingId);
    const body = payloadBody({ ...click, actions: [{ action_id: ACTION_DENY, type: 'button', value }] });
    const told = sb.slack.ephemerals.length;
    await sendHarmless(body, 200);
    await sb.slack.waitFor(() => sb.slack.ephemerals.length > told);
    expect(sb.slack.ephemerals.at(-1)?.text).toMatch(/no longer exists/);
  });

  it('the bot still serves a normal request', async () => {
    await expectStillServes(sb);
  });
});

describe('slash commands with fields missing are refused before anything is stored (no half-written request)', () => {
  const base = () =>
    Object.fromEntries(new URLSearchParams(sb.sender.commandBody(REQUESTER, `${freshCustomerId()} x`)));

  it.each([
    ['no user_id', (f: Record<string, string>) => ({ ...f, user_id: undefined })],
    ['no channel_id', (f: Record<string, string>) => ({ ...f, channel_id: undefined })],
    ['an empty channel_id', (f: Record<string, string>) => ({ ...f, channel_id: '' })],
    ['a user_id with markup', (f: Record<string, string>) => ({ ...f, user_id: 'U1><!channel' })],
  ])('%s', async (_name, change) => {
    const fields = Object.fromEntries(
      Object.entries(change(base())).filter((e): e is [string, string] => typeof e[1] === 'string'),
    );
    const before = await footprint(sb);
    const res = await sb.sender.signed(form(fields));
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ response_type: 'ephemeral', text: expect.stringMatching(/arrived incomplete/) });
    await expectNothingChanged(sb, before);
  });

  it.each([
    ['text', 'text'],
    ['user_id', 'user_id'],
  ])('a field sent twice (%s) is refused, not stored as a list', async (_name, field) => {
    const body = `${sb.sender.commandBody(REQUESTER, `${freshCustomerId()} x`)}&${field}=second`;
    const before = await footprint(sb);
    const res = await sb.sender.signed(body);
    expect(res.status).toBe(200);
    expect(JSON.stringify(res.json)).toMatch(/arrived incomplete/);
    await expectNothingChanged(sb, before);
  });
});

describe('deny-modal submissions that are malformed change nothing', () => {
  const submit = (privateMetadata: string | undefined, values: unknown = {}) =>
    sb.sender.signedPayload({
      type: 'view_submission',
      team: { id: SANDBOX_TEAM },
      user: { id: APPROVER, team_id: SANDBOX_TEAM },
      view: {
        id: 'V1',
        type: 'modal',
        callback_id: VIEW_DENY_REASON,
        private_metadata: privateMetadata,
        state: { values },
      },
    });

  it.each([
    ['no private_metadata', undefined],
    ['metadata that is not JSON', '{oops'],
    ['metadata of the wrong shape', JSON.stringify({ requestId: 42 })],
    ['metadata naming an unknown request', JSON.stringify({ requestId: 'R0000000000', channelId: SANDBOX_CHANNEL })],
    [
      'metadata naming our request from another channel',
      JSON.stringify({ requestId: 'PENDING', channelId: OTHER_CHANNEL }),
    ],
  ])('%s', async (_name, metadata) => {
    const before = await footprint(sb);
    const res = await submit(metadata?.replace('PENDING', pendingId));
    expect(res.status).toBe(200);
    await expectNothingChanged(sb, before);
  });
});

describe('request ids that are unknown, of another channel, or tampered', () => {
  let elsewhereId: string;
  beforeAll(async () => {
    const customer = freshCustomerId();
    const res = await sb.sender.command(REQUESTER, `${customer} in another channel`, { channel: OTHER_CHANNEL });
    expect(res.status).toBe(200);
    await settle(sb);
    elsewhereId = (await sb.store.listRequests({ customerId: customer, limit: 1 }))[0]?.id ?? '';
    expect(elsewhereId).toMatch(/^R/);
  });

  const clickWith = async (value: string, action = ACTION_APPROVE, user = APPROVER) => {
    const told = sb.slack.ephemerals.length;
    const before = await footprint(sb);
    const res = await sb.sender.click(user, action, value, { messageTs: pendingTs });
    expect(res.status).toBe(200);
    await sb.slack.waitFor(() => sb.slack.ephemerals.length > told, 5000, 'the refusal');
    await expectNothingChanged(sb, before);
    return sb.slack.ephemerals.at(-1)?.text ?? '';
  };

  it('a well-formed id that was never issued: "no longer exists"', async () => {
    expect(await clickWith('R0000000000')).toMatch(/no longer exists/);
  });

  it('the id of a request in another channel, clicked here: refused as not belonging here', async () => {
    for (const action of [ACTION_APPROVE, ACTION_DENY, ACTION_CANCEL]) {
      expect(await clickWith(elsewhereId, action)).toMatch(/does not belong to a request of this channel/);
    }
    expect(await sb.store.getRequest(elsewhereId)).toMatchObject({ state: 'pending', approvals: [] });
  });

  it.each([
    ['SQL: a quote and OR', "R' OR '1'='1"],
    ['SQL: a statement', "'; DROP TABLE requests; --"],
    ['SQL: a double quote and a comment', 'R0000000000" OR 1=1 --'],
    ['a path', '../../customer/64b7f0c2e4b0a1b2c3d4e5f6'],
    ['percent-encoded', '%52%30%30%30'],
    ['100 000 characters long', 'R'.padEnd(100_000, 'Z')],
    ['a NUL byte', '\u0000R000000000'],
  ])('a tampered value (%s): "no longer exists", and the store is intact', async (_name, value) => {
    expect(await clickWith(value)).toMatch(/no longer exists/);
    expect(await sb.store.getRequest(pendingId)).toMatchObject({ state: 'pending' });
    expect(await sb.store.listRequests({ limit: 1000 })).not.toHaveLength(0);
  });

  it('the lower-case form of a real id is not that request', async () => {
    expect(await clickWith(pendingId.toLowerCase())).toMatch(/no longer exists/);
  });

  it('a click on one message naming another request of this channel is judged by that request’s own rules', async () => {
    // Slack only signs values the bot put in its buttons; if one were swapped, the store decides, not the message.
    const mine = await requestDeletion(sb, freshCustomerId(), 'requested by the approver', APPROVER);
    expect(await clickWith(mine.requestId, ACTION_APPROVE, APPROVER)).toMatch(/can’t approve your own request/);
    expect(await clickWith(mine.requestId, ACTION_APPROVE, OUTSIDER)).toMatch(/not an authorized approver/);
    expect(await clickWith(mine.requestId, ACTION_CANCEL, REQUESTER)).toMatch(/Only the person who asked can cancel/);
  });

  it('the bot still serves a normal request', async () => {
    await expectStillServes(sb);
  });
});

describe('huge bodies', () => {
  it('a signed command over 512 KB gets 413 before it is parsed, and nothing is stored', async () => {
    const body = sb.sender.commandBody(REQUESTER, `${freshCustomerId()} ${'x'.repeat(600 * 1024)}`);
    const before = await footprint(sb);
    const status = await postInPieces(
      sb.port,
      Buffer.from(body),
      signSlackRequest(SANDBOX_SECRETS.SLACK_SIGNING_SECRET, body),
    );
    expect(status).toBe(413);
    await expectNothingChanged(sb, before);
  });

  it('an unsigned 5 MB body gets 413 too (the size is checked before anything else is read)', async () => {
    const status = await postInPieces(sb.port, Buffer.alloc(5 * 1024 * 1024, 'a'), {});
    expect(status).toBe(413);
  });

  it('a signed command just under the limit is served, its reason kept to 4000 characters', async () => {
    const customer = freshCustomerId();
    const res = await sb.sender.command(REQUESTER, `${customer} ${'y'.repeat(400 * 1024)}`);
    expect(res.status).toBe(200);
    await settle(sb);
    const [stored] = await sb.store.listRequests({ customerId: customer, limit: 1 });
    expect(stored?.reason).toHaveLength(4000);
  });

  it('the bot still serves a normal request', async () => {
    await expectStillServes(sb);
  });
});
