// A request said once: every state and outcome is worded here, and the message's blocks, its top-level
// text, the thread replies and the short ephemeral answers all render this one description.

import { SETTLE_WINDOW_MS } from '../requests/outcomes';
import {
  activeDenyHold,
  type DeletionOutcome,
  type DeletionRequest,
  type DenyHold,
  isAbortable,
  isDecidable,
  isWaiting,
  type Pause,
  type RequestState,
} from '../requests/types';
import { code, mention, quoted, safeMrkdwn, slackDate, utcTime } from './text';

/** Whose words an outcome's message are, and the words themselves (raw: each renderer escapes and cuts). */
export interface Words {
  by: 'botpenguin' | 'bot';
  text: string;
}

/** A person's own words about the decision: a deny reason, an approver's note on closing. Raw text. */
export interface Why {
  /** How the top-level text introduces them: "Why it was denied", "Their note". */
  label: string;
  text: string;
}

export interface Description {
  /** An emoji shortcode for the blocks and the thread (the top-level text, read aloud, leaves it out). */
  tone: string;
  /** What the request is now, in a few words of mrkdwn: "Waiting for approval", "Denied by <@U1>". */
  headline: string;
  /** It ended without any DELETE being sent. */
  nothingDeleted: boolean;
  /** What happened or happens, in sentences of mrkdwn (user and BotPenguin text already escaped). */
  detail: string | null;
  /** What BotPenguin or the bot said about it, kept apart from our own sentences. */
  words: Words | null;
  why: Why | null;
  /** What people can still do, and how. */
  next: string | null;
  /** Approvals it still needs to be approved (0 once it can no longer be). */
  approvalsMissing: number;
  /** The pause, while it holds this request. */
  pause: Pause | null;
  /** An approver's Deny, while it holds this request (its modal is open). */
  denying: DenyHold | null;
  /** When it ended, once it has. */
  finishedAt: number | null;
  /** When the approvers are reminded next (REMIND_AFTER), while it waits for them and nothing holds it. */
  nextReminderAt: number | null;
}

interface StateWords {
  tone: string;
  headline: string;
  /** The state in a word or two, for short answers: "deleted", "uncertain (may have been deleted)". */
  word: string;
  /** Uncertain, succeeded, failed: what the DELETE came to is said by the outcome. */
  byOutcome?: true;
  /** Denied, cancelled, aborted: the verb for who did it. */
  closedBy?: { verb: string; label: string; after?: string };
}

/** Every state, worded once. A state missing here fails to compile. */
const STATES: Record<RequestState, StateWords> = {
  pending: { tone: ':hourglass_flowing_sand:', headline: 'Waiting for approval', word: 'pending' },
  approved: { tone: ':white_check_mark:', headline: 'Approved', word: 'approved' },
  executing: { tone: ':gear:', headline: 'Deleting now', word: 'executing' },
  uncertain: {
    tone: ':warning:',
    headline: 'Outcome unknown',
    word: 'uncertain (may have been deleted)',
    byOutcome: true,
  },
  succeeded: { tone: ':wastebasket:', headline: 'Deleted', word: 'deleted', byOutcome: true },
  failed: { tone: ':x:', headline: 'Deletion failed', word: 'failed', byOutcome: true },
  denied: {
    tone: ':no_entry:',
    headline: 'Denied',
    word: 'denied',
    closedBy: { verb: 'denied', label: 'Why it was denied' },
  },
  cancelled: {
    tone: ':leftwards_arrow_with_hook:',
    headline: 'Cancelled',
    word: 'cancelled',
    closedBy: { verb: 'cancelled', label: 'Why it was cancelled' },
  },
  expired: { tone: ':alarm_clock:', headline: 'Expired', word: 'expired' },
  aborted: {
    tone: ':octagonal_sign:',
    headline: 'Aborted',
    word: 'aborted',
    closedBy: { verb: 'aborted', label: 'Why it was aborted', after: ' before the DELETE was sent' },
  },
};

/** The state in a word or two, for the short ephemeral answers. */
export const stateWord = (request: DeletionRequest) => STATES[request.state].word;

/** The emoji of a state, for a reply about reaching it. */
export const stateTone = (state: RequestState) => STATES[state].tone;

/** The verb for a person ending a request in this state: "denied", "cancelled", "aborted". */
export const closingVerb = (state: 'denied' | 'cancelled' | 'aborted') => STATES[state].closedBy?.verb ?? state;

export type OutcomeKind =
  | 'deleted'
  | 'already_gone'
  | 'dry_run'
  | 'uncertain'
  | 'still_listed'
  | 'closed_deleted'
  | 'closed_kept'
  | 'customer_changed'
  | 'daily_limit'
  /** Any other kind: BotPenguin, or the way to it, refused the DELETE (rejected, unauthorized, network, …). */
  | 'refused';

interface OutcomeWords {
  tone?: string;
  headline: string;
  /** What happened, in our words. */
  detail: (request: DeletionRequest, outcome: DeletionOutcome) => string;
  /** Whether the outcome's message is shown beside our words (false: the detail already says it). */
  quotesMessage: boolean;
  next?: (request: DeletionRequest) => string;
}

const WINDOW_MINUTES = SETTLE_WINDOW_MS / 60_000;
const http = (o: DeletionOutcome, label = '') => (o.httpStatus ? ` (${label}HTTP ${o.httpStatus})` : '');
const closer = (r: DeletionRequest) => (r.closedBy ? mention(r.closedBy) : 'an approver');
/** The bot's own sentence, as it wrote it. */
const ownWords = (_r: DeletionRequest, o: DeletionOutcome) => safeMrkdwn(o.message, 1000);

/** Every outcome, worded once. An outcome kind missing here fails to compile. */
const OUTCOMES: Record<OutcomeKind, OutcomeWords> = {
  deleted: {
    headline: 'Deleted',
    detail: (r, o) => `Customer ${code(r.customerId)} was deleted by BotPenguin${http(o)}.`,
    quotesMessage: true,
  },
  already_gone: {
    headline: 'Deleted',
    detail: (r) =>
      `Customer ${code(r.customerId)} is already gone: BotPenguin no longer knows it (an earlier DELETE of ours went through, but its answer was lost).`,
    quotesMessage: true,
  },
  dry_run: { tone: ':test_tube:', headline: 'DRY RUN finished', detail: ownWords, quotesMessage: false },
  uncertain: {
    headline: 'Outcome unknown',
    detail: (r, o) =>
      `Customer ${code(r.customerId)} *may have been deleted*: BotPenguin's answer to the DELETE is unknown${http(o, 'last: ')}.`,
    quotesMessage: true,
    next: (r) =>
      `The bot looks the customer up again over the next ${WINDOW_MINUTES} minutes: a DELETE may still be under way at BotPenguin, so a customer still listed counts only once that time has passed. An approver can settle it with \`/bp-delete close ${r.id} deleted\` or \`/bp-delete close ${r.id} kept\`.`,
  },
  still_listed: {
    headline: 'Not deleted',
    detail: (r) =>
      `Customer ${code(r.customerId)} was not deleted: BotPenguin still lists it ${WINDOW_MINUTES} minutes after a DELETE whose answer was unknown. You can ask again.`,
    quotesMessage: false,
  },
  closed_deleted: {
    headline: 'Deleted',
    detail: (r) =>
      `Closed by ${closer(r)} as deleted: the earlier DELETE's answer was unknown, and ${closer(r)} confirmed customer ${code(r.customerId)} is gone.`,
    quotesMessage: false,
  },
  closed_kept: {
    headline: 'Not deleted',
    detail: (r) =>
      `Closed by ${closer(r)} as not deleted: the earlier DELETE's answer was unknown, and ${closer(r)} confirmed customer ${code(r.customerId)} still exists.`,
    quotesMessage: false,
  },
  customer_changed: { headline: 'Not deleted', detail: ownWords, quotesMessage: false },
  daily_limit: { headline: 'Not deleted', detail: ownWords, quotesMessage: false },
  refused: {
    headline: 'Deletion failed',
    detail: (r, o) => `BotPenguin did not delete customer ${code(r.customerId)}${http(o)}.`,
    quotesMessage: true,
  },
};

const outcomeWords = (kind: string): OutcomeWords =>
  Object.hasOwn(OUTCOMES, kind) ? OUTCOMES[kind as OutcomeKind] : OUTCOMES.refused;

/** An outcome as a description's parts: the request's state gives the rest. */
export function describeOutcome(
  request: DeletionRequest,
  outcome: DeletionOutcome,
): Pick<Description, 'tone' | 'headline' | 'detail' | 'words' | 'next'> {
  const w = outcomeWords(outcome.kind);
  return {
    tone: w.tone ?? STATES[request.state].tone,
    headline: w.headline,
    detail: w.detail(request, outcome),
    words: w.quotesMessage && outcome.message ? { by: outcome.said, text: outcome.message } : null,
    next: w.next?.(request) ?? null,
  };
}

/** Who closed it, and from where when that was another channel: "Denied by <@U1> from <#C2>". */
function closedHeadline(request: DeletionRequest, words: StateWords): string {
  const how = words.closedBy;
  if (!how || !request.closedBy) return `${words.headline}${how?.after ?? ''}`;
  const from = request.closedFrom ? ` from <#${request.closedFrom}>` : '';
  return `${words.headline} by ${mention(request.closedBy)}${from}${how.after ?? ''}`;
}

/** Where the request stands before any outcome: waiting, approved, deleting, or ended by a person or time. */
function describeState(
  request: DeletionRequest,
  now: number,
): Omit<Description, 'pause' | 'denying' | 'finishedAt' | 'approvalsMissing' | 'nextReminderAt'> {
  const words = STATES[request.state];
  const base = { tone: words.tone, headline: words.headline, nothingDeleted: false, detail: null, words: null };
  const none = { ...base, why: null, next: null };
  switch (request.state) {
    case 'pending':
      if (!isDecidable(request, now)) {
        return {
          ...none,
          tone: STATES.expired.tone,
          headline: STATES.expired.headline,
          nothingDeleted: true,
          detail: `Its time ran out ${slackDate(request.expiresAt)}, so it can no longer be approved.`,
        };
      }
      return {
        ...none,
        next: `It expires ${slackDate(request.expiresAt)}; approvers can use the Approve or Deny button, and the requester can withdraw it with Cancel request.`,
      };
    case 'approved':
      if (isAbortable(request, now) && request.executeAt !== null) {
        return {
          ...none,
          tone: ':stopwatch:',
          detail: `Deleting at ${utcTime(request.executeAt)} (${slackDate(request.executeAt, '{time_secs}')}) unless someone aborts it first: only then is the DELETE sent to BotPenguin.`,
          next: 'The requester or an approver can press the Abort deletion button on this message until then.',
        };
      }
      return { ...none, detail: 'The DELETE is about to be sent to BotPenguin.' };
    case 'executing':
      return { ...none, detail: 'The DELETE is being sent to BotPenguin.' };
    case 'expired':
      return { ...none, nothingDeleted: true, detail: 'Its time ran out without enough approvals.' };
    case 'denied':
    case 'cancelled':
    case 'aborted':
      return {
        ...none,
        headline: closedHeadline(request, words),
        nothingDeleted: true,
        why: request.closeReason ? { label: words.closedBy?.label ?? 'Why', text: request.closeReason } : null,
      };
    case 'uncertain':
    case 'succeeded':
    case 'failed':
      return none;
  }
}

/** The one description of a request at `now`, from which every rendering words it. */
export function describeRequest(request: DeletionRequest, now: number): Description {
  const state = describeState(request, now);
  const said = STATES[request.state].byOutcome ? request.outcome : null;
  const outcome = said ? describeOutcome(request, said) : null;
  // An approver's note on closing an uncertain request.
  const closedNote = said && request.closeReason ? { label: 'Their note', text: request.closeReason } : null;
  const ended = !['pending', 'approved', 'executing'].includes(request.state);
  return {
    ...state,
    ...outcome,
    why: state.why ?? closedNote,
    pause: request.pause && isWaiting(request) ? request.pause : null,
    denying: activeDenyHold(request, now),
    finishedAt: ended ? request.finishedAt : null,
    approvalsMissing: isDecidable(request, now) ? Math.max(0, request.approvalsRequired - request.approvals.length) : 0,
    nextReminderAt: isDecidable(request, now) && !request.pause ? (request.nextRemindAt ?? null) : null,
  };
}

/** BotPenguin's words quoted as theirs, the bot's as its own note; `max` characters of their text. */
export function saidLine(words: Words | null, max: number): string {
  if (!words) return '';
  return words.by === 'botpenguin'
    ? `BotPenguin said: ${quoted(words.text, max)}.`
    : `The bot's note: ${safeMrkdwn(words.text, max)}`;
}

/** The pause, on a request it holds: who paused, why, and until when DELETEs wait. */
export function pauseSentence(pause: Pause): string {
  return `Paused by ${mention(pause.by)}${pause.reason ? `: ${safeMrkdwn(pause.reason, 300)}` : ''} — DELETEs wait until an approver types \`/bp-delete resume\`.`;
}

/** When the approvers are reminded next, as a sentence. */
export const reminderSentence = (at: number) =>
  `The approvers are reminded ${slackDate(at)} if nobody decides by then.`;

/** A Deny in progress, on the request it holds. */
export function denyingSentence(hold: DenyHold): string {
  return `Being denied by ${mention(hold.by)}: approvals wait until they deny or close the form (at the latest ${slackDate(hold.until)}).`;
}

/** Sentences joined by spaces, leaving out the empty ones. */
export const sentences = (...parts: (string | null)[]) => parts.filter((p) => p).join(' ');
