// Every signed request is answered within a second, whatever it carries: what no listener handles (an older
// version's button, a link button's click, an unknown payload type, `payload={}`) is acknowledged at once and
// changes nothing; a body Bolt cannot read, under any content type, gets a proper error, never a crash.
import http from 'node:http';
import { SANDBOX_SECRETS, type Sandbox, startSandbox } from '../../sandbox/harness';
import { signSlackRequest } from '../../sandbox/slack-sender';
import { ACTION_APPROVE, VIEW_DENY_REASON } from '../../src/constants';
import {
  blockActionsButton,
  blockActionsUrlButton,
  IDS,
  slashCommand,
  viewSubmission,
} from '../fixtures/slack-payloads';
import { APPROVER, REQUESTER, requestDeletion } from '../helpers/flow';
import { expectNothingChanged, expectStillServes, footprint, freshCustomerId } from '../security/support';

const SECRET: string = SANDBOX_SECRETS.SLACK_SIGNING_SECRET;
/** Well within Slack's 3 seconds; Bolt's own unhandled-request timeout would answer 404 after 3. */
const ANSWER_WITHIN_MS = 1_000;

/** POST a signed body with exactly these headers (no content-type at all when none is given). */
function post(
  port: number,
  body: string,
  contentType: string | null,
): Promise<{ status: number; text: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {
      ...signSlackRequest(SECRET, body),
      'content-length': String(Buffer.byteLength(body)),
    };
    if (contentType !== null) headers['content-type'] = contentType;
    const req = http.request({ host: '127.0.0.1', port, path: '/slack/events', method: 'POST', headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, ms: performance.now() - started }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const FORM = 'application/x-www-form-urlencoded';
const form = (payload: unknown) => new URLSearchParams({ payload: JSON.stringify(payload) }).toString();

describe('what no listener handles is acknowledged within a second and changes nothing', () => {
  let sb: Sandbox;
  let requestId: string;
  let messageTs: string;
  beforeAll(async () => {
    sb = await startSandbox();
    const created = await requestDeletion(sb, freshCustomerId(), 'pending while the odd requests arrive');
    requestId = created.requestId;
    messageTs = created.message.ts;
  });
  afterAll(async () => {
    await sb.stop({ fakes: true });
  });

  const ids = () => ({ user: APPROVER, value: requestId, messageTs, responseUrl: sb.slack.responseUrl('odd') });
  const cases: [string, () => { body: string; type: string }][] = [
    [
      'a click on an older version’s button (unknown action_id naming our request)',
      () => ({ body: form(blockActionsButton({ ...ids(), actionId: `${ACTION_APPROVE}_v0` })), type: FORM }),
    ],
    [
      'a link button’s click (block_actions with a url)',
      () => ({ body: form(blockActionsUrlButton(ids())), type: FORM }),
    ],
    [
      'an unknown payload type',
      () => ({
        body: form({
          type: 'some_future_type',
          team: { id: IDS.hostTeam },
          user: { id: APPROVER, team_id: IDS.hostTeam },
        }),
        type: FORM,
      }),
    ],
    ['payload={}', () => ({ body: form({}), type: FORM })],
    [
      'a global shortcut we do not offer',
      () => ({
        body: form({
          type: 'shortcut',
          callback_id: 'not_ours',
          trigger_id: '1.2.3',
          team: { id: IDS.hostTeam },
          user: { id: APPROVER, team_id: IDS.hostTeam },
        }),
        type: FORM,
      }),
    ],
    [
      'a modal submission with a callback_id we never used',
      () => ({
        body: form(viewSubmission({ user: APPROVER, callbackId: 'not_ours', privateMetadata: '', values: {} })),
        type: FORM,
      }),
    ],
    [
      'a view_closed of our deny modal by someone who holds nothing',
      () => {
        const closed = viewSubmission({
          user: APPROVER,
          callbackId: VIEW_DENY_REASON,
          privateMetadata: JSON.stringify({ requestId, channelId: IDS.channel }),
          values: {},
        });
        return { body: form({ ...closed, type: 'view_closed', is_cleared: false }), type: FORM };
      },
    ],
    [
      'a slash command that is not ours',
      () => ({
        body: slashCommand({ user: REQUESTER, text: 'x', responseUrl: sb.slack.responseUrl('cmd') }).replace(
          'bp-delete',
          'other-command',
        ),
        type: FORM,
      }),
    ],
    [
      'an Events API event we do not subscribe to (JSON)',
      () => ({
        body: JSON.stringify({
          type: 'event_callback',
          team_id: IDS.hostTeam,
          api_app_id: IDS.appId,
          event: { type: 'app_mention', user: APPROVER, text: '<@UBOT> hi', ts: '1.2', channel: IDS.channel },
          event_id: 'Ev0001',
          event_time: 1_700_000_000,
        }),
        type: 'application/json',
      }),
    ],
  ];

  it.each(cases)('%s', async (_name, build) => {
    const before = await footprint(sb);
    const ephemerals = sb.slack.privateAnswers().length;
    const { body, type } = build();
    const res = await post(sb.port, body, type);
    expect(res.status).toBe(200);
    expect(res.ms).toBeLessThan(ANSWER_WITHIN_MS);
    await expectNothingChanged(sb, before);
    expect(sb.slack.privateAnswers()).toHaveLength(ephemerals);
    expect((await sb.store.getRequest(requestId))?.state).toBe('pending');
  });

  it('the bot still serves a normal request afterwards', async () => {
    await expectStillServes(sb);
  });
});

describe('Bolt and the HTTP guard read the same content types: no signed body crashes the bot', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await startSandbox();
  });
  afterAll(async () => {
    await sb.stop({ fakes: true });
  });

  const COMMAND = '(a /bp-delete help command)';
  const command = () => slashCommand({ user: REQUESTER, text: 'help', responseUrl: sb.slack.responseUrl('ct') });
  // [content type (null: none sent), body, the answer]
  const cases: [string | null, string, number][] = [
    ['application/json', 'null', 400],
    ['application/json', '[]', 400],
    ['application/json', '"text"', 400],
    ['application/json', 'not json', 400],
    ['application/json', '{}', 200],
    ['application/json; charset=utf-8', 'null', 400],
    [FORM, 'null', 200],
    [FORM, 'payload=null', 400],
    [FORM, 'payload=%5B%5D', 400],
    [FORM, 'payload=not-json', 400],
    [FORM, 'payload=%7B%7D', 200],
    [FORM, COMMAND, 200],
    [`${FORM}; charset=utf-8`, 'null', 415],
    [`${FORM}; charset=utf-8`, COMMAND, 415],
    ['text/plain', 'null', 415],
    ['text/plain', '{}', 415],
    [null, 'null', 415],
    [null, COMMAND, 415],
  ];

  it.each(cases)('content type %p, body %s: answered %p', async (type, body, status) => {
    const before = await footprint(sb);
    const res = await post(sb.port, body === COMMAND ? command() : body, type);
    expect(res.status).toBe(status);
    expect(res.ms).toBeLessThan(ANSWER_WITHIN_MS);
    await expectNothingChanged(sb, before);
  });

  it('a form-encoded command is served, and the bot is still up after all of that', async () => {
    const res = await post(sb.port, command(), FORM);
    expect(res.text).toMatch(/deletes a BotPenguin customer/);
    await expectStillServes(sb);
  });
});
