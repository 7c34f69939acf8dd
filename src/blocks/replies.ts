// The words of every ephemeral answer: refusals, help, status and list.
import type { Policy } from '../config';
import { formatDuration } from '../duration';
import type { Refusal } from '../requests/refusals';
import type { DeletionRequest, Pause, RequestEvent } from '../requests/types';
import { describeOutcome, stateWord } from './describe';
import { fitLines, mention, safeMrkdwn, slackDate, ticketLink } from './text';
import { renderThreadReply } from './thread-replies';

const link = (url: string | null, label: string) => (url ? `<${url}|${label}>` : label);

export function renderRefusal(refusal: Refusal, permalink: string | null = null): string {
  switch (refusal.kind) {
    case 'unknown_request':
      return ':warning: That request no longer exists (or never did). Nothing was changed.';
    case 'wrong_place':
      return ':warning: That button does not belong to a request of this channel. Nothing was changed.';
    case 'channel_not_allowed':
      return `:no_entry_sign: \`/bp-delete\` can't be used in this channel. It works in: ${refusal.allowedChannelIds.map((c) => `<#${c}>`).join(', ')}.`;
    case 'invalid_customer_id':
      return `:warning: \`${safeMrkdwn(refusal.given, 80).replace(/`/g, "'")}\` is not a BotPenguin customer id (it must match \`${safeMrkdwn(refusal.pattern, 100)}\`). Nothing was posted.\nUsage: \`/bp-delete &lt;customer_id&gt; [reason]\`, or \`/bp-delete help\`.`;
    case 'reason_required':
      return ':warning: A reason is required: say why this customer should be deleted. Nothing was posted.\nUsage: `/bp-delete &lt;customer_id&gt; &lt;reason&gt;`.';
    case 'ticket_required':
      return ticketRequired(refusal.pattern, refusal.example);
    case 'requester_not_allowed':
      return ':no_entry_sign: You are not allowed to ask for customer deletions. Ask one of the people listed in the bot’s requester settings.';
    case 'directory_unavailable':
      return ':warning: Slack could not tell me who is in the allowed user groups right now, so I refused to be safe. Please try again in a minute.';
    case 'too_many_pending':
      return `:no_entry_sign: You already have ${refusal.max} open deletion requests. Wait for them to be decided, or cancel one, before asking again.`;
    case 'already_open':
      return `:information_source: Customer \`${safeMrkdwn(refusal.existing.customerId, 80)}\` already has an open request (\`${refusal.existing.id}\`, ${stateWord(refusal.existing)}, asked by ${mention(refusal.existing.requesterId)}): ${link(permalink, 'see the request')}.`;
    case 'already_open_elsewhere':
      return `:information_source: Customer \`${safeMrkdwn(refusal.customerId, 80)}\` already has an open request, \`${refusal.requestId}\`, in another channel, so no new one was made. An authorized approver can end it from here with \`/bp-delete deny ${refusal.requestId} [reason]\`, then ask again.`;
    case 'needs_request_id':
      return `:warning: Usage: \`/bp-delete ${refusal.subcommand} &lt;request-id&gt;${refusal.subcommand === 'deny' ? ' [reason]' : ''}\` (the id looks like \`R7K2M9QXAB\`).`;
    case 'only_requester_or_approver_cancels':
      return ':no_entry_sign: Only the person who asked, or an authorized approver, can cancel this request. Nothing was changed.';
    case 'self_approval':
      return ':no_entry_sign: You can’t approve your own request: a second person has to.';
    case 'not_approver':
      return ':no_entry_sign: You are not an authorized approver for customer deletions, so nothing was changed.';
    case 'being_denied':
      return `:hourglass_flowing_sand: This request is being denied by ${mention(refusal.by)} (their Deny is open), so your click was not recorded. If they close it without denying, you can approve then.`;
    case 'already_approved':
      return ':information_source: You have already approved this request; another approver is needed.';
    case 'decided':
      return `:information_source: This request is already ${stateWord(refusal.request)}. Nothing was changed.`;
    case 'expired':
      return ':alarm_clock: This request has expired, so it can no longer be approved or denied. Ask again with `/bp-delete` if it is still needed.';
    case 'only_requester_cancels':
      return ':no_entry_sign: Only the person who asked can cancel this request. Approvers can Deny it instead.';
    case 'not_abortable':
      return `:information_source: This deletion can no longer be aborted (it is ${stateWord(refusal.request)}).`;
    case 'not_allowed_to_abort':
      return ':no_entry_sign: Only the requester or an authorized approver can abort this deletion.';
    case 'daily_limit':
      return `:no_entry_sign: The daily limit of ${refusal.max} deletions has been reached. Approvals are refused until ${slackDate(refusal.resetsAt)} (00:00 UTC).`;
    case 'status_elsewhere':
      return `:information_source: That request belongs to <#${refusal.channelId}>; ask for its status there.`;
    case 'status_needs_target':
      return ':warning: Usage: `/bp-delete status &lt;request-id|customer-id&gt;`.';
    case 'close_usage':
      return ':warning: Usage: `/bp-delete close &lt;request-id&gt; deleted|kept [note]`: for a request whose outcome is uncertain, say whether BotPenguin still has the customer (`kept`) or not (`deleted`).';
    case 'not_uncertain':
      return `:information_source: Request \`${refusal.request.id}\` is ${stateWord(refusal.request)}, not uncertain, so there is nothing to close. Nothing was changed.`;
    case 'status_not_found':
      return `:grey_question: No request found for \`${safeMrkdwn(refusal.target, 80).replace(/`/g, "'")}\`.`;
  }
}

/** Inline code of the person's or operator's text: escaped, and no backtick can end the code span. */
const inlineCode = (text: string, max: number) => `\`${safeMrkdwn(text, max).replace(/`/g, "'")}\``;

/** TICKET_PATTERN found nothing in the reason: what is expected, with the operator's example if there is one. */
function ticketRequired(pattern: string, example: string | null): string {
  const like = example ? `, like ${inlineCode(example, 100)}` : '';
  const usage = `/bp-delete &lt;customer_id&gt; ${example ? safeMrkdwn(example, 100).replace(/`/g, "'") : '&lt;ticket&gt;'} [reason]`;
  return `:warning: The reason must name the request's ticket${like} (text matching ${inlineCode(pattern, 200)}). Nothing was posted.\nUsage: \`${usage}\`.`;
}

/** Why a request was withdrawn when Slack refused its message for good, and what to do about it. */
export function cannotPostReason(slackError: string): string {
  const hint =
    slackError === 'not_in_channel' || slackError === 'channel_not_found'
      ? 'Invite the bot to this channel (`/invite @bp-delete`) and ask again.'
      : slackError === 'messages_tab_disabled'
        ? 'This is the app’s direct message, where it can’t write: ask again in a channel where the bot is.'
        : slackError === 'msg_too_long' || slackError.startsWith('invalid_blocks') || slackError === 'no_text'
          ? 'Slack refused the message itself (too long, or not in a form it takes): ask again with a shorter reason, and tell the bot’s operators if it happens again.'
          : 'Ask again in a channel where the bot can post.';
  return `The approval message could not be posted in this channel (Slack said \`${safeMrkdwn(slackError, 60)}\`), so the request was withdrawn and nothing will be deleted. ${hint}`;
}

/** The pause as one line: on `help`, and in the pause answers. */
function renderPause(pause: Pause): string {
  return `:double_vertical_bar: *DELETEs are paused* by ${mention(pause.by)}${pause.reason ? `: ${safeMrkdwn(pause.reason, 300)}` : ''} (${slackDate(pause.at)}) — DELETEs wait; approvals are still recorded. An approver resumes them with \`/bp-delete resume\`.`;
}

/** What the channel where `pause` or `resume` was typed is told (a message everyone there sees). */
export function renderPauseAnnouncement(change: { paused: boolean; by: string; reason: string | null }): string {
  return change.paused
    ? `:double_vertical_bar: ${mention(change.by)} paused every DELETE of \`/bp-delete\`${change.reason ? `: ${safeMrkdwn(change.reason, 300)}` : ''}. Approvals are still recorded; no customer is deleted until an approver types \`/bp-delete resume\`.`
    : `:arrow_forward: ${mention(change.by)} resumed the DELETEs of \`/bp-delete\`: approved requests that are due go ahead now.`;
}

export function renderPauseAnswer(
  paused: boolean,
  changed: boolean,
  pause: Pause | null,
  inFlight: readonly string[] = [],
): string {
  if (paused) {
    return changed
      ? `:double_vertical_bar: Every DELETE is paused, on every instance. This channel was told; the open requests say so. ${inFlightSentence(inFlight)}`
      : `:information_source: DELETEs were already paused. ${pause ? renderPause(pause) : ''}`.trim();
  }
  return changed
    ? ':arrow_forward: DELETEs are resumed: approved requests that are due go ahead now. This channel was told.'
    : ':information_source: DELETEs were not paused; nothing changed.';
}

/** What became of the DELETEs under way when the pause came: held before their next attempt. */
function inFlightSentence(ids: readonly string[]): string {
  if (ids.length === 0) return 'No DELETE was under way.';
  const which = ids.map((id) => `\`${id}\``).join(', ');
  const count = ids.length === 1 ? '1 DELETE was' : `${ids.length} DELETEs were`;
  return `${count} under way (${which}): no further attempt of ${ids.length === 1 ? 'it' : 'theirs'} is sent, though one already on its way to BotPenguin can't be called back. If nothing can have reached BotPenguin, it waits for resume; if something may have, it is marked outcome unknown and the bot looks the customer up again. Its message says which.`;
}

/** `/bp-delete deny|cancel|abort <id>` done: no channel named, since the request's may be private. */
export function renderClosedByCommand(request: DeletionRequest): string {
  return `:white_check_mark: Request \`${request.id}\` (customer \`${safeMrkdwn(request.customerId, 80)}\`) is ${stateWord(request)}; nothing will be deleted. Its message and thread say who did it and from where.`;
}

export function renderHelp(settings: Policy, pause: Pause | null = null): string {
  const approvers = [
    ...settings.approverUserIds.map(mention),
    ...settings.approverUsergroupIds.map((g) => `<!subteam^${g}>`),
  ].join(', ');
  const lines = [
    '*`/bp-delete` deletes a BotPenguin customer, but only after a second person approves.*',
    '• `/bp-delete &lt;customer_id&gt; [reason]`: ask for a deletion; an approval message is posted here.',
    '• `/bp-delete status &lt;request-id|customer-id&gt;`: the state and history of a request.',
    '• `/bp-delete list`: the open requests in this channel.',
    '• `/bp-delete deny &lt;request-id&gt; [reason]`: an approver denies a request, from any channel.',
    '• `/bp-delete cancel &lt;request-id&gt;`: the requester or an approver cancels a request, from any channel.',
    '• `/bp-delete abort &lt;request-id&gt;`: the requester or an approver stops an approved DELETE while its delay runs, from any channel.',
    '• `/bp-delete pause [reason]`, `/bp-delete resume`: an approver stops or restarts every DELETE (approvals are still recorded).',
    '• `/bp-delete close &lt;request-id&gt; deleted|kept [note]`: approvers settle a request whose outcome is uncertain.',
    '• `/bp-delete help`: this text.',
    '',
    `*Approvers:* ${approvers || 'none configured'} (never the requester)`,
    `*Approvals needed:* ${settings.approvalsRequired}`,
    `*Requests expire after:* ${formatDuration(settings.requestTtlMs)}`,
  ];
  if (settings.executionDelayMs > 0) {
    lines.push(`*Delay before the DELETE:* ${formatDuration(settings.executionDelayMs)} (it can be aborted meanwhile)`);
  }
  if (settings.ticket) {
    const like = settings.ticket.example ? `, like ${inlineCode(settings.ticket.example, 100)}` : '';
    lines.push(`*Ticket:* the reason must name the request's ticket${like}`);
  } else if (settings.reasonRequired) {
    lines.push('*Reason:* required');
  }
  if (settings.dryRun) lines.push('*DRY RUN is on:* nothing is really deleted.');
  if (pause) lines.push(renderPause(pause));
  return lines.join('\n');
}

/** `/bp-delete close <id> deleted|kept` done: the request now ends as its outcome says. */
export function renderClosed(request: DeletionRequest): string {
  const how = request.outcome ? describeOutcome(request, request.outcome).headline.toLowerCase() : stateWord(request);
  return `:white_check_mark: Request \`${request.id}\` (customer \`${safeMrkdwn(request.customerId, 80)}\`) is closed as ${how}. Its message and thread say so.`;
}

export function renderCreated(request: DeletionRequest): string {
  // Said before the message is posted: should Slack refuse it, the requester is told here (tellIfNotPosted).
  return `:white_check_mark: Request \`${request.id}\` to delete customer \`${safeMrkdwn(request.customerId, 80)}\` is made${request.dryRun ? ' (DRY RUN)' : ''}; its approval message is being posted in this channel (if Slack refuses it, you'll be told here). It needs ${request.approvalsRequired} approval${request.approvalsRequired === 1 ? '' : 's'} from an authorized approver other than you, and expires ${slackDate(request.expiresAt)}.`;
}

/** Ephemeral answers keep to the 4,000 characters Slack advises for a message's text. */
const REPLY_LIMIT = 4000;

export function renderList(requests: DeletionRequest[], permalinks: Map<string, string | null>): string {
  if (requests.length === 0) return ':information_source: No open deletion requests in this channel.';
  const lines = requests.map((r) => {
    const label = `\`${r.id}\``;
    const ticket = r.ticket ? `, ticket ${ticketLink(r)}` : '';
    return `• ${link(permalinks.get(r.id) ?? null, label)} customer \`${safeMrkdwn(r.customerId, 80)}\`${ticket}, ${stateWord(r)}, by ${mention(r.requesterId)}, ${r.approvals.length} of ${r.approvalsRequired} approvals, expires ${slackDate(r.expiresAt)}`;
  });
  return fitLines(
    [`*Open deletion requests in this channel (${requests.length}):*`, ...lines],
    REPLY_LIMIT,
    (left) => `…and ${left} more`,
  );
}

/**
 * A request's state and history, one entry per event. An event's quoted detail (a reason) stays a block
 * quote on the lines under its entry, instead of being flattened into stray `>`.
 */
export function renderStatus(request: DeletionRequest, events: RequestEvent[], permalink: string | null): string {
  const history = events.map(
    (e) => `• ${slackDate(e.at, '{date_short} {time_secs}')} ${renderThreadReply(e, request)}`,
  );
  return fitLines(
    [
      `*Request ${link(permalink, request.id)}*: customer \`${safeMrkdwn(request.customerId, 80)}\`${request.ticket ? `, ticket ${ticketLink(request)}` : ''}, *${stateWord(request)}*${request.dryRun ? ' (DRY RUN)' : ''}`,
      ...history,
    ],
    REPLY_LIMIT,
    (left) => `…and ${left} more event${left === 1 ? '' : 's'}: the request's thread has them all.`,
  );
}
