// At start: ask Slack whether the bot token works (auth.test), briefly. A token Slack refuses is fatal;
// a Slack that can't be reached is not (the bot starts and retries on its own calls). So is a token of an
// org-wide (Enterprise Grid) install: the bot serves one workspace with one bot token (docs/DESIGN.md).
import { WebClient } from '../bolt';

export type TokenCheck = { ok: true } | { ok: false; fatal: boolean; error: string };

/**
 * Slack's answers that no retry mends: the token is refused. The first five are @slack/socket-mode's
 * UnrecoverableSocketModeStartError (apps.connections.open); a revoked or expired token answers the rest.
 * Fatal at start (auth.test, the socket's first open) and while running (a reconnect, any bot call).
 */
export const TOKEN_REFUSED: ReadonlySet<string> = new Set([
  'not_authed',
  'invalid_auth',
  'account_inactive',
  'user_removed_from_team',
  'team_disabled',
  'token_revoked',
  'token_expired',
]);

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
    return { ok: false, fatal: TOKEN_REFUSED.has(code), error: code };
  }
}
