// The bot's settings: a pure function of the environment (docs/DESIGN.md §2), every problem reported at once.
import { z } from 'zod';
import {
  bool,
  channelIds,
  duration,
  httpUrl,
  integer,
  optional,
  regex,
  required,
  strictBool,
  ticketPattern,
  ticketUrlTemplate,
  token,
  usergroupIds,
  userIds,
  webhookSecret,
} from './config-fields';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Policy {
  approverUserIds: string[];
  approverUsergroupIds: string[];
  approvalsRequired: number;
  requesterUserIds: string[];
  requesterUsergroupIds: string[];
  allowedChannelIds: string[];
  requestTtlMs: number;
  customerIdPattern: RegExp;
  executionDelayMs: number;
  maxPendingPerRequester: number;
  maxDeletionsPerDay: number;
  dryRun: boolean;
  /** The first reminder to the approvers of an undecided request (then twice that, …); 0: none. */
  remindAfterMs: number;
  /** REASON_REQUIRED: a request without a reason is refused. */
  reasonRequired: boolean;
  /** TICKET_PATTERN and its companions; null: no ticket is asked for. */
  ticket: TicketPolicy | null;
}

/** Each request names its ticket in its reason: the first match of `pattern` is stored as the request's ticket. */
export interface TicketPolicy {
  pattern: RegExp;
  /** TICKET_EXAMPLE: shown in the refusal, so people see exactly what is expected. */
  example: string | null;
  /** TICKET_URL_TEMPLATE, with `{ticket}` where the ticket goes; null: the ticket is shown as text. */
  urlTemplate: string | null;
}

export interface Config {
  slack: {
    botToken: string;
    signingSecret: string | undefined;
    appToken: string | undefined;
    apiUrl: string;
    teamId: string | undefined;
  };
  botpenguin: { token: string; apiUrl: string; timeoutMs: number };
  policy: Policy;
  store: StoreSettings;
  port: number;
  /** Where GET /metrics is served; undefined: metrics are off and nothing listens for them. */
  metricsPort: number | undefined;
  /** Send the requester a direct message when their request ends (or becomes uncertain). */
  notifyRequester: boolean;
  /** Where every trail event is POSTed, signed (Standard Webhooks); null: nothing is pushed. */
  auditWebhook: AuditWebhookSettings | null;
  logLevel: LogLevel;
  /** Every secret value as given and as used (trimmed), for the logger to redact. */
  secrets: string[];
}

export interface StoreSettings {
  databaseUrl: string | undefined;
  sqlitePath: string;
  /** Most PostgreSQL connections this instance opens. */
  poolMax: number;
  /** false: TLS without verifying the server certificate (Heroku); undefined: the URL's sslmode decides. */
  sslRejectUnauthorized: boolean | undefined;
}

export interface AuditWebhookSettings {
  url: string;
  /** `whsec_` and the base64 key, as the standardwebhooks package takes it. */
  secret: string;
}

/** Values that must never be printed, whatever goes wrong. */
export const SECRET_VARIABLES = [
  'SLACK_BOT_TOKEN',
  'SLACK_SIGNING_SECRET',
  'SLACK_APP_TOKEN',
  'BOTPENGUIN_API_TOKEN',
  'DATABASE_URL',
  'AUDIT_WEBHOOK_SECRET',
  // SIEM intake URLs often carry their token in the path or query string.
  'AUDIT_WEBHOOK_URL',
] as const;

// An empty `FOO=` line in .env means "not set".
const storeShape = {
  DATABASE_URL: optional(
    z
      .string()
      .trim()
      .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL'),
  ),
  SQLITE_PATH: optional(z.string().trim()),
  DATABASE_POOL_MAX: optional(integer(1, 100)),
  PGSSL_REJECT_UNAUTHORIZED: optional(strictBool),
};

const shape = {
  SLACK_BOT_TOKEN: required(token('xoxb-')),
  SLACK_SIGNING_SECRET: optional(z.string().trim()),
  SLACK_APP_TOKEN: optional(token('xapp-')),
  SLACK_API_URL: optional(httpUrl),
  SLACK_TEAM_ID: optional(
    z
      .string()
      .trim()
      .regex(/^[TE][A-Z0-9]{2,}$/, 'must be a Slack team id like T0123ABCD (or an Enterprise Grid id, E…)'),
  ),
  BOTPENGUIN_API_TOKEN: required(
    z
      .string()
      .trim()
      .refine((v) => !/\s/.test(v), 'must not contain spaces'),
  ),
  BOTPENGUIN_API_URL: optional(httpUrl),
  BOTPENGUIN_TIMEOUT_MS: optional(integer(100, 120_000)),
  APPROVER_USER_IDS: optional(userIds),
  APPROVER_USERGROUP_IDS: optional(usergroupIds),
  APPROVALS_REQUIRED: optional(integer(1, 10)),
  REQUESTER_USER_IDS: optional(userIds),
  REQUESTER_USERGROUP_IDS: optional(usergroupIds),
  ALLOWED_CHANNEL_IDS: optional(channelIds),
  REQUEST_TTL: optional(duration(false)),
  CUSTOMER_ID_PATTERN: optional(regex),
  EXECUTION_DELAY: optional(duration(true)),
  MAX_PENDING_PER_REQUESTER: optional(integer(1, 1000)),
  MAX_DELETIONS_PER_DAY: optional(integer(0, 100_000)),
  REMIND_AFTER: optional(duration(true)),
  NOTIFY_REQUESTER: optional(bool),
  ...storeShape,
  DRY_RUN: optional(bool),
  REASON_REQUIRED: optional(bool),
  TICKET_PATTERN: optional(ticketPattern),
  TICKET_EXAMPLE: optional(z.string().trim().max(100, 'must be at most 100 characters')),
  TICKET_URL_TEMPLATE: optional(ticketUrlTemplate),
  PORT: optional(integer(0, 65_535)),
  METRICS_PORT: optional(integer(0, 65_535)),
  AUDIT_WEBHOOK_URL: optional(httpUrl),
  AUDIT_WEBHOOK_SECRET: optional(webhookSecret),
  LOG_LEVEL: optional(z.enum(['debug', 'info', 'warn', 'error'], 'must be one of debug, info, warn, error')),
};

/** Every variable the bot reads (test-only BP_DELETE_TEST_* aside); README and .env.example list the same. */
export const SETTING_VARIABLES = Object.keys(shape) as ReadonlyArray<keyof typeof shape>;

const schema = z.object(shape).superRefine(
  (env, ctx) => {
    if (!env.SLACK_APP_TOKEN && !env.SLACK_SIGNING_SECRET) {
      ctx.addIssue({
        code: 'custom',
        path: ['SLACK_SIGNING_SECRET'],
        message: 'is required in HTTP mode (set it, or set SLACK_APP_TOKEN for Socket Mode)',
      });
    }
    // One without the other would either push unsigned events or sign for nobody.
    if (env.AUDIT_WEBHOOK_URL === undefined && env.AUDIT_WEBHOOK_SECRET !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['AUDIT_WEBHOOK_URL'],
        message: 'is required when AUDIT_WEBHOOK_SECRET is set',
      });
    }
    if (env.AUDIT_WEBHOOK_SECRET === undefined && env.AUDIT_WEBHOOK_URL !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['AUDIT_WEBHOOK_SECRET'],
        message: 'is required when AUDIT_WEBHOOK_URL is set: every delivery is signed',
      });
    }
    ticketIssues(env, ctx);
    const port = typeof env.PORT === 'number' ? env.PORT : 3000;
    if (typeof env.METRICS_PORT === 'number' && env.METRICS_PORT !== 0 && env.METRICS_PORT === port) {
      ctx.addIssue({
        code: 'custom',
        path: ['METRICS_PORT'],
        message: 'must differ from PORT: metrics are served apart from the Slack endpoints',
      });
    }
    // Fields that failed their own check arrive here unparsed: only reason about parsed lists.
    const listOf = (value: unknown): string[] | null =>
      value === undefined ? [] : Array.isArray(value) ? value : null;
    const approvers = listOf(env.APPROVER_USER_IDS);
    const groups = listOf(env.APPROVER_USERGROUP_IDS);
    if (approvers === null || groups === null) return;
    if (approvers.length === 0 && groups.length === 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['APPROVER_USER_IDS'],
        message: 'or APPROVER_USERGROUP_IDS is required: somebody must be allowed to approve',
      });
    }
    // With groups, who can approve is only known at a click; without, count the listed users.
    if (groups.length > 0 || approvers.length === 0) return;
    const needed = typeof env.APPROVALS_REQUIRED === 'number' ? env.APPROVALS_REQUIRED : 1;
    if (approvers.length < needed) {
      ctx.addIssue({
        code: 'custom',
        path: ['APPROVALS_REQUIRED'],
        message: `is ${needed} but APPROVER_USER_IDS lists only ${approvers.length} approver(s): no request could ever be approved`,
      });
      return;
    }
    // The requester never counts, so a raised quorum must also be reachable for a request made by a
    // listed approver (unless requesters are listed users none of whom approves). A quorum of 1 with
    // one approver is the documented minimal set-up and stays allowed.
    const requesters = listOf(env.REQUESTER_USER_IDS);
    const requesterGroups = listOf(env.REQUESTER_USERGROUP_IDS);
    const approverMayAsk =
      requesters === null ||
      requesterGroups === null ||
      requesterGroups.length > 0 ||
      requesters.length === 0 ||
      requesters.some((id) => approvers.includes(id));
    if (needed >= 2 && approverMayAsk && approvers.length < needed + 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['APPROVALS_REQUIRED'],
        message:
          `is ${needed} but APPROVER_USER_IDS lists only ${approvers.length} approver(s): a request made by one of ` +
          `them could never get ${needed} approvals from the others (list at least ${needed + 1} approvers, ` +
          'lower APPROVALS_REQUIRED, add APPROVER_USERGROUP_IDS, or limit REQUESTER_USER_IDS to non-approvers)',
      });
    }
  },
  // Run even when a field failed, so a missing secret or approver list is reported with the rest.
  { when: () => true },
);

/** TICKET_EXAMPLE and TICKET_URL_TEMPLATE only mean something with a TICKET_PATTERN the example matches. */
function ticketIssues(
  env: { TICKET_PATTERN?: unknown; TICKET_EXAMPLE?: unknown; TICKET_URL_TEMPLATE?: unknown },
  ctx: z.RefinementCtx,
): void {
  for (const name of ['TICKET_EXAMPLE', 'TICKET_URL_TEMPLATE'] as const) {
    if (env[name] !== undefined && env.TICKET_PATTERN === undefined) {
      ctx.addIssue({ code: 'custom', path: [name], message: 'needs TICKET_PATTERN' });
    }
  }
  const { TICKET_PATTERN: pattern, TICKET_EXAMPLE: example } = env;
  if (pattern instanceof RegExp && typeof example === 'string' && !pattern.test(example)) {
    ctx.addIssue({ code: 'custom', path: ['TICKET_EXAMPLE'], message: 'does not match TICKET_PATTERN' });
  }
}

/**
 * The secrets as given and as used: the app uses trimmed values, so a token pasted with a trailing
 * newline must be redacted in both forms (JSON log lines escape the newline, so only the trimmed one matches).
 */
function secretValues(env: NodeJS.ProcessEnv): string[] {
  const values = SECRET_VARIABLES.flatMap((name) => {
    const raw = env[name];
    return raw === undefined ? [] : [raw, raw.trim()];
  });
  return [...new Set(values.filter((v) => v.trim() !== ''))];
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; errors: string[] };

// Messages are ours (never zod's defaults that might quote the input), so no value can leak.
const errorsOf = (error: z.ZodError): string[] => [
  ...new Set(error.issues.map((issue) => `${String(issue.path[0] ?? 'config')}: ${issue.message}`)),
];

function storeSettings(e: z.infer<z.ZodObject<typeof storeShape>>): StoreSettings {
  return {
    databaseUrl: e.DATABASE_URL,
    sqlitePath: e.SQLITE_PATH ?? './data/bp-delete.sqlite',
    poolMax: e.DATABASE_POOL_MAX ?? 10,
    sslRejectUnauthorized: e.PGSSL_REJECT_UNAUTHORIZED,
  };
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): ConfigResult {
  const parsed = schema.safeParse(env);
  if (!parsed.success) return { ok: false, errors: errorsOf(parsed.error) };
  const e = parsed.data;
  const slackApiUrl = e.SLACK_API_URL ?? 'https://slack.com/api/';
  return {
    ok: true,
    config: {
      slack: {
        botToken: e.SLACK_BOT_TOKEN,
        signingSecret: e.SLACK_SIGNING_SECRET,
        appToken: e.SLACK_APP_TOKEN,
        apiUrl: slackApiUrl.endsWith('/') ? slackApiUrl : `${slackApiUrl}/`,
        teamId: e.SLACK_TEAM_ID,
      },
      botpenguin: {
        token: e.BOTPENGUIN_API_TOKEN,
        apiUrl: (e.BOTPENGUIN_API_URL ?? 'https://api.v7.botpenguin.com').replace(/\/+$/, ''),
        timeoutMs: e.BOTPENGUIN_TIMEOUT_MS ?? 10_000,
      },
      policy: {
        approverUserIds: e.APPROVER_USER_IDS ?? [],
        approverUsergroupIds: e.APPROVER_USERGROUP_IDS ?? [],
        approvalsRequired: e.APPROVALS_REQUIRED ?? 1,
        requesterUserIds: e.REQUESTER_USER_IDS ?? [],
        requesterUsergroupIds: e.REQUESTER_USERGROUP_IDS ?? [],
        allowedChannelIds: e.ALLOWED_CHANNEL_IDS ?? [],
        requestTtlMs: e.REQUEST_TTL ?? 24 * 3_600_000,
        customerIdPattern: e.CUSTOMER_ID_PATTERN ?? /^[0-9a-fA-F]{24}$/,
        executionDelayMs: e.EXECUTION_DELAY ?? 0,
        maxPendingPerRequester: e.MAX_PENDING_PER_REQUESTER ?? 5,
        maxDeletionsPerDay: e.MAX_DELETIONS_PER_DAY ?? 50,
        dryRun: e.DRY_RUN ?? false,
        remindAfterMs: e.REMIND_AFTER ?? 3_600_000,
        reasonRequired: e.REASON_REQUIRED ?? false,
        ticket: e.TICKET_PATTERN
          ? {
              pattern: e.TICKET_PATTERN,
              example: e.TICKET_EXAMPLE ?? null,
              urlTemplate: e.TICKET_URL_TEMPLATE ?? null,
            }
          : null,
      },
      store: storeSettings(e),
      port: e.PORT ?? 3000,
      metricsPort: e.METRICS_PORT,
      notifyRequester: e.NOTIFY_REQUESTER ?? true,
      auditWebhook:
        e.AUDIT_WEBHOOK_URL !== undefined && e.AUDIT_WEBHOOK_SECRET !== undefined
          ? { url: e.AUDIT_WEBHOOK_URL, secret: e.AUDIT_WEBHOOK_SECRET }
          : null,
      logLevel: e.LOG_LEVEL ?? 'info',
      secrets: secretValues(env),
    },
  };
}

export type StoreConfigResult =
  | { ok: true; config: Pick<Config, 'store' | 'secrets'> }
  | { ok: false; errors: string[] };

/**
 * Only the store's settings, read and checked as loadConfig reads them, for tools that open the store
 * without running the bot (the audit export): a missing Slack or BotPenguin token is no problem there.
 */
export function loadStoreConfig(env: NodeJS.ProcessEnv = process.env): StoreConfigResult {
  const parsed = z.object(storeShape).safeParse(env);
  if (!parsed.success) return { ok: false, errors: errorsOf(parsed.error) };
  return { ok: true, config: { store: storeSettings(parsed.data), secrets: secretValues(env) } };
}
