// The approval message's top-level `text` reads as the whole message. chat.postMessage's reference: with
// blocks, `text` is the fallback for notifications, and "screen readers will default to the top-level text
// field of your post, and will not read the content of any interior blocks", so an accessible app must
// "include all necessary content for screen reader users in the top-level text field".
import { renderRequestMessage } from '../../../src/blocks/request-message';
import { TEXT_LIMIT } from '../../../src/blocks/text';
import type { DeletionRequest } from '../../../src/requests/types';
import { aRequest } from '../../helpers/fixtures';

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const CUSTOMER = '64b7f0c2e4b0a1b2c3d4e5f6';
const REQUESTER = 'U0REQUESTER';
const APPROVER = 'U0APPROVER1';
const APPROVER2 = 'U0APPROVER2';
const REASON = 'customer asked to close the account';

const request = (overrides: Partial<DeletionRequest> = {}) =>
  aRequest(NOW - 3_600_000, { customerId: CUSTOMER, requesterId: REQUESTER, reason: REASON, ...overrides });
const textOf = (r: DeletionRequest, now = NOW) => renderRequestMessage(r, now).text;
const dateToken = (ms: number) => `<!date^${Math.floor(ms / 1000)}^`;

/** What every version of the message says, whatever its state. */
function expectTheBasics(text: string, r: DeletionRequest) {
  expect(text).toContain(r.id);
  expect(text).toContain(CUSTOMER);
  expect(text).toContain(`<@${REQUESTER}>`);
  expect(text).toContain(`“${REASON}”`);
  expect(text).toContain(`${r.approvals.length} of ${r.approvalsRequired} approval`);
  for (const a of r.approvals) expect(text).toContain(`<@${a.userId}>`);
  expect(text.length).toBeLessThanOrEqual(TEXT_LIMIT);
  // Plain words: no emoji shortcodes for a screen reader to spell out.
  expect(text).not.toMatch(/:[a-z_]+:/);
}

describe('the top-level text of each version of the message reads as the whole message', () => {
  it('pending: approvals so far, by whom, how many more, the expiry and what can be done', () => {
    const r = request({
      approvalsRequired: 2,
      approvals: [{ userId: APPROVER, at: NOW - 1000 }],
      preview: { status: 'found', name: 'Acme & Co', email: 'ops@acme.test', customerStatus: 'active', checkedAt: NOW },
    });
    const text = textOf(r);
    expectTheBasics(text, r);
    expect(text).toContain('Waiting for approval');
    expect(text).toContain(`1 of 2 approvals, by <@${APPROVER}>`);
    expect(text).toContain('needs 1 more');
    expect(text).toContain(`expires ${dateToken(r.expiresAt)}`);
    expect(text).toMatch(/Approve or Deny/);
    expect(text).toContain('“Acme &amp; Co”');
    expect(text).toContain('ops@acme.test');
  });

  it('pending, but its time has run out: it says it can no longer be approved', () => {
    const r = request({ expiresAt: NOW });
    const text = textOf(r);
    expectTheBasics(text, r);
    expect(text).toMatch(/can no longer be approved/);
    expect(text).not.toMatch(/Approve or Deny/);
  });

  it('approved, during the execution delay: when the DELETE goes out and how to abort it', () => {
    const r = request({ state: 'approved', approvals: [{ userId: APPROVER, at: NOW }], executeAt: NOW + 10 * 60_000 });
    const text = textOf(r);
    expectTheBasics(text, r);
    expect(text).toContain('Approved');
    expect(text).toContain('12:10 UTC');
    expect(text).toContain(dateToken(NOW + 10 * 60_000));
    expect(text).toMatch(/Abort deletion button/);
    // Once the DELETE is due, there is nothing left to abort.
    expect(textOf(r, NOW + 10 * 60_000)).not.toMatch(/Abort/);
  });

  it('executing: approved and deleting now', () => {
    const r = request({ state: 'executing', approvals: [{ userId: APPROVER, at: NOW }], executeAt: NOW });
    const text = textOf(r);
    expectTheBasics(text, r);
    expect(text).toMatch(/Deleting now/);
  });

  it('succeeded: the outcome, and BotPenguin’s own words quoted apart from ours', () => {
    const r = request({
      state: 'succeeded',
      approvals: [
        { userId: APPROVER, at: NOW },
        { userId: APPROVER2, at: NOW },
      ],
      approvalsRequired: 2,
      outcome: {
        ok: true,
        kind: 'deleted',
        said: 'botpenguin',
        message: 'Customer removed & purged',
        httpStatus: 200,
        attempts: 1,
      },
      finishedAt: NOW,
    });
    const text = textOf(r);
    expectTheBasics(text, r);
    expect(text).toMatch(/Deleted\. Customer `64b7f0c2e4b0a1b2c3d4e5f6` was deleted by BotPenguin \(HTTP 200\)/);
    expect(text).toContain('BotPenguin said: “Customer removed &amp; purged”');
    expect(text).toContain(`Finished ${dateToken(NOW)}`);
  });

  it('succeeded, already gone', () => {
    const r = request({
      state: 'succeeded',
      outcome: { ok: true, kind: 'already_gone', said: 'botpenguin', message: 'Not found', httpStatus: 404 },
      finishedAt: NOW,
    });
    expect(textOf(r)).toMatch(/already gone/);
    expect(textOf(r)).toContain('BotPenguin said: “Not found”');
  });

  it('failed: what failed and BotPenguin’s message, with its HTTP status', () => {
    const r = request({
      state: 'failed',
      approvals: [{ userId: APPROVER, at: NOW }],
      outcome: {
        ok: false,
        kind: 'rejected',
        said: 'botpenguin',
        message: 'Customer has an <active> subscription',
        httpStatus: 400,
      },
      finishedAt: NOW,
    });
    const text = textOf(r);
    expectTheBasics(text, r);
    expect(text).toMatch(/Deletion failed\. BotPenguin did not delete customer .* \(HTTP 400\)/);
    expect(text).toContain('BotPenguin said: “Customer has an &lt;active&gt; subscription”');
  });

  it('failed for a reason of ours (the daily limit): our words, not presented as BotPenguin’s', () => {
    const r = request({
      state: 'failed',
      outcome: { ok: false, kind: 'daily_limit', said: 'bot', message: 'The daily limit of 50 deletions was reached.' },
      finishedAt: NOW,
    });
    expect(textOf(r)).toContain('Not deleted. The daily limit of 50 deletions was reached.');
    expect(textOf(r)).not.toContain('BotPenguin said');
  });

  it('denied: by whom, why, and that nothing was deleted', () => {
    const r = request({ state: 'denied', closedBy: APPROVER, closeReason: 'ticket <not> signed off', finishedAt: NOW });
    const text = textOf(r);
    expectTheBasics(text, r);
    expect(text).toContain(`Denied by <@${APPROVER}>`);
    expect(text).toContain('Why it was denied: “ticket &lt;not&gt; signed off”');
    expect(text).toContain('Nothing was deleted');
  });

  it('cancelled: by whom, and that nothing was deleted', () => {
    const r = request({ state: 'cancelled', closedBy: REQUESTER, finishedAt: NOW });
    const text = textOf(r);
    expectTheBasics(text, r);
    expect(text).toContain(`Cancelled by <@${REQUESTER}>`);
    expect(text).toContain('Nothing was deleted');
  });

  it('expired: without enough approvals, nothing deleted', () => {
    const r = request({ state: 'expired', expiresAt: NOW - 1, finishedAt: NOW - 1 });
    const text = textOf(r);
    expectTheBasics(text, r);
    expect(text).toMatch(/Expired\. Nothing was deleted\. Its time ran out without enough approvals/);
    expect(text).toContain('Nothing was deleted');
  });

  it('aborted: by whom, before the DELETE, nothing deleted', () => {
    const r = request({ state: 'aborted', closedBy: APPROVER, executeAt: NOW + 60_000, finishedAt: NOW });
    const text = textOf(r);
    expectTheBasics(text, r);
    expect(text).toContain(`Aborted by <@${APPROVER}> before the DELETE was sent`);
  });

  it('DRY RUN is said first, in every state, and the dry-run outcome says no DELETE was sent', () => {
    for (const state of ['pending', 'approved', 'executing', 'succeeded', 'denied'] as const) {
      expect(textOf(request({ state, dryRun: true }))).toMatch(/^DRY RUN/);
    }
    const done = request({
      state: 'succeeded',
      dryRun: true,
      outcome: { ok: true, kind: 'dry_run', said: 'bot', message: 'DRY RUN: no DELETE was sent.' },
      finishedAt: NOW,
    });
    expect(textOf(done)).toContain('no DELETE was sent');
    expect(textOf(done)).not.toContain('BotPenguin said');
  });

  it('no reason given says so', () => {
    expect(textOf(request({ reason: '' }))).toContain('No reason was given');
  });
});

describe('the top-level text stays within Slack’s limits and harmless', () => {
  const LONG = 'Tom & Jerry <!channel> '.repeat(500); // 11,500 characters

  it('a 10,000-character reason, deny reason, BotPenguin message and preview keep it ≤ 4,000 characters, the reason cut visibly', () => {
    const r = request({
      state: 'denied',
      reason: LONG,
      closedBy: APPROVER,
      closeReason: LONG,
      outcome: { ok: false, kind: 'rejected', said: 'botpenguin', message: LONG, httpStatus: 400 },
      preview: { status: 'found', name: LONG, email: LONG, customerStatus: LONG, checkedAt: NOW },
      finishedAt: NOW,
    });
    for (const state of ['denied', 'failed', 'pending'] as const) {
      const text = textOf({ ...r, state });
      expect(text.length).toBeLessThanOrEqual(TEXT_LIMIT);
      expect(text).toContain(`Reason for the request: “Tom &amp; Jerry &lt;!channel&gt;`);
      expect(text).toMatch(/\(11500 characters, cut\)”/);
      expect(text).not.toContain('<!channel>');
    }
  });

  it('user text can notify nobody: only our own mentions and date tokens remain as markup', () => {
    const hostile = '<!here> <@U0EVIL> <#C0EVIL|x> <http://evil.example|click> @channel';
    const r = request({
      reason: hostile,
      customerId: '<!channel>',
      state: 'denied',
      closedBy: APPROVER,
      closeReason: hostile,
      preview: { status: 'found', name: hostile, email: hostile, customerStatus: hostile, checkedAt: NOW },
      finishedAt: NOW,
    });
    const text = textOf(r);
    const rest = text.replace(/<@U0(REQUESTER|APPROVER1)>/g, '').replace(/<!date\^\d+\^[^|<>]*\|[^<>]*>/g, '');
    expect(rest).not.toMatch(/[<>]/);
    expect(rest).not.toMatch(/@(channel|here|everyone)\b/);
  });
});
