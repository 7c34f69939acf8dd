// The words around a request for the people who are not watching its channel: the requester's direct
// message (from the request's one description) and the reminder that mentions the approvers.
import { describeRequest } from '../../../src/blocks/describe';
import { statusSentences } from '../../../src/blocks/fallback-text';
import { renderRequestMessage } from '../../../src/blocks/request-message';
import { renderRequesterDm } from '../../../src/blocks/requester-dm';
import { renderThreadReply } from '../../../src/blocks/thread-replies';
import { nextReminderAt, reminderAddressees } from '../../../src/requests/reminders';
import { requesterNews, requesterNewsPending } from '../../../src/requests/requester-news';
import type { DeletionRequest, RequestState } from '../../../src/requests/types';
import { aRequest } from '../../helpers/fixtures';
import { testPolicy } from '../../helpers/policy';

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const LINK = 'https://example.slack.com/archives/C0OPS/p1700000001000001';

const ended = (state: RequestState, overrides: Partial<DeletionRequest> = {}) =>
  aRequest(NOW - 60_000, {
    state,
    requesterId: 'U0ASKER',
    finishedAt: NOW,
    preview: { status: 'found', name: 'Jane Roe', email: 'jane.roe@example.com', checkedAt: NOW - 60_000 },
    ...overrides,
  });

describe("the requester's direct message", () => {
  it('says the state as the message does, who denied and why, with the link first', () => {
    const request = ended('denied', { closedBy: 'U0APPROVER1', closeReason: 'no signed ticket' });
    const text = renderRequesterDm(request, LINK, NOW);
    expect(text).toContain(`<${LINK}|open in Slack>`);
    expect(text).toContain(statusSentences(describeRequest(request, NOW)));
    expect(text).toContain('Denied by <@U0APPROVER1>');
    expect(text).toContain('no signed ticket');
    expect(text.indexOf(LINK)).toBeLessThan(text.indexOf('Denied by'));
  });

  it("never holds the customer's name or email, and fits Slack's 4,000 characters", () => {
    const long = 'x'.repeat(10_000);
    for (const state of ['succeeded', 'failed', 'denied', 'expired', 'cancelled', 'uncertain'] as const) {
      const text = renderRequesterDm(ended(state, { closeReason: long, closedBy: 'U0APPROVER1' }), LINK, NOW);
      expect(text).not.toMatch(/Jane Roe|jane\.roe@example\.com/);
      expect(text.length).toBeLessThanOrEqual(4000);
      expect(text).toContain(LINK);
    }
  });

  it('without a link (the message was never posted) names the channel instead', () => {
    const text = renderRequesterDm(ended('cancelled', { closedBy: null, closeReason: 'could not post' }), null, NOW);
    expect(text).toContain('<#');
    expect(text).toContain('could not post');
  });

  it('is owed once per state, and not for what the requester did themselves', () => {
    expect(requesterNews(ended('denied', { closedBy: 'U0APPROVER1' }))).toBe('denied');
    expect(requesterNews(ended('denied', { closedBy: 'U0APPROVER1', requesterTold: 'denied' }))).toBeNull();
    expect(requesterNews(ended('succeeded', { requesterTold: 'uncertain' }))).toBe('succeeded');
    expect(requesterNews(ended('cancelled', { closedBy: 'U0ASKER' }))).toBeNull();
    expect(requesterNews(ended('cancelled', { closedBy: null }))).toBe('cancelled'); // withdrawn by the bot
    expect(requesterNews(ended('aborted', { closedBy: 'U0ASKER' }))).toBeNull();
    expect(requesterNews(ended('aborted', { closedBy: 'U0APPROVER1' }))).toBe('aborted');
    for (const state of ['pending', 'approved', 'executing'] as const) expect(requesterNews(ended(state))).toBeNull();
  });

  it('is settled even when none is owed (their own cancel), so the sync can tell when it is in step', () => {
    const own = ended('cancelled', { closedBy: 'U0ASKER' });
    expect(requesterNewsPending(own)).toBe(true);
    expect(requesterNewsPending({ ...own, requesterTold: 'cancelled' })).toBe(false);
    expect(requesterNewsPending(ended('pending'))).toBe(false);
  });
});

describe('reminders to the approvers', () => {
  it('come after REMIND_AFTER, then twice, four times that; none at or past the expiry, none when off', () => {
    expect(nextReminderAt(0, 0, 2000, 30_000)).toBe(2000);
    expect(nextReminderAt(2000, 1, 2000, 30_000)).toBe(6000);
    expect(nextReminderAt(6000, 2, 2000, 30_000)).toBe(14_000);
    expect(nextReminderAt(14_000, 3, 2000, 30_000)).toBeNull();
    expect(nextReminderAt(0, 0, 0, 30_000)).toBeNull();
  });

  it('mention listed approvers who may still approve, and every approver group', () => {
    const policy = testPolicy({ approverUserIds: ['U0ASKER', 'U0A1', 'U0A2'], approverUsergroupIds: ['S0LEADS'] });
    const request = aRequest(NOW, { requesterId: 'U0ASKER', approvals: [{ userId: 'U0A2', at: NOW }] });
    const detail = reminderAddressees(request, policy);
    expect(detail).toBe('U0A1 S0LEADS');
    const reply = renderThreadReply(
      { id: 1, requestId: request.id, kind: 'reminded', actorId: null, detail, at: NOW, postedAt: null },
      request,
    );
    expect(reply).toMatch(/^:bell: <@U0A1> <!subteam\^S0LEADS>: /);
    expect(reply).not.toContain('U0ASKER');
  });

  it('the card says when the next one is due, in its blocks and its top-level text, and not while paused', () => {
    const request = aRequest(NOW - 1000, { nextRemindAt: NOW + 60_000, expiresAt: NOW + 3_600_000 });
    const shown = renderRequestMessage(request, NOW);
    const due = `<!date^${Math.floor((NOW + 60_000) / 1000)}^`;
    expect(JSON.stringify(shown.blocks)).toContain(due);
    expect(shown.text).toContain(`The approvers are reminded ${due}`);
    const paused = renderRequestMessage(
      { ...request, pause: { by: 'U0A1', reason: null, channelId: null, at: NOW } },
      NOW,
    );
    expect(paused.text).not.toContain('The approvers are reminded');
  });
});
