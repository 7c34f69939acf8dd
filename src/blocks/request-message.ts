// The approval message and its thread replies, as pure functions of the stored request.
import type { types } from '@slack/bolt';

type KnownBlock = types.KnownBlock;

import { ACTION_ABORT, ACTION_APPROVE, ACTION_CANCEL, ACTION_DENY } from '../constants';
import { type DeletionRequest, isAbortable, isDecidable, type RequestEvent } from '../requests/types';
import { mention, plain, safeMrkdwn, safeQuote, slackDate, utcTime } from './text';

export interface RenderedMessage {
  text: string;
  blocks: KnownBlock[];
}

const SECTION_LIMIT = 3000;
const REASON_LIMIT = 2500;

const code = (text: string) => `\`${safeMrkdwn(text, 200).replace(/`/g, "'")}\``;

const STATE_LINES: Record<DeletionRequest['state'], string> = {
  pending: ':hourglass_flowing_sand: Waiting for approval',
  approved: ':white_check_mark: Approved',
  executing: ':gear: Deleting now…',
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

export function outcomeLine(request: DeletionRequest): string | null {
  const o = request.outcome;
  if (!o) return null;
  const said = o.message ? `BotPenguin said: “${safeMrkdwn(o.message, 1000)}”` : '';
  switch (o.kind) {
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
      return `BotPenguin did not delete ${code(request.customerId)}${o.httpStatus ? ` (HTTP ${o.httpStatus})` : ''}. ${said || safeMrkdwn(o.message, 1000)}`.trim();
  }
}

function statusLine(request: DeletionRequest, now: number): string {
  let line = STATE_LINES[request.state];
  if (isAbortable(request, now) && request.executeAt !== null) {
    line = `:stopwatch: Approved. Deleting at ${utcTime(request.executeAt)} (${slackDate(request.executeAt, '{time_secs}')}) unless someone aborts`;
  }
  if (['denied', 'cancelled', 'aborted'].includes(request.state)) {
    if (request.closedBy) {
      const verb = request.state === 'denied' ? 'Denied' : request.state === 'cancelled' ? 'Cancelled' : 'Aborted';
      line = `${line.split(' ')[0]} ${verb} by ${mention(request.closedBy)}, nothing was deleted`;
    }
    if (request.closeReason) line += `\n${safeQuote(request.closeReason, 1000)}`;
  }
  const outcome = outcomeLine(request);
  if (outcome) line += `\n${outcome}`;
  if (request.finishedAt && !['pending', 'approved', 'executing'].includes(request.state)) {
    line += `\n_${slackDate(request.finishedAt)}_`;
  }
  return line;
}

export function renderRequestMessage(request: DeletionRequest, now: number): RenderedMessage {
  const dry = request.dryRun ? 'DRY RUN: ' : '';
  const blocks: KnownBlock[] = [
    {
      type: 'header',
      block_id: 'title',
      text: { type: 'plain_text', text: plain(`${dry}Delete a BotPenguin customer?`, 150), emoji: true },
    },
    {
      type: 'section',
      block_id: 'facts',
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
      block_id: 'reason',
      text: {
        type: 'mrkdwn',
        text: `*Reason*\n${request.reason ? safeQuote(request.reason, REASON_LIMIT) : '_none given_'}`,
      },
    },
    { type: 'context', block_id: 'preview', elements: [{ type: 'mrkdwn', text: previewLine(request) }] },
    { type: 'divider', block_id: 'rule' },
    {
      type: 'section',
      block_id: 'status',
      text: { type: 'mrkdwn', text: truncateMrkdwn(`*Status:* ${statusLine(request, now)}`) },
    },
  ];
  const buttons = renderButtons(request, now);
  if (buttons) blocks.push(buttons);
  blocks.push({
    type: 'context',
    block_id: 'meta',
    elements: [
      {
        type: 'mrkdwn',
        text: `Request \`${request.id}\`${request.dryRun ? ' · *DRY RUN: nothing will be deleted*' : ''} · only an authorized approver other than the requester can approve`,
      },
    ],
  });
  const text = `${dry}Deletion of BotPenguin customer ${safeMrkdwn(request.customerId, 200)} requested by ${mention(request.requesterId)}: ${STATE_LINES[request.state].replace(/^:[a-z_]+: /, '')}`;
  return { text, blocks };
}

function truncateMrkdwn(text: string): string {
  return text.length <= SECTION_LIMIT ? text : `${text.slice(0, SECTION_LIMIT - 1)}…`;
}

function renderButtons(request: DeletionRequest, now: number): KnownBlock | null {
  if (isDecidable(request, now)) {
    return {
      type: 'actions',
      block_id: 'decide',
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
      block_id: 'abort',
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

/** One line in the message's thread per event: the audit trail. */
export function renderThreadReply(event: RequestEvent, request: DeletionRequest): string {
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
    case 'denied':
      return `${dry}:no_entry: ${who} denied the request; nothing was deleted. ${mention(request.requesterId)}${detail}`;
    case 'cancelled':
      return `${dry}:leftwards_arrow_with_hook: ${who} cancelled the request; nothing was deleted.`;
    case 'expired':
      return `${dry}:alarm_clock: The request expired without enough approvals; nothing was deleted. ${mention(request.requesterId)}`;
    case 'aborted':
      return `${dry}:octagonal_sign: ${who} aborted the deletion before it was sent; nothing was deleted. ${mention(request.requesterId)}`;
  }
}
