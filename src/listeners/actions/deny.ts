// Deny: the click holds the request at once (deny wins from the moment of the click), then a modal asks for
// a reason. If the modal can't be opened (the trigger expired, Slack is slow), deny without a reason rather
// than leave the click unanswered: denying deletes nothing.
import { renderDenyModal } from '../../blocks/deny-modal';
import { errorFields } from '../../logger';
import type { ListenerDeps } from '../deps';
import { clickListener } from './click';

export const denyAction = (deps: ListenerDeps) =>
  clickListener(deps, async (args, requestId, actor, via) => {
    const allowed = await deps.requests.decisions.startDeny(requestId, actor, via);
    if (!allowed.ok) return allowed;
    try {
      await args.client.views.open({ trigger_id: args.body.trigger_id, view: renderDenyModal(allowed.value) });
      return null;
    } catch (error) {
      deps.slackApiError('views.open', error);
      deps.logger.warn('could not open the deny modal; denying without a reason', {
        requestId,
        userId: actor.userId,
        ...errorFields(error),
      });
      return deps.requests.decisions.deny(requestId, actor, null, via);
    }
  });
