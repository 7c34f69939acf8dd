// With SLACK_TEAM_ID set, payloads from any other workspace are refused before any listener runs.
// An Enterprise Grid id (E…) there admits every workspace of that organisation.
import type { AnyMiddlewareArgs, Middleware } from '@slack/bolt';
import type { Logger } from '../logger';

function teamOf(body: AnyMiddlewareArgs['body']): string | undefined {
  const b = body as { team_id?: unknown; team?: { id?: unknown } | null; user?: { team_id?: unknown } };
  const id = b.team_id ?? b.team?.id ?? b.user?.team_id;
  return typeof id === 'string' ? id : undefined;
}

function enterpriseOf(body: AnyMiddlewareArgs['body']): string | undefined {
  const b = body as { enterprise_id?: unknown; enterprise?: { id?: unknown } | null };
  const id = b.enterprise_id ?? b.enterprise?.id;
  return typeof id === 'string' ? id : undefined;
}

export function teamGuard(teamId: string | undefined, logger: Logger): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    const allowed = teamId?.startsWith('E') ? enterpriseOf(args.body) === teamId : teamOf(args.body) === teamId;
    if (!teamId || allowed) {
      await args.next();
      return;
    }
    logger.warn('refused a payload from another workspace', { teamId: teamOf(args.body) ?? null });
    if ('ack' in args && typeof args.ack === 'function') {
      const ack = args.ack as (response?: unknown) => Promise<void>;
      await ack(
        'command' in args
          ? { response_type: 'ephemeral', text: ':no_entry_sign: This bot does not serve this workspace.' }
          : undefined,
      );
    }
  };
}
