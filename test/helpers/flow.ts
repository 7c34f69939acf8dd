// Shortcuts for integration tests: ask for a deletion and find its approval message in the fake Slack.
import type { SlackMessage } from '../../sandbox/fake-slack';
import { SANDBOX_CHANNEL, type Sandbox } from '../../sandbox/harness';
import { ACTION_APPROVE } from '../../src/constants';

export const CUSTOMER = '64b7f0c2e4b0a1b2c3d4e5f6';
export const REQUESTER = 'UREQUESTER';
export const APPROVER = 'UAPPROVER1';
export const APPROVER2 = 'UAPPROVER2';
export const OUTSIDER = 'UOUTSIDER';

/** Type the command, wait for the approval message, return the request id and message. */
export async function requestDeletion(
  sb: Sandbox,
  customerId = CUSTOMER,
  reason = 'customer asked to close account',
  user = REQUESTER,
): Promise<{ requestId: string; message: SlackMessage; ack: unknown }> {
  const before = sb.slack.channelMessages(SANDBOX_CHANNEL).length;
  const res = await sb.sender.command(user, `${customerId} ${reason}`.trim());
  if (res.status !== 200) throw new Error(`command answered ${res.status}: ${res.text}`);
  await sb.slack.waitFor(() => sb.slack.channelMessages(SANDBOX_CHANNEL).length > before, 5000, 'the approval message');
  const message = sb.slack.channelMessages(SANDBOX_CHANNEL)[before] as SlackMessage;
  return { requestId: buttonValue(message, ACTION_APPROVE) ?? '', message, ack: res.json };
}

/** The value of the button with this action id in a message's current blocks, if it has one. */
export function buttonValue(message: SlackMessage, actionId: string): string | undefined {
  for (const block of message.blocks as { type: string; elements?: { action_id?: string; value?: string }[] }[]) {
    if (block.type !== 'actions') continue;
    const button = block.elements?.find((e) => e.action_id === actionId);
    if (button) return button.value;
  }
  return undefined;
}

export function actionIds(message: SlackMessage): string[] {
  return (message.blocks as { type: string; elements?: { action_id?: string }[] }[])
    .filter((b) => b.type === 'actions')
    .flatMap((b) => (b.elements ?? []).map((e) => e.action_id ?? ''));
}

/** All visible text of a message's blocks (mrkdwn and plain_text), for assertions. */
export function messageText(message: SlackMessage): string {
  return (
    JSON.stringify(message.blocks)
      .match(/"text":"((?:[^"\\]|\\.)*)"/g)
      ?.map((m) => JSON.parse(`{${m}}`).text as string)
      .join('\n') ?? ''
  );
}

/** The text of a slash command's HTTP answer (its ephemeral reply). */
export const ackText = (json: unknown) => String((json as { text?: string } | null)?.text ?? '');

/** The listeners each watched app is running: Bolt answers a click at ack(), before its listener is done. */
const listeners = new WeakMap<Sandbox['bot'], Set<Promise<void>>>();

/**
 * Count the app's listeners from now on, so that settle() also waits for those still running after their
 * HTTP answer (the app's idle() counts only DELETEs and message syncs). Once per app; later calls do nothing.
 */
export function watchListeners(sb: Sandbox): Sandbox {
  if (listeners.has(sb.bot)) return sb;
  const running = new Set<Promise<void>>();
  listeners.set(sb.bot, running);
  // Global middleware wraps every listener: next() settles when they all have.
  sb.bot.app.use(async ({ next }) => {
    const done = next();
    running.add(done);
    try {
      await done;
    } finally {
      running.delete(done);
    }
  });
  return sb;
}

/** Wait until the app has nothing under way: watched listeners, then DELETEs and message syncs. */
export async function settle(sb: Sandbox): Promise<void> {
  const running = listeners.get(sb.bot);
  while (running && running.size > 0) await Promise.allSettled([...running]);
  await sb.bot.idle();
}

/** Wait for a condition no fake hears about (a log line, say), checking every few milliseconds. */
export async function until(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
