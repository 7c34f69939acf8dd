// `npm run bench:burst`: N requests typed at once in one channel, against a local Slack that enforces Slack's
// rate limits (sandbox/fake-slack.ts SLACK_RATE_LIMITS), for the bot started as its Procfile says and for the
// least Bolt app, in one run. Each target gets its own fake Slack, so each one's calls and 429s are its own.
// See docs/BENCHMARKS.md.
//
//   npm run bench:burst                  N=20
//   npm run bench:burst -- --n 30
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FakeBotPenguin } from '../../sandbox/fake-botpenguin';
import { FakeSlack, preciseNow, SLACK_RATE_LIMITS } from '../../sandbox/fake-slack';
import { SANDBOX_SECRETS } from '../../sandbox/harness';
import { SlackSender } from '../../sandbox/slack-sender';
import { Loader, sign } from './load';
import { buildForProcfile, freePort, procfileWeb, REPO, sleep, stopChild } from './processes';
import { round } from './stats';

const CHANNEL = 'C0BURST';
const START_CHANNEL = 'C0BURSTSTART';
const APPROVER = 'UBURSTAPPROVER';
/** Quiet on the fake Slack that counts as "the target is done". */
const QUIET_MS = 3_000;
const SECRET = SANDBOX_SECRETS.SLACK_SIGNING_SECRET;

interface Target {
  key: 'bot' | 'peer';
  label: string;
  /** A shell command (run from the repository, as a host runs a Procfile line) or a script for node. */
  command: { shell: string } | { script: string };
  /** Thread replies it posts per request (the peer posts none). */
  replies: boolean;
  env(tmp: string, slack: FakeSlack, botpenguin: FakeBotPenguin): Record<string, string>;
}

interface BurstReport {
  label: string;
  requests: number;
  /** From the first command sent to the last approval message reaching Slack. */
  allApprovalMessagesMs: number;
  boundMs: number;
  webApiCalls: number;
  answered429: number;
  sentIntoRetryAfter: number;
  inFlightAtFirst429: number | null;
  worstAckMs: number;
  approvalMessages: number;
  /** Approval messages with at least one thread reply, and when the last reply arrived (from the first command). */
  withReplies: number | null;
  lastReplyMs: number | null;
  /** Replies that reached Slack before the last approval message did. */
  repliesBeforeLastApproval: number | null;
}

function customer(i: number): string {
  return `c0${i.toString(16).padStart(22, '0')}`;
}

async function startTarget(
  target: Target,
  slack: FakeSlack,
  botpenguin: FakeBotPenguin,
): Promise<{ child: ChildProcess; origin: string; tmp: string }> {
  const port = await freePort();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `bp-burst-${target.key}-`));
  const log = fs.openSync(path.join(tmp, 'output.log'), 'a');
  const env = { PATH: process.env.PATH ?? '', PORT: String(port), ...target.env(tmp, slack, botpenguin) };
  const child =
    'shell' in target.command
      ? spawn('/bin/sh', ['-c', `exec ${target.command.shell}`], {
          cwd: REPO,
          env: { ...env, DOTENV_CONFIG_PATH: path.join(tmp, 'no.env') },
          stdio: ['ignore', log, log],
        })
      : spawn(process.execPath, [target.command.script], { cwd: tmp, env, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  const origin = `http://127.0.0.1:${port}`;
  const loader = new Loader(origin, 1);
  const sender = new SlackSender(`${origin}/slack/events`, SECRET, {
    channel: START_CHANNEL,
    team: 'T0BURST',
    responseUrl: (id) => slack.responseUrl(id),
  });
  const probe = sign(SECRET, sender.commandBody('UBURSTSTART', `${customer(9999)} started`));
  const began = performance.now();
  try {
    for (;;) {
      if (child.exitCode !== null)
        throw new Error(
          `${target.label} exited: ${fs.readFileSync(path.join(tmp, 'output.log'), 'utf8').slice(-2000)}`,
        );
      const answer = await loader.send(probe).catch(() => null);
      if (answer?.status === 200) break;
      if (performance.now() - began > 30_000) throw new Error(`${target.label} did not answer within 30 s`);
      await sleep(20);
    }
  } finally {
    await loader.close();
  }
  return { child, origin, tmp };
}

/** Resolves once nothing reached the fake Slack for `quietMs`. */
async function quiet(slack: FakeSlack, quietMs: number): Promise<void> {
  for (;;) {
    const last = slack.calls.at(-1)?.hrAt ?? 0;
    const idle = preciseNow() - last;
    if (idle >= quietMs) return;
    await sleep(quietMs - idle + 10);
  }
}

async function burst(target: Target, n: number, botpenguin: FakeBotPenguin): Promise<BurstReport> {
  const slack = new FakeSlack();
  // A little of Slack's own answer time, so calls are in flight as they are against the real one.
  slack.latencyMs = 20;
  await slack.start();
  const { child, origin, tmp } = await startTarget(target, slack, botpenguin);
  try {
    await quiet(slack, 500);
    slack.forget();
    slack.enforceRateLimits();
    // When each approval message and thread reply was posted (the arrival of the call that posted it).
    const postedAt = { approvals: [] as number[], replies: [] as number[] };
    let seen = 0;
    slack.observe((call) => {
      if (slack.messages.length === seen) return;
      seen = slack.messages.length;
      if (call.method !== 'chat.postMessage' || call.args.channel !== CHANNEL) return;
      (typeof call.args.thread_ts === 'string' ? postedAt.replies : postedAt.approvals).push(call.hrAt);
    });
    const sender = new SlackSender(`${origin}/slack/events`, SECRET, {
      channel: CHANNEL,
      team: 'T0BURST',
      responseUrl: (id) => slack.responseUrl(id),
    });
    const commands = Array.from({ length: n }, (_, i) =>
      sign(SECRET, sender.commandBody(`UBURST${String(i).padStart(3, '0')}`, `${customer(i)} erasure request`)),
    );
    const loader = new Loader(origin, n);
    await loader.warmConnections(n);
    const startedAt = preciseNow();
    // Typed at once: every command on its own connection, none waiting for another's answer.
    const answers = await Promise.all(commands.map((c) => loader.send(c)));
    await loader.close();
    const refused = answers.filter((a) => a.status !== 200);
    if (refused.length > 0) throw new Error(`${target.label}: ${refused.length} commands answered non-200`);
    await slack.waitFor(() => slack.channelMessages(CHANNEL).length >= n, 120_000, `${n} approval messages`);
    await quiet(slack, QUIET_MS);

    const approvals = slack.channelMessages(CHANNEL);
    const lastApprovalAt = Math.max(...postedAt.approvals);
    const record = slack.rateLimitRecord;
    return {
      label: target.label,
      requests: n,
      allApprovalMessagesMs: lastApprovalAt - startedAt,
      boundMs: (n - SLACK_RATE_LIMITS.postMessagePerChannel.burst) * 1000,
      webApiCalls: slack.calls.filter((c) => c.method !== 'response_url').length,
      answered429: record.limited,
      sentIntoRetryAfter: record.intoRetryAfter,
      inFlightAtFirst429: record.inFlightAtFirst429,
      worstAckMs: Math.max(...answers.map((a) => a.ms)),
      approvalMessages: approvals.length,
      withReplies: target.replies ? approvals.filter((m) => slack.thread(CHANNEL, m.ts).length > 0).length : null,
      lastReplyMs: postedAt.replies.length > 0 ? Math.max(...postedAt.replies) - startedAt : null,
      repliesBeforeLastApproval: target.replies ? postedAt.replies.filter((at) => at < lastApprovalAt).length : null,
    };
  } finally {
    await stopChild(child);
    await slack.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function checks(bot: BurstReport): { what: string; met: boolean; measured: string }[] {
  return [
    {
      what: 'every approval message within 1.15x the bound',
      measured: `${round(bot.allApprovalMessagesMs / 1000)} s <= ${round((bot.boundMs * 1.15) / 1000)} s`,
      met: bot.approvalMessages === bot.requests && bot.allApprovalMessagesMs <= bot.boundMs * 1.15,
    },
    {
      what: 'no more calls into a running Retry-After than were in flight at the first 429',
      measured: `${bot.sentIntoRetryAfter} <= ${bot.inFlightAtFirst429 ?? 0}`,
      met: bot.sentIntoRetryAfter <= (bot.inFlightAtFirst429 ?? 0),
    },
    {
      what: 'worst command ack under 1 s',
      measured: `${round(bot.worstAckMs)} ms`,
      met: bot.worstAckMs < 1000,
    },
    {
      what: 'every thread reply arrives, after the approval messages',
      measured: `${bot.withReplies}/${bot.requests} threads, ${bot.repliesBeforeLastApproval} replies before the last approval message`,
      met: bot.withReplies === bot.requests && bot.repliesBeforeLastApproval === 0,
    },
  ];
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--n');
  const n = at >= 0 ? Number(argv[at + 1]) : 20;
  if (!Number.isInteger(n) || n < 4) throw new Error('--n must be a whole number of at least 4');
  buildForProcfile();
  const botpenguin = new FakeBotPenguin();
  await botpenguin.start();
  for (let i = 0; i < n; i++)
    botpenguin.addCustomer(customer(i), `Burst customer ${i}`, undefined, 'active', { first: true });
  const slackEnv = (slack: FakeSlack) => ({
    SLACK_BOT_TOKEN: SANDBOX_SECRETS.SLACK_BOT_TOKEN,
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: slack.apiUrl,
  });
  const targets: Target[] = [
    {
      key: 'bot',
      label: 'bp-delete',
      command: { shell: procfileWeb() },
      replies: true,
      env: (tmp, slack) => ({
        ...slackEnv(slack),
        BOTPENGUIN_API_TOKEN: SANDBOX_SECRETS.BOTPENGUIN_API_TOKEN,
        BOTPENGUIN_API_URL: botpenguin.url,
        APPROVER_USER_IDS: APPROVER,
        SQLITE_PATH: path.join(tmp, 'bp-delete.sqlite'),
      }),
    },
    {
      key: 'peer',
      label: 'least Bolt app',
      command: { script: path.join(__dirname, 'targets/peer.js') },
      replies: false,
      env: (_tmp, slack) => slackEnv(slack),
    },
  ];
  const reports: BurstReport[] = [];
  try {
    for (const target of targets) {
      process.stderr.write(`burst: ${n} requests at once to ${target.label}\n`);
      reports.push(await burst(target, n, botpenguin));
    }
  } finally {
    await botpenguin.stop();
  }
  const out = process.stdout;
  const cell = (v: number | null) => (v === null ? '-' : String(round(v)));
  out.write(
    '\n| | all approval messages (s) | bound (s) | Web API calls | answered 429 | sent into a Retry-After | in flight at first 429 | worst ack (ms) | last thread reply (s) |\n',
  );
  out.write('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n');
  for (const r of reports) {
    out.write(
      `| ${r.label} | ${cell(r.allApprovalMessagesMs / 1000)} | ${cell(r.boundMs / 1000)} | ${r.webApiCalls} | ${r.answered429} | ${r.sentIntoRetryAfter} | ${cell(r.inFlightAtFirst429)} | ${cell(r.worstAckMs)} | ${r.lastReplyMs === null ? '-' : cell(r.lastReplyMs / 1000)} |\n`,
    );
  }
  const bot = reports.find((r) => r.label === 'bp-delete');
  const results = bot ? checks(bot) : [];
  out.write('\n');
  for (const c of results) out.write(`${c.met ? 'MET   ' : 'MISSED'} ${c.what}: ${c.measured}\n`);
  const file = path.join(REPO, 'bench-results/burst.json');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(
    file,
    `${JSON.stringify({ date: new Date().toISOString(), n, limits: SLACK_RATE_LIMITS, reports, checks: results }, null, 2)}\n`,
  );
  out.write(`\nwrote ${path.relative(process.cwd(), file)}\n`);
  if (results.some((c) => !c.met)) process.exitCode = 1;
}

main().catch((error: unknown) => {
  process.stderr.write(
    `bench:burst failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
