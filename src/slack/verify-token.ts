// At start: ask Slack whether the bot token works (auth.test), briefly. A token Slack refuses is fatal;
// a Slack that can't be reached is not (the bot starts and retries on its own calls).
import { webApi } from '@slack/bolt';

export type TokenCheck = { ok: true } | { ok: false; fatal: boolean; error: string };

const REFUSED = /invalid_auth|not_authed|account_inactive|token_revoked|token_expired/;

export async function verifyBotToken(token: string, slackApiUrl: string): Promise<TokenCheck> {
  const client = new webApi.WebClient(token, {
    slackApiUrl,
    timeout: 5_000,
    retryConfig: { retries: 1, minTimeout: 250, maxTimeout: 1_000 },
  });
  try {
    await client.auth.test();
    return { ok: true };
  } catch (error) {
    const code = String((error as { data?: { error?: unknown } })?.data?.error ?? (error as Error)?.message ?? error);
    return { ok: false, fatal: REFUSED.test(code), error: code };
  }
}
