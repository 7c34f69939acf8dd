// Real bot processes for the process-level tests: the compiled bot started with `node`, its environment
// pointing at a FakeSlack and a FakeBotPenguin that run in the test process, and a store of its own (an
// SQLite file, or a PostgreSQL schema when TEST_DATABASE_URL is set). Two entries: the shipped one
// (src/main.ts) and the test one (sandbox/test-main.ts: the same main() with test timings and crash points).
//
// Both are compiled once per version of src/ and the test entry into
// node_modules/.cache/bp-delete-process-tests/<hash>/{src,sandbox}/ (transpiled file by file, which
// isolatedModules makes safe; `tsc` type-checks elsewhere). A private directory rather than dist/, so these
// tests never race `npm run build` or another jest worker.
import { type ChildProcess, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import ts from 'typescript';
import { FakeBotPenguin } from '../../sandbox/fake-botpenguin';
import { FakeSlack, type SlackMessage } from '../../sandbox/fake-slack';
import { SANDBOX_CHANNEL, SANDBOX_SECRETS, SANDBOX_TEAM } from '../../sandbox/harness';
import { SlackSender } from '../../sandbox/slack-sender';
import { ACTION_APPROVE } from '../../src/constants';
import { buttonValue, CUSTOMER } from './flow';

const ROOT = path.resolve(__dirname, '../..');
const CACHE = path.join(ROOT, 'node_modules', '.cache', 'bp-delete-process-tests');

function sourceFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : [path.join(dir, e.name)]))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
    .sort();
}

/** The shipped entry point, compiled (see compile()): reads no test setting. */
export function buildBot(): string {
  return path.join(compile(), 'src', 'main.js');
}

/** The test entry point, compiled (see compile()): the real main() with BP_DELETE_TEST_* timings and crash point. */
export function buildTestBot(): string {
  return path.join(compile(), 'sandbox', 'test-main.js');
}

/** A `--require` module that shifts the process's clock by BP_DELETE_TEST_CLOCK_SHIFT_MS (sandbox/clock-shift.ts). */
export function buildClockShift(): string {
  return path.join(compile(), 'sandbox', 'clock-shift.js');
}

/** The audit export's entry (`npm run audit`), compiled (see compile()). */
export function buildAudit(): string {
  return path.join(compile(), 'src', 'audit.js');
}

/** The directory of the compiled bot, compiling src/ and the test entry when this version is not compiled yet. */
function compile(): string {
  const testMain = path.join(ROOT, 'sandbox', 'test-main.ts');
  const files = [...sourceFiles(path.join(ROOT, 'src')), testMain, path.join(ROOT, 'sandbox', 'clock-shift.ts')];
  const hash = crypto.createHash('sha256');
  const inputs = ['tsconfig.json', 'tsconfig.build.json', 'package.json'].map((f) => path.join(ROOT, f));
  for (const file of [...inputs, ...files]) {
    hash.update(path.relative(ROOT, file)).update('\0').update(fs.readFileSync(file)).update('\0');
  }
  const dir = path.join(CACHE, hash.digest('hex').slice(0, 16));
  if (fs.existsSync(dir)) return dir;

  const configPath = path.join(ROOT, 'tsconfig.build.json');
  const parsed = ts.parseJsonConfigFileContent(ts.readConfigFile(configPath, ts.sys.readFile).config, ts.sys, ROOT);
  fs.mkdirSync(CACHE, { recursive: true });
  const tmp = fs.mkdtempSync(path.join(CACHE, 'tmp-'));
  for (const file of files) {
    const out = ts.transpileModule(fs.readFileSync(file, 'utf8'), { compilerOptions: parsed.options, fileName: file });
    const target = path.join(tmp, path.relative(ROOT, file).replace(/\.ts$/, '.js'));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, out.outputText);
  }
  // Where the compiled src/ expects it (two levels above src/metrics/): bp_delete_build_info reads the version.
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(tmp, 'package.json'));
  try {
    fs.renameSync(tmp, dir);
  } catch {
    fs.rmSync(tmp, { recursive: true, force: true }); // another worker got there first
  }
  // Older builds are of no use; keep the cache small.
  for (const old of fs.readdirSync(CACHE)) {
    const full = path.join(CACHE, old);
    if (full !== dir && Date.now() - fs.statSync(full).mtimeMs > 10 * 60_000)
      fs.rmSync(full, { recursive: true, force: true });
  }
  return dir;
}

/** The environment of a bot process: the sandbox secrets and fakes, fast test timings (the test entry reads
 * them; the shipped one ignores them), no crash point. */
export function botEnv(slack: FakeSlack, botpenguin: FakeBotPenguin, store: Record<string, string>) {
  return {
    ...SANDBOX_SECRETS,
    SLACK_API_URL: slack.apiUrl,
    BOTPENGUIN_API_URL: botpenguin.url,
    BOTPENGUIN_TIMEOUT_MS: '5000',
    APPROVER_USER_IDS: 'UAPPROVER1,UAPPROVER2',
    PORT: '0',
    LOG_LEVEL: 'info',
    BP_DELETE_TEST_LEASE_MS: '1000',
    BP_DELETE_TEST_SWEEP_MS: '200',
    BP_DELETE_TEST_SYNC_CLAIM_MS: '1500',
    ...store,
  } as Record<string, string>;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface BotProcess {
  child: ChildProcess;
  port: number;
  sender: SlackSender;
  /** Everything it wrote, stdout and stderr, line by line. */
  lines: string[];
  exited: Promise<Exit>;
  /** SIGTERM, then wait for the exit. */
  stop(): Promise<Exit>;
}

const running = new Set<ChildProcess>();
// Should a test not get to its cleanup (a timeout, jest stopping), don't leave bots running behind us.
process.once('exit', () => killLeftovers());

/** SIGKILL whatever a test left running (afterEach). */
export function killLeftovers(): void {
  for (const child of running) child.kill('SIGKILL');
  running.clear();
}

/** Start `node [nodeArgs] <entry>.js` with this environment (and nothing else from ours); resolves once it listens. */
export async function startBot(
  main: string,
  env: Record<string, string>,
  slack: FakeSlack,
  nodeArgs: string[] = [],
): Promise<BotProcess> {
  // A directory of its own, so no .env of the developer's is read.
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-delete-proc-'));
  const child = spawn(process.execPath, [...nodeArgs, main], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const lines: string[] = [];
  const exited = new Promise<Exit>((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the bot did not start:\n${lines.join('\n')}`)), 15_000);
    const onLine = (line: string) => {
      lines.push(line);
      const entry = parseLine(line);
      if (entry?.msg === 'bp-delete is running' && typeof entry.port === 'number') {
        clearTimeout(timer);
        resolve(entry.port);
      }
    };
    splitLines(child.stdout, onLine);
    splitLines(child.stderr, onLine);
    void exited.then((exit) => {
      clearTimeout(timer);
      reject(new Error(`the bot exited while starting (${JSON.stringify(exit)}):\n${lines.join('\n')}`));
    });
  });
  const sender = new SlackSender(`http://127.0.0.1:${port}/slack/events`, SANDBOX_SECRETS.SLACK_SIGNING_SECRET, {
    channel: SANDBOX_CHANNEL,
    team: SANDBOX_TEAM,
    responseUrl: (id) => slack.responseUrl(id),
  });
  return {
    child,
    port,
    sender,
    lines,
    exited,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

function splitLines(stream: NodeJS.ReadableStream | null, onLine: (line: string) => void): void {
  let rest = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\n');
    rest = parts.pop() ?? '';
    for (const part of parts) onLine(part);
  });
}

export function parseLine(line: string): Record<string, unknown> | null {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/** Poll until `check` holds, or fail with `what` after `timeoutMs`. */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string) {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A POST on a fresh connection (no keep-alive): resolves with the status, or rejects when refused. */
export function postOnNewConnection(port: number, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method: 'POST', path: '/slack/events', agent: false },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Type the command through this process and wait for the approval message; returns its request id. */
export async function requestThrough(
  bot: BotProcess,
  slack: FakeSlack,
  customerId: string,
  user = 'UREQUESTER',
): Promise<{ requestId: string; message: SlackMessage }> {
  const before = slack.channelMessages(SANDBOX_CHANNEL).length;
  const res = await bot.sender.command(user, `${customerId} closing the account`);
  if (res.status !== 200) throw new Error(`command answered ${res.status}: ${res.text}`);
  await slack.waitFor(() => slack.channelMessages(SANDBOX_CHANNEL).length > before, 5000, 'the approval message');
  const message = slack.channelMessages(SANDBOX_CHANNEL)[before] as SlackMessage;
  return { requestId: buttonValue(message, ACTION_APPROVE) ?? '', message };
}

/** A PostgreSQL schema of one test's own, and the DATABASE_URL that makes a bot process use it. */
export async function postgresSchema(
  url: string,
): Promise<{ name: string; databaseUrl: string; drop(): Promise<void> }> {
  const name = `bp_proc_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: url });
  await admin.connect();
  try {
    await admin.query(`CREATE SCHEMA "${name}"`);
  } finally {
    await admin.end();
  }
  // pg passes `options` to the server at connection start-up: every pooled connection gets the search_path.
  const databaseUrl = new URL(url);
  databaseUrl.searchParams.set('options', `-c search_path=${name}`);
  return {
    name,
    databaseUrl: databaseUrl.toString(),
    async drop() {
      const client = new Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A fake Slack and a fake BotPenguin (which knows CUSTOMER) for one process test. */
export async function startFakes(): Promise<{ slack: FakeSlack; botpenguin: FakeBotPenguin }> {
  const slack = new FakeSlack();
  const botpenguin = new FakeBotPenguin();
  await Promise.all([slack.start(), botpenguin.start()]);
  botpenguin.addCustomer(CUSTOMER);
  return { slack, botpenguin };
}

/** After a process test: kill what it left running, then stop its fakes. */
export async function stopFakes(fakes: { slack: FakeSlack; botpenguin: FakeBotPenguin }): Promise<void> {
  killLeftovers();
  await Promise.all([fakes.slack.stop(), fakes.botpenguin.stop()]);
}
