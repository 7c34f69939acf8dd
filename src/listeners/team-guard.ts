// Before any listener: who is acting, and from which workspace and organisation? Decided on the acting
// user (docs/DESIGN.md, "Workspaces"):
// - an org-wide (Enterprise Grid) install is refused: the bot holds one workspace's bot token;
// - a Slack Connect external user (the user's workspace is not the one the app is installed in) is refused;
// - with SLACK_TEAM_ID=T…, only that workspace's users; with SLACK_TEAM_ID=E…, only that organisation's.
import type { AnyMiddlewareArgs, Middleware, RespondFn } from '@slack/bolt';
import { errorFields, type Logger } from '../logger';

/** Where a payload says its acting user comes from, read as Slack sends it (test/fixtures/slack-payloads.ts). */
export interface Origin {
  /** The acting user's workspace: a command's `team_id`, an interaction's `user.team_id` (E… in some Grid payloads). */
  userTeam: string | undefined;
  /** The workspace the app is installed in: `view.app_installed_team_id`, else `team.id` (a command's `team_id`). */
  installTeam: string | undefined;
  /** The organisation: `team.enterprise_id`, `enterprise.id` or a command's `enterprise_id`. */
  enterprise: string | undefined;
  /**
   * The organisation of the workspace the app is installed in, only where the payload says so of that very
   * workspace (`team.enterprise_id` when `team` is it): what a user's E… id must match to count as ours.
   */
  installOrg: string | undefined;
  /** `is_enterprise_install`: the app is installed for a whole organisation. */
  orgWide: boolean;
}

export type Admission =
  | { ok: true }
  | { ok: false; kind: 'org_wide' | 'external_user' | 'other_workspace'; origin: Origin };

const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

export function originOf(body: unknown): Origin {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const team = b.team as { id?: unknown; enterprise_id?: unknown } | null | undefined;
  const user = b.user as { team_id?: unknown } | null | undefined;
  const view = b.view as { app_installed_team_id?: unknown } | null | undefined;
  const enterprise = b.enterprise as { id?: unknown } | null | undefined;
  const orgWide = b.is_enterprise_install === true || b.is_enterprise_install === 'true';
  if (typeof b.command === 'string' || typeof b.event === 'object') {
    // Slash commands (and events) carry flat fields; a command's team_id is the workspace it was typed in.
    const teamId = str(b.team_id);
    const org = str(b.enterprise_id);
    return { userTeam: teamId, installTeam: teamId, enterprise: org, installOrg: org, orgWide };
  }
  const teamId = str(team?.id);
  const installTeam = str(view?.app_installed_team_id) ?? teamId;
  // In a modal submitted from a Slack Connect channel, `team` is the user's workspace, not the install's.
  const installOrg = installTeam === teamId ? str(team?.enterprise_id) : undefined;
  return {
    userTeam: str(user?.team_id),
    installTeam,
    enterprise: str(team?.enterprise_id) ?? str(enterprise?.id) ?? str(b.enterprise_id),
    installOrg,
    orgWide,
  };
}

/** The decision, pure: `served` is SLACK_TEAM_ID (a workspace T… or an organisation E…), or undefined. */
export function admit(origin: Origin, served: string | undefined): Admission {
  const { userTeam, installTeam, enterprise, installOrg } = origin;
  if (origin.orgWide) return { ok: false, kind: 'org_wide', origin };
  // In an Enterprise Grid organisation Slack may name the user's organisation (E…) instead of a workspace.
  const ofInstallOrg = installOrg !== undefined && userTeam === installOrg;
  if (userTeam && installTeam && userTeam !== installTeam && !ofInstallOrg) {
    return { ok: false, kind: 'external_user', origin };
  }
  if (!served) return { ok: true };
  // Fail closed: a payload that does not name the acting user's workspace is not ours.
  const ours = served.startsWith('E')
    ? enterprise === served && userTeam !== undefined
    : userTeam !== undefined && installTeam === served;
  return ours ? { ok: true } : { ok: false, kind: 'other_workspace', origin };
}

const REFUSAL_TEXT: Record<Exclude<Admission, { ok: true }>['kind'], string> = {
  org_wide:
    ':no_entry_sign: This bot is installed for a whole Enterprise Grid organisation, which it does not support. Ask its operators to install it to one workspace.',
  external_user:
    ':no_entry_sign: Only members of the workspace this bot is installed in can use it; your account belongs to another workspace or organisation (Slack Connect). Nothing was changed.',
  other_workspace: ':no_entry_sign: This bot does not serve this workspace. Nothing was changed.',
};

export function teamGuard(teamId: string | undefined, logger: Logger): Middleware<AnyMiddlewareArgs> {
  return async (args) => {
    const admission = admit(originOf(args.body), teamId);
    if (admission.ok) {
      await args.next();
      return;
    }
    const { origin, kind } = admission;
    logger.warn('refused a payload from outside the workspace served', {
      kind,
      userTeam: origin.userTeam ?? null,
      installTeam: origin.installTeam ?? null,
      enterprise: origin.enterprise ?? null,
    });
    await refuse(args, REFUSAL_TEXT[kind], logger);
  };
}

/** Answer within the 3 seconds, and say why: in the command's answer, the modal, or ephemerally for a click. */
async function refuse(args: AnyMiddlewareArgs, text: string, logger: Logger): Promise<void> {
  const ack = 'ack' in args && typeof args.ack === 'function' ? (args.ack as (r?: unknown) => Promise<void>) : null;
  const body = args.body as { type?: unknown };
  if ('command' in args) {
    await ack?.({ response_type: 'ephemeral', text });
    return;
  }
  if (body.type === 'view_submission') {
    await ack?.({
      response_action: 'update',
      view: {
        type: 'modal',
        title: { type: 'plain_text', text: 'Not allowed' },
        close: { type: 'plain_text', text: 'Close' },
        blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }],
      },
    });
    return;
  }
  await ack?.();
  const respond = 'respond' in args ? (args.respond as RespondFn | undefined) : undefined;
  if (!respond) return;
  try {
    await respond({ response_type: 'ephemeral', replace_original: false, text });
  } catch (error) {
    logger.warn('could not tell a refused user why', errorFields(error));
  }
}
