// Telling one person something only they see, after a click: chat.postEphemeral, or the click's
// response_url when the bot can't post in that channel.
import type { RespondFn, webApi } from '@slack/bolt';
import { errorFields, type Logger } from '../logger';

export async function tellUser(args: {
  client: webApi.WebClient;
  respond: RespondFn | undefined;
  channelId: string | undefined;
  userId: string;
  text: string;
  logger: Logger;
  slackApiError: (method: string, error: unknown) => void;
}): Promise<void> {
  const { client, respond, channelId, userId, text, logger, slackApiError } = args;
  if (channelId) {
    try {
      await client.chat.postEphemeral({ channel: channelId, user: userId, text });
      return;
    } catch (error) {
      slackApiError('chat.postEphemeral', error);
      logger.warn('chat.postEphemeral failed; trying response_url', { userId, channelId, ...errorFields(error) });
    }
  }
  if (!respond) return;
  try {
    await respond({ response_type: 'ephemeral', replace_original: false, text });
  } catch (error) {
    slackApiError('response_url', error);
    logger.warn('could not tell the user why their click was refused', { userId, ...errorFields(error) });
  }
}
