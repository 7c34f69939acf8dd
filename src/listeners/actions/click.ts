// What every button click shares: ack at once, read the request id from the button (nothing else from
// the payload is trusted), let the rules decide, and tell the clicker ephemerally when refused.
import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { renderRefusal } from '../../blocks/replies';
import { errorFields } from '../../logger';
import type { Requests } from '../../requests';
import type { Result } from '../../requests/refusals';
import type { Actor, DeletionRequest } from '../../requests/types';
import { tellUser } from '../../slack/ephemeral';
import type { ListenerDeps } from '../deps';

export type ClickArgs = AllMiddlewareArgs & SlackActionMiddlewareArgs<BlockAction<ButtonAction>>;

function clickActor(body: BlockAction): Actor {
  return {
    userId: body.user.id,
    teamId: body.team?.id ?? body.user.team_id,
    channelId: body.channel?.id ?? body.container?.channel_id,
  };
}

async function refuseClick(deps: ListenerDeps, args: ClickArgs, result: Result<DeletionRequest>): Promise<void> {
  if (result.ok) return;
  const actor = clickActor(args.body);
  deps.logger.info('click refused', {
    userId: actor.userId,
    action: args.action.action_id,
    reason: result.refusal.kind,
  });
  await tellUser({
    client: args.client,
    respond: args.respond,
    channelId: actor.channelId,
    userId: actor.userId,
    text: renderRefusal(result.refusal),
    logger: deps.logger,
    slackApiError: deps.slackApiError,
  });
}

/** A click's own work: returns the rules' result (refused ones are told to the clicker), or null. */
export type ClickHandler = (
  args: ClickArgs,
  requestId: string,
  actor: Actor,
) => Promise<Result<DeletionRequest> | null>;

export function clickListener(deps: ListenerDeps, handle: ClickHandler) {
  return async (args: ClickArgs): Promise<void> => {
    await args.ack();
    const actor = clickActor(args.body);
    try {
      const value: unknown = args.action.value;
      const result = await handle(args, typeof value === 'string' ? value : '', actor);
      if (result) await refuseClick(deps, args, result);
    } catch (error) {
      deps.logger.error('click failed', { userId: actor.userId, action: args.action.action_id, ...errorFields(error) });
      await tellUser({
        client: args.client,
        respond: args.respond,
        channelId: actor.channelId,
        userId: actor.userId,
        text: ':warning: Something went wrong on our side; nothing was changed by your click. Please try again.',
        logger: deps.logger,
        slackApiError: deps.slackApiError,
      });
    }
  };
}

/** A click that is one call of the rules. */
export const requestsClick = (
  deps: ListenerDeps,
  decide: (requests: Requests, requestId: string, actor: Actor) => Promise<Result<DeletionRequest>>,
) => clickListener(deps, (_args, requestId, actor) => decide(deps.requests, requestId, actor));
