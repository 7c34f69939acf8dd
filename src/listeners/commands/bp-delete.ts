// `/bp-delete …`: validate and store first, answer ephemerally (the 3-second HTTP answer), and leave
// posting the approval message to the sync that the rules start.
import type { AllMiddlewareArgs, RespondFn, SlackCommandMiddlewareArgs } from '@slack/bolt';
import {
  renderClosed,
  renderClosedByCommand,
  renderCreated,
  renderHelp,
  renderList,
  renderPauseAnswer,
  renderRefusal,
  renderStatus,
} from '../../blocks/replies';
import { decodeSlackText } from '../../blocks/text';
import { errorFields } from '../../logger';
import type { CommandResult } from '../../requests/commands';
import { NO_MESSAGE_TS } from '../../requests/types';
import type { ListenerDeps } from '../deps';

export function bpDeleteCommand(deps: ListenerDeps) {
  return async ({ command, ack, respond }: AllMiddlewareArgs & SlackCommandMiddlewareArgs): Promise<void> => {
    // Slack always sends these; without them a request would be stored where nobody sees it (a half-write).
    if (!isSlackId(command.user_id) || !isSlackId(command.channel_id) || !isOptionalText(command.text)) {
      deps.logger.warn('refused a slash command without a user, a channel or a text', {});
      await ack({
        response_type: 'ephemeral',
        text: ':warning: That command arrived incomplete, so nothing was done.',
      });
      return;
    }
    const actor = { userId: command.user_id, teamId: command.team_id, channelId: command.channel_id };
    let text: string;
    let created: string | null = null;
    try {
      // Decoded once here: the reason is stored as the person typed it, and escaped once on output.
      const result = await deps.requests.commands.command(actor, decodeSlackText(command.text ?? ''));
      if (result.kind === 'created') created = result.request.id;
      text = await describe(deps, result);
    } catch (error) {
      deps.logger.error('slash command failed', {
        userId: actor.userId,
        channelId: actor.channelId,
        ...errorFields(error),
      });
      text =
        ':warning: Something went wrong on our side and nothing was changed. Please try again; if it keeps happening, tell the bot’s operators.';
    }
    await ack({ response_type: 'ephemeral', text });
    // Not awaited: the listener (and Bolt's hold on the whole payload) ends with the answer; only the id and
    // the response_url wait for the message to be posted.
    if (created) void tellIfNotPosted(deps, created, respond);
  };
}

/**
 * The answer said the request is posted; if Slack then refused the message (the bot is not in the
 * channel, say), the request was withdrawn: tell the requester through the command's response_url,
 * which works where the bot can't post.
 */
async function tellIfNotPosted(deps: ListenerDeps, requestId: string, respond: RespondFn): Promise<void> {
  try {
    if (!(await deps.postRefused(requestId))) return;
    const request = await deps.requests.decisions.find(requestId);
    if (request?.messageTs !== NO_MESSAGE_TS || !request.closeReason) return;
    await respond({ response_type: 'ephemeral', text: `:warning: ${request.closeReason}` });
  } catch (error) {
    deps.logger.warn('could not tell the requester that the message was not posted', {
      requestId,
      ...errorFields(error),
    });
  }
}

const isSlackId = (value: unknown): value is string => typeof value === 'string' && /^[A-Z0-9]{2,64}$/i.test(value);
const isOptionalText = (value: unknown) => value === undefined || typeof value === 'string';

async function describe(deps: ListenerDeps, result: CommandResult): Promise<string> {
  switch (result.kind) {
    case 'help':
      return renderHelp(deps.policy, result.pause);
    case 'paused':
      return renderPauseAnswer(true, result.changed, result.pause, result.inFlight);
    case 'resumed':
      return renderPauseAnswer(false, result.changed, null);
    case 'decided':
      return renderClosedByCommand(result.request);
    case 'created':
      return renderCreated(result.request);
    case 'list': {
      const links = await Promise.all(
        result.requests.map(async (r) => [r.id, await deps.permalinks.get(r.channelId, r.messageTs)] as const),
      );
      return renderList(result.requests, new Map(links));
    }
    case 'status':
      return renderStatus(
        result.request,
        result.events,
        await deps.permalinks.get(result.request.channelId, result.request.messageTs),
      );
    case 'closed':
      return renderClosed(result.request);
    case 'refused': {
      const r = result.refusal;
      const link =
        r.kind === 'already_open' ? await deps.permalinks.get(r.existing.channelId, r.existing.messageTs) : null;
      return renderRefusal(r, link);
    }
  }
}
