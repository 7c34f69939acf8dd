// `npm run bench`: the bot against the least Bolt app that does its visible job, and two floors, on this
// machine, each a child process on loopback pointed at the same fake Slack and fake BotPenguin (a process
// of their own). See docs/BENCHMARKS.md for what is measured and why.
//
//   npm run bench                        N=6000 commands per target at C=50 in 12 rounds of 500, M=200 flows
//   npm run bench -- --quick             a smaller run (< 30 s)
//   npm run bench -- --n 4000 --c 100 --m 300 --rounds 4 --starts 5 --warmup 300
//   npm run bench -- --profile           also write a CPU profile per target to bench-results/profiles/
//   npm run bench -- --targets bot,peer  only some targets (bot, peer, bareBolt, bareHttp)
//   npm run bench -- --filler 0          BotPenguin's list holds no other customers (1 preview page, not 5)
//   npm run bench -- --keep              keep each target's folder (its log and SQLite file)
//   npm run bench -- --cold              start each round on new connections (default: C warm ones)
//   npm run bench -- --raw               also write each round's raw latencies next to the JSON
//   npm run bench -- --web "node dist/main.js"   start the bot with this command instead of the Procfile's web: line
//   BENCH_N, BENCH_C, BENCH_M            the same as --n, --c, --m
import { type ChildProcess, fork, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'undici';
import { preciseNow } from '../../sandbox/fake-slack';
import { SANDBOX_SECRETS } from '../../sandbox/harness';
import { SlackSender } from '../../sandbox/slack-sender';
import { Loader, type LoadResult, type SignedRequest, sign } from './load';
import { buildForProcfile, freePort, procfileWeb, REPO, sleep, stopChild } from './processes';
import { summarizeProfile } from './profile-summary';
import type {
  ApprovalMessage,
  Counts,
  FakesMessage,
  FakesRequest,
  FlowResult,
  Settled,
  VerifyResult,
} from './protocol';
import { median, round, type Summary, summarize } from './stats';

// ---------------------------------------------------------------------------------------------- settings

interface Settings {
  n: number;
  c: number;
  m: number;
  rounds: number;
  warmup: number;
  starts: number;
  users: number;
  /** Other customers in the fake BotPenguin's list (100: a load request's preview reads all 5 pages). */
  filler: number;
  profile: boolean;
  /** Keep each target's folder (its output log and SQLite file) and say where. */
  keep: boolean;
  /** Start each round on new connections instead of warm kept-alive ones (see docs/BENCHMARKS.md). */
  cold: boolean;
  /** Also write every request's send time and latency per round (bench-results/raw-<target>-<round>.json). */
  raw: boolean;
  /** Which targets to run (default all), e.g. `--targets bot,peer`. */
  targets: string[];
  /** The bot's start command: the Procfile's `web:` line unless `--web` gives another (to compare). */
  web: string;
  quick: boolean;
  out: string;
}

function parseSettings(argv: string[]): Settings {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--')) continue;
    const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    const next = argv[i + 1];
    if (inline !== undefined) flags.set(name, inline);
    else if (next !== undefined && !next.startsWith('--')) {
      flags.set(name, next);
      i++;
    } else flags.set(name, 'true');
  }
  const quick = flags.has('quick');
  const num = (name: string, env: string | undefined, full: number, fast: number) => {
    const raw = flags.get(name) ?? env;
    const value = raw === undefined ? (quick ? fast : full) : Number(raw);
    if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a whole number (got ${raw})`);
    return value;
  };
  const settings: Settings = {
    n: num('n', process.env.BENCH_N, 6000, 300),
    c: num('c', process.env.BENCH_C, 50, 50),
    m: num('m', process.env.BENCH_M, 200, 20),
    rounds: num('rounds', undefined, 12, 2),
    warmup: num('warmup', undefined, 300, 30),
    starts: num('starts', undefined, 5, 1),
    // Enough that nobody has more than MAX_PENDING_PER_REQUESTER (5) open requests after N + warm-up + starts.
    users: num('users', undefined, 2000, 1000),
    filler: num('filler', undefined, 100, 100),
    profile: flags.has('profile'),
    keep: flags.has('keep'),
    cold: flags.has('cold'),
    raw: flags.has('raw'),
    targets: (flags.get('targets') ?? 'bot,peer,bareBolt,bareHttp').split(',').map((t) => t.trim()),
    web: flags.get('web') ?? procfileWeb(),
    quick,
    out: path.resolve(REPO, flags.get('out') ?? 'bench-results/latest.json'),
  };
  if (settings.c < 1 || settings.rounds < 1 || settings.starts < 1)
    throw new Error('--c, --rounds and --starts must be at least 1');
  return settings;
}

// ------------------------------------------------------------------------------------------ the targets

type TargetKey = 'bot' | 'peer' | 'bareBolt' | 'bareHttp';

interface TargetSpec {
  key: TargetKey;
  label: string;
  /** `node <script>`, or the Procfile's `web:` command run from the repository as the host runs it. */
  script: string | { procfile: string };
  /** Posts one approval message per command (checked). */
  posts: boolean;
  channel: string;
  /** First two hex digits of this target's customer ids. */
  prefix: string;
  env(tmp: string): Record<string, string>;
}

const APPROVER = 'UBENCHAPPROVER';
const START_CHANNEL = 'C0BENCHSTART';
const FLOW_CHANNEL = 'C0BENCHFLOW';
/** The bot's final message's fallback text says this (headlines in blocks/describe.ts). */
const FINAL_TEXT = 'Status: (Deleted|Deletion failed|Not deleted)\\b';

function targetSpecs(fakes: { slackApiUrl: string; botpenguinUrl: string }, web: string): TargetSpec[] {
  const slackEnv = {
    SLACK_BOT_TOKEN: SANDBOX_SECRETS.SLACK_BOT_TOKEN,
    SLACK_SIGNING_SECRET: SANDBOX_SECRETS.SLACK_SIGNING_SECRET,
    SLACK_API_URL: fakes.slackApiUrl,
  };
  return [
    {
      key: 'bot',
      label: 'bot (SQLite, preview on)',
      script: { procfile: web },
      posts: true,
      channel: 'C0BENCHBOT',
      prefix: 'b1',
      env: (tmp) => ({
        ...slackEnv,
        BOTPENGUIN_API_TOKEN: SANDBOX_SECRETS.BOTPENGUIN_API_TOKEN,
        BOTPENGUIN_API_URL: fakes.botpenguinUrl,
        APPROVER_USER_IDS: APPROVER,
        SQLITE_PATH: path.join(tmp, 'bp-delete.sqlite'),
        // The only limit raised from its default: the flows delete more than 50 customers in a day.
        MAX_DELETIONS_PER_DAY: '100000',
      }),
    },
    {
      key: 'peer',
      label: 'least Bolt app (ack + postMessage)',
      script: path.join(__dirname, 'targets/peer.js'),
      posts: true,
      channel: 'C0BENCHPEER',
      prefix: 'b2',
      env: () => slackEnv,
    },
    {
      key: 'bareBolt',
      label: 'bare Bolt (ack only)',
      script: path.join(__dirname, 'targets/bare-bolt.js'),
      posts: false,
      channel: 'C0BENCHBARE',
      prefix: 'b3',
      env: () => slackEnv,
    },
    {
      key: 'bareHttp',
      label: 'bare node:http (200)',
      script: path.join(__dirname, 'targets/bare-http.js'),
      posts: false,
      channel: 'C0BENCHHTTP',
      prefix: 'b4',
      env: () => ({}),
    },
  ];
}

interface Running {
  spec: TargetSpec;
  child: ChildProcess;
  tmp: string;
  origin: string;
  sender: SlackSender;
  loader: Loader;
  startupMs: number[];
  /** Customers asked for in the load channel (warm-up included), in order. */
  sent: string[];
  measured: Round[];
  rssAfterStartMb: number;
  rssAfterLoadMb: number;
  peakRssMb: number;
}

interface Round extends LoadResult {
  /** From the round's first request to its last approval message reaching the fake Slack (posting targets). */
  postedMs: number | null;
}

// ------------------------------------------------------------------------------------------- helpers

const log = (text: string) => process.stderr.write(`${text}\n`);

/**
 * Resident memory (VmRSS) or its high-water mark (VmHWM) of a process and its descendants, in MB (Linux
 * /proc): a Procfile command such as `npm start` keeps npm resident beside the bot, and the host counts both.
 */
function rssMb(pid: number | undefined, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  if (pid === undefined) return Number.NaN;
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = Number(new RegExp(`${field}:\\s+(\\d+)\\s+kB`).exec(status)?.[1]);
    return kb / 1024 + childPids(pid).reduce((sum, child) => sum + (rssMb(child, field) || 0), 0);
  } catch {
    return Number.NaN;
  }
}

function childPids(pid: number): number[] {
  try {
    return fs
      .readdirSync(`/proc/${pid}/task`)
      .flatMap((task) => fs.readFileSync(`/proc/${pid}/task/${task}/children`, 'utf8').trim().split(/\s+/))
      .filter((p) => p !== '')
      .map(Number);
  } catch {
    return [];
  }
}

const customerId = (prefix: string, phase: number, i: number) => `${prefix}${phase}${i.toString(16).padStart(21, '0')}`;
const userId = (i: number, users: number) => `UB${(i % users).toString(36).toUpperCase().padStart(5, '0')}`;

class Fakes {
  private seq = 0;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  slackApiUrl = '';
  botpenguinUrl = '';

  constructor(private readonly child: ChildProcess) {}

  static async start(): Promise<Fakes> {
    const child = fork(path.join(__dirname, 'fakes.js'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const fakes = new Fakes(child);
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the fakes process exited (${code})`)));
      child.on('message', (message: FakesMessage) => {
        if (message.type === 'ready') {
          fakes.slackApiUrl = message.slackApiUrl;
          fakes.botpenguinUrl = message.botpenguinUrl;
          resolve();
        } else {
          const waiter = fakes.pending.get(message.id);
          fakes.pending.delete(message.id);
          if (message.ok) waiter?.resolve(message.result);
          else waiter?.reject(new Error(message.error));
        }
      });
    });
    return fakes;
  }

  ask<T>(request: FakesRequest): Promise<T> {
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.send({ id, request });
    });
  }

  stop(): void {
    this.child.disconnect();
  }
}

// ------------------------------------------------------------------------------ starting and stopping

/** Spawn the target and send it a signed command every 2 ms until one is answered 200. */
async function startTarget(
  spec: TargetSpec,
  settings: Settings,
  startIndex: number,
  profileDir: string | null,
): Promise<{ child: ChildProcess; tmp: string; origin: string; startupMs: number }> {
  const port = await freePort();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `bp-bench-${spec.key}-`));
  const logFd = fs.openSync(path.join(tmp, 'output.log'), 'a');
  const nodeArgs = profileDir
    ? ['--cpu-prof', `--cpu-prof-dir=${path.join(profileDir, spec.key)}`, `--cpu-prof-name=${spec.key}.cpuprofile`]
    : [];
  const origin = `http://127.0.0.1:${port}`;
  const sender = new SlackSender(`${origin}/slack/events`, SANDBOX_SECRETS.SLACK_SIGNING_SECRET, {
    channel: START_CHANNEL,
    team: 'T0BENCH',
    responseUrl: (id) => `http://127.0.0.1:9/response/${id}`,
  });
  const probe = sign(
    SANDBOX_SECRETS.SLACK_SIGNING_SECRET,
    sender.commandBody(userId(startIndex, settings.users), `${customerId(spec.prefix, 1, startIndex)} bench start`),
  );
  const started = performance.now();
  // Only what the target needs: never the caller's environment (a .env or DATABASE_URL must not leak in).
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    PORT: String(port),
    // For investigations only (e.g. --max-semi-space-size, --trace-gc); never set by the bench itself.
    ...(process.env.BENCH_TARGET_NODE_OPTIONS ? { NODE_OPTIONS: process.env.BENCH_TARGET_NODE_OPTIONS } : {}),
    ...spec.env(tmp),
  };
  const procfile = typeof spec.script === 'string' ? null : spec.script.procfile;
  const child =
    procfile === null
      ? spawn(process.execPath, [...nodeArgs, spec.script as string], {
          cwd: tmp,
          env,
          stdio: ['ignore', logFd, logFd],
        })
      : // As the host runs a Procfile line: a shell in the app's root, the command exec'd (so it gets the
        // signals), a .env in the checkout kept out. A profile's flags go after `node` (NODE_OPTIONS refuses
        // --cpu-prof); a command that doesn't start with `node` is started without a profile.
        spawn(
          '/bin/sh',
          ['-c', `exec ${profileDir ? procfile.replace(/^node\s/, `node ${nodeArgs.join(' ')} `) : procfile}`],
          {
            cwd: REPO,
            env: { ...env, DOTENV_CONFIG_PATH: path.join(tmp, 'no.env') },
            stdio: ['ignore', logFd, logFd],
          },
        );
  fs.closeSync(logFd);
  const client = new Client(origin, { connect: { timeout: 1000 } });
  try {
    for (;;) {
      if (child.exitCode !== null) {
        const output = fs.readFileSync(path.join(tmp, 'output.log'), 'utf8').slice(-2000);
        throw new Error(`${spec.label} exited with ${child.exitCode} before answering:\n${output}`);
      }
      try {
        const res = await client.request({ path: '/slack/events', method: 'POST', ...probe });
        await res.body.text();
        if (res.statusCode === 200) break;
      } catch {
        // not listening yet
      }
      if (performance.now() - started > 30_000) throw new Error(`${spec.label} did not answer within 30 s`);
      await sleep(2);
    }
  } catch (error) {
    await stopChild(child);
    throw error;
  } finally {
    await client.close().catch(() => undefined);
  }
  return { child, tmp, origin, startupMs: performance.now() - started };
}

// ------------------------------------------------------------------------------------------ measuring

function commands(target: Running, count: number, settings: Settings, text: string): SignedRequest[] {
  const requests: SignedRequest[] = [];
  for (let j = 0; j < count; j++) {
    const i = target.sent.length;
    const customer = customerId(target.spec.prefix, 0, i);
    target.sent.push(customer);
    // A channel of its own: the bot posts about one message a second per channel, as Slack allows.
    const body = target.sender.commandBody(userId(i, settings.users), `${customer} ${text}`, {
      channel: `${target.spec.channel}X${String(i).padStart(5, '0')}`,
    });
    requests.push(sign(SANDBOX_SECRETS.SLACK_SIGNING_SECRET, body));
  }
  return requests;
}

async function loadRound(target: Running, count: number, settings: Settings, fakes: Fakes): Promise<Round> {
  const requests = commands(target, count, settings, 'bench load');
  // Every round starts on C open connections, as a steady stream of commands would find them. Opening
  // C connections at the same instant instead makes a node:http server serve some and starve others
  // for most of the round, whichever app it is (--cold shows it).
  if (!settings.cold) await target.loader.warmConnections(settings.c);
  const startedAt = preciseNow();
  const result = await target.loader.run(requests, settings.c);
  // The next target starts only once this one's work is done: every message posted, then quiet.
  const settled = await fakes.ask<Settled>({
    op: 'settle',
    channel: target.spec.posts ? target.spec.channel : null,
    expect: target.spec.posts ? target.sent.length : 0,
    quietMs: 200,
    timeoutMs: 120_000,
  });
  return { ...result, postedMs: settled.lastPostedAt === null ? null : settled.lastPostedAt - startedAt };
}

interface FlowSample {
  clickMs: number;
  approveToDeleteMs: number;
  approveToFinalMs: number;
  deleteStatus: number | null;
}

async function flows(bot: Running, settings: Settings, fakes: Fakes): Promise<FlowSample[]> {
  const samples: FlowSample[] = [];
  const sender = new SlackSender(`${bot.origin}/slack/events`, SANDBOX_SECRETS.SLACK_SIGNING_SECRET, {
    channel: FLOW_CHANNEL,
    team: 'T0BENCH',
    responseUrl: (id) => `http://127.0.0.1:9/response/${id}`,
  });
  const warm = Math.min(5, Math.ceil(settings.m / 10));
  for (let i = 0; i < settings.m + warm; i++) {
    const customer = customerId(bot.spec.prefix, 2, i);
    const channel = `${FLOW_CHANNEL}X${String(i).padStart(5, '0')}`;
    // Put the customer on the first page of BotPenguin's list, so the preview finds it (and the
    // executor's fresh look just before the DELETE is one page).
    await fakes.ask({ op: 'addCustomers', ids: [customer], first: true, name: `Flow customer ${i}` });
    const command = sign(
      SANDBOX_SECRETS.SLACK_SIGNING_SECRET,
      sender.commandBody(`UFLOW${String(i % 50).padStart(3, '0')}`, `${customer} bench flow`, { channel }),
    );
    const asked = await bot.loader.send(command);
    if (asked.status !== 200) throw new Error(`flow command answered ${asked.status}`);
    const message = await fakes.ask<ApprovalMessage>({
      op: 'approvalMessage',
      channel: FLOW_CHANNEL,
      customer,
      timeoutMs: 10_000,
    });
    // A person reads before clicking: let the bot finish its background work first.
    await fakes.ask({ op: 'settle', channel: null, expect: 0, quietMs: 30, timeoutMs: 10_000 });
    const payload = sender.clickPayload(APPROVER, 'bp_delete_approve', message.requestId, {
      messageTs: message.ts,
      channel,
    });
    const click = sign(
      SANDBOX_SECRETS.SLACK_SIGNING_SECRET,
      new URLSearchParams({ payload: JSON.stringify(payload) }).toString(),
    );
    const clickedAt = preciseNow();
    const answer = await bot.loader.send(click);
    if (answer.status !== 200) throw new Error(`approve click answered ${answer.status}`);
    const result = await fakes.ask<FlowResult>({
      op: 'flowResult',
      channel: FLOW_CHANNEL,
      customer,
      finalText: FINAL_TEXT,
      timeoutMs: 10_000,
    });
    if (i < warm) continue;
    samples.push({
      clickMs: answer.ms,
      approveToDeleteMs: result.deleteAt - clickedAt,
      approveToFinalMs: result.finalUpdateAt - clickedAt,
      deleteStatus: result.deleteStatus,
    });
  }
  return samples;
}

// ------------------------------------------------------------------------------------------ reporting

interface TargetReport {
  label: string;
  latencyMs: Summary;
  throughputRps: number;
  roundsRps: number[];
  /** Each round's answer latency p99 and approval messages posted per second, in order. */
  roundsP99Ms: number[];
  roundsPostingRate: (number | null)[];
  statuses: Record<number, number>;
  errors: number;
  posted: VerifyResult | null;
  /** Approval messages posted per second: round size over round start → its last message posted. */
  postingRate: number | null;
  rssAfterStartMb: number;
  rssAfterLoadMb: number;
  peakRssMb: number;
  startupMs: { median: number; samples: number[] };
  flows?: {
    n: number;
    approveToDeleteMs: Summary;
    approveToFinalUpdateMs: Summary;
    approveClickAnswerMs: Summary;
    deleteStatuses: Record<string, number>;
  };
}

interface Check {
  target: string;
  measured: number;
  limit: string;
  met: boolean;
}

function ratio(a: number, b: number): number {
  return b > 0 ? a / b : Number.NaN;
}

function checks(reports: Partial<Record<TargetKey, TargetReport>>): Check[] {
  const bot = reports.bot;
  const peer = reports.peer;
  if (!bot || !peer) return [];
  const within = (target: string, measured: number, limit: number, atMost: boolean): Check => ({
    target,
    measured,
    limit: `${atMost ? '<=' : '>='} ${limit}`,
    met: atMost ? measured <= limit : measured >= limit,
  });
  const list: Check[] = [
    within('answer latency p99 within 1.25x the peer', ratio(bot.latencyMs.p99, peer.latencyMs.p99), 1.25, true),
    within('throughput at least 0.9x the peer', ratio(bot.throughputRps, peer.throughputRps), 0.9, false),
    within('memory after load within 1.3x the peer', ratio(bot.rssAfterLoadMb, peer.rssAfterLoadMb), 1.3, true),
    within(
      'start to first accepted request within 1.3x the peer',
      ratio(bot.startupMs.median, peer.startupMs.median),
      1.3,
      true,
    ),
  ];
  if (bot.flows) {
    list.push({
      target: 'approve -> DELETE p50 at most 5 ms',
      measured: bot.flows.approveToDeleteMs.p50,
      limit: '<= 5 ms',
      met: bot.flows.approveToDeleteMs.p50 <= 5,
    });
  }
  return list;
}

function table(reports: Partial<Record<TargetKey, TargetReport>>, order: TargetKey[]): string {
  const fmt = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '-' : String(round(v)));
  const fmtRatio = (a: number | undefined, b: number | undefined) =>
    a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0
      ? '-'
      : `${(a / b).toFixed(2)}x`;
  type Row = [string, (r: TargetReport) => number | string | undefined, boolean];
  const rows: Row[] = [
    ['answer latency p50 (ms)', (r) => r.latencyMs.p50, true],
    ['answer latency p95 (ms)', (r) => r.latencyMs.p95, true],
    ['answer latency p99 (ms)', (r) => r.latencyMs.p99, true],
    ['throughput (req/s)', (r) => r.throughputRps, true],
    ['approval messages posted', (r) => (r.posted ? `${r.posted.posted}/${r.posted.expected}` : 'n/a'), false],
    ['approval messages posted per second', (r) => r.postingRate ?? undefined, true],
    ['RSS after start (MB)', (r) => r.rssAfterStartMb, true],
    ['RSS after load (MB)', (r) => r.rssAfterLoadMb, true],
    ['peak RSS (MB)', (r) => r.peakRssMb, true],
    ['spawn -> first accepted (ms)', (r) => r.startupMs.median, true],
    ['approve -> DELETE p50 (ms)', (r) => r.flows?.approveToDeleteMs.p50, false],
    ['approve -> DELETE p99 (ms)', (r) => r.flows?.approveToDeleteMs.p99, false],
    ['approve -> final update p50 (ms)', (r) => r.flows?.approveToFinalUpdateMs.p50, false],
    ['approve -> final update p99 (ms)', (r) => r.flows?.approveToFinalUpdateMs.p99, false],
  ];
  const header = ['', ...order.map((k) => reports[k]?.label ?? k), 'bot/peer'];
  const body = rows.map(([name, get, ratioed]) => {
    const cells = order.map((k) => {
      const r = reports[k];
      const v = r ? get(r) : undefined;
      return typeof v === 'string' ? v : fmt(v);
    });
    const bot = reports.bot ? get(reports.bot) : undefined;
    const peer = reports.peer ? get(reports.peer) : undefined;
    const rt = ratioed && typeof bot === 'number' && typeof peer === 'number' ? fmtRatio(bot, peer) : '';
    return [name, ...cells, rt];
  });
  const all = [header, ...body];
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) =>
    `| ${row.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`;
  return [line(header), rule, ...body.map(line)].join('\n');
}

// ------------------------------------------------------------------------------------------------ main

async function main(): Promise<void> {
  const settings = parseSettings(process.argv.slice(2));
  const began = performance.now();
  const profileDir = settings.profile ? path.join(REPO, 'bench-results/profiles') : null;
  if (profileDir) {
    // A fresh folder per target: the summary reads the largest profile in it.
    fs.rmSync(profileDir, { recursive: true, force: true });
    fs.mkdirSync(profileDir, { recursive: true });
  }
  log(
    `bench: N=${settings.n} commands per target at C=${settings.c} in ${settings.rounds} rounds (+${settings.warmup} warm-up), ` +
      `M=${settings.m} flows, ${settings.starts} start(s) per target${settings.profile ? ', CPU profiles on' : ''}`,
  );

  if (settings.targets.includes('bot')) buildForProcfile();
  const fakes = await Fakes.start();
  const running: Running[] = [];
  try {
    // BotPenguin's customer list has other customers: a load request's preview pages through all 5
    // pages it may read without finding its customer (the preview's worst case).
    await fakes.ask({ op: 'fillerCustomers', count: settings.filler });
    const specs = targetSpecs(fakes, settings.web).filter((spec) => settings.targets.includes(spec.key));
    if (specs.length === 0) throw new Error('--targets names none of bot, peer, bareBolt, bareHttp');

    // Starts, alternating targets; the last start of each is the instance that is measured.
    const startups = new Map<TargetKey, number[]>(specs.map((s) => [s.key, []]));
    let startIndex = 0;
    for (let s = 0; s < settings.starts; s++) {
      const order = s % 2 === 0 ? specs : [...specs].reverse();
      for (const spec of order) {
        const last = s === settings.starts - 1;
        const started = await startTarget(spec, settings, startIndex++, last ? profileDir : null);
        startups.get(spec.key)?.push(started.startupMs);
        log(
          `  start ${s + 1}/${settings.starts} ${spec.label}: first request accepted after ${round(started.startupMs)} ms`,
        );
        if (!last) {
          await stopChild(started.child);
          fs.rmSync(started.tmp, { recursive: true, force: true });
          continue;
        }
        running.push({
          spec,
          child: started.child,
          tmp: started.tmp,
          origin: started.origin,
          sender: new SlackSender(`${started.origin}/slack/events`, SANDBOX_SECRETS.SLACK_SIGNING_SECRET, {
            channel: spec.channel,
            team: 'T0BENCH',
            responseUrl: (id) => `http://127.0.0.1:9/response/${id}`,
          }),
          loader: new Loader(started.origin, settings.c),
          startupMs: startups.get(spec.key) ?? [],
          sent: [],
          measured: [],
          rssAfterStartMb: Number.NaN,
          rssAfterLoadMb: Number.NaN,
          peakRssMb: Number.NaN,
        });
      }
    }
    await fakes.ask({ op: 'settle', channel: null, expect: 0, quietMs: 500, timeoutMs: 30_000 });
    for (const target of running) target.rssAfterStartMb = rssMb(target.child.pid);

    // Warm-up (not measured), then rounds that alternate the order of the targets.
    for (const target of running) {
      if (settings.warmup > 0) await loadRound(target, settings.warmup, settings, fakes);
    }
    const perRound = Math.ceil(settings.n / settings.rounds);
    for (let r = 0; r < settings.rounds; r++) {
      const count = Math.min(perRound, settings.n - r * perRound);
      if (count <= 0) break;
      const shift = r % running.length;
      const rotated = [...running.slice(shift), ...running.slice(0, shift)];
      const order = r % 2 === 0 ? rotated : rotated.reverse();
      for (const target of order) {
        const result = await loadRound(target, count, settings, fakes);
        target.measured.push(result);
        if (settings.raw) {
          const file = path.join(path.dirname(settings.out), `raw-${target.spec.key}-${r + 1}.json`);
          fs.writeFileSync(file, JSON.stringify({ sentAtMs: result.sentAtMs, latenciesMs: result.latenciesMs }));
        }
        log(
          `  round ${r + 1}/${settings.rounds} ${target.spec.label}: ${count} commands in ${round(result.wallMs)} ms ` +
            `(${round((count / result.wallMs) * 1000)} req/s, p99 ${round(summarize(result.latenciesMs).p99)} ms)`,
        );
      }
    }
    await fakes.ask({ op: 'settle', channel: null, expect: 0, quietMs: 500, timeoutMs: 30_000 });
    for (const target of running) {
      target.rssAfterLoadMb = rssMb(target.child.pid);
      target.peakRssMb = rssMb(target.child.pid, 'VmHWM');
    }

    const bot = running.find((t) => t.spec.key === 'bot');
    const flowSamples = bot && settings.m > 0 ? await flows(bot, settings, fakes) : [];
    if (bot && settings.m > 0) log(`  flows: ${flowSamples.length} approvals measured`);

    const reports: Partial<Record<TargetKey, TargetReport>> = {};
    for (const target of running) {
      const latencies = target.measured.flatMap((m) => m.latenciesMs);
      const wall = target.measured.reduce((a, m) => a + m.wallMs, 0);
      const statuses: Record<number, number> = {};
      for (const m of target.measured) {
        for (const [status, n] of Object.entries(m.statuses))
          statuses[Number(status)] = (statuses[Number(status)] ?? 0) + n;
      }
      const posted = target.spec.posts
        ? await fakes.ask<VerifyResult>({ op: 'verifyPosted', channel: target.spec.channel, customers: target.sent })
        : null;
      const report: TargetReport = {
        label: target.spec.label,
        latencyMs: summarize(latencies),
        throughputRps: (latencies.length / wall) * 1000,
        roundsRps: target.measured.map((m) => (m.latenciesMs.length / m.wallMs) * 1000),
        roundsP99Ms: target.measured.map((m) => summarize(m.latenciesMs).p99),
        roundsPostingRate: target.measured.map((m) =>
          m.postedMs === null ? null : (m.latenciesMs.length / m.postedMs) * 1000,
        ),
        statuses,
        errors: target.measured.reduce((a, m) => a + m.errors, 0),
        posted,
        postingRate: target.spec.posts
          ? (target.measured.reduce((a, m) => a + m.latenciesMs.length, 0) /
              target.measured.reduce((a, m) => a + (m.postedMs ?? Number.NaN), 0)) *
            1000
          : null,
        rssAfterStartMb: target.rssAfterStartMb,
        rssAfterLoadMb: target.rssAfterLoadMb,
        peakRssMb: target.peakRssMb,
        startupMs: { median: median(target.startupMs), samples: target.startupMs },
      };
      if (target === bot && flowSamples.length > 0) {
        const deleteStatuses: Record<string, number> = {};
        for (const s of flowSamples)
          deleteStatuses[String(s.deleteStatus)] = (deleteStatuses[String(s.deleteStatus)] ?? 0) + 1;
        report.flows = {
          n: flowSamples.length,
          approveToDeleteMs: summarize(flowSamples.map((s) => s.approveToDeleteMs)),
          approveToFinalUpdateMs: summarize(flowSamples.map((s) => s.approveToFinalMs)),
          approveClickAnswerMs: summarize(flowSamples.map((s) => s.clickMs)),
          deleteStatuses,
        };
      }
      reports[target.spec.key] = report;
    }
    const counts = await fakes.ask<Counts>({ op: 'counts' });

    for (const target of running) await target.loader.close();
    for (const target of running) await stopChild(target.child);

    // ------------------------------------------------------------------------------ output
    const order = running.map((t) => t.spec.key);
    const results = checks(reports);
    const problems: string[] = [];
    for (const target of running) {
      const r = reports[target.spec.key];
      if (!r) continue;
      const non200 = Object.entries(r.statuses).filter(([s]) => s !== '200');
      if (r.errors > 0 || non200.length > 0)
        problems.push(`${r.label}: ${r.errors} errors, statuses ${JSON.stringify(r.statuses)}`);
      if (r.posted && (r.posted.posted !== r.posted.expected || r.posted.duplicated > 0)) {
        problems.push(
          `${r.label}: ${r.posted.posted}/${r.posted.expected} approval messages posted, ${r.posted.duplicated} twice`,
        );
      }
    }
    const machine = {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memoryGb: round(os.totalmem() / 1024 ** 3),
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
    };
    const out = process.stdout;
    out.write(`\n${table(reports, order)}\n\n`);
    for (const check of results) {
      out.write(`${check.met ? 'MET   ' : 'MISSED'} ${check.target}: ${round(check.measured)} (${check.limit})\n`);
    }
    for (const problem of problems) out.write(`PROBLEM ${problem}\n`);

    const json = {
      version: 1,
      date: new Date().toISOString(),
      command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.replace(/ -- $/, ''),
      durationS: round((performance.now() - began) / 1000),
      machine,
      settings: {
        ...settings,
        out: path.relative(REPO, settings.out),
        commandsPerRound: perRound,
        botEnvironment: {
          APPROVER_USER_IDS: APPROVER,
          MAX_DELETIONS_PER_DAY: '100000',
          LOG_LEVEL: 'info (default)',
          store: 'SQLite',
        },
      },
      targets: reports,
      ratiosBotToPeer:
        reports.bot && reports.peer
          ? {
              latencyP50: round(ratio(reports.bot.latencyMs.p50, reports.peer.latencyMs.p50)),
              latencyP95: round(ratio(reports.bot.latencyMs.p95, reports.peer.latencyMs.p95)),
              latencyP99: round(ratio(reports.bot.latencyMs.p99, reports.peer.latencyMs.p99)),
              throughput: round(ratio(reports.bot.throughputRps, reports.peer.throughputRps)),
              rssAfterStart: round(ratio(reports.bot.rssAfterStartMb, reports.peer.rssAfterStartMb)),
              rssAfterLoad: round(ratio(reports.bot.rssAfterLoadMb, reports.peer.rssAfterLoadMb)),
              peakRss: round(ratio(reports.bot.peakRssMb, reports.peer.peakRssMb)),
              postingRate: round(ratio(reports.bot.postingRate ?? Number.NaN, reports.peer.postingRate ?? Number.NaN)),
              startup: round(ratio(reports.bot.startupMs.median, reports.peer.startupMs.median)),
            }
          : null,
      checks: results,
      problems,
      fakeCalls: counts,
    };
    fs.mkdirSync(path.dirname(settings.out), { recursive: true });
    fs.writeFileSync(settings.out, `${JSON.stringify(json, (_k, v) => (typeof v === 'number' ? round(v) : v), 2)}\n`);
    out.write(
      `\nwrote ${path.relative(process.cwd(), settings.out)} in ${round((performance.now() - began) / 1000)} s\n`,
    );

    if (profileDir) {
      await sleep(200);
      for (const target of running) {
        const dir = path.join(profileDir, target.spec.key);
        const file = fs.existsSync(dir)
          ? fs
              .readdirSync(dir)
              .filter((f) => f.endsWith('.cpuprofile'))
              .map((f) => path.join(dir, f))
              .sort((a, b) => fs.statSync(b).size - fs.statSync(a).size)[0]
          : undefined;
        if (file) out.write(`\n${summarizeProfile(file, target.spec.label, REPO)}\n`);
      }
    }
    for (const target of running) {
      if (settings.keep) log(`kept ${target.spec.label}: ${target.tmp}`);
      else fs.rmSync(target.tmp, { recursive: true, force: true });
    }
    if (problems.length > 0) process.exitCode = 1;
  } finally {
    for (const target of running) await stopChild(target.child).catch(() => undefined);
    fakes.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
