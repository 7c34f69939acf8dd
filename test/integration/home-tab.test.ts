// The Home tab over signed HTTP: app_home_opened publishes each person's queue, its buttons go through the
// same rules as the message's, and it stays within Slack's limits however much waits.
import { checkHomeView } from '../../sandbox/block-kit-limits';
import { SANDBOX_CHANNEL, type Sandbox, startSandbox } from '../../sandbox/harness';
import { MAX_MINE_SHOWN, MAX_WAITING_SHOWN } from '../../src/blocks/home-view';
import { ACTION_APPROVE, ACTION_CANCEL, ACTION_DENY, homeActionId } from '../../src/constants';
import {
  APPROVER,
  actionIds,
  CUSTOMER,
  messageText,
  OUTSIDER,
  REQUESTER,
  requestDeletion,
  settle,
  watchListeners,
} from '../helpers/flow';

interface HomeView {
  type: string;
  blocks: { type: string; block_id?: string; elements?: { action_id?: string; value?: string }[] }[];
}

/** Open the Home tab as `user` and return the view the bot published for it. */
async function openHome(sb: Sandbox, user: string): Promise<HomeView> {
  const before = sb.slack.homeViews.length;
  const res = await sb.sender.appHomeOpened(user);
  expect(res.status).toBe(200);
  await settle(sb);
  expect(sb.slack.homeViews.length).toBeGreaterThan(before);
  return sb.slack.homeViewOf(user) as HomeView;
}

const buttons = (view: HomeView) =>
  view.blocks.filter((b) => b.type === 'actions').flatMap((b) => (b.elements ?? []).map((e) => e.action_id ?? ''));

/** The visible text of a view, as messageText reads a message. */
const viewText = (view: HomeView) => messageText({ blocks: view.blocks } as Parameters<typeof messageText>[0]);

describe('the Home tab', () => {
  let sb: Sandbox;
  beforeEach(async () => {
    sb = watchListeners(await startSandbox());
    sb.botpenguin.addCustomer(CUSTOMER, 'Acme Ltd', 'ops@acme.test');
  });
  afterEach(async () => {
    await sb.stop({ fakes: true });
  });

  it('lists a pending request with Approve and Deny for an approver, and its Approve sends exactly one DELETE', async () => {
    await openHome(sb, REQUESTER);
    const { requestId, message } = await requestDeletion(sb);
    const view = await openHome(sb, APPROVER);
    expect(view.type).toBe('home');
    expect(checkHomeView(view)).toEqual({ ok: true });
    const text = viewText(view);
    expect(text).toContain('Waiting for your approval');
    expect(text).toContain(CUSTOMER);
    expect(text).toContain(`<@${REQUESTER}>`);
    expect(text).toContain('customer asked to close account');
    expect(text).toContain('Deletions are not paused');
    // No name or email of the customer on a surface that stays around.
    expect(JSON.stringify(view)).not.toMatch(/Acme Ltd|ops@acme\.test/);
    expect(buttons(view)).toEqual([homeActionId(ACTION_APPROVE, requestId), homeActionId(ACTION_DENY, requestId)]);

    const click = await sb.sender.homeClick(APPROVER, view, homeActionId(ACTION_APPROVE, requestId));
    expect(click.status).toBe(200);
    await sb.botpenguin.waitFor(() => sb.botpenguin.deletes().length === 1);
    await settle(sb);
    expect(sb.botpenguin.deletes()).toHaveLength(1);
    expect(sb.botpenguin.deletes()[0]?.path).toBe(`/customer/${CUSTOMER}`);
    // The channel's message shows the outcome as after a click there; the clicker is answered on the tab.
    expect(actionIds(message)).toEqual([]);
    expect(messageText(message)).toContain('was deleted');
    expect(messageText(message)).toContain(`<@${APPROVER}>`);
    expect(sb.slack.ephemeralsFor(APPROVER)).toEqual([]);
    const after = sb.slack.homeViewOf(APPROVER) as HomeView;
    expect(buttons(after)).toEqual([]);
    expect(viewText(after)).toContain('Nothing waits for your approval');
    // The requester opened their tab before: it is republished when their request changes.
    expect(viewText(sb.slack.homeViewOf(REQUESTER) as HomeView)).toContain('Deleted');
    expect(
      sb.slack.homeViews
        .filter((h) => h.user === APPROVER)
        .some((h) => /Done: request/.test(viewText(h.view as HomeView))),
    ).toBe(true);

    // A second click on the old tab goes through the same rules: refused, said on the tab, no second DELETE.
    await sb.sender.homeClick(APPROVER, view, homeActionId(ACTION_APPROVE, requestId));
    await settle(sb);
    expect(viewText(sb.slack.homeViewOf(APPROVER) as HomeView)).toMatch(/already deleted/);
    expect(sb.botpenguin.deletes()).toHaveLength(1);
  });

  it('offers a plain member no buttons, and their crafted click from the tab is refused by the rules', async () => {
    const { requestId } = await requestDeletion(sb);
    const view = await openHome(sb, OUTSIDER);
    expect(buttons(view)).toEqual([]);
    expect(viewText(view)).toContain('You are not an approver');

    const approverView = await openHome(sb, APPROVER);
    await sb.sender.homeClick(OUTSIDER, approverView, homeActionId(ACTION_APPROVE, requestId));
    await settle(sb);
    expect(viewText(sb.slack.homeViewOf(OUTSIDER) as HomeView)).toMatch(/not an authorized approver/);
    expect(sb.botpenguin.deletes()).toHaveLength(0);
  });

  it("shows the requester their request's state, kept fresh when it changes", async () => {
    const none = await openHome(sb, REQUESTER);
    expect(viewText(none)).toContain('You have asked for no deletions yet');
    const { requestId } = await requestDeletion(sb);
    await settle(sb);
    // Their open tab gains the new request without being opened again.
    let view = sb.slack.homeViewOf(REQUESTER) as HomeView;
    expect(buttons(view)).toEqual([]);
    expect(viewText(view)).toContain('Your requests');
    expect(viewText(view)).toContain('Waiting for approval');
    expect(viewText(view)).toContain(requestId);

    // The approver denies from their own tab (the modal opens there); the requester's tab follows.
    const approverView = await openHome(sb, APPROVER);
    await sb.sender.homeClick(APPROVER, approverView, homeActionId(ACTION_DENY, requestId));
    await settle(sb);
    const modal = sb.slack.views[0] as { callback_id: string; private_metadata: string };
    await sb.sender.viewSubmission(APPROVER, modal, {
      deny_reason: { reason: { type: 'plain_text_input', value: 'wrong one' } },
    });
    await settle(sb);
    view = sb.slack.homeViewOf(REQUESTER) as HomeView;
    expect(viewText(view)).toContain(`Denied by <@${APPROVER}>`);
    expect(viewText(view)).toContain('nothing was deleted');
    expect(sb.botpenguin.deletes()).toHaveLength(0);
  });

  it('says when deletions are paused', async () => {
    await sb.sender.command(APPROVER, 'pause maintenance window');
    await settle(sb);
    const view = await openHome(sb, APPROVER);
    expect(viewText(view)).toContain('Deletions are paused');
    expect(viewText(view)).toContain('maintenance window');
  });

  it('stops publishing once Slack says the app has no Home tab (home_tab_enabled off)', async () => {
    sb.slack.failNext('views.publish', { status: 200, error: 'not_enabled' });
    await sb.sender.appHomeOpened(REQUESTER);
    await settle(sb);
    expect(sb.slack.callsTo('views.publish')).toHaveLength(1);
    const { requestId } = await requestDeletion(sb);
    await sb.sender.click(REQUESTER, ACTION_CANCEL, requestId);
    await sb.sender.appHomeOpened(APPROVER);
    await settle(sb);
    expect(sb.slack.callsTo('views.publish')).toHaveLength(1);
    expect(sb.slack.homeViews).toEqual([]);
    expect(sb.logs.join('\n')).toContain('home_tab_enabled is off');
  });

  it('publishes nothing when the Messages tab is opened', async () => {
    await sb.sender.appHomeOpened(APPROVER, { tab: 'messages' });
    await settle(sb);
    expect(sb.slack.homeViews).toEqual([]);
  });

  it("a message click without the request's channel is still refused (the Home tab's leeway is its own)", async () => {
    const { requestId } = await requestDeletion(sb);
    const payload = sb.sender.clickPayload(APPROVER, ACTION_APPROVE, requestId, { channel: 'C0ELSEWHERE' });
    await sb.sender.signedPayload(payload);
    await settle(sb);
    expect(sb.slack.ephemeralsFor(APPROVER).map((e) => e.text)).toEqual([expect.stringMatching(/this channel/)]);
    expect(sb.botpenguin.deletes()).toHaveLength(0);
  });
});

describe('the Home tab past its 100 blocks', () => {
  let sb: Sandbox;
  afterEach(async () => {
    await sb.stop({ fakes: true });
  });

  it('shows the first ones and says how many more, within Slack’s limit', async () => {
    sb = watchListeners(await startSandbox({ env: { MAX_PENDING_PER_REQUESTER: '100' } }));
    const count = MAX_WAITING_SHOWN + 4;
    for (let i = 0; i < count; i++) {
      const customer = `64b7f0c2e4b0a1b2c3d4${String(i).padStart(4, '0')}`;
      const res = await sb.sender.command(REQUESTER, `${customer} reason ${'x'.repeat(2000)}`);
      expect(res.status).toBe(200);
    }
    await settle(sb);
    expect(sb.slack.channelMessages(SANDBOX_CHANNEL)).toHaveLength(count);

    const view = await openHome(sb, APPROVER);
    expect(checkHomeView(view)).toEqual({ ok: true });
    expect(view.blocks.length).toBeLessThanOrEqual(100);
    expect(buttons(view)).toHaveLength(MAX_WAITING_SHOWN * 2);
    expect(viewText(view)).toContain('…and 4 more in the channels');
    // A long reason is cut visibly.
    expect(viewText(view)).toMatch(/characters, cut\)/);

    const mine = await openHome(sb, REQUESTER);
    expect(checkHomeView(mine)).toEqual({ ok: true });
    expect(viewText(mine)).toContain(`…and ${count - MAX_MINE_SHOWN} more older ones`);
  });
});
