// Entry point: configuration → store → app → start; SIGTERM/SIGINT stop it gracefully.
import 'dotenv/config';
import { createApp } from './app';
import { loadConfig, SECRET_VARIABLES } from './config';
import { createLogger, errorFields } from './logger';
import { createStore } from './store';

async function main(): Promise<void> {
  const loaded = loadConfig(process.env);
  if (!loaded.ok) {
    process.stderr.write(`bp-delete: the configuration has ${loaded.errors.length} problem(s):\n`);
    for (const error of loaded.errors) process.stderr.write(`  - ${error}\n`);
    process.stderr.write('See .env.example and the README for every setting.\n');
    process.exit(1);
  }
  const { config } = loaded;
  const logger = createLogger({
    level: config.logLevel,
    secrets: [...SECRET_VARIABLES.map((name) => process.env[name]), config.slack.signingSecret],
  });

  let store: Awaited<ReturnType<typeof createStore>>;
  try {
    store = await createStore(config.store);
  } catch (error) {
    logger.error('could not open the store', {
      store: config.store.databaseUrl ? 'postgres' : 'sqlite',
      ...errorFields(error),
    });
    process.exit(1);
  }

  const bot = createApp({ config, store, logger });
  const auth = await bot.app.client.auth
    .test()
    .catch((error: unknown) => ({
      ok: false,
      error: String((error as { data?: { error?: string } })?.data?.error ?? error),
    }));
  if (!auth.ok && /invalid_auth|not_authed|account_inactive|token_revoked|token_expired/.test(String(auth.error))) {
    logger.error('Slack refused SLACK_BOT_TOKEN; check the token', { error: String(auth.error) });
    await store.close();
    process.exit(1);
  }
  if (!auth.ok)
    logger.warn('could not verify the bot token with Slack (auth.test); starting anyway', {
      error: String(auth.error),
    });

  const { port } = await bot.start();
  logger.info('bp-delete is running', {
    mode: config.slack.appToken ? 'socket' : 'http',
    port,
    store: store.kind,
    dryRun: config.policy.dryRun,
    approvalsRequired: config.policy.approvalsRequired,
  });

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('stopping', { signal });
    await bot.stop(20_000);
    await store.close();
    logger.info('stopped', { signal });
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`bp-delete failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
