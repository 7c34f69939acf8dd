// A person's Home tab, as a pure function of what the rules list for them: the requests waiting for their
// approval (with Approve and Deny), their own requests in the words of describe.ts, and the pause.
import type { types } from '@slack/bolt';
import { ACTION_APPROVE, ACTION_DENY, homeActionId } from '../constants';
import type { HomeQueue } from '../requests/home';
import type { DeletionRequest } from '../requests/types';
import { describeRequest, pauseSentence, stateWord } from './describe';
import { code, fitMrkdwn, mention, safeMrkdwn, slackDate, ticketLink } from './text';

type KnownBlock = types.KnownBlock;

/** Slack's limit for a Home tab (docs: "Reference: views": up to 100 blocks). */
export const HOME_BLOCK_LIMIT = 100;
/** Two blocks each (the request and its buttons). */
export const MAX_WAITING_SHOWN = 30;
/** One block each. */
export const MAX_MINE_SHOWN = 25;
const REASON_LIMIT = 300;
const SECTION_LIMIT = 3000;

/** A ticket, once requests carry one (issue 17, item 3): shown when present. */

export function renderHomeView(queue: HomeQueue, now: number, notice: string | null = null): types.HomeView {
  const blocks: KnownBlock[] = [
    { type: 'header', block_id: 'title', text: { type: 'plain_text', text: 'BotPenguin customer deletions' } },
    { type: 'context', block_id: 'pause', elements: [{ type: 'mrkdwn', text: pauseLine(queue) }] },
  ];
  if (notice) {
    blocks.push({ type: 'section', block_id: 'notice', text: { type: 'mrkdwn', text: fitMrkdwn(notice, 3000) } });
  }
  blocks.push(header('waiting', 'Waiting for your approval'), ...waitingBlocks(queue, now));
  blocks.push({ type: 'divider', block_id: 'rule' }, header('mine', 'Your requests'), ...mineBlocks(queue, now));
  blocks.push({
    type: 'context',
    block_id: 'updated',
    elements: [{ type: 'mrkdwn', text: `Updated ${slackDate(now)}` }],
  });
  return { type: 'home', blocks };
}

const header = (id: string, text: string): KnownBlock => ({
  type: 'header',
  block_id: id,
  text: { type: 'plain_text', text },
});

const note = (id: string, text: string): KnownBlock => ({
  type: 'context',
  block_id: id,
  elements: [{ type: 'mrkdwn', text }],
});

function pauseLine(queue: HomeQueue): string {
  return queue.pause
    ? `:double_vertical_bar: *Deletions are paused.* ${pauseSentence(queue.pause)}`
    : ':arrow_forward: Deletions are not paused.';
}

/** "and N more", or "and at least N more" when the list read stopped at its limit. */
function more(total: number, shown: number, readAll: boolean, where: string): string | null {
  if (total <= shown) return null;
  return `…and ${readAll ? '' : 'at least '}${total - shown} more ${where}.`;
}

function waitingBlocks(queue: HomeQueue, now: number): KnownBlock[] {
  if (queue.approver === 'not_member')
    return [note('waiting-none', 'You are not an approver, so nothing waits for you.')];
  if (queue.approver === 'unknown') {
    return [
      note(
        'waiting-none',
        ':warning: Slack could not tell whether you are an approver right now; open this tab again in a moment.',
      ),
    ];
  }
  if (queue.waiting.length === 0) return [note('waiting-none', 'Nothing waits for your approval.')];
  const shown = queue.waiting.slice(0, MAX_WAITING_SHOWN);
  const blocks = shown.flatMap((request) => waitingRequest(request, now));
  const rest = more(
    queue.waiting.length,
    shown.length,
    queue.readAll.waiting,
    'in the channels (`/bp-delete list` there)',
  );
  if (rest) blocks.push(note('waiting-more', rest));
  return blocks;
}

function waitingRequest(request: DeletionRequest, now: number): KnownBlock[] {
  const d = describeRequest(request, now);
  const lines = [
    `*${request.dryRun ? 'DRY RUN: ' : ''}Delete customer ${code(request.customerId)}?*${ticketPart(request)}`,
    `Asked by ${mention(request.requesterId)} in <#${request.channelId}> · expires ${slackDate(request.expiresAt)} · ${request.approvals.length} of ${request.approvalsRequired} approvals`,
    request.reason ? `>${safeMrkdwn(request.reason, REASON_LIMIT).replace(/\n/g, '\n>')}` : '_No reason given_',
    d.pause ? `:double_vertical_bar: ${pauseSentence(d.pause)}` : '',
  ];
  return [
    {
      type: 'section',
      block_id: `waiting.${request.id}`,
      text: { type: 'mrkdwn', text: fitMrkdwn(lines.filter((l) => l).join('\n'), SECTION_LIMIT) },
    },
    {
      type: 'actions',
      block_id: `decide.${request.id}`,
      elements: [
        {
          type: 'button',
          action_id: homeActionId(ACTION_APPROVE, request.id),
          style: 'danger',
          text: { type: 'plain_text', text: request.dryRun ? 'Approve (dry run)' : 'Approve deletion' },
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
        {
          type: 'button',
          action_id: homeActionId(ACTION_DENY, request.id),
          text: { type: 'plain_text', text: 'Deny' },
          value: request.id,
        },
      ],
    },
  ];
}

function mineBlocks(queue: HomeQueue, now: number): KnownBlock[] {
  if (queue.mine.length === 0) return [note('mine-none', 'You have asked for no deletions yet.')];
  const shown = queue.mine.slice(0, MAX_MINE_SHOWN);
  const blocks: KnownBlock[] = shown.map((request) => {
    const d = describeRequest(request, now);
    const text = [
      `${d.tone} *${d.headline}*${d.nothingDeleted ? ', nothing was deleted' : ''} · customer ${code(request.customerId)}${ticketPart(request)}`,
      `Request \`${request.id}\` in <#${request.channelId}> · asked ${slackDate(request.createdAt)}${request.dryRun ? ' · DRY RUN' : ''}`,
    ].join('\n');
    return {
      type: 'section',
      block_id: `mine.${request.id}`,
      text: { type: 'mrkdwn', text: fitMrkdwn(text, SECTION_LIMIT) },
    };
  });
  const rest = more(queue.mine.length, shown.length, queue.readAll.mine, 'older ones');
  if (rest) blocks.push(note('mine-more', rest));
  return blocks;
}

/** " · ticket ABC-1" (a link when the request has its URL, as everywhere else), or nothing. */
function ticketPart(request: DeletionRequest): string {
  const ticket = ticketLink(request);
  return ticket ? ` · ticket ${ticket}` : '';
}

/** The answer to a click on the Home tab that the rules accepted. */
export function renderDoneOnHome(request: DeletionRequest): string {
  const which = `request \`${request.id}\` to delete customer ${code(request.customerId)}`;
  const where = `its message in <#${request.channelId}> says more`;
  if (request.state === 'pending') {
    return `:white_check_mark: Your approval of ${which} is recorded: ${request.approvals.length} of ${request.approvalsRequired} so far (${where}).`;
  }
  return `:white_check_mark: Done: ${which} is now ${stateWord(request)} (${where}).`;
}
