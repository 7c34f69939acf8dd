// The approval message's blocks, as a pure function of the stored request and its description.
import type { types } from '@slack/bolt';

type KnownBlock = types.KnownBlock;

import { ACTION_ABORT, ACTION_APPROVE, ACTION_CANCEL, ACTION_DENY } from '../constants';
import { type DeletionRequest, isAbortable, isDecidable } from '../requests/types';
import {
  type Description,
  denyingSentence,
  describeRequest,
  pauseSentence,
  reminderSentence,
  saidLine,
  sentences,
} from './describe';
import { renderFallbackText } from './fallback-text';
import { code, fitMrkdwn, mention, plain, safeMrkdwn, safeQuote, slackDate, ticketLink } from './text';

export interface RenderedMessage {
  text: string;
  blocks: KnownBlock[];
}

const SECTION_LIMIT = 3000;
const REASON_LIMIT = 2500;

function approvalsLine(request: DeletionRequest): string {
  const who = request.approvals.map((a) => mention(a.userId)).join(', ');
  const count = `${request.approvals.length} of ${request.approvalsRequired} approval${request.approvalsRequired === 1 ? '' : 's'}`;
  return who ? `${count}: ${who}` : count;
}

/** Said once the name and email are gone: before the DELETE is sent, or when the request ended without one. */
const ERASED_LINE =
  ':lock: The customer’s name and email are no longer kept (they were shown while the request waited)';

function previewLine(request: DeletionRequest): string {
  const p = request.preview;
  if (!p) return ':mag: Looking the customer up in BotPenguin…';
  if (p.status === 'unavailable') return ':grey_question: Customer preview unavailable (BotPenguin could not be asked)';
  if (p.status === 'not_found') {
    return `:grey_question: Not found in the first ${p.pagesSearched ?? 0} page(s) of BotPenguin's customer list`;
  }
  if (p.status === 'erased') return ERASED_LINE;
  const parts = [
    `*Name:* ${safeMrkdwn(p.name ?? '—', 200)}`,
    `*Email:* ${safeMrkdwn(p.email ?? '—', 200)}`,
    `*Status:* ${safeMrkdwn(p.customerStatus ?? '—', 100)}`,
  ];
  return `:bust_in_silhouette: ${parts.join('  ·  ')}`;
}

/**
 * The status section: the description's headline, what happened, whose words, the pause and the end. What
 * people can still do is left to the buttons when there are some.
 */
function statusLine(d: Description, hasButtons: boolean): string {
  const lines = [
    `${d.tone} ${d.headline}${d.nothingDeleted ? ', nothing was deleted' : ''}`,
    sentences(d.detail, saidLine(d.words, 1000), hasButtons ? null : d.next),
    d.why ? safeQuote(d.why.text, 1000) : '',
    d.pause ? `:double_vertical_bar: ${pauseSentence(d.pause)}` : '',
    d.nextReminderAt !== null ? `:bell: ${reminderSentence(d.nextReminderAt)}` : '',
    d.denying ? `:hourglass_flowing_sand: ${denyingSentence(d.denying)}` : '',
    d.finishedAt ? `_${slackDate(d.finishedAt)}_` : '',
  ];
  return lines.filter((l) => l !== '').join('\n');
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
  const description = describeRequest(request, now);
  const buttons = renderButtons(request, now);
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
        ...ticketField(request),
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
      text: {
        type: 'mrkdwn',
        text: fitMrkdwn(`*Status:* ${statusLine(description, buttons !== null)}`, SECTION_LIMIT),
      },
    },
  ];
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
  return { text: renderFallbackText(request, description), blocks };
}

function ticketField(request: DeletionRequest): { type: 'mrkdwn'; text: string }[] {
  const ticket = ticketLink(request);
  return ticket ? [{ type: 'mrkdwn', text: `*Ticket*\n${ticket}` }] : [];
}

function approveButton(request: DeletionRequest) {
  return {
    type: 'button' as const,
    action_id: ACTION_APPROVE,
    style: 'danger' as const,
    text: { type: 'plain_text' as const, text: request.dryRun ? 'Approve (dry run)' : 'Approve deletion', emoji: true },
    value: request.id,
    confirm: {
      title: { type: 'plain_text' as const, text: 'Delete this customer?' },
      text: {
        type: 'mrkdwn' as const,
        text: request.dryRun
          ? `DRY RUN: approving runs the whole flow for ${code(request.customerId)}, but nothing is deleted.`
          : `This permanently deletes BotPenguin customer ${code(request.customerId)}. It cannot be undone.`,
      },
      confirm: { type: 'plain_text' as const, text: request.dryRun ? 'Approve (dry run)' : 'Delete' },
      deny: { type: 'plain_text' as const, text: 'Go back' },
      style: 'danger' as const,
    },
  };
}

function renderButtons(request: DeletionRequest, now: number): KnownBlock | null {
  if (isDecidable(request, now)) {
    return {
      type: 'actions',
      block_id: blockId('decide', request),
      elements: [
        approveButton(request),
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
