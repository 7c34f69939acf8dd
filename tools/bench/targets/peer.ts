// The fair peer: the least Bolt app that does the bot's visible job. Same @slack/bolt and HTTPReceiver;
// `/bp-delete` acks with an ephemeral line and posts one approval message (with buttons) through
// chat.postMessage. No store, no validation, no preview, no thread.
import { App, HTTPReceiver } from '@slack/bolt';

const receiver = new HTTPReceiver({
  signingSecret: process.env.SLACK_SIGNING_SECRET ?? '',
  endpoints: '/slack/events',
});
const app = new App({
  token: process.env.SLACK_BOT_TOKEN,
  receiver,
  clientOptions: { slackApiUrl: process.env.SLACK_API_URL },
});

app.command('/bp-delete', async ({ command, ack, client }) => {
  const [customerId = '', ...rest] = command.text.trim().split(/\s+/);
  await ack({ response_type: 'ephemeral', text: `Request to delete customer \`${customerId}\` posted.` });
  await client.chat.postMessage({
    channel: command.channel_id,
    text: `Deletion of BotPenguin customer ${customerId} requested by <@${command.user_id}>`,
    blocks: [
      { type: 'header', text: { type: 'plain_text', text: 'Delete a BotPenguin customer?' } },
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: `*Customer*\n\`${customerId}\`` },
          { type: 'mrkdwn', text: `*Requested by*\n<@${command.user_id}>` },
        ],
      },
      { type: 'section', text: { type: 'mrkdwn', text: `*Reason*\n>${rest.join(' ') || '_none given_'}` } },
      {
        type: 'actions',
        elements: [
          {
            type: 'button',
            action_id: 'bp_delete_approve',
            style: 'danger',
            text: { type: 'plain_text', text: 'Approve deletion' },
            value: customerId,
          },
          {
            type: 'button',
            action_id: 'bp_delete_deny',
            text: { type: 'plain_text', text: 'Deny' },
            value: customerId,
          },
          {
            type: 'button',
            action_id: 'bp_delete_cancel',
            text: { type: 'plain_text', text: 'Cancel request' },
            value: customerId,
          },
        ],
      },
    ],
  });
});

void app.start(Number(process.env.PORT ?? 3000));
process.on('SIGTERM', () => process.exit(0));
