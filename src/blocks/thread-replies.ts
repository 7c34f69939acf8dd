// One reply in the message's thread per event: the audit trail. Outcomes are worded by the description.
import type { DeletionOutcome, DeletionRequest, EventKind, RequestEvent } from '../requests/types';
import { closingVerb, describeOutcome, saidLine, sentences, stateTone } from './describe';
import {
  code,
  fitMrkdwn,
  groupMention,
  mention,
  safeMrkdwn,
  safeQuote,
  slackDate,
  TEXT_LIMIT,
  ticketLink,
} from './text';

export function renderThreadReply(event: RequestEvent, request: DeletionRequest): string {
  const dry = request.dryRun ? '[DRY RUN] ' : '';
  return fitMrkdwn(`${dry}${REPLIES[event.kind](event, request)}`, TEXT_LIMIT);
}

type Reply = (event: RequestEvent, request: DeletionRequest) => string;

const ticketOf = (request: DeletionRequest) => (request.ticket ? `, ticket ${ticketLink(request)}` : '');
const who = (event: RequestEvent) => (event.actorId ? mention(event.actorId) : 'The bot');
const detail = (event: RequestEvent) => (event.detail ? `\n${safeQuote(event.detail, 2000)}` : '');
const requester = (request: DeletionRequest) => mention(request.requesterId);
/** " from #channel" when a deny or cancel was typed in another channel than the request's. */
const fromWhere = (request: DeletionRequest) => (request.closedFrom ? ` from <#${request.closedFrom}>` : '');

/** Bot-written detail with `@U123` user ids: escaped, then the ids become mentions. */
const withMentions = (text: string, max: number) =>
  safeMrkdwn(text, max).replace(/@(U[A-Z0-9]{2,30})\b/g, (_m, id: string) => mention(id));

/** A reminder's addressees (the event's space-separated ids): users and user groups, as mentions that notify. */
function addressees(event: RequestEvent): string {
  const ids = (event.detail ?? '').split(' ');
  const mentions = ids.flatMap((id) =>
    /^[UW][A-Z0-9]{2,}$/.test(id) ? [mention(id)] : /^S[A-Z0-9]{2,}$/.test(id) ? [groupMention(id)] : [],
  );
  return mentions.length > 0 ? `${mentions.join(' ')}: ` : '';
}

/** An outcome as its description says it, then whom it concerns. */
function outcomeReply(request: DeletionRequest, outcome: DeletionOutcome | null, otherwise: string): string {
  if (!outcome) return `${otherwise} ${requester(request)}`;
  const d = describeOutcome(request, outcome);
  return `${d.tone} ${sentences(d.detail, saidLine(d.words, 1000), d.next)} ${requester(request)}`;
}

/** Denied, cancelled or aborted by a person: nothing was deleted. */
function closedReply(event: RequestEvent, state: 'denied' | 'cancelled' | 'aborted', what: string): string {
  return `${stateTone(state)} ${who(event)} ${closingVerb(state)} ${what}; nothing was deleted.`;
}

/** Every event kind, worded once. A kind missing here fails to compile. */
const REPLIES: Record<EventKind, Reply> = {
  requested: (e, r) =>
    `:inbox_tray: ${who(e)} asked to delete customer ${code(r.customerId)} (request \`${r.id}\`${ticketOf(r)}).${detail(e)}`,
  approved: (e) => `:white_check_mark: ${who(e)} approved (${safeMrkdwn(e.detail ?? '', 40)}).`,
  delete_sent: (e) =>
    `:gear: The bot is sending the DELETE to BotPenguin${e.detail ? ` (${safeMrkdwn(e.detail, 200)})` : ''}.`,
  deleted: (_e, r) => outcomeReply(r, r.outcome, ':wastebasket: Deleted.'),
  failed: (_e, r) => outcomeReply(r, r.outcome, ':x: The deletion failed.'),
  // Said as it was then: by the time the reply is posted, a settle check may have decided it.
  uncertain: (_e, r) =>
    outcomeReply(
      r,
      r.outcome?.kind === 'uncertain' ? r.outcome : { ok: false, kind: 'uncertain', message: '', said: 'bot' },
      '',
    ),
  denied: (e, r) => `${closedReply(e, 'denied', `the request${fromWhere(r)}`)} ${requester(r)}${detail(e)}`,
  cancelled: (e, r) => closedReply(e, 'cancelled', `the request${e.actorId ? fromWhere(r) : ''}`),
  aborted: (e, r) => `${closedReply(e, 'aborted', 'the deletion before it was sent')} ${requester(r)}`,
  expired: (e, r) =>
    e.detail
      ? `:alarm_clock: ${withMentions(e.detail, 1000)} ${requester(r)}`
      : `:alarm_clock: The request expired without enough approvals; nothing was deleted. ${requester(r)}`,
  reopened: (e, r) =>
    `:leftwards_arrow_with_hook: ${withMentions(e.detail ?? 'Back to waiting for approval.', 1000)} ${requester(r)}`,
  policy: (e) => `:scales: ${withMentions(e.detail ?? 'Stricter settings now apply to this request.', 1000)}`,
  paused: (e) =>
    `:double_vertical_bar: ${who(e)} paused every DELETE; this request's DELETE waits until an approver resumes.${detail(e)}`,
  resumed: (e) => `:arrow_forward: ${who(e)} resumed DELETEs; this request goes on.`,
  reminded: (e, r) =>
    `:bell: ${addressees(e)}this request has waited for a decision since ${slackDate(r.createdAt)}. Approve or deny it on the message above before it expires ${slackDate(r.expiresAt)}.`,
};
