import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { ACTION_ABORT, ACTION_APPROVE, ACTION_CANCEL, ACTION_DENY, MESSAGE_OR_HOME } from '../../constants';
import type { ListenerDeps } from '../deps';
import { requestsClick } from './click';
import { denyAction } from './deny';

export const register = (app: App, deps: ListenerDeps): void => {
  const button = (actionId: string) => ({ type: 'block_actions', action_id: actionId }) as const;
  // One listener for the message's button and the Home tab's (see homeActionId): the rules are told which.
  const either = (actionId: string) => ({ type: 'block_actions', action_id: MESSAGE_OR_HOME(actionId) }) as const;
  app.action<BlockAction<ButtonAction>>(
    either(ACTION_APPROVE),
    requestsClick(deps, (requests, id, actor, via) => requests.decisions.approve(id, actor, via)),
  );
  app.action<BlockAction<ButtonAction>>(either(ACTION_DENY), denyAction(deps));
  app.action<BlockAction<ButtonAction>>(
    button(ACTION_CANCEL),
    requestsClick(deps, (requests, id, actor) => requests.decisions.cancel(id, actor, 'button')),
  );
  app.action<BlockAction<ButtonAction>>(
    button(ACTION_ABORT),
    requestsClick(deps, (requests, id, actor) => requests.decisions.abort(id, actor, 'button')),
  );
};
