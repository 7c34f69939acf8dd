import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { ACTION_ABORT, ACTION_APPROVE, ACTION_CANCEL, ACTION_DENY } from '../../constants';
import type { ListenerDeps } from '../deps';
import { abortAction } from './abort';
import { approveAction } from './approve';
import { cancelAction } from './cancel';
import { denyAction } from './deny';

export const register = (app: App, deps: ListenerDeps): void => {
  app.action<BlockAction<ButtonAction>>({ type: 'block_actions', action_id: ACTION_APPROVE }, approveAction(deps));
  app.action<BlockAction<ButtonAction>>({ type: 'block_actions', action_id: ACTION_DENY }, denyAction(deps));
  app.action<BlockAction<ButtonAction>>({ type: 'block_actions', action_id: ACTION_CANCEL }, cancelAction(deps));
  app.action<BlockAction<ButtonAction>>({ type: 'block_actions', action_id: ACTION_ABORT }, abortAction(deps));
};
