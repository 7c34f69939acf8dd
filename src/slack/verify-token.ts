// At start: ask Slack whether the bot token works (auth.test), briefly. A token Slack refuses is fatal;
// a Slack that can't be reached is not (the bot starts and retries on its own calls). So is a token of an
// org-wide (Enterprise Grid) install: the bot serves one workspace with one bot token (docs/DESIGN.md).
import { WebClient } from '../bolt';

export type TokenCheck = { ok: true } | { ok: false; fatal: boolean; error: string };

const REFUSED = /invalid_auth|not_authed|account_inactive|token_revoked|token_expired/;

export async function verifyBotToken(token: string, slackApiUrl: string): Promise<TokenCheck> {
  const client = new WebClient(token, {
    slackApiUrl,
    timeout: 5_000,
    retryConfig: { retries: 1, minTimeout: 250, maxTimeout: 1_000 },
  });
  try {
    const auth = await client.auth.test();
    if (auth.is_enterprise_install === true) {
      return {
        ok: false,
        fatal: true,
        error:
          'org_wide_install: this token is from an org-wide (Enterprise Grid) install, which bp-delete does not support; install the app to one workspace and use that workspace’s bot token',
      };
    }
    return { ok: true };
  } catch (error) {
    const code = String((error as { data?: { error?: unknown } })?.data?.error ?? (error as Error)?.message ?? error);
    return { ok: false, fatal: REFUSED.test(code), error: code };
  }
}
