// docs/DESIGN.md §2: configuration is a pure function of the environment; every problem is reported at once,
// each naming its variable, and no secret's value ever appears in what is reported.
import { type Config, loadConfig, SECRET_VARIABLES } from '../../src/config';
import { createLogger } from '../../src/logger';

const MINIMAL: NodeJS.ProcessEnv = {
  SLACK_BOT_TOKEN: 'xoxb-1111-2222-abcdef',
  SLACK_SIGNING_SECRET: '8f742231b10e8888abcd99yyyzzz85a5',
  BOTPENGUIN_API_TOKEN: 'bp-partner-token-123',
  APPROVER_USER_IDS: 'U0APPROVER1',
};

// A Standard Webhooks secret: whsec_ and the base64 of 24 bytes.
const WEBHOOK_SECRET = `whsec_${Buffer.alloc(24, 7).toString('base64')}`;

function configOf(env: NodeJS.ProcessEnv): Config {
  const result = loadConfig(env);
  if (!result.ok) throw new Error(`expected a valid config, got: ${result.errors.join('; ')}`);
  return result.config;
}

function errorsOf(env: NodeJS.ProcessEnv): string[] {
  const result = loadConfig(env);
  if (result.ok) throw new Error('expected the configuration to be refused');
  return result.errors;
}

/** True when some error line is about this variable (its name starts the line). */
const names = (errors: string[], variable: string) =>
  errors.some((e) => e.startsWith(`${variable}:`) || e.startsWith(`${variable} `));

describe('a valid minimal environment gets every default of docs/DESIGN.md §2', () => {
  const config = configOf(MINIMAL);

  it('keeps the required values as given', () => {
    expect(config.slack.botToken).toBe(MINIMAL.SLACK_BOT_TOKEN);
    expect(config.slack.signingSecret).toBe(MINIMAL.SLACK_SIGNING_SECRET);
    expect(config.botpenguin.token).toBe(MINIMAL.BOTPENGUIN_API_TOKEN);
    expect(config.policy.approverUserIds).toEqual(['U0APPROVER1']);
  });

  it('runs in HTTP mode against the real Slack and BotPenguin APIs', () => {
    expect(config.slack.appToken).toBeUndefined();
    expect(config.slack.apiUrl).toBe('https://slack.com/api/');
    expect(config.slack.teamId).toBeUndefined();
    expect(config.botpenguin.apiUrl).toBe('https://api.v7.botpenguin.com');
    expect(config.botpenguin.timeoutMs).toBe(10_000);
  });

  it('needs one approval, lets anyone ask in any channel, and keeps a request 24 hours', () => {
    expect(config.policy.approvalsRequired).toBe(1);
    expect(config.policy.approverUsergroupIds).toEqual([]);
    expect(config.policy.requesterUserIds).toEqual([]);
    expect(config.policy.requesterUsergroupIds).toEqual([]);
    expect(config.policy.allowedChannelIds).toEqual([]);
    expect(config.policy.requestTtlMs).toBe(24 * 60 * 60 * 1000);
  });

  it('accepts 24-hex customer ids (either case) and nothing else', () => {
    expect(config.policy.customerIdPattern.source).toBe('^[0-9a-fA-F]{24}$');
    expect(config.policy.customerIdPattern.test('64b7f0c2e4b0a1b2c3d4e5f6')).toBe(true);
    expect(config.policy.customerIdPattern.test('64B7F0C2E4B0A1B2C3D4E5F6')).toBe(true);
    expect(config.policy.customerIdPattern.test('64b7f0c2e4b0a1b2c3d4e5f')).toBe(false);
  });

  it('deletes without delay, with the default limits, for real, on port 3000 logging at info', () => {
    expect(config.policy.executionDelayMs).toBe(0);
    expect(config.policy.maxPendingPerRequester).toBe(5);
    expect(config.policy.maxDeletionsPerDay).toBe(50);
    expect(config.policy.dryRun).toBe(false);
    expect(config.policy.reasonRequired).toBe(false);
    expect(config.policy.ticket).toBeNull();
    expect(config.port).toBe(3000);
    expect(config.logLevel).toBe('info');
  });

  it('uses the embedded SQLite store', () => {
    expect(config.store.databaseUrl).toBeUndefined();
    expect(config.store.sqlitePath).toBe('./data/bp-delete.sqlite');
  });

  it('would open at most 10 PostgreSQL connections and leave TLS verification to the URL', () => {
    expect(config.store.poolMax).toBe(10);
    expect(config.store.sslRejectUnauthorized).toBeUndefined();
  });

  it('serves no metrics and pushes no audit events', () => {
    expect(config.metricsPort).toBeUndefined();
    expect(config.auditWebhook).toBeNull();
  });

  it('ignores variables that are not its own', () => {
    expect(loadConfig({ ...MINIMAL, PATH: '/usr/bin', HOME: '/root', NODE_ENV: 'test' }).ok).toBe(true);
  });
});

describe('values that are set are used', () => {
  it('reads every optional variable', () => {
    const config = configOf({
      ...MINIMAL,
      SLACK_APP_TOKEN: 'xapp-1-A0123-456-abc',
      SLACK_API_URL: 'http://127.0.0.1:9999/api',
      SLACK_TEAM_ID: 'T0123ABCD',
      BOTPENGUIN_API_URL: 'http://127.0.0.1:8888/partner/',
      BOTPENGUIN_TIMEOUT_MS: '2500',
      APPROVER_USER_IDS: 'U0APPROVER1, U0APPROVER2 ,W0APPROVER3',
      APPROVER_USERGROUP_IDS: 'S0ADMINS',
      APPROVALS_REQUIRED: '2',
      REQUESTER_USER_IDS: 'U0REQ1',
      REQUESTER_USERGROUP_IDS: 'S0SUPPORT',
      ALLOWED_CHANNEL_IDS: 'C0OPS,G0PRIVATE',
      REQUEST_TTL: '15m',
      CUSTOMER_ID_PATTERN: '^cus_[a-z0-9]+$',
      EXECUTION_DELAY: '90s',
      MAX_PENDING_PER_REQUESTER: '2',
      MAX_DELETIONS_PER_DAY: '7',
      DATABASE_URL: 'postgres://bot:pw@db.internal:5432/bp',
      SQLITE_PATH: '/tmp/other.sqlite',
      DATABASE_POOL_MAX: '25',
      PGSSL_REJECT_UNAUTHORIZED: 'false',
      DRY_RUN: 'true',
      PORT: '8080',
      METRICS_PORT: '9464',
      AUDIT_WEBHOOK_URL: 'https://siem.example.com/intake/bp-delete',
      AUDIT_WEBHOOK_SECRET: WEBHOOK_SECRET,
      LOG_LEVEL: 'debug',
    });
    expect(config.slack.appToken).toBe('xapp-1-A0123-456-abc');
    // The Web API base always ends with '/', the BotPenguin base never does (paths are appended to it).
    expect(config.slack.apiUrl).toBe('http://127.0.0.1:9999/api/');
    expect(config.slack.teamId).toBe('T0123ABCD');
    expect(config.botpenguin.apiUrl).toBe('http://127.0.0.1:8888/partner');
    expect(config.botpenguin.timeoutMs).toBe(2500);
    expect(config.policy.approverUserIds).toEqual(['U0APPROVER1', 'U0APPROVER2', 'W0APPROVER3']);
    expect(config.policy.approverUsergroupIds).toEqual(['S0ADMINS']);
    expect(config.policy.approvalsRequired).toBe(2);
    expect(config.policy.requesterUserIds).toEqual(['U0REQ1']);
    expect(config.policy.requesterUsergroupIds).toEqual(['S0SUPPORT']);
    expect(config.policy.allowedChannelIds).toEqual(['C0OPS', 'G0PRIVATE']);
    expect(config.policy.requestTtlMs).toBe(15 * 60_000);
    expect(config.policy.customerIdPattern.test('cus_abc123')).toBe(true);
    expect(config.policy.executionDelayMs).toBe(90_000);
    expect(config.policy.maxPendingPerRequester).toBe(2);
    expect(config.policy.maxDeletionsPerDay).toBe(7);
    expect(config.store.databaseUrl).toBe('postgres://bot:pw@db.internal:5432/bp');
    expect(config.store.sqlitePath).toBe('/tmp/other.sqlite');
    expect(config.store.poolMax).toBe(25);
    expect(config.store.sslRejectUnauthorized).toBe(false);
    expect(config.policy.dryRun).toBe(true);
    expect(config.port).toBe(8080);
    expect(config.metricsPort).toBe(9464);
    expect(config.auditWebhook).toEqual({ url: 'https://siem.example.com/intake/bp-delete', secret: WEBHOOK_SECRET });
    expect(config.logLevel).toBe('debug');
  });

  it.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['yes', true],
    ['false', false],
    ['0', false],
    ['no', false],
  ])('DRY_RUN=%s means %s', (value, expected) => {
    expect(configOf({ ...MINIMAL, DRY_RUN: value }).policy.dryRun).toBe(expected);
  });

  it.each([
    ['90s', 90_000],
    ['24h', 86_400_000],
    ['7d', 7 * 86_400_000],
  ])('REQUEST_TTL=%s is %d ms', (value, ms) => {
    expect(configOf({ ...MINIMAL, REQUEST_TTL: value }).policy.requestTtlMs).toBe(ms);
  });

  it('EXECUTION_DELAY may be 0s (no cool-down)', () => {
    expect(configOf({ ...MINIMAL, EXECUTION_DELAY: '0s' }).policy.executionDelayMs).toBe(0);
  });

  it.each([
    ['1', 1],
    ['100', 100],
    [' 42 ', 42],
  ])('DATABASE_POOL_MAX=%p is %d connections', (value, n) => {
    expect(configOf({ ...MINIMAL, DATABASE_POOL_MAX: value }).store.poolMax).toBe(n);
  });

  it.each([
    ['true', true],
    ['TRUE', true],
    ['1', true],
    ['false', false],
    ['False', false],
    ['0', false],
  ])('PGSSL_REJECT_UNAUTHORIZED=%s means %s', (value, expected) => {
    expect(configOf({ ...MINIMAL, PGSSL_REJECT_UNAUTHORIZED: value }).store.sslRejectUnauthorized).toBe(expected);
  });

  it('postgresql:// is accepted as well as postgres://', () => {
    expect(configOf({ ...MINIMAL, DATABASE_URL: 'postgresql://db/bp' }).store.databaseUrl).toBe('postgresql://db/bp');
  });
});

describe('a missing required variable is named', () => {
  it.each(['SLACK_BOT_TOKEN', 'BOTPENGUIN_API_TOKEN'])('%s missing', (variable) => {
    const env = { ...MINIMAL };
    delete env[variable];
    const errors = errorsOf(env);
    expect(names(errors, variable)).toBe(true);
    expect(errors).toHaveLength(1);
  });

  it('SLACK_SIGNING_SECRET missing in HTTP mode', () => {
    const { SLACK_SIGNING_SECRET: _, ...env } = MINIMAL;
    expect(names(errorsOf(env), 'SLACK_SIGNING_SECRET')).toBe(true);
  });

  it('neither APPROVER_USER_IDS nor APPROVER_USERGROUP_IDS: nobody could approve', () => {
    const { APPROVER_USER_IDS: _, ...env } = MINIMAL;
    const errors = errorsOf(env);
    expect(names(errors, 'APPROVER_USER_IDS')).toBe(true);
    expect(errors.join('\n')).toContain('APPROVER_USERGROUP_IDS');
  });

  it('approvers given only as a user group are enough', () => {
    const { APPROVER_USER_IDS: _, ...env } = MINIMAL;
    const config = configOf({ ...env, APPROVER_USERGROUP_IDS: 'S0ADMINS' });
    expect(config.policy.approverUserIds).toEqual([]);
    expect(config.policy.approverUsergroupIds).toEqual(['S0ADMINS']);
  });

  it('an approvers list of only commas counts as no approvers', () => {
    expect(names(errorsOf({ ...MINIMAL, APPROVER_USER_IDS: ' , ,' }), 'APPROVER_USER_IDS')).toBe(true);
  });
});

describe('several problems are reported at once', () => {
  it('an environment with three different mistakes gets three errors', () => {
    const errors = errorsOf({
      ...MINIMAL,
      SLACK_BOT_TOKEN: 'xoxp-wrong-kind',
      PORT: '70000',
      LOG_LEVEL: 'verbose',
    });
    expect(names(errors, 'SLACK_BOT_TOKEN')).toBe(true);
    expect(names(errors, 'PORT')).toBe(true);
    expect(names(errors, 'LOG_LEVEL')).toBe(true);
    expect(errors).toHaveLength(3);
  });

  it('both required tokens missing: both named', () => {
    const errors = errorsOf({ SLACK_SIGNING_SECRET: 'sig', APPROVER_USER_IDS: 'U0APPROVER1' });
    expect(names(errors, 'SLACK_BOT_TOKEN')).toBe(true);
    expect(names(errors, 'BOTPENGUIN_API_TOKEN')).toBe(true);
  });

  it('an empty environment names every required variable, including the HTTP-mode secret and the approvers', () => {
    const errors = errorsOf({});
    for (const variable of ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'BOTPENGUIN_API_TOKEN', 'APPROVER_USER_IDS']) {
      expect(names(errors, variable)).toBe(true);
    }
  });

  it('a bad value elsewhere does not hide a missing signing secret or missing approvers', () => {
    const errors = errorsOf({ SLACK_BOT_TOKEN: 'xoxb-1', BOTPENGUIN_API_TOKEN: 'tok', PORT: 'eighty' });
    expect(names(errors, 'PORT')).toBe(true);
    expect(names(errors, 'SLACK_SIGNING_SECRET')).toBe(true);
    expect(names(errors, 'APPROVER_USER_IDS')).toBe(true);
  });
});

describe('every invalid value names its variable', () => {
  it.each<[string, string]>([
    ['SLACK_BOT_TOKEN', 'xoxp-user-token'],
    ['SLACK_BOT_TOKEN', 'xoxb-with space'],
    ['SLACK_APP_TOKEN', 'xoxb-not-an-app-token'],
    ['SLACK_API_URL', 'not a url'],
    ['SLACK_API_URL', 'ftp://slack.com/api/'],
    ['SLACK_TEAM_ID', 'acme'],
    ['BOTPENGUIN_API_TOKEN', 'two words'],
    ['BOTPENGUIN_API_URL', 'api.v7.botpenguin.com'],
    ['BOTPENGUIN_TIMEOUT_MS', 'ten seconds'],
    ['BOTPENGUIN_TIMEOUT_MS', '-5'],
    ['APPROVER_USER_IDS', 'alice,bob'],
    ['APPROVER_USER_IDS', 'U0APPROVER1,#ops'],
    ['APPROVER_USERGROUP_IDS', 'U0NOTAGROUP'],
    ['APPROVALS_REQUIRED', '0'],
    ['APPROVALS_REQUIRED', 'two'],
    ['APPROVALS_REQUIRED', '1.5'],
    ['REQUESTER_USER_IDS', 'everyone'],
    ['REQUESTER_USERGROUP_IDS', 'support-team'],
    ['ALLOWED_CHANNEL_IDS', '#general'],
    ['REQUEST_TTL', '10x'],
    ['REQUEST_TTL', '0s'],
    ['REQUEST_TTL', '-1h'],
    ['REQUEST_TTL', '1.5h'],
    ['REQUEST_TTL', '24'],
    ['CUSTOMER_ID_PATTERN', '([0-9a-f'],
    ['EXECUTION_DELAY', '10x'],
    ['EXECUTION_DELAY', 'soon'],
    ['MAX_PENDING_PER_REQUESTER', '0'],
    ['MAX_PENDING_PER_REQUESTER', 'many'],
    ['MAX_DELETIONS_PER_DAY', '-1'],
    ['DATABASE_URL', 'mysql://db/bp'],
    ['DATABASE_POOL_MAX', '0'],
    ['DATABASE_POOL_MAX', '101'],
    ['DATABASE_POOL_MAX', '2.5'],
    ['DATABASE_POOL_MAX', 'ten'],
    ['PGSSL_REJECT_UNAUTHORIZED', 'yes'],
    ['PGSSL_REJECT_UNAUTHORIZED', 'no-verify'],
    ['DRY_RUN', 'maybe'],
    ['REASON_REQUIRED', 'sometimes'],
    ['TICKET_PATTERN', '(DSR-'],
    ['TICKET_PATTERN', 'DSR-\\d*|'],
    ['PORT', '70000'],
    ['PORT', 'http'],
    ['LOG_LEVEL', 'verbose'],
    ['METRICS_PORT', '70000'],
    ['METRICS_PORT', 'metrics'],
    ['AUDIT_WEBHOOK_URL', 'siem.example.com/intake'],
    ['AUDIT_WEBHOOK_URL', 'ftp://siem.example.com/'],
    ['AUDIT_WEBHOOK_SECRET', 'plain-shared-secret'],
    ['AUDIT_WEBHOOK_SECRET', 'whsec_not base64!'],
    ['AUDIT_WEBHOOK_SECRET', `whsec_${Buffer.alloc(8).toString('base64')}`],
    ['AUDIT_WEBHOOK_SECRET', `whsec_${Buffer.alloc(100).toString('base64')}`],
  ])('%s=%p', (variable, value) => {
    const errors = errorsOf({ ...MINIMAL, [variable]: value });
    expect(names(errors, variable)).toBe(true);
    // …and says what is wrong, not just the name.
    for (const line of errors) expect(line.length).toBeGreaterThan(variable.length + 5);
  });
});

describe('the ticket policy (TICKET_PATTERN and its companions)', () => {
  const TICKET = { TICKET_PATTERN: '\\bDSR-\\d+\\b' };

  it('a pattern, an example and a link template are read together; REASON_REQUIRED on its own', () => {
    const config = configOf({
      ...MINIMAL,
      ...TICKET,
      TICKET_EXAMPLE: 'DSR-1234',
      TICKET_URL_TEMPLATE: 'https://example.atlassian.net/browse/{ticket}',
      REASON_REQUIRED: 'true',
    });
    expect(config.policy.reasonRequired).toBe(true);
    expect(config.policy.ticket).toEqual({
      pattern: /\bDSR-\d+\b/,
      example: 'DSR-1234',
      urlTemplate: 'https://example.atlassian.net/browse/{ticket}',
    });
    expect(configOf({ ...MINIMAL, ...TICKET }).policy.ticket).toMatchObject({ example: null, urlTemplate: null });
  });

  it.each<[string, NodeJS.ProcessEnv, string]>([
    ['a pattern that matches an empty reason', { TICKET_PATTERN: '(DSR-\\d+)?' }, 'TICKET_PATTERN'],
    ['an example the pattern does not match', { ...TICKET, TICKET_EXAMPLE: 'JIRA-12' }, 'TICKET_EXAMPLE'],
    ['an example without a pattern', { TICKET_EXAMPLE: 'DSR-1234' }, 'TICKET_EXAMPLE'],
    ['a link template without a pattern', { TICKET_URL_TEMPLATE: 'https://t.example/{ticket}' }, 'TICKET_URL_TEMPLATE'],
    [
      'a link template without {ticket}',
      { ...TICKET, TICKET_URL_TEMPLATE: 'https://t.example/browse' },
      'TICKET_URL_TEMPLATE',
    ],
    [
      'a link template with a |',
      { ...TICKET, TICKET_URL_TEMPLATE: 'https://t.example/{ticket}|x' },
      'TICKET_URL_TEMPLATE',
    ],
    [
      'a link template that is no http(s) URL',
      { ...TICKET, TICKET_URL_TEMPLATE: 'javascript:{ticket}' },
      'TICKET_URL_TEMPLATE',
    ],
  ])('%s is a configuration error', (_what, env, variable) => {
    const errors = errorsOf({ ...MINIMAL, ...env });
    expect(names(errors, variable)).toBe(true);
  });
});

describe('Socket Mode makes the signing secret optional', () => {
  it('an app token without a signing secret is valid', () => {
    const { SLACK_SIGNING_SECRET: _, ...env } = MINIMAL;
    const config = configOf({ ...env, SLACK_APP_TOKEN: 'xapp-1-A0123-456-abc' });
    expect(config.slack.appToken).toBe('xapp-1-A0123-456-abc');
    expect(config.slack.signingSecret).toBeUndefined();
  });

  it('a signing secret of only spaces still counts as missing in HTTP mode', () => {
    expect(names(errorsOf({ ...MINIMAL, SLACK_SIGNING_SECRET: '   ' }), 'SLACK_SIGNING_SECRET')).toBe(true);
  });
});

describe('APPROVALS_REQUIRED must be reachable', () => {
  it('more approvals than listed approvers (and no groups) is refused', () => {
    const errors = errorsOf({ ...MINIMAL, APPROVER_USER_IDS: 'U0APPROVER1,U0APPROVER2', APPROVALS_REQUIRED: '3' });
    expect(names(errors, 'APPROVALS_REQUIRED')).toBe(true);
  });

  it('as many approvals as listed approvers is refused: a request by one of them could never be approved', () => {
    const errors = errorsOf({ ...MINIMAL, APPROVER_USER_IDS: 'U0APPROVER1,U0APPROVER2', APPROVALS_REQUIRED: '2' });
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^APPROVALS_REQUIRED: .*lists only 2 approver.*at least 3 approvers/);
  });

  it('one approver more than the quorum is fine', () => {
    const config = configOf({
      ...MINIMAL,
      APPROVER_USER_IDS: 'U0APPROVER1,U0APPROVER2,U0APPROVER3',
      APPROVALS_REQUIRED: '2',
    });
    expect(config.policy.approvalsRequired).toBe(2);
  });

  it('exactly as many approvals as listed approvers is fine when only other users may ask', () => {
    const env = { ...MINIMAL, APPROVER_USER_IDS: 'U0APPROVER1,U0APPROVER2', APPROVALS_REQUIRED: '2' };
    expect(configOf({ ...env, REQUESTER_USER_IDS: 'U0SUPPORT1' }).policy.approvalsRequired).toBe(2);
    // …but not when one of the requesters is an approver, or a requester group may include them.
    expect(names(errorsOf({ ...env, REQUESTER_USER_IDS: 'U0SUPPORT1,U0APPROVER2' }), 'APPROVALS_REQUIRED')).toBe(true);
    expect(names(errorsOf({ ...env, REQUESTER_USERGROUP_IDS: 'S0SUPPORT' }), 'APPROVALS_REQUIRED')).toBe(true);
  });

  it('the minimal set-up, one approver and a quorum of one, is fine', () => {
    expect(configOf(MINIMAL).policy.approvalsRequired).toBe(1);
  });

  it('with an approver group the number cannot be checked at start, so it is accepted', () => {
    const config = configOf({
      ...MINIMAL,
      APPROVER_USER_IDS: 'U0APPROVER1',
      APPROVER_USERGROUP_IDS: 'S0ADMINS',
      APPROVALS_REQUIRED: '3',
    });
    expect(config.policy.approvalsRequired).toBe(3);
  });
});

describe('an empty value counts as unset (an `FOO=` line in .env)', () => {
  it('optional variables set to empty strings get their defaults', () => {
    const config = configOf({
      ...MINIMAL,
      SLACK_APP_TOKEN: '',
      SLACK_API_URL: '',
      SLACK_TEAM_ID: '',
      BOTPENGUIN_API_URL: '',
      BOTPENGUIN_TIMEOUT_MS: '',
      APPROVER_USERGROUP_IDS: '',
      APPROVALS_REQUIRED: '',
      REQUESTER_USER_IDS: '',
      ALLOWED_CHANNEL_IDS: '',
      REQUEST_TTL: '',
      CUSTOMER_ID_PATTERN: '',
      EXECUTION_DELAY: '',
      MAX_PENDING_PER_REQUESTER: '',
      MAX_DELETIONS_PER_DAY: '',
      DATABASE_URL: '',
      SQLITE_PATH: '',
      DATABASE_POOL_MAX: '',
      PGSSL_REJECT_UNAUTHORIZED: ' ',
      DRY_RUN: '',
      PORT: ' ',
      LOG_LEVEL: '',
    });
    expect(config).toEqual(configOf(MINIMAL));
  });

  it('a required variable set to an empty string is reported as missing', () => {
    const errors = errorsOf({ ...MINIMAL, SLACK_BOT_TOKEN: '', BOTPENGUIN_API_TOKEN: '  ' });
    expect(names(errors, 'SLACK_BOT_TOKEN')).toBe(true);
    expect(names(errors, 'BOTPENGUIN_API_TOKEN')).toBe(true);
  });

  it('empty approver lists count as no approvers', () => {
    const errors = errorsOf({ ...MINIMAL, APPROVER_USER_IDS: '', APPROVER_USERGROUP_IDS: '' });
    expect(names(errors, 'APPROVER_USER_IDS')).toBe(true);
  });
});

describe('the audit webhook and the metrics port are checked with the rest', () => {
  it('a URL without a secret is refused: every delivery is signed', () => {
    const errors = errorsOf({ ...MINIMAL, AUDIT_WEBHOOK_URL: 'https://siem.example.com/intake' });
    expect(names(errors, 'AUDIT_WEBHOOK_SECRET')).toBe(true);
  });

  it('a secret without a URL is refused', () => {
    expect(names(errorsOf({ ...MINIMAL, AUDIT_WEBHOOK_SECRET: WEBHOOK_SECRET }), 'AUDIT_WEBHOOK_URL')).toBe(true);
  });

  it('a bad URL and a bad secret are both reported, with the other mistakes, and the secret is not quoted', () => {
    const errors = errorsOf({
      ...MINIMAL,
      AUDIT_WEBHOOK_URL: 'not a url',
      AUDIT_WEBHOOK_SECRET: 'whsec_SECRET-NOT-BASE64',
      PORT: 'nope',
    });
    expect(names(errors, 'AUDIT_WEBHOOK_URL')).toBe(true);
    expect(names(errors, 'AUDIT_WEBHOOK_SECRET')).toBe(true);
    expect(names(errors, 'PORT')).toBe(true);
    expect(errors.join('\n')).not.toContain('SECRET-NOT-BASE64');
  });

  it('METRICS_PORT may not be the Slack port', () => {
    expect(names(errorsOf({ ...MINIMAL, METRICS_PORT: '3000' }), 'METRICS_PORT')).toBe(true);
    expect(names(errorsOf({ ...MINIMAL, PORT: '8080', METRICS_PORT: '8080' }), 'METRICS_PORT')).toBe(true);
    expect(configOf({ ...MINIMAL, PORT: '8080', METRICS_PORT: '3000' }).metricsPort).toBe(3000);
  });

  it('the secret, as given and trimmed, and the URL are redacted from log lines', () => {
    const env = {
      ...MINIMAL,
      AUDIT_WEBHOOK_URL: 'https://siem.example.com/intake?token=URL-TOKEN-1',
      AUDIT_WEBHOOK_SECRET: ` ${WEBHOOK_SECRET}\n`,
    };
    const { secrets, auditWebhook } = configOf(env);
    expect(auditWebhook?.secret).toBe(WEBHOOK_SECRET);
    expect(secrets).toEqual(expect.arrayContaining([env.AUDIT_WEBHOOK_SECRET, WEBHOOK_SECRET, env.AUDIT_WEBHOOK_URL]));
  });
});

describe('no secret value appears in any error text (docs/DESIGN.md §7)', () => {
  // Each secret is invalid in some other way, so that its variable is reported.
  const SECRETS = {
    SLACK_BOT_TOKEN: 'xoxp-SECRET-abc',
    SLACK_APP_TOKEN: 'xoxb-APPSECRET-def',
    BOTPENGUIN_API_TOKEN: 'has SECRET space',
    DATABASE_URL: 'mysql://u:SECRETPW@h/db',
  };
  const SIGNING_SECRET = 'sig-SECRET-0123456789abcdef';

  it('the reported errors name every bad secret variable but quote none of the values', () => {
    const errors = errorsOf({ ...MINIMAL, ...SECRETS, SLACK_SIGNING_SECRET: SIGNING_SECRET, PORT: 'nope' });
    for (const variable of Object.keys(SECRETS)) expect(names(errors, variable)).toBe(true);
    const text = errors.join('\n');
    for (const value of [...Object.values(SECRETS), SIGNING_SECRET]) expect(text).not.toContain(value);
    for (const fragment of ['SECRET-abc', 'APPSECRET', 'has SECRET', 'SECRETPW', 'sig-SECRET', 'u:SECRET']) {
      expect(text).not.toContain(fragment);
    }
  });

  it('a token with spaces is not quoted either, even in part', () => {
    const errors = errorsOf({ ...MINIMAL, SLACK_BOT_TOKEN: 'xoxb-PART1 PART2-SECRET' });
    expect(names(errors, 'SLACK_BOT_TOKEN')).toBe(true);
    expect(errors.join('\n')).not.toMatch(/PART1|PART2/);
  });
});

describe('the logger redacts the secrets the bot actually uses (docs/DESIGN.md §7)', () => {
  function logLine(env: NodeJS.ProcessEnv, fields: Record<string, unknown>): string {
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', secrets: configOf(env).secrets, write: (l) => lines.push(l) });
    logger.error('something failed', fields);
    return lines.join('');
  }

  it('a token pasted with a trailing newline is redacted where the trimmed token appears', () => {
    const token = 'bp-NEWLINE-SECRET-4242';
    const config = configOf({ ...MINIMAL, BOTPENGUIN_API_TOKEN: `${token}\n` });
    expect(config.botpenguin.token).toBe(token);
    const line = logLine(
      { ...MINIMAL, BOTPENGUIN_API_TOKEN: `${token}\n` },
      {
        header: `Bearer ${config.botpenguin.token}`,
      },
    );
    expect(line).toContain('[redacted]');
    expect(line).not.toContain('NEWLINE-SECRET');
  });

  it('every secret variable is redacted, as given and trimmed', () => {
    const env: NodeJS.ProcessEnv = {
      ...MINIMAL,
      SLACK_BOT_TOKEN: ' xoxb-BOT-SECRET-1 ',
      SLACK_SIGNING_SECRET: 'SIGNING-SECRET-2\r\n',
      SLACK_APP_TOKEN: 'xapp-APP-SECRET-3\t',
      BOTPENGUIN_API_TOKEN: 'BP-SECRET-4',
      DATABASE_URL: 'postgres://u:DB-SECRET-5@db/bp\n',
      AUDIT_WEBHOOK_SECRET: `whsec_${Buffer.from('SECRET-6-padding-to-24-bytes').toString('base64')} `,
      AUDIT_WEBHOOK_URL: 'https://siem.example.com/SECRET-7',
    };
    const { secrets } = configOf(env);
    for (const name of SECRET_VARIABLES) {
      expect(secrets).toContain(env[name]);
      expect(secrets).toContain(env[name]?.trim());
    }
    const line = logLine(env, {
      raw: SECRET_VARIABLES.map((n) => env[n]),
      used: SECRET_VARIABLES.map((n) => env[n]?.trim()),
    });
    expect(line).not.toMatch(/SECRET-\d/);
  });

  it('unset and empty secrets add nothing to redact', () => {
    expect(configOf({ ...MINIMAL, SLACK_APP_TOKEN: '', DATABASE_URL: '  ' }).secrets).toEqual([
      MINIMAL.SLACK_BOT_TOKEN,
      MINIMAL.SLACK_SIGNING_SECRET,
      MINIMAL.BOTPENGUIN_API_TOKEN,
    ]);
  });
});
