import type { App, ViewClosedAction, ViewSubmitAction } from '@slack/bolt';
import { VIEW_DENY_REASON } from '../../constants';
import type { ListenerDeps } from '../deps';
import { denyClosedView } from './deny-closed';
import { denyReasonView } from './deny-reason';

export const register = (app: App, deps: ListenerDeps): void => {
  app.view<ViewSubmitAction>({ callback_id: VIEW_DENY_REASON, type: 'view_submission' }, denyReasonView(deps));
  app.view<ViewClosedAction>({ callback_id: VIEW_DENY_REASON, type: 'view_closed' }, denyClosedView(deps));
};
