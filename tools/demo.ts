// `npm run demo`: the real bot against the local sandbox (fake Slack, fake BotPenguin), playing a short
// story, then the channel as people would see it. No tokens, no network.
//
//   npm run demo                 colour when stdout is a terminal
//   npm run demo -- --no-color   plain text (also NO_COLOR=1); --color forces colour
import type { SlackMessage } from '../sandbox/fake-slack';
import { SANDBOX_CHANNEL, type Sandbox, startSandbox } from '../sandbox/harness';
import { type RenderOptions, renderChannel, renderPrivateAnswers } from '../sandbox/render-channel';
import { ACTION_APPROVE, ACTION_DENY } from '../src/constants';

const RITA = 'U0RITA'; // support lead: asks for deletions
const ALEX = 'U0ALEX'; // approver
const SAM = 'U0SAM'; // approver

const ACME = '64b7f0c2e4b0a1b2c3d4e5f6';
const GLOBEX = '64b7f0c2e4b0a1b2c3d4e5f7';
const UNKNOWN = '650000000000000000000bad';

const args = new Set(process.argv.slice(2));
const color =
  args.has('--color') || (!args.has('--no-color') && !process.env.NO_COLOR && process.stdout.isTTY === true);
const options: RenderOptions = {
  color,
  names: { [RITA]: 'rita', [ALEX]: 'alex', [SAM]: 'sam' },
  channelNames: { [SANDBOX_CHANNEL]: 'customer-ops' },
};

const say = (text: string) => process.stdout.write(`${color ? `\x1b[2m▶ ${text}\x1b[22m` : `> ${text}`}\n`);

async function command(sb: Sandbox, user: string, text: string): Promise<SlackMessage | null> {
  const before = sb.slack.channelMessages(SANDBOX_CHANNEL).length;
  const res = await sb.sender.command(user, text);
  if (res.status !== 200) throw new Error(`/bp-delete answered HTTP ${res.status}`);
  sb.slack.recordCommandAnswer(user, SANDBOX_CHANNEL, res.json);
  const posted = () => sb.slack.channelMessages(SANDBOX_CHANNEL).length > before;
  await sb.slack.waitFor(posted, 5_000, 'the approval message').catch(() => undefined);
  await sb.bot.idle();
  return posted() ? (sb.slack.channelMessages(SANDBOX_CHANNEL)[before] ?? null) : null;
}

function requestIdOf(message: SlackMessage | null): string {
  for (const block of (message?.blocks ?? []) as {
    type: string;
    elements?: { action_id?: string; value?: string }[];
  }[]) {
    const button = block.elements?.find((e) => e.action_id === ACTION_APPROVE);
    if (block.type === 'actions' && button?.value) return button.value;
  }
  throw new Error('the approval message has no Approve button');
}

async function click(sb: Sandbox, user: string, actionId: string, message: SlackMessage): Promise<void> {
  const res = await sb.sender.click(user, actionId, requestIdOf(message), { messageTs: message.ts });
  if (res.status !== 200) throw new Error(`the click answered HTTP ${res.status}`);
}

async function story(sb: Sandbox): Promise<void> {
  const name = (id: string) => `@${options.names?.[id] ?? id}`;

  say(`${name(RITA)} types /bp-delete ${ACME} customer asked to close their account (ticket #4821)`);
  const acme = await command(sb, RITA, `${ACME} customer asked to close their account (ticket #4821)`);
  if (!acme) throw new Error('no approval message for the first request');

  say(`${name(RITA)} clicks [Approve deletion] on her own request`);
  const shown = sb.slack.ephemerals.length;
  await click(sb, RITA, ACTION_APPROVE, acme);
  await sb.slack.waitFor(() => sb.slack.ephemerals.length > shown, 5_000, 'the refusal');

  say(`${name(ALEX)} clicks [Approve deletion]: the bot sends DELETE /customer/${ACME} to BotPenguin`);
  await click(sb, ALEX, ACTION_APPROVE, acme);
  await sb.botpenguin.waitFor(() => sb.botpenguin.deletes().length === 1, 5_000, 'the DELETE');
  await sb.bot.idle();

  say(`${name(RITA)} types /bp-delete ${UNKNOWN} duplicate signup (an id BotPenguin doesn't know)`);
  const unknown = await command(sb, RITA, `${UNKNOWN} duplicate signup`);
  if (!unknown) throw new Error('no approval message for the second request');
  say(`${name(SAM)} clicks [Approve deletion]: BotPenguin answers 404`);
  await click(sb, SAM, ACTION_APPROVE, unknown);
  await sb.botpenguin.waitFor(() => sb.botpenguin.deletes().length === 2, 5_000, 'the second DELETE');
  await sb.bot.idle();

  say(`${name(RITA)} types /bp-delete ${GLOBEX} trial ended`);
  const globex = await command(sb, RITA, `${GLOBEX} trial ended`);
  if (!globex) throw new Error('no approval message for the third request');
  say(`${name(SAM)} clicks [Deny]: a modal asks why`);
  const views = sb.slack.views.length;
  await click(sb, SAM, ACTION_DENY, globex);
  await sb.slack.waitFor(() => sb.slack.views.length > views, 5_000, 'the deny modal');
  const view = sb.slack.views.at(-1) as { callback_id: string; private_metadata: string };
  const reason = 'They renewed this morning & want to keep the account';
  say(`${name(SAM)} types "${reason}" and presses [Deny]`);
  const submitted = await sb.sender.viewSubmission(SAM, view, {
    deny_reason: { reason: { type: 'plain_text_input', value: reason } },
  });
  if (submitted.status !== 200) throw new Error(`the modal submission answered HTTP ${submitted.status}`);
  await sb.slack.waitFor(
    () => !(globex.blocks as { type: string }[]).some((b) => b.type === 'actions'),
    5_000,
    'the buttons to go',
  );
  await sb.bot.idle();
}

async function main(): Promise<void> {
  const started = performance.now();
  const sb = await startSandbox({
    env: { APPROVER_USER_IDS: `${ALEX},${SAM}`, LOG_LEVEL: 'info' },
  });
  try {
    sb.botpenguin.addCustomer(ACME, 'Acme Ltd', 'ops@acme.example', 'active');
    sb.botpenguin.addCustomer(GLOBEX, 'Globex Corp', 'it@globex.example', 'trial');
    const heading = (text: string) => (color ? `\x1b[1m${text}\x1b[22m` : text);
    process.stdout.write(`${heading('bp-delete demo: the real bot, a local fake Slack and a fake BotPenguin')}\n\n`);

    await story(sb);

    const out = process.stdout;
    out.write(`\n${renderChannel(sb.slack, SANDBOX_CHANNEL, options)}\n\n`);
    out.write(`${renderPrivateAnswers(sb.slack.privateAnswers(), options)}\n\n`);
    out.write(`${heading('BotPenguin received:')}\n`);
    for (const call of sb.botpenguin.calls.filter((c) => c.method === 'DELETE')) {
      out.write(`  DELETE ${call.path} → HTTP ${call.status ?? '(no answer)'}\n`);
    }
    const lookups = sb.botpenguin.calls.filter((c) => c.method === 'GET').length;
    out.write(`  (and ${lookups} GET /customer/list page(s) for the customer previews)\n`);
    out.write(`\nDone in ${((performance.now() - started) / 1000).toFixed(1)} s.\n`);
  } finally {
    await sb.stop({ fakes: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`demo failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
