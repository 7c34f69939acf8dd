// The approval message's top-level `text`: the whole message in plain words, from the request's description.
import type { DeletionRequest } from '../requests/types';
import { type Description, denyingSentence, pauseSentence, reminderSentence, saidLine, sentences } from './describe';
import { fitMrkdwn, mention, quoted, safeMrkdwn, slackDate, TEXT_LIMIT, ticketLink } from './text';

/**
 * chat.postMessage's reference: with blocks, `text` is the fallback shown in notifications, and screen readers
 * read it instead of the blocks, so it must carry all the necessary content. Mentions and date tokens render;
 * user text is escaped.
 */
export function renderFallbackText(request: DeletionRequest, d: Description): string {
  const parts = [
    `${request.dryRun ? 'DRY RUN, nothing will really be deleted. ' : ''}Request ${request.id} to delete BotPenguin customer ${safeMrkdwn(request.customerId, 200)}, asked by ${mention(request.requesterId)}.`,
    `Status: ${statusSentences(d)}`,
    d.pause ? pauseSentence(d.pause) : '',
    d.denying ? denyingSentence(d.denying) : '',
    approvals(request, d),
    request.ticket ? `Ticket: ${ticketLink(request)}.` : '',
    request.reason
      ? `Reason for the request: ${quoted(request.reason, 1200)}.`
      : 'No reason was given for the request.',
    preview(request),
  ];
  return fitMrkdwn(sentences(...parts), TEXT_LIMIT);
}

/** Where a request stands, in plain sentences: for the top-level text, and for any message about it. */
export function statusSentences(d: Description): string {
  return sentences(
    `${d.headline}.`,
    d.nothingDeleted ? 'Nothing was deleted.' : null,
    d.detail,
    saidLine(d.words, 600),
    d.why ? `${d.why.label}: ${quoted(d.why.text, 600)}.` : null,
    d.next,
    d.nextReminderAt !== null ? reminderSentence(d.nextReminderAt) : null,
    d.finishedAt ? `Finished ${slackDate(d.finishedAt)}.` : null,
  );
}

function approvals(request: DeletionRequest, d: Description): string {
  const who = request.approvals.map((a) => mention(a.userId)).join(', ');
  const needed = `${request.approvals.length} of ${request.approvalsRequired} approval${request.approvalsRequired === 1 ? '' : 's'}`;
  const more =
    d.approvalsMissing > 0
      ? ` It needs ${d.approvalsMissing} more, from an authorized approver other than the requester.`
      : '';
  return `Approvals so far: ${needed}${who ? `, by ${who}` : ''}.${more}`;
}

function preview(request: DeletionRequest): string {
  const p = request.preview;
  if (!p) return '';
  if (p.status === 'unavailable') return 'BotPenguin could not be asked for a preview of this customer.';
  if (p.status === 'erased') return 'The customer’s name and email are no longer kept.';
  if (p.status === 'not_found') {
    return `BotPenguin did not list this customer in the first ${p.pagesSearched ?? 0} page(s) of its customers.`;
  }
  return `BotPenguin lists this customer as name ${quoted(p.name ?? '—', 150)}, email ${quoted(p.email ?? '—', 150)}, status ${quoted(p.customerStatus ?? '—', 60)}.`;
}
