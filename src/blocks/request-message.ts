// The approval message and its thread replies, as pure functions of the stored request.
import type { types } from '@slack/bolt';

type KnownBlock = types.KnownBlock;

import { ACTION_ABORT, ACTION_APPROVE, ACTION_CANCEL, ACTION_DENY } from '../constants';
import {
  type DeletionOutcome,
  type DeletionRequest,
  isAbortable,
  isDecidable,
  isWaiting,
  type RequestEvent,
} from '../requests/types';
import { fitMrkdwn, mention, plain, safeMrkdwn, safeQuote, slackDate, utcTime } from './text';

export interface RenderedMessage {
  text: string;
  blocks: KnownBlock[];
}

const SECTION_LIMIT = 3000;
const REASON_LIMIT = 2500;
/** Slack advises keeping a message's text within 4,000 characters (chat.postMessage, "Truncating content"). */
export const TEXT_LIMIT = 4000;

const code = (text: string) => `\`${safeMrkdwn(text, 200).replace(/`/g, "'")}\``;

const STATE_LINES: Record<DeletionRequest['state'], string> = {
  pending: ':hourglass_flowing_sand: Waiting for approval',
  approved: ':white_check_mark: Approved',
  executing: ':gear: Deleting now…',
  uncertain: ':warning: Outcome unknown: the customer may have been deleted',
  succeeded: ':wastebasket: Deleted',
  failed: ':x: Deletion failed',
  denied: ':no_entry: Denied, nothing was deleted',
  cancelled: ':leftwards_arrow_with_hook: Cancelled, nothing was deleted',
  expired: ':alarm_clock: Expired, nothing was deleted',
  aborted: ':octagonal_sign: Aborted before the DELETE, nothing was deleted',
};

function approvalsLine(request: DeletionRequest): string {
  const who = request.approvals.map((a) => mention(a.userId)).join(', ');
  const count = `${request.approvals.length} of ${request.approvalsRequired} approval${request.approvalsRequired === 1 ? '' : 's'}`;
  return who ? `${count}: ${who}` : count;
}

function previewLine(request: DeletionRequest): string {
  const p = request.preview;
  if (!p) return ':mag: Looking the customer up in BotPenguin…';
  if (p.status === 'unavailable') return ':grey_question: Customer preview unavailable (BotPenguin could not be asked)';
  if (p.status === 'not_found') {
    return `:grey_question: Not found in the first ${p.pagesSearched ?? 0} page(s) of BotPenguin's customer list`;
  }
  const parts = [
    `*Name:* ${safeMrkdwn(p.name ?? '—', 200)}`,
    `*Email:* ${safeMrkdwn(p.email ?? '—', 200)}`,
    `*Status:* ${safeMrkdwn(p.customerStatus ?? '—', 100)}`,
  ];
  return `:bust_in_silhouette: ${parts.join('  ·  ')}`;
}

/** Whose words an outcome's message are; outcomes stored before `said` existed tell by their kind. */
const saidBy = (o: DeletionOutcome) => o.said ?? (OWN_OUTCOME_MESSAGES.has(o.kind) ? 'bot' : 'botpenguin');

/** An outcome's message, BotPenguin's quoted as theirs, ours as the bot's own note. */
function words(o: DeletionOutcome, max: number): string {
  if (!o.message) return '';
  return saidBy(o) === 'botpenguin'
    ? `BotPenguin said: “${safeMrkdwn(o.message, max)}”`
    : `The bot's note: ${safeMrkdwn(o.message, max)}`;
}

function outcomeLine(request: DeletionRequest): string | null {
  const o = request.outcome;
  if (!o) return null;
  const said = words(o, 1000);
  const closer = request.closedBy ? mention(request.closedBy) : 'an approver';
  const note = request.closeReason ? `\n${safeQuote(request.closeReason, 1000)}` : '';
  switch (o.kind) {
    case 'uncertain':
      return `Customer ${code(request.customerId)} *may have been deleted*: BotPenguin's answer to the DELETE is unknown${o.httpStatus ? ` (last: HTTP ${o.httpStatus})` : ''}. ${said} An approver can settle it with \`/bp-delete close ${request.id} deleted|kept\`.`.replace(
        /\s+$/,
        '',
      );
    case 'still_listed':
      return `Customer ${code(request.customerId)} was not deleted: BotPenguin still lists it after a DELETE whose answer was unknown. You can ask again.`;
    case 'closed_deleted':
      return `Closed by ${closer} as deleted: the earlier DELETE's answer was unknown, and ${closer} confirmed customer ${code(request.customerId)} is gone.${note}`;
    case 'closed_kept':
      return `Closed by ${closer} as not deleted: the earlier DELETE's answer was unknown, and ${closer} confirmed customer ${code(request.customerId)} still exists.${note}`;
    case 'deleted':
      return `Customer ${code(request.customerId)} was deleted by BotPenguin${o.httpStatus ? ` (HTTP ${o.httpStatus})` : ''}.`;
    case 'already_gone':
      return `Customer ${code(request.customerId)} is already gone: BotPenguin no longer knows it (an earlier DELETE of ours went through, but its answer was lost).`;
    case 'dry_run':
      return 'DRY RUN: the request was approved, but no DELETE was sent.';
    case 'customer_changed':
    case 'daily_limit':
      return safeMrkdwn(o.message, 1000);
    default:
      return `BotPenguin did not delete ${code(request.customerId)}${o.httpStatus ? ` (HTTP ${o.httpStatus})` : ''}. ${said}`.trim();
  }
}

/** Bot-written detail with `@U123` user ids: escaped, then the ids become mentions. */
const withMentions = (text: string, max: number) =>
  safeMrkdwn(text, max).replace(/@(U[A-Z0-9]{2,30})\b/g, (_m, id: string) => mention(id));

/** "Paused by @x: reason — DELETEs wait", on the requests a pause holds (pending and approved). */
function pauseLine(request: DeletionRequest): string | null {
  const p = request.pause;
  if (!p || !isWaiting(request)) return null;
  return `:double_vertical_bar: Paused by ${mention(p.by)}${p.reason ? `: ${safeMrkdwn(p.reason, 300)}` : ''} — DELETEs wait until an approver types \`/bp-delete resume\``;
}

/** " from #channel" when a deny or cancel was typed in another channel than the request's. */
const fromWhere = (request: DeletionRequest) => (request.closedFrom ? ` from <#${request.closedFrom}>` : '');

function statusLine(request: DeletionRequest, now: number): string {
  let line = STATE_LINES[request.state];
  if (isAbortable(request, now) && request.executeAt !== null) {
    line = `:stopwatch: Approved. Deleting at ${utcTime(request.executeAt)} (${slackDate(request.executeAt, '{time_secs}')}) unless someone aborts`;
  }
  if (['denied', 'cancelled', 'aborted'].includes(request.state)) {
    if (request.closedBy) {
      const verb = request.state === 'denied' ? 'Denied' : request.state === 'cancelled' ? 'Cancelled' : 'Aborted';
      line = `${line.split(' ')[0]} ${verb} by ${mention(request.closedBy)}${fromWhere(request)}, nothing was deleted`;
    }
    if (request.closeReason) line += `\n${safeQuote(request.closeReason, 1000)}`;
  }
  const outcome = outcomeLine(request);
  if (outcome) line += `\n${outcome}`;
  const paused = pauseLine(request);
  if (paused) line += `\n${paused}`;
  if (request.finishedAt && !['pending', 'approved', 'executing'].includes(request.state)) {
    line += `\n_${slackDate(request.finishedAt)}_`;
  }
  return line;
}

/**
 * A block_id for this version of the message. Slack's Block Kit reference: "block_id should be unique for
 * each message and each iteration of a message. If a message is updated, use a new block_id." The request's
 * version goes up with every change shown, so each chat.update carries fresh ids. Nothing routes by them:
 * the action listeners match on action_id only.
 */
const blockId = (name: string, request: DeletionRequest) => `${name}.v${request.version}`;

export function renderRequestMessage(request: DeletionRequest, now: number): RenderedMessage {
  const dry = request.dryRun ? 'DRY RUN: ' : '';
  const id = (name: string) => blockId(name, request);
  const blocks: KnownBlock[] = [
    {
      type: 'header',
      block_id: id('title'),
      text: { type: 'plain_text', text: plain(`${dry}Delete a BotPenguin customer?`, 150), emoji: true },
    },
    {
      type: 'section',
      block_id: id('facts'),
      fields: [
        { type: 'mrkdwn', text: `*Customer*\n${code(request.customerId)}` },
        { type: 'mrkdwn', text: `*Requested by*\n${mention(request.requesterId)}` },
        {
          type: 'mrkdwn',
          text:
            request.state === 'pending'
              ? `*Expires*\n${slackDate(request.expiresAt)}`
              : `*Requested*\n${slackDate(request.createdAt)}`,
        },
        { type: 'mrkdwn', text: `*Approvals*\n${approvalsLine(request)}` },
      ],
    },
    {
      type: 'section',
      block_id: id('reason'),
      text: {
        type: 'mrkdwn',
        text: `*Reason*\n${request.reason ? safeQuote(request.reason, REASON_LIMIT) : '_none given_'}`,
      },
    },
    { type: 'context', block_id: id('preview'), elements: [{ type: 'mrkdwn', text: previewLine(request) }] },
    { type: 'divider', block_id: id('rule') },
    {
      type: 'section',
      block_id: id('status'),
      text: { type: 'mrkdwn', text: fitMrkdwn(`*Status:* ${statusLine(request, now)}`, SECTION_LIMIT) },
    },
  ];
  const buttons = renderButtons(request, now);
  if (buttons) blocks.push(buttons);
  blocks.push({
    type: 'context',
    block_id: id('meta'),
    elements: [
      {
        type: 'mrkdwn',
        text: `Request \`${request.id}\`${request.dryRun ? ' · *DRY RUN: nothing will be deleted*' : ''} · only an authorized approver other than the requester can approve`,
      },
    ],
  });
  return { text: renderFallbackText(request, now), blocks };
}

function renderButtons(request: DeletionRequest, now: number): KnownBlock | null {
  if (isDecidable(request, now)) {
    return {
      type: 'actions',
      block_id: blockId('decide', request),
      elements: [
        {
          type: 'button',
          action_id: ACTION_APPROVE,
          style: 'danger',
          text: { type: 'plain_text', text: request.dryRun ? 'Approve (dry run)' : 'Approve deletion', emoji: true },
          value: request.id,
          confirm: {
            title: { type: 'plain_text', text: 'Delete this customer?' },
            text: {
              type: 'mrkdwn',
              text: request.dryRun
                ? `DRY RUN: approving runs the whole flow for ${code(request.customerId)}, but nothing is deleted.`
                : `This permanently deletes BotPenguin customer ${code(request.customerId)}. It cannot be undone.`,
            },
            confirm: { type: 'plain_text', text: request.dryRun ? 'Approve (dry run)' : 'Delete' },
            deny: { type: 'plain_text', text: 'Go back' },
            style: 'danger',
          },
        },
        { type: 'button', action_id: ACTION_DENY, text: { type: 'plain_text', text: 'Deny' }, value: request.id },
        {
          type: 'button',
          action_id: ACTION_CANCEL,
          text: { type: 'plain_text', text: 'Cancel request' },
          value: request.id,
        },
      ],
    };
  }
  if (isAbortable(request, now)) {
    return {
      type: 'actions',
      block_id: blockId('abort', request),
      elements: [
        {
          type: 'button',
          action_id: ACTION_ABORT,
          style: 'primary',
          text: { type: 'plain_text', text: 'Abort deletion' },
          value: request.id,
        },
      ],
    };
  }
  return null;
}

/** Our own outcome words (not BotPenguin's): these kinds carry a message the bot wrote. */
const OWN_OUTCOME_MESSAGES = new Set(['dry_run', 'customer_changed', 'daily_limit']);

/** Quoted text from someone else (a person, BotPenguin), escaped and cut visibly. */
const quoted = (text: string, max: number) => `“${safeMrkdwn(text, max)}”`;

/**
 * The message's top-level `text`: the whole message in plain words. chat.postMessage's reference: with
 * blocks, `text` is the fallback shown in notifications, and screen readers read it instead of the blocks,
 * so it must carry all the necessary content. Mentions and date tokens render; user text is escaped.
 */
function renderFallbackText(request: DeletionRequest, now: number): string {
  const sentences = [
    `${request.dryRun ? 'DRY RUN, nothing will really be deleted. ' : ''}Request ${request.id} to delete BotPenguin customer ${safeMrkdwn(request.customerId, 200)}, asked by ${mention(request.requesterId)}.`,
    fallbackStatus(request, now),
    fallbackPause(request),
    fallbackApprovals(request, now),
    request.reason
      ? `Reason for the request: ${quoted(request.reason, 1200)}.`
      : 'No reason was given for the request.',
    fallbackPreview(request),
  ];
  return fitMrkdwn(sentences.filter((s) => s !== '').join(' '), TEXT_LIMIT);
}

function fallbackPause(request: DeletionRequest): string {
  const p = request.pause;
  if (!p || !isWaiting(request)) return '';
  return `DELETEs are paused by ${mention(p.by)}${p.reason ? `, because ${quoted(p.reason, 300)}` : ''}: no DELETE is sent until an approver resumes.`;
}

function fallbackApprovals(request: DeletionRequest, now: number): string {
  const who = request.approvals.map((a) => mention(a.userId)).join(', ');
  const needed = `${request.approvals.length} of ${request.approvalsRequired} approval${request.approvalsRequired === 1 ? '' : 's'}`;
  const left = request.approvalsRequired - request.approvals.length;
  const more =
    isDecidable(request, now) && left > 0
      ? ` It needs ${left} more, from an authorized approver other than the requester.`
      : '';
  return `Approvals so far: ${needed}${who ? `, by ${who}` : ''}.${more}`;
}

function fallbackStatus(request: DeletionRequest, now: number): string {
  const by = request.closedBy ? ` by ${mention(request.closedBy)}${fromWhere(request)}` : '';
  const verb = request.state === 'denied' ? 'denied' : request.state === 'cancelled' ? 'cancelled' : 'aborted';
  const why = request.closeReason ? ` Why it was ${verb}: ${quoted(request.closeReason, 600)}.` : '';
  const finished = request.finishedAt ? ` (${slackDate(request.finishedAt)})` : '';
  switch (request.state) {
    case 'pending':
      return isDecidable(request, now)
        ? `Status: Waiting for approval. It expires ${slackDate(request.expiresAt)}; approvers can use the Approve or Deny button, and the requester can withdraw it with Cancel request.`
        : `Status: Expired. Its time ran out ${slackDate(request.expiresAt)}, so it can no longer be approved. Nothing was deleted.`;
    case 'approved':
      return isAbortable(request, now) && request.executeAt !== null
        ? `Status: Approved. The DELETE is sent to BotPenguin at ${utcTime(request.executeAt)} (${slackDate(request.executeAt, '{time_secs}')}) unless someone aborts it first: the requester or an approver can press the Abort deletion button on this message until then.`
        : 'Status: Approved. The DELETE is about to be sent to BotPenguin.';
    case 'executing':
      return 'Status: Approved. Deleting now: the DELETE is being sent to BotPenguin.';
    case 'uncertain':
      return `Status: Outcome unknown. ${fallbackOutcome(request)}`;
    case 'succeeded':
    case 'failed':
      return `Status: ${fallbackOutcome(request)}${request.finishedAt ? ` Finished ${slackDate(request.finishedAt)}.` : ''}`;
    case 'denied':
      return `Status: Denied${by}${finished}. Nothing was deleted.${why}`;
    case 'cancelled':
      return `Status: Cancelled${by}${finished}. Nothing was deleted.${why}`;
    case 'expired':
      return `Status: Expired without enough approvals${finished}. Nothing was deleted.`;
    case 'aborted':
      return `Status: Aborted${by} before the DELETE was sent${finished}. Nothing was deleted.${why}`;
  }
}

/** What BotPenguin did, in our words, then what BotPenguin said, quoted and kept apart. */
function fallbackOutcome(request: DeletionRequest): string {
  const o = request.outcome;
  const customer = safeMrkdwn(request.customerId, 200);
  if (!o) return request.state === 'succeeded' ? 'Deleted.' : 'Deletion failed.';
  const http = o.httpStatus ? ` (HTTP ${o.httpStatus})` : '';
  if (OWN_OUTCOME_MESSAGES.has(o.kind)) {
    const ours = o.kind === 'dry_run' ? 'DRY RUN finished: the request was approved, but no DELETE was sent.' : '';
    return `${request.state === 'succeeded' ? '' : 'Not deleted. '}${ours || safeMrkdwn(o.message, 600)}`;
  }
  const said = !o.message
    ? ''
    : saidBy(o) === 'botpenguin'
      ? ` BotPenguin said: ${quoted(o.message, 600)}.`
      : ` The bot's note: ${safeMrkdwn(o.message, 600)}`;
  const closer = request.closedBy ? mention(request.closedBy) : 'an approver';
  const note = request.closeReason ? ` Their note: ${quoted(request.closeReason, 600)}.` : '';
  switch (o.kind) {
    case 'uncertain':
      return `Customer ${customer} may have been deleted: BotPenguin's answer to the DELETE is unknown${http}.${said} An approver can settle it with /bp-delete close ${request.id} deleted or kept.`;
    case 'still_listed':
      return `Not deleted. BotPenguin still lists customer ${customer} after a DELETE whose answer was unknown, so it was not deleted; you can ask again.`;
    case 'closed_deleted':
      return `Deleted, as ${closer} confirmed: the DELETE's answer was unknown, and ${closer} closed the request as deleted.${note}`;
    case 'closed_kept':
      return `Not deleted, as ${closer} confirmed: the DELETE's answer was unknown, and ${closer} closed the request as kept.${note}`;
    case 'deleted':
      return `Deleted. BotPenguin deleted customer ${customer}${http}.${said}`;
    case 'already_gone':
      return `Deleted. Customer ${customer} is already gone: BotPenguin no longer knows it (an earlier DELETE went through, but its answer was lost).${said}`;
    default:
      return `Deletion failed. BotPenguin did not delete customer ${customer}${http}.${said}`;
  }
}

function fallbackPreview(request: DeletionRequest): string {
  const p = request.preview;
  if (!p) return '';
  if (p.status === 'unavailable') return 'BotPenguin could not be asked for a preview of this customer.';
  if (p.status === 'not_found') {
    return `BotPenguin did not list this customer in the first ${p.pagesSearched ?? 0} page(s) of its customers.`;
  }
  return `BotPenguin lists this customer as name ${quoted(p.name ?? '—', 150)}, email ${quoted(p.email ?? '—', 150)}, status ${quoted(p.customerStatus ?? '—', 60)}.`;
}

/** One line in the message's thread per event: the audit trail. */
export function renderThreadReply(event: RequestEvent, request: DeletionRequest): string {
  return fitMrkdwn(threadReply(event, request), TEXT_LIMIT);
}

function threadReply(event: RequestEvent, request: DeletionRequest): string {
  const dry = request.dryRun ? '[DRY RUN] ' : '';
  const who = event.actorId ? mention(event.actorId) : 'The bot';
  const detail = event.detail ? `\n${safeQuote(event.detail, 2000)}` : '';
  switch (event.kind) {
    case 'requested':
      return `${dry}:inbox_tray: ${who} asked to delete customer ${code(request.customerId)} (request \`${request.id}\`).${detail}`;
    case 'approved':
      return `${dry}:white_check_mark: ${who} approved (${safeMrkdwn(event.detail ?? '', 40)}).`;
    case 'executing':
      return `${dry}:gear: Sending the DELETE to BotPenguin.`;
    case 'deleted':
      return request.outcome?.kind === 'dry_run'
        ? `${dry}:test_tube: DRY RUN finished: no DELETE was sent for ${code(request.customerId)}. ${mention(request.requesterId)}`
        : `${dry}:wastebasket: ${outcomeLine(request) ?? 'Deleted.'} ${mention(request.requesterId)}`;
    case 'failed':
      return `${dry}:x: ${outcomeLine(request) ?? 'The deletion failed.'} ${mention(request.requesterId)}`;
    case 'uncertain':
      // Said as it was then: by the time the reply is posted, a settle check may have decided it.
      return `${dry}:warning: BotPenguin's answer to the DELETE of ${code(request.customerId)} is unknown: the customer *may have been deleted*. The bot looks it up again; an approver can settle it with \`/bp-delete close ${request.id} deleted|kept\`. ${mention(request.requesterId)}`;
    case 'denied':
      return `${dry}:no_entry: ${who} denied the request${fromWhere(request)}; nothing was deleted. ${mention(request.requesterId)}${detail}`;
    case 'cancelled':
      return `${dry}:leftwards_arrow_with_hook: ${who} cancelled the request${event.actorId ? fromWhere(request) : ''}; nothing was deleted.`;
    case 'expired':
      return event.detail
        ? `${dry}:alarm_clock: ${withMentions(event.detail, 1000)} ${mention(request.requesterId)}`
        : `${dry}:alarm_clock: The request expired without enough approvals; nothing was deleted. ${mention(request.requesterId)}`;
    case 'aborted':
      return `${dry}:octagonal_sign: ${who} aborted the deletion before it was sent; nothing was deleted. ${mention(request.requesterId)}`;
    case 'reopened':
      return `${dry}:leftwards_arrow_with_hook: ${withMentions(event.detail ?? 'Back to waiting for approval.', 1000)} ${mention(request.requesterId)}`;
    case 'policy':
      return `${dry}:scales: ${withMentions(event.detail ?? 'Stricter settings now apply to this request.', 1000)}`;
    case 'paused':
      return `${dry}:double_vertical_bar: ${who} paused every DELETE; this request's DELETE waits until an approver resumes.${detail}`;
    case 'resumed':
      return `${dry}:arrow_forward: ${who} resumed DELETEs; this request goes on.`;
  }
}
