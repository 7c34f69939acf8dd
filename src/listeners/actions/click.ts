// What every button click shares: ack at once, read the request id from the button (nothing else from
// the payload is trusted), let the rules decide, and tell the clicker when refused: ephemerally where the
// message is, or on their Home tab when they clicked there.
import type { AllMiddlewareArgs, BlockAction, ButtonAction, SlackActionMiddlewareArgs } from '@slack/bolt';
import { renderDoneOnHome } from '../../blocks/home-view';
import { renderRefusal } from '../../blocks/replies';
import { errorFields } from '../../logger';
import type { Requests } from '../../requests';
import type { Via } from '../../requests/decisions';
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

/**
 * Where the button was: the person's Home tab (a view Slack shows them alone, published by this app), or a
 * message. Slack signs the payload, so its container can be believed; the rules still check the rest.
 */
function clickVia(body: BlockAction): Exclude<Via, 'command'> {
  return body.container?.type === 'view' && body.view?.type === 'home' ? 'home' : 'button';
}

/** Tell the clicker something only they see, where they clicked. */
async function answer(deps: ListenerDeps, args: ClickArgs, actor: Actor, text: string): Promise<void> {
  if (clickVia(args.body) === 'home') {
    await deps.home.tell(actor.userId, text);
    return;
  }
  await tellUser({
    client: args.client,
    respond: args.respond,
    channelId: actor.channelId,
    userId: actor.userId,
    text,
    logger: deps.logger,
    slackApiError: deps.slackApiError,
  });
}

async function refuseClick(deps: ListenerDeps, args: ClickArgs, result: Result<DeletionRequest>): Promise<void> {
  if (result.ok) return;
  const actor = clickActor(args.body);
  deps.logger.info('click refused', {
    userId: actor.userId,
    action: args.action.action_id,
    reason: result.refusal.kind,
  });
  await answer(deps, args, actor, renderRefusal(result.refusal));
}

/** A click's own work: returns the rules' result (refused ones are told to the clicker), or null. */
export type ClickHandler = (
  args: ClickArgs,
  requestId: string,
  actor: Actor,
  via: Exclude<Via, 'command'>,
) => Promise<Result<DeletionRequest> | null>;

export function clickListener(deps: ListenerDeps, handle: ClickHandler) {
  return async (args: ClickArgs): Promise<void> => {
    await args.ack();
    const actor = clickActor(args.body);
    try {
      const value: unknown = args.action.value;
      const via = clickVia(args.body);
      const result = await handle(args, typeof value === 'string' ? value : '', actor, via);
      // On the Home tab the card that would show the change is elsewhere: say what the click did.
      if (result?.ok && via === 'home') await deps.home.tell(actor.userId, renderDoneOnHome(result.value));
      else if (result) await refuseClick(deps, args, result);
    } catch (error) {
      deps.logger.error('click failed', { userId: actor.userId, action: args.action.action_id, ...errorFields(error) });
      await answer(
        deps,
        args,
        actor,
        ':warning: Something went wrong on our side; nothing was changed by your click. Please try again.',
      );
    }
  };
}

/** A click that is one call of the rules. */
export const requestsClick = (
  deps: ListenerDeps,
  decide: (
    requests: Requests,
    requestId: string,
    actor: Actor,
    via: Exclude<Via, 'command'>,
  ) => Promise<Result<DeletionRequest>>,
) => clickListener(deps, (_args, requestId, actor, via) => decide(deps.requests, requestId, actor, via));
