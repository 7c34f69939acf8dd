// A floor: a bare Bolt app (same HTTPReceiver) whose `/bp-delete` only acks.
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

app.command('/bp-delete', async ({ ack }) => {
  await ack();
});

void app.start(Number(process.env.PORT ?? 3000));
process.on('SIGTERM', () => process.exit(0));
