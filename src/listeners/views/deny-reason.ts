// The deny modal's submission: close the modal, then deny with the reason given (if any).
import type { AllMiddlewareArgs, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import { z } from 'zod';
import { renderRefusal } from '../../blocks/replies';
import { BLOCK_DENY_REASON, INPUT_DENY_REASON } from '../../constants';
import { errorFields } from '../../logger';
import { tellUser } from '../../slack/ephemeral';
import type { ListenerDeps } from '../deps';

export const DenyMetadataSchema = z.object({ requestId: z.string().max(64), channelId: z.string().max(64) });

export function denyReasonView(deps: ListenerDeps) {
  return async ({ ack, body, view, client }: AllMiddlewareArgs & SlackViewMiddlewareArgs<ViewSubmitAction>) => {
    await ack();
    const userId = body.user.id;
    let metadata: z.infer<typeof DenyMetadataSchema>;
    try {
      metadata = DenyMetadataSchema.parse(JSON.parse(view.private_metadata));
    } catch {
      deps.logger.warn('deny modal with unreadable metadata', { userId });
      return;
    }
    const reason = view.state.values[BLOCK_DENY_REASON]?.[INPUT_DENY_REASON]?.value?.trim() || null;
    const actor = { userId, teamId: body.team?.id ?? body.user.team_id, channelId: metadata.channelId };
    try {
      const result = await deps.requests.decisions.deny(metadata.requestId, actor, reason, 'button');
      if (!result.ok) {
        await tellUser({
          client,
          respond: undefined,
          channelId: metadata.channelId,
          userId,
          text: renderRefusal(result.refusal),
          logger: deps.logger,
          slackApiError: deps.slackApiError,
        });
      }
    } catch (error) {
      deps.logger.error('deny failed', { userId, requestId: metadata.requestId, ...errorFields(error) });
    }
  };
}
