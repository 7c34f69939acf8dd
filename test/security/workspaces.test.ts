// Who may act, decided on the acting user's workspace and organisation, with payloads as Slack sends them
// (test/fixtures/slack-payloads.ts), over signed HTTP to the real app: for SLACK_TEAM_ID unset, T… and E….
// Admitted: a Deny click opens the modal, a modal submission denies, a command is served.
// Refused: nothing changes, and the user is told why (command answer, ephemeral, or the modal itself).

import { FakeSlack } from '../../sandbox/fake-slack';
import { type Sandbox, startSandbox } from '../../sandbox/harness';
import { ACTION_DENY, BLOCK_DENY_REASON, INPUT_DENY_REASON, VIEW_DENY_REASON } from '../../src/constants';
import { admit, originOf } from '../../src/listeners/team-guard';
import { verifyBotToken } from '../../src/slack/verify-token';
import {
  blockActionsButton,
  blockActionsConnectExternal,
  blockActionsGrid,
  blockActionsOrgWide,
  IDS,
  type Ids,
  slashCommand,
  type ViewIds,
  viewSubmission,
  viewSubmissionConnect,
  viewSubmissionGrid,
} from '../fixtures/slack-payloads';
import { APPROVER, REQUESTER, settle, watchListeners } from '../helpers/flow';
import { expectNothingChanged, footprint, freshCustomerId } from './support';

type Verdict = 'admitted' | 'refused';
type Served = 'unset' | 'T' | 'E';
const SERVED: Record<Served, string | undefined> = { unset: undefined, T: IDS.hostTeam, E: IDS.grid };

/** The exact table of docs/DESIGN.md ("Workspaces"): which shapes are admitted for each SLACK_TEAM_ID. */
const CLICKS: [string, (ids: Ids) => Record<string, unknown>, Record<Served, Verdict>][] = [
  ['a button click', (ids) => blockActionsButton(ids), { unset: 'admitted', T: 'admitted', E: 'refused' }],
  [
    'a Slack Connect external user’s click (host team.id, external user.team_id)',
    blockActionsConnectExternal,
    { unset: 'refused', T: 'refused', E: 'refused' },
  ],
  [
    'a click in a Grid workspace install (team.enterprise_id, enterprise.id; user.team_id E…)',
    (ids) => blockActionsGrid(ids, 'organisation'),
    { unset: 'admitted', T: 'admitted', E: 'admitted' },
  ],
  [
    'a click in a Grid workspace install (user.team_id T…)',
    (ids) => blockActionsGrid(ids, 'workspace'),
    { unset: 'admitted', T: 'admitted', E: 'admitted' },
  ],
  [
    'a click from an org-wide install (team null, user.team_id E…, is_enterprise_install)',
    blockActionsOrgWide,
    { unset: 'refused', T: 'refused', E: 'refused' },
  ],
];

const VIEWS: [string, (ids: ViewIds) => Record<string, unknown>, Record<Served, Verdict>][] = [
  ['a modal submission', (ids) => viewSubmission(ids), { unset: 'admitted', T: 'admitted', E: 'refused' }],
  [
    'a Slack Connect external user’s modal submission (external team.id, host view.app_installed_team_id)',
    viewSubmissionConnect,
    { unset: 'refused', T: 'refused', E: 'refused' },
  ],
  ['a Grid modal submission', viewSubmissionGrid, { unset: 'admitted', T: 'admitted', E: 'admitted' }],
];

const COMMANDS: [string, { enterprise?: string; team?: string }, Record<Served, Verdict>][] = [
  ['a slash command', {}, { unset: 'admitted', T: 'admitted', E: 'refused' }],
  [
    'a slash command in a Grid workspace',
    { enterprise: IDS.grid },
    { unset: 'admitted', T: 'admitted', E: 'admitted' },
  ],
  [
    'a slash command from another organisation',
    { enterprise: IDS.otherGrid, team: 'T0ELSEWHERE' },
    { unset: 'admitted', T: 'refused', E: 'refused' },
  ],
];

describe.each(['unset', 'T', 'E'] as Served[])('SLACK_TEAM_ID %s', (served) => {
  let sb: Sandbox;
  let n = 0;
  beforeAll(async () => {
    sb = watchListeners(await startSandbox({ env: { SLACK_TEAM_ID: SERVED[served] } }));
  });
  afterAll(async () => {
    await sb.stop({ fakes: true });
  });

  /** A pending request, asked for from a Grid workspace (admitted whatever SLACK_TEAM_ID says). */
  async function pendingRequest(): Promise<{ requestId: string; messageTs: string }> {
    const customer = freshCustomerId();
    sb.botpenguin.addCustomer(customer);
    const before = sb.slack.channelMessages(IDS.channel).length;
    const text = `${customer} closing the account`;
    const res = await sb.sender.signed(
      // A requester per request: each may have only a few pending at once.
      slashCommand(
        { user: `${REQUESTER}${++n}`, text, responseUrl: sb.slack.responseUrl(`c${n}`) },
        { enterprise: IDS.grid },
      ),
    );
    expect(res.status).toBe(200);
    await sb.slack.waitFor(() => sb.slack.channelMessages(IDS.channel).length > before, 5000, 'the message');
    const message = sb.slack.channelMessages(IDS.channel)[before];
    const request = (await sb.store.listRequests({ customerId: customer, limit: 1 }))[0];
    if (!message || !request) throw new Error('no request was posted');
    return { requestId: request.id, messageTs: message.ts };
  }

  it.each(COMMANDS)('%s', async (_name, where, verdicts) => {
    const res = await sb.sender.signed(
      slashCommand({ user: REQUESTER, text: 'help', responseUrl: sb.slack.responseUrl(`c${++n}`) }, where),
    );
    expect(res.status).toBe(200);
    const text = String((res.json as { text?: unknown } | null)?.text ?? '');
    if (verdicts[served] === 'admitted') expect(text).toMatch(/deletes a BotPenguin customer/);
    else expect(text).toMatch(/does not serve this workspace/);
  });

  it.each(CLICKS)('%s: a Deny click', async (_name, build, verdicts) => {
    const { requestId, messageTs } = await pendingRequest();
    const before = await footprint(sb);
    const views = sb.slack.callsTo('views.open').length;
    const ephemerals = sb.slack.ephemerals.length;
    const payload = build({
      user: APPROVER,
      value: requestId,
      actionId: ACTION_DENY,
      blockId: sb.slack.buttonBlockId(IDS.channel, messageTs, ACTION_DENY),
      messageTs,
      responseUrl: sb.slack.responseUrl(`a${++n}`),
    });
    const res = await sb.sender.signedPayload(payload);
    expect(res.status).toBe(200);
    expect(res.ms).toBeLessThan(1000);
    if (verdicts[served] === 'admitted') {
      await sb.slack.waitFor(() => sb.slack.callsTo('views.open').length > views, 5000, 'the deny modal');
      expect(sb.slack.callsTo('views.open').at(-1)?.args.view).toMatchObject({ callback_id: VIEW_DENY_REASON });
      return;
    }
    // Refused clearly: told why on the click's response_url, no modal opened, nothing changed.
    await sb.slack.waitFor(() => sb.slack.ephemerals.length > ephemerals, 5000, 'the refusal');
    const told = sb.slack.ephemerals.at(-1);
    expect(told?.via).toBe('response_url');
    expect(told?.text).toMatch(
      /another workspace or organisation|does not serve this workspace|whole Enterprise Grid organisation/,
    );
    await expectNothingChanged(sb, before);
    expect(sb.slack.callsTo('views.open')).toHaveLength(views);
    expect((await sb.store.getRequest(requestId))?.state).toBe('pending');
  });

  it.each(VIEWS)('%s', async (_name, build, verdicts) => {
    const { requestId } = await pendingRequest();
    const before = await footprint(sb);
    const payload = build({
      user: APPROVER,
      callbackId: VIEW_DENY_REASON,
      privateMetadata: JSON.stringify({ requestId, channelId: IDS.channel }),
      values: { [BLOCK_DENY_REASON]: { [INPUT_DENY_REASON]: { type: 'plain_text_input', value: 'not today' } } },
    });
    const res = await sb.sender.signedPayload(payload);
    expect(res.status).toBe(200);
    if (verdicts[served] === 'admitted') {
      await settle(sb);
      expect((await sb.store.getRequest(requestId))?.state).toBe('denied');
      return;
    }
    // The modal itself says why, instead of closing as if the deny had worked.
    expect(res.json).toMatchObject({ response_action: 'update', view: { type: 'modal' } });
    expect(JSON.stringify(res.json)).toMatch(/another workspace or organisation|does not serve this workspace/);
    await expectNothingChanged(sb, before);
    expect((await sb.store.getRequest(requestId))?.state).toBe('pending');
  });
});

describe('an org-wide install is refused at start, with a clear message', () => {
  const slack = new FakeSlack();
  beforeAll(async () => {
    await slack.start();
  });
  afterAll(async () => {
    await slack.stop();
  });

  it('auth.test saying is_enterprise_install makes the token check fatal', async () => {
    slack.install = { teamId: IDS.hostTeam, enterpriseId: IDS.grid, orgWide: true };
    const check = await verifyBotToken('xoxb-org-wide', slack.apiUrl);
    expect(check).toEqual({ ok: false, fatal: true, error: expect.stringMatching(/org-wide .*not support/) });
  });

  it('a workspace install inside an organisation is accepted', async () => {
    slack.install = { teamId: IDS.hostTeam, enterpriseId: IDS.grid, orgWide: false };
    expect(await verifyBotToken('xoxb-workspace', slack.apiUrl)).toEqual({ ok: true });
  });
});

describe('the decision on shapes no fixture covers', () => {
  const ids = { user: APPROVER, responseUrl: 'https://hooks.slack.com/actions/x' };

  it('a user naming an organisation is ours only if the workspace installed in says it belongs to it', () => {
    // An external user from a Grid organisation, in a channel of a workspace outside any organisation.
    const outsider = { ...blockActionsButton(ids), user: { id: APPROVER, team_id: IDS.otherGrid } };
    const withTheirOrg = { ...outsider, enterprise: { id: IDS.otherGrid, name: 'Theirs' } };
    for (const served of [undefined, IDS.hostTeam]) {
      expect(admit(originOf(outsider), served)).toMatchObject({ ok: false, kind: 'external_user' });
      expect(admit(originOf(withTheirOrg), served)).toMatchObject({ ok: false, kind: 'external_user' });
    }
    expect(admit(originOf(blockActionsGrid(ids, 'organisation')), IDS.hostTeam)).toEqual({ ok: true });
  });

  it('in a Connect modal, the organisation of `team` (the user’s) does not vouch for the user', () => {
    const modal = viewSubmissionConnect({
      user: APPROVER,
      callbackId: VIEW_DENY_REASON,
      privateMetadata: '',
      values: {},
    });
    const gridUser = {
      ...modal,
      team: { id: IDS.externalTeam, domain: 'x', enterprise_id: IDS.otherGrid },
      user: { id: APPROVER, team_id: IDS.otherGrid },
    };
    expect(admit(originOf(gridUser), undefined)).toMatchObject({ ok: false, kind: 'external_user' });
  });

  it('a Grid user of another workspace of the organisation is refused (fail closed: the bot cannot tell)', () => {
    const payload = { ...blockActionsGrid(ids), user: { id: APPROVER, team_id: 'T0SISTER' } };
    expect(admit(originOf(payload), IDS.grid)).toMatchObject({ ok: false, kind: 'external_user' });
  });
});
