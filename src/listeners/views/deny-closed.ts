// The deny modal closed without denying (Slack sends view_closed, since the modal asks for it): the Deny
// click's hold on the request is released, so it can be approved again.
import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewClosedAction } from '@slack/bolt';
import { errorFields } from '../../logger';
import type { ListenerDeps } from '../deps';
import { DenyMetadataSchema } from './deny-reason';

export function denyClosedView(deps: ListenerDeps) {
  return async ({ ack, body, view }: AllMiddlewareArgs & SlackViewMiddlewareArgs<ViewClosedAction>) => {
    await ack();
    const userId = body.user.id;
    const metadata = DenyMetadataSchema.safeParse(parseJson(view.private_metadata));
    if (!metadata.success) {
      deps.logger.warn('deny modal closed with unreadable metadata', { userId });
      return;
    }
    try {
      // Only this person's hold is released: a view_closed can't lift another approver's Deny.
      await deps.requests.decisions.releaseDenyHold(metadata.data.requestId, userId);
    } catch (error) {
      deps.logger.error('releasing a deny hold failed', {
        userId,
        requestId: metadata.data.requestId,
        ...errorFields(error),
      });
    }
  };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
