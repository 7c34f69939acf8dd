// Issue 16, defect 5: Deny wins from the moment of the click. Clicking Deny opens the reason modal and holds the
// request at once: another approver's Approve meanwhile is refused ("being denied") and no DELETE reaches
// BotPenguin. Closing the modal without submitting (Slack sends view_closed, since the modal asks for it) releases
// the hold, and an Approve then works.
import { SANDBOX_CHANNEL, type Sandbox, startSandbox } from '../../../sandbox/harness';
import { ACTION_APPROVE, ACTION_DENY } from '../../../src/constants';
import { APPROVER, APPROVER2, CUSTOMER, messageText, requestDeletion, settle } from '../../helpers/flow';
import { closeView, type OpenedView } from './support';

let sb: Sandbox;
beforeEach(async () => {
  sb = await startSandbox();
  sb.botpenguin.addCustomer(CUSTOMER);
});
afterEach(async () => {
  await sb?.stop({ fakes: true });
});

/** APPROVER clicks Deny on the request: the modal opens in Slack. */
async function startDenying(requestId: string): Promise<OpenedView> {
  expect((await sb.sender.click(APPROVER, ACTION_DENY, requestId)).status).toBe(200);
  await sb.slack.waitFor(() => sb.slack.views.length === 1, 5_000, 'the deny modal');
  return sb.slack.views[0] as OpenedView;
}

/** APPROVER2 clicks Approve; resolves once the click is answered (a private note) or a DELETE went out. */
async function approveMeanwhile(requestId: string): Promise<string[]> {
  const before = sb.slack.ephemeralsFor(APPROVER2).length;
  expect((await sb.sender.click(APPROVER2, ACTION_APPROVE, requestId)).status).toBe(200);
  await sb.slack.waitFor(
    () => sb.slack.ephemeralsFor(APPROVER2).length > before || sb.botpenguin.deletes().length > 0,
    5_000,
    'an answer to the Approve click',
  );
  await settle(sb);
  return sb.slack
    .ephemeralsFor(APPROVER2)
    .slice(before)
    .map((e) => e.text);
}

describe('a Deny click holds the request while its modal is open', () => {
  // Defect 5: the click only opens the modal; the request stays approvable and the Approve sends the DELETE.
  it('another approver’s Approve is refused as "being denied"; no DELETE; the submitted modal denies', async () => {
    const { requestId, message } = await requestDeletion(sb);
    await settle(sb);
    const view = await startDenying(requestId);

    const told = await approveMeanwhile(requestId);
    expect(sb.botpenguin.deletes()).toHaveLength(0);
    expect(told.join('\n')).toMatch(/being denied/);
    expect((await sb.store.getRequest(requestId))?.approvals).toHaveLength(0);

    const submitted = await sb.sender.viewSubmission(APPROVER, view, {
      deny_reason: { reason: { type: 'plain_text_input', value: 'no ticket for this' } },
    });
    expect(submitted.status).toBe(200);
    await sb.slack.waitFor(() => messageText(message).includes(`Denied by <@${APPROVER}>`), 5_000, 'the denial');
    await settle(sb);
    expect(await sb.store.getRequest(requestId)).toMatchObject({ state: 'denied', closedBy: APPROVER });
    expect(sb.botpenguin.deletes()).toHaveLength(0);
    expect(sb.botpenguin.customers).toHaveLength(1);
    // The person who denied is never told it was already deleted.
    expect(sb.slack.ephemeralsFor(APPROVER).map((e) => e.text)).not.toContainEqual(
      expect.stringMatching(/already deleted/),
    );
  });

  // Defect 5: there is no hold to release, and the modal does not ask Slack for view_closed.
  it('closing the modal without submitting releases the hold: an Approve then deletes, once', async () => {
    const { requestId, message } = await requestDeletion(sb);
    await settle(sb);
    const view = await startDenying(requestId);
    // Slack sends view_closed only for a modal opened with notify_on_close.
    expect(view.notify_on_close).toBe(true);
    expect((await approveMeanwhile(requestId)).join('\n')).toMatch(/being denied/);

    expect((await closeView(sb, APPROVER, view)).status).toBe(200);
    // The close is acknowledged before the hold is released, so an Approve right after may still meet it.
    let told: string[] = [];
    for (let i = 0; i < 20 && sb.botpenguin.deletes().length === 0; i++) {
      told = await approveMeanwhile(requestId);
      if (!told.some((t) => /being denied/.test(t))) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await sb.slack.waitFor(() => messageText(message).includes('was deleted'), 5_000, 'the outcome');
    expect(sb.botpenguin.deletes()).toHaveLength(1);
    expect(await sb.store.getRequest(requestId)).toMatchObject({ state: 'succeeded' });
    expect(sb.slack.channelMessages(SANDBOX_CHANNEL)).toHaveLength(1);
  });
});
