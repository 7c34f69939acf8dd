// Each state and outcome is worded once (src/blocks/describe.ts): the message's status section, its
// top-level text and the thread reply all say the same sentence, and the short answers the same word.
import { describeRequest, type OutcomeKind, stateWord } from '../../../src/blocks/describe';
import { renderRequestMessage } from '../../../src/blocks/request-message';
import { renderThreadReply } from '../../../src/blocks/thread-replies';
import type { DeletionOutcome, DeletionRequest, EventKind, RequestState } from '../../../src/requests/types';
import { aRequest } from '../../helpers/fixtures';

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const CUSTOMER = '64b7f0c2e4b0a1b2c3d4e5f6';

// A Record keyed by kind: an outcome kind added to the description without a fixture here fails to compile.
const OUTCOMES: Record<OutcomeKind, DeletionOutcome> = {
  deleted: { ok: true, kind: 'deleted', said: 'botpenguin', message: 'Customer removed', httpStatus: 200 },
  already_gone: { ok: true, kind: 'already_gone', said: 'botpenguin', message: 'Not found', httpStatus: 404 },
  dry_run: { ok: true, kind: 'dry_run', said: 'bot', message: 'DRY RUN: no DELETE was sent.' },
  uncertain: { ok: false, kind: 'uncertain', said: 'botpenguin', message: 'Gateway timeout', httpStatus: 504 },
  still_listed: { ok: false, kind: 'still_listed', said: 'bot', message: 'BotPenguin still lists the customer.' },
  closed_deleted: { ok: true, kind: 'closed_deleted', said: 'bot', message: 'Closed by an approver as deleted.' },
  closed_kept: { ok: false, kind: 'closed_kept', said: 'bot', message: 'Closed by an approver as not deleted.' },
  customer_changed: { ok: false, kind: 'customer_changed', said: 'bot', message: 'The customer’s name changed.' },
  daily_limit: { ok: false, kind: 'daily_limit', said: 'bot', message: 'The daily limit of 50 deletions was reached.' },
  refused: { ok: false, kind: 'rejected', said: 'botpenguin', message: 'Has a subscription', httpStatus: 400 },
};

const stateOf = (o: DeletionOutcome): RequestState =>
  o.kind === 'uncertain' ? 'uncertain' : o.ok ? 'succeeded' : 'failed';
const eventOf = (o: DeletionOutcome): EventKind => (o.kind === 'uncertain' ? 'uncertain' : o.ok ? 'deleted' : 'failed');

function ended(outcome: DeletionOutcome): DeletionRequest {
  return aRequest(NOW - 60_000, {
    customerId: CUSTOMER,
    state: stateOf(outcome),
    approvals: [{ userId: 'U0APPROVER1', at: NOW - 1000 }],
    closedBy: outcome.kind.startsWith('closed_') ? 'U0APPROVER1' : null,
    outcome,
    finishedAt: NOW,
  });
}

const statusSection = (r: DeletionRequest) =>
  (
    renderRequestMessage(r, NOW).blocks.find((b) => (b as { block_id?: string }).block_id?.startsWith('status.')) as {
      text: { text: string };
    }
  ).text.text;

describe('an outcome is said in the same words in the message, its top-level text and the thread', () => {
  it.each(Object.entries(OUTCOMES))('%s', (_kind, outcome) => {
    const r = ended(outcome);
    const d = describeRequest(r, NOW);
    expect(d.detail).toBeTruthy();
    const reply = renderThreadReply(
      { id: 1, requestId: r.id, kind: eventOf(outcome), actorId: null, detail: null, at: NOW, postedAt: null },
      r,
    );
    for (const shown of [statusSection(r), renderRequestMessage(r, NOW).text, reply]) {
      expect(shown).toContain(d.detail);
    }
    expect(statusSection(r)).toContain(d.headline);
    expect(renderRequestMessage(r, NOW).text).toContain(`Status: ${d.headline}.`);
  });

  it('BotPenguin’s words are quoted as theirs, the bot’s never', () => {
    for (const outcome of Object.values(OUTCOMES)) {
      const text = renderRequestMessage(ended(outcome), NOW).text;
      if (outcome.said === 'bot') expect(text).not.toContain('BotPenguin said');
    }
    expect(renderRequestMessage(ended(OUTCOMES.refused), NOW).text).toContain('BotPenguin said: “Has a subscription”');
    const ours = { ...OUTCOMES.refused, said: 'bot' as const, message: 'Could not reach BotPenguin' };
    expect(renderRequestMessage(ended(ours), NOW).text).toContain("The bot's note: Could not reach BotPenguin");
    expect(renderRequestMessage(ended(ours), NOW).text).not.toContain('BotPenguin said');
  });

  it('a failure kind the description does not name reads as a refusal, with BotPenguin’s words', () => {
    const r = ended({ ok: false, kind: 'some_new_failure', said: 'botpenguin', message: 'Nope', httpStatus: 418 });
    expect(describeRequest(r, NOW).headline).toBe('Deletion failed');
    expect(statusSection(r)).toContain(`BotPenguin did not delete customer \`${CUSTOMER}\` (HTTP 418).`);
    expect(statusSection(r)).toContain('BotPenguin said: “Nope”');
  });
});

describe('the short answers name a state by the description’s word', () => {
  const WORDS: Record<RequestState, string> = {
    pending: 'pending',
    approved: 'approved',
    executing: 'executing',
    uncertain: 'uncertain (may have been deleted)',
    succeeded: 'deleted',
    failed: 'failed',
    denied: 'denied',
    cancelled: 'cancelled',
    expired: 'expired',
    aborted: 'aborted',
  };
  it.each(Object.entries(WORDS))('%s', (state, word) => {
    expect(stateWord(aRequest(NOW, { state: state as RequestState }))).toBe(word);
  });
});

describe('a request closed by a person says who, from where, and why, everywhere', () => {
  it.each<RequestState>(['denied', 'cancelled', 'aborted'])('%s', (state) => {
    const r = aRequest(NOW - 60_000, {
      state,
      closedBy: 'U0APPROVER1',
      closedFrom: 'C0ELSEWHERE',
      closeReason: 'wrong customer',
      finishedAt: NOW,
    });
    const d = describeRequest(r, NOW);
    expect(d.nothingDeleted).toBe(true);
    expect(d.headline).toContain('by <@U0APPROVER1> from <#C0ELSEWHERE>');
    expect(statusSection(r)).toContain(`${d.headline}, nothing was deleted`);
    expect(statusSection(r)).toContain('>wrong customer');
    expect(renderRequestMessage(r, NOW).text).toContain(`${d.headline}. Nothing was deleted.`);
    expect(renderRequestMessage(r, NOW).text).toContain(`: “wrong customer”.`);
  });
});

describe('a pause is said on the requests it holds, the same way in the blocks and the top-level text', () => {
  const pause = { by: 'U0APPROVER1', reason: 'incident <42>', channelId: null, at: NOW - 1000 };

  it.each<RequestState>(['pending', 'approved'])('%s: shown', (state) => {
    const r = aRequest(NOW - 60_000, { state, executeAt: state === 'approved' ? NOW : null, pause });
    const sentence =
      'Paused by <@U0APPROVER1>: incident &lt;42&gt; — DELETEs wait until an approver types `/bp-delete resume`.';
    expect(statusSection(r)).toContain(sentence);
    expect(renderRequestMessage(r, NOW).text).toContain(sentence);
  });

  it.each(Object.entries(OUTCOMES))('ended (%s): not shown', (_kind, outcome) => {
    const r = { ...ended(outcome), pause };
    expect(describeRequest(r, NOW).pause).toBeNull();
    expect(renderRequestMessage(r, NOW).text).not.toContain('Paused by');
  });
});
