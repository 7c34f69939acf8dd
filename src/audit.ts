// Entry point of `npm run audit`: every request created in a window, with its events, to stdout as CSV or JSON
// Lines, read page by page from the bot's store (docs/DESIGN.md). Reads only the store settings; writes nothing.
import fs from 'node:fs';
import type { Writable } from 'node:stream';
import dotenv from 'dotenv';
import { type AuditArgs, parseAuditArgs, USAGE } from './audit/args';
import { type Clean, csvControlRow, csvHeader, csvRows, jsonControlLine, jsonLine } from './audit/format';
import { loadStoreConfig, SECRET_VARIABLES } from './config';
import { createRedactor } from './logger';
import { type BotStore, createStore } from './store';

/** Requests read per statement: memory stays flat however long the history is. */
const AUDIT_PAGE_SIZE = 500;

/** Exit codes: 0 done, 1 the store could not be read (or the output went away), 2 bad arguments or settings. */
const FAILED = 1;
const USAGE_ERROR = 2;

export interface AuditIo {
  env: NodeJS.ProcessEnv;
  stdout: Writable;
  stderr: Writable;
}

/** The password inside DATABASE_URL, as written and decoded: a driver's error could quote either alone. */
function urlPasswords(databaseUrl: string | undefined): string[] {
  if (!databaseUrl) return [];
  try {
    const { password } = new URL(databaseUrl);
    return password ? [password, decodeURIComponent(password)] : [];
  } catch {
    return [];
  }
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** Writes `text`, waiting while the reader is behind; false when the output has gone away. */
function writeOut(out: Writable, text: string): Promise<boolean> {
  if (out.destroyed || out.writableEnded) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (ok: boolean) => {
      out.off('drain', onDrain);
      out.off('error', onError);
      resolve(ok);
    };
    const onDrain = () => done(true);
    const onError = () => done(false);
    out.once('error', onError);
    if (out.write(text)) done(true);
    else out.once('drain', onDrain);
  });
}

/** The export proper: pages of requests, each written before the next is read. Resolves to the counts. */
async function exportTo(store: BotStore, args: AuditArgs, out: Writable, clean: Clean) {
  let requests = 0;
  let events = 0;
  let after: { createdAt: number; id: string } | null = null;
  for (;;) {
    const page = await store.listAuditPage({
      since: args.since,
      until: args.until ?? Number.MAX_SAFE_INTEGER,
      after,
      limit: AUDIT_PAGE_SIZE,
    });
    // The header waits for the first read, so a store that can't be read leaves stdout empty.
    const header = args.format === 'csv' && after === null ? csvHeader() : '';
    const text =
      args.format === 'csv'
        ? page.map((entry) => csvRows(entry, clean)).join('')
        : page.map((entry) => `${jsonLine(entry, clean)}\n`).join('');
    if (header + text !== '' && !(await writeOut(out, header + text))) return null;
    requests += page.length;
    events += page.reduce((n, entry) => n + entry.events.length, 0);
    if (page.length < AUDIT_PAGE_SIZE) break;
    const last = page[page.length - 1].request;
    after = { createdAt: last.createdAt, id: last.id };
  }
  // Every pause and resume of the window, after the requests (a few rows: operators' actions, not clicks).
  const controls = await store.listControlEvents(args.since, args.until ?? Number.MAX_SAFE_INTEGER);
  const lines = controls.map((e) =>
    args.format === 'csv' ? csvControlRow(e, clean) : `${jsonControlLine(e, clean)}\n`,
  );
  if (lines.length > 0 && !(await writeOut(out, lines.join('')))) return null;
  return { requests, events, controls: controls.length };
}

/** Runs the export with these arguments; resolves to the exit code. */
export async function runAudit(argv: readonly string[], io: AuditIo): Promise<number> {
  const say = (line: string) => io.stderr.write(`${line}\n`);
  const parsed = parseAuditArgs(argv);
  if (!parsed.ok) {
    say(`bp-delete audit: ${parsed.error}`);
    say(USAGE);
    return USAGE_ERROR;
  }
  if (parsed.kind === 'help') {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { args } = parsed;

  const loaded = loadStoreConfig(io.env);
  if (!loaded.ok) {
    say(`bp-delete audit: the store settings have ${loaded.errors.length} problem(s):`);
    for (const error of loaded.errors) say(`  - ${error}`);
    return USAGE_ERROR;
  }
  const { store: settings, secrets } = loaded.config;
  const redact = createRedactor([...secrets, ...urlPasswords(settings.databaseUrl)]);
  const where = settings.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `SQLite file ${settings.sqlitePath}`;
  const fail = (what: string, error: unknown) => {
    say(redact(`bp-delete audit: ${what} ${where}: ${messageOf(error)}`));
    return FAILED;
  };
  // Opening a missing SQLite file would create an empty database and export nothing, as if nothing happened.
  if (!settings.databaseUrl && settings.sqlitePath !== ':memory:' && !fs.existsSync(settings.sqlitePath)) {
    say(`bp-delete audit: there is no ${where} (set SQLITE_PATH, or DATABASE_URL for PostgreSQL)`);
    return FAILED;
  }

  let store: BotStore;
  try {
    store = await createStore(settings, { migrate: false });
  } catch (error) {
    return fail('could not open', error);
  }
  try {
    await store.ping();
  } catch (error) {
    await store.close().catch(() => {});
    return fail('could not reach', error);
  }
  try {
    const counts = await exportTo(store, args, io.stdout, redact);
    if (!counts) {
      say('bp-delete audit: stopped: the output was closed before the export ended');
      return FAILED;
    }
    const window = `from ${new Date(args.since).toISOString()}${args.until === null ? ' on' : ` until ${new Date(args.until).toISOString()}`}`;
    say(
      `bp-delete audit: ${counts.requests} request(s) with ${counts.events} event(s), created ${window}; ${counts.controls} pause(s) and resume(s)`,
    );
    return 0;
  } catch (error) {
    return fail('could not read the requests from', error);
  } finally {
    await store.close().catch(() => {});
  }
}

if (require.main === module) {
  // quiet: dotenv would otherwise announce itself on stdout, in the middle of the export.
  dotenv.config({ quiet: true });
  runAudit(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      const redact = createRedactor(SECRET_VARIABLES.map((name) => process.env[name]));
      process.stderr.write(redact(`bp-delete audit failed: ${messageOf(error)}\n`));
      process.exitCode = FAILED;
    },
  );
}
