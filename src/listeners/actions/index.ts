import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { ACTION_ABORT, ACTION_APPROVE, ACTION_CANCEL, ACTION_DENY } from '../../constants';
import type { ListenerDeps } from '../deps';
import { requestsClick } from './click';
import { denyAction } from './deny';

export const register = (app: App, deps: ListenerDeps): void => {
  const button = (actionId: string) => ({ type: 'block_actions', action_id: actionId }) as const;
  app.action<BlockAction<ButtonAction>>(
    button(ACTION_APPROVE),
    requestsClick(deps, (requests, id, actor) => requests.decisions.approve(id, actor)),
  );
  app.action<BlockAction<ButtonAction>>(button(ACTION_DENY), denyAction(deps));
  app.action<BlockAction<ButtonAction>>(
    button(ACTION_CANCEL),
    requestsClick(deps, (requests, id, actor) => requests.decisions.cancel(id, actor, 'button')),
  );
  app.action<BlockAction<ButtonAction>>(
    button(ACTION_ABORT),
    requestsClick(deps, (requests, id, actor) => requests.decisions.abort(id, actor, 'button')),
  );
};
