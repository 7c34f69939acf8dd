// Sends the bot what Slack would: slash commands, button clicks (on a message or a Home tab) and modal
// submissions, form-encoded, and Events API events (app_home_opened) as JSON, all signed with the signing
// secret exactly as Slack signs them (v0, HMAC-SHA256).
import { createHmac } from 'node:crypto';

export interface SentResponse {
  status: number;
  text: string;
  json: unknown;
  ms: number;
}

export interface Where {
  channel?: string;
  /** The workspace the payload is from (`team.id`; a command's `team_id`). */
  team?: string;
  messageTs?: string;
  responseUrl?: string;
  /** The acting user's workspace (`user.team_id`) when not `team`: a Slack Connect external user. */
  userTeam?: string;
  /** Enterprise Grid: the organisation (`team.enterprise_id`, `enterprise.id`; a command's `enterprise_id`). */
  enterprise?: string;
  /** An org-wide install: `team` null, `user.team_id` the organisation, `is_enterprise_install` true. */
  orgWide?: boolean;
  /** A view's `app_installed_team_id` when not `team` (a modal submitted from a Slack Connect channel). */
  installTeam?: string;
}

/**
 * A command's text as Slack sends what a person typed: `&`, `<` and `>` become `&amp;`, `&lt;` and `&gt;`
 * ("Formatting text for app surfaces" → "Escaping text"). `command()` sends its text as given, so tests can
 * also send the `<…>` sequences only Slack itself writes.
 */
export function asSlackSends(typed: string): string {
  return typed.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function signSlackRequest(secret: string, body: string, timestamp = Math.floor(Date.now() / 1000)) {
  const signature = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  return { 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': signature };
}

export class SlackSender {
  private seq = 0;

  constructor(
    readonly eventsUrl: string,
    private readonly signingSecret: string,
    readonly defaults: {
      channel: string;
      team: string;
      responseUrl: (id: string) => string;
      /** The block_id of the button with this action_id in the message Slack posted, as Slack sends it back. */
      blockIdOf?: (channel: string, messageTs: string, actionId: string) => string | undefined;
    },
  ) {}

  /** POST a body with the given headers as is (for signature tests). */
  async raw(body: string, headers: Record<string, string>): Promise<SentResponse> {
    const started = performance.now();
    const res = await fetch(this.eventsUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body,
    });
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    return { status: res.status, text, json, ms: performance.now() - started };
  }

  signed(body: string, timestamp?: number): Promise<SentResponse> {
    return this.raw(body, signSlackRequest(this.signingSecret, body, timestamp));
  }

  commandBody(user: string, text: string, where: Where = {}): string {
    const n = ++this.seq;
    return new URLSearchParams({
      token: 'deprecated-verification-token',
      team_id: where.team ?? this.defaults.team,
      team_domain: 'example',
      channel_id: where.channel ?? this.defaults.channel,
      channel_name: 'ops',
      user_id: user,
      user_name: user.toLowerCase(),
      command: '/bp-delete',
      text,
      api_app_id: 'A0BPDELETE',
      is_enterprise_install: String(where.orgWide === true),
      ...(where.enterprise ? { enterprise_id: where.enterprise, enterprise_name: 'Example Org' } : {}),
      response_url: where.responseUrl ?? this.defaults.responseUrl(`c${n}`),
      trigger_id: `${n}.111.abc`,
    }).toString();
  }

  command(user: string, text: string, where: Where = {}): Promise<SentResponse> {
    return this.signed(this.commandBody(user, text, where));
  }

  clickPayload(user: string, actionId: string, value: string, where: Where = {}): Record<string, unknown> {
    const n = ++this.seq;
    const channel = where.channel ?? this.defaults.channel;
    const team = where.team ?? this.defaults.team;
    const messageTs = where.messageTs ?? '1700000001.000001';
    const blockId = this.defaults.blockIdOf?.(channel, messageTs, actionId) ?? 'decide';
    return {
      type: 'block_actions',
      user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: userTeamOf(where, team) },
      api_app_id: 'A0BPDELETE',
      token: 'deprecated-verification-token',
      container: { type: 'message', message_ts: messageTs, channel_id: channel, is_ephemeral: false },
      trigger_id: `${n}.222.def`,
      ...teamFields(where, team),
      channel: { id: channel, name: 'ops' },
      message: { type: 'message', ts: messageTs, text: 'approval message' },
      state: { values: {} },
      response_url: where.responseUrl ?? this.defaults.responseUrl(`a${n}`),
      actions: [
        {
          action_id: actionId,
          block_id: blockId,
          text: { type: 'plain_text', text: 'button', emoji: true },
          value,
          type: 'button',
          action_ts: `${Date.now() / 1000}`,
        },
      ],
    };
  }

  click(user: string, actionId: string, value: string, where: Where = {}): Promise<SentResponse> {
    return this.signedPayload(this.clickPayload(user, actionId, value, where));
  }

  viewSubmission(
    user: string,
    view: { callback_id: string; private_metadata: string },
    values: Record<string, Record<string, unknown>>,
    where: Where = {},
  ) {
    const team = where.team ?? this.defaults.team;
    return this.signedPayload({
      type: 'view_submission',
      ...teamFields(where, team),
      user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: userTeamOf(where, team) },
      api_app_id: 'A0BPDELETE',
      token: 'deprecated-verification-token',
      trigger_id: `${++this.seq}.333.ghi`,
      view: {
        id: 'V0DENY',
        team_id: team,
        app_id: 'A0BPDELETE',
        app_installed_team_id: where.installTeam ?? team,
        bot_id: 'B0BPDELETE',
        type: 'modal',
        callback_id: view.callback_id,
        private_metadata: view.private_metadata,
        state: { values },
        hash: 'h',
        title: { type: 'plain_text', text: 'Deny deletion' },
        blocks: [],
      },
      response_urls: [],
    });
  }

  /**
   * The Events API envelope of `app_home_opened` (docs: reference/events/app_home_opened), sent as JSON.
   * `tab` is 'messages' when the person opened the Messages tab instead; `view` is the Home tab they see, if any.
   */
  appHomeOpened(user: string, where: Where & { tab?: 'home' | 'messages'; view?: unknown } = {}) {
    const team = where.team ?? this.defaults.team;
    const n = ++this.seq;
    const body = JSON.stringify({
      token: 'deprecated-verification-token',
      team_id: team,
      ...(where.enterprise ? { enterprise_id: where.enterprise } : {}),
      api_app_id: 'A0BPDELETE',
      event: {
        type: 'app_home_opened',
        user,
        channel: `D0${user}`,
        tab: where.tab ?? 'home',
        event_ts: `${Date.now() / 1000}`,
        ...(where.view ? { view: where.view } : {}),
      },
      type: 'event_callback',
      event_id: `Ev0HOME${n}`,
      event_time: Math.floor(Date.now() / 1000),
      authorizations: [
        {
          enterprise_id: where.enterprise ?? null,
          team_id: team,
          user_id: 'UBOT',
          is_bot: true,
          is_enterprise_install: false,
        },
      ],
      is_ext_shared_channel: false,
      event_context: `4-home-${n}`,
    });
    return this.raw(body, { 'content-type': 'application/json', ...signSlackRequest(this.signingSecret, body) });
  }

  /**
   * A click on a button of a published Home tab, as Slack sends it: container type `view`, the view itself,
   * no channel, no response_url. The button (its block_id and value) is read from `view`.
   */
  homeClickPayload(user: string, view: unknown, actionId: string, where: Where = {}): Record<string, unknown> {
    const team = where.team ?? this.defaults.team;
    const blocks = ((view as { blocks?: unknown[] } | null)?.blocks ?? []) as {
      block_id?: string;
      elements?: { action_id?: string; value?: string; text?: unknown; style?: string }[];
    }[];
    const block = blocks.find((b) => b.elements?.some((e) => e.action_id === actionId));
    const button = block?.elements?.find((e) => e.action_id === actionId);
    if (!block || !button) throw new Error(`no button ${actionId} in this Home tab`);
    const viewId = `VHOME${user}`;
    return {
      type: 'block_actions',
      user: { id: user, username: user.toLowerCase(), name: user.toLowerCase(), team_id: userTeamOf(where, team) },
      api_app_id: 'A0BPDELETE',
      token: 'deprecated-verification-token',
      container: { type: 'view', view_id: viewId },
      trigger_id: `${++this.seq}.444.jkl`,
      ...teamFields(where, team),
      view: {
        id: viewId,
        team_id: team,
        type: 'home',
        blocks,
        private_metadata: '',
        callback_id: '',
        state: { values: {} },
        hash: `${this.seq}.home`,
        title: { type: 'plain_text', text: 'View Title', emoji: true },
        clear_on_close: false,
        notify_on_close: false,
        close: null,
        submit: null,
        previous_view_id: null,
        root_view_id: viewId,
        app_id: 'A0BPDELETE',
        external_id: '',
        app_installed_team_id: where.installTeam ?? team,
        bot_id: 'B0BPDELETE',
      },
      actions: [
        {
          action_id: actionId,
          block_id: block.block_id,
          text: button.text,
          value: button.value,
          ...(button.style ? { style: button.style } : {}),
          type: 'button',
          action_ts: `${Date.now() / 1000}`,
        },
      ],
    };
  }

  homeClick(user: string, view: unknown, actionId: string, where: Where = {}): Promise<SentResponse> {
    return this.signedPayload(this.homeClickPayload(user, view, actionId, where));
  }

  signedPayload(payload: unknown): Promise<SentResponse> {
    return this.signed(new URLSearchParams({ payload: JSON.stringify(payload) }).toString());
  }
}

/** `team`, `enterprise` and `is_enterprise_install` of an interaction payload, as Slack sends them for `where`. */
function teamFields(where: Where, team: string): Record<string, unknown> {
  if (where.orgWide) {
    const id = where.enterprise ?? 'E0SANDBOX';
    return { team: null, enterprise: { id, name: 'Example Org' }, is_enterprise_install: true };
  }
  if (where.enterprise) {
    return {
      team: { id: team, domain: 'example', enterprise_id: where.enterprise, enterprise_name: 'Example Org' },
      enterprise: { id: where.enterprise, name: 'Example Org' },
      is_enterprise_install: false,
    };
  }
  return { team: { id: team, domain: 'example' }, enterprise: null, is_enterprise_install: false };
}

function userTeamOf(where: Where, team: string): string {
  if (where.orgWide) return where.enterprise ?? 'E0SANDBOX';
  return where.userTeam ?? team;
}
