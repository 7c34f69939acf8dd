// The real bot wired to the local fakes: one call gives a running app on a loopback port, a Slack
// stand-in, a BotPenguin stand-in, a signed sender and the captured logs. Tests, demo and bench use it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type AppDeps, type BotApp, createApp } from '../src/app';
import { type Config, loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { createStore } from '../src/store';
import type { Store } from '../src/store/types';
import { FakeBotPenguin } from './fake-botpenguin';
import { FakeSlack } from './fake-slack';
import { SlackSender } from './slack-sender';

export const SANDBOX_SECRETS = {
  SLACK_BOT_TOKEN: 'xoxb-sandbox-SECRET-bot-token-0001',
  SLACK_SIGNING_SECRET: 'sandbox-SECRET-signing-secret-0002',
  BOTPENGUIN_API_TOKEN: 'bp-sandbox-SECRET-api-token-0003',
} as const;

export const SANDBOX_CHANNEL = 'C0OPS0001';
export const SANDBOX_TEAM = 'T0SANDBOX';

/** chat.postMessage's pace per channel in the sandbox unless a test sets `timings.slackPostIntervalMs`. */
export const SANDBOX_POST_INTERVAL_MS = 5;

export interface SandboxOptions {
  /** Extra or overriding environment for the bot (APPROVER_USER_IDS etc.). */
  env?: Record<string, string | undefined>;
  /** Reuse fakes across bot restarts. */
  slack?: FakeSlack;
  botpenguin?: FakeBotPenguin;
  sqlitePath?: string;
  now?: () => number;
  sweepIntervalMs?: number;
  /** Internal timings of the app (lease, sync claim, Slack timeout), shortened by crash and failure tests. */
  timings?: Pick<AppDeps, 'leaseMs' | 'syncClaimMs' | 'slackTimeoutMs' | 'slackRetries' | 'slackPostIntervalMs'>;
}

export interface Sandbox {
  bot: BotApp;
  config: Config;
  store: Store;
  slack: FakeSlack;
  botpenguin: FakeBotPenguin;
  sender: SlackSender;
  /** The bot's HTTP port (in Socket Mode, SLACK_APP_TOKEN set, only the probes: Slack's payloads come over `slack.socketMode`). */
  port: number;
  /** Where GET /metrics is served (METRICS_PORT set, 0 for any); null when metrics are off. */
  metricsPort: number | null;
  logs: string[];
  sqlitePath: string;
  /** Stop the bot (and close its store); the fakes keep running unless `fakes` is true. */
  stop(options?: { fakes?: boolean }): Promise<void>;
}

export function sandboxEnv(slack: FakeSlack, botpenguin: FakeBotPenguin, sqlitePath: string): Record<string, string> {
  return {
    ...SANDBOX_SECRETS,
    SLACK_API_URL: slack.apiUrl,
    BOTPENGUIN_API_URL: botpenguin.url,
    BOTPENGUIN_TIMEOUT_MS: '1000',
    APPROVER_USER_IDS: 'UAPPROVER1,UAPPROVER2',
    SQLITE_PATH: sqlitePath,
    PORT: '0',
    LOG_LEVEL: 'debug',
  };
}

export function tempSqlitePath(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bp-delete-'));
  return path.join(dir, 'bp-delete.sqlite');
}

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const slack = options.slack ?? new FakeSlack();
  const botpenguin = options.botpenguin ?? new FakeBotPenguin();
  if (!slack.url) await slack.start();
  if (!botpenguin.url) await botpenguin.start();
  const sqlitePath = options.sqlitePath ?? tempSqlitePath();
  const env: Record<string, string | undefined> = { ...sandboxEnv(slack, botpenguin, sqlitePath), ...options.env };
  const loaded = loadConfig(env as NodeJS.ProcessEnv);
  if (!loaded.ok) {
    // Stop the fakes this call started, so a refused configuration doesn't leave servers holding the test open.
    if (!options.slack) await slack.stop();
    if (!options.botpenguin) await botpenguin.stop();
    throw new Error(`sandbox configuration is invalid: ${loaded.errors.join('; ')}`);
  }
  const config = loaded.config;
  const logs: string[] = [];
  const logger = createLogger({
    level: config.logLevel,
    // As the bot's main() does: every secret as given and as used.
    secrets: config.secrets,
    write: (line) => logs.push(line),
  });
  // In Socket Mode the bot connects out: apps.connections.open on the fake Slack hands it the fake WebSocket.
  if (config.slack.appToken) await slack.enableSocketMode();
  // A fake clock is the SQLite store's clock too, so lease and due times follow it (PostgreSQL keeps its own).
  const store = await createStore(config.store, options.now ? { now: options.now } : {});
  const bot = createApp({
    config,
    store,
    logger,
    now: options.now,
    sweepIntervalMs: options.sweepIntervalMs,
    // The local Slack counts nothing unless told to (enforceRateLimits): tests whose subject is not the pace
    // post at once. Those that are (slack-pacing, sync-fairness) ask for Slack's one a second.
    slackPostIntervalMs: SANDBOX_POST_INTERVAL_MS,
    ...options.timings,
  });
  const { port, metricsPort } = await bot.start();
  const sender = new SlackSender(`http://127.0.0.1:${port}/slack/events`, config.slack.signingSecret ?? '', {
    channel: SANDBOX_CHANNEL,
    team: SANDBOX_TEAM,
    responseUrl: (id) => slack.responseUrl(id),
    blockIdOf: (channel, ts, actionId) => slack.buttonBlockId(channel, ts, actionId),
  });
  return {
    bot,
    config,
    store,
    slack,
    botpenguin,
    sender,
    port,
    metricsPort,
    logs,
    sqlitePath,
    async stop({ fakes = false } = {}) {
      await bot.stop(5_000);
      await store.close();
      if (fakes) await Promise.all([slack.stop(), botpenguin.stop()]);
    },
  };
}

/** Stop the bot and start it again on the same store file and fakes, as after a restart (new options allowed). */
export async function restartSandbox(
  sb: Sandbox,
  options: Omit<SandboxOptions, 'slack' | 'botpenguin' | 'sqlitePath'> = {},
): Promise<Sandbox> {
  await sb.stop();
  return startSandbox({ ...options, slack: sb.slack, botpenguin: sb.botpenguin, sqlitePath: sb.sqlitePath });
}
