// Entry point: configuration → store → app → start; SIGTERM/SIGINT stop it gracefully. Runs itself when it
// is the entry (`node dist/main.js`); the process tests call main() through an entry of their own.
import fs from 'node:fs';
import { type BotApp, createApp } from './app';
import { hasCheckpointHook } from './checkpoints';
import { type Config, loadConfig } from './config';
import { createLogger, errorFields, type Logger } from './logger';
import { verifyBotToken } from './slack/verify-token';
import { createStore, type InstrumentedStore } from './store';

/** Heroku sends SIGKILL 30 s after SIGTERM; what is still in flight after this is left to recovery. */
const SHUTDOWN_GRACE_MS = 20_000;

/** Only the process tests pass any of these; `npm start` passes none. */
export interface MainOptions {
  /** Execution lease instead of 15 s, so recovery after a kill takes about this long. */
  leaseMs?: number;
  /** Sweeper period instead of 5 s. */
  sweepIntervalMs?: number;
  /** How long a message sync may hold a request, instead of 60 s. */
  syncClaimMs?: number;
  /** How long the audit webhook's deliveries stay leased, instead of 60 s. */
  auditLeaseMs?: number;
}

/**
 * A `.env` file (local runs) fills in settings the environment lacks. dotenv is loaded only when there is such a
 * file: a host that sets the environment itself (Heroku) doesn't pay for loading it at every start.
 */
function loadDotenv(): void {
  const file = process.env.DOTENV_CONFIG_PATH ?? '.env';
  if (!fs.existsSync(file)) return;
  (require('dotenv') as typeof import('dotenv')).config({ path: file });
}

export async function main(options: MainOptions = {}): Promise<void> {
  loadDotenv();
  const loaded = loadConfig(process.env);
  if (!loaded.ok) {
    process.stderr.write(`bp-delete: the configuration has ${loaded.errors.length} problem(s):\n`);
    for (const error of loaded.errors) process.stderr.write(`  - ${error}\n`);
    process.stderr.write('See .env.example and the README for every setting.\n');
    process.exit(1);
  }
  const { config } = loaded;
  // The secrets as given and as used (trimmed), so a token pasted with a trailing newline is redacted too.
  const logger = createLogger({ level: config.logLevel, secrets: config.secrets });

  const store = await openStore(config, logger);

  // A last net only: every piece of background work handles its own failure (logged, retried by the sweeper),
  // so nothing should get here. If something does, say so rather than let Node end the process mid-way.
  process.on('unhandledRejection', (reason: unknown) => {
    logger.error('unhandled rejection (a bug: background work must handle its own failure)', errorFields(reason));
  });

  if (Object.keys(options).length > 0 || hasCheckpointHook()) {
    logger.warn('test-only settings are in effect; production never sets them', {
      ...options,
      checkpointHook: hasCheckpointHook(),
    });
  }
  const bot = createApp({
    config,
    store,
    logger,
    ...options,
    // Exit non-zero, as at start: a bot that can't hear Slack must not keep running DELETEs nobody can abort.
    onTokenRefused: () => {
      void store.close().finally(() => process.exit(1));
    },
  });
  const { port, metricsPort } = await bot.start();
  logger.info('bp-delete is running', {
    mode: config.slack.appToken ? 'socket' : 'http',
    port,
    metricsPort,
    auditWebhook: config.auditWebhook !== null,
    store: store.kind,
    dryRun: config.policy.dryRun,
    approvalsRequired: config.policy.approvalsRequired,
  });

  stopOnSignals(bot, store, logger);
}

/**
 * The store, opened and migrated, once Slack has been asked about the token; exits when either is fatal.
 * The two don't depend on each other: both at once.
 */
async function openStore(config: Config, logger: Logger): Promise<InstrumentedStore> {
  const [opened, token] = await Promise.all([
    createStore(config.store).then(
      (store) => ({ store }),
      (error: unknown) => ({ error }),
    ),
    verifyBotToken(config.slack.botToken, config.slack.apiUrl),
  ]);
  if ('error' in opened) {
    logger.error('could not open the store', {
      store: config.store.databaseUrl ? 'postgres' : 'sqlite',
      ...errorFields(opened.error),
    });
    process.exit(1);
  }
  const { store } = opened;
  if (!token.ok && token.fatal) {
    logger.error('Slack refused SLACK_BOT_TOKEN; check the token', { error: token.error });
    await store.close();
    process.exit(1);
  }
  if (!token.ok) {
    logger.warn('could not verify the bot token with Slack (auth.test); starting anyway', { error: token.error });
  }
  return store;
}

/** SIGTERM (Heroku, Kubernetes) or SIGINT: stop taking work, finish what is under way (bounded), close the store. */
function stopOnSignals(bot: BotApp, store: InstrumentedStore, logger: Logger): void {
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { signal });
    await bot
      .stop(SHUTDOWN_GRACE_MS)
      .catch((error: unknown) => logger.error('error while stopping', errorFields(error)));
    await store.close().catch((error: unknown) => logger.error('could not close the store', errorFields(error)));
    logger.info('stopped', { signal });
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`bp-delete failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
