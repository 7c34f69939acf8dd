// createApp(deps): the Bolt app with its receiver (receiver.ts), the services behind it (services.ts) and
// its listeners (listeners/index.ts).
import { App, WebClient } from './bolt';
import type { Config } from './config';
import { registerListeners } from './listeners';
import type { ListenerDeps } from './listeners/deps';
import type { Logger } from './logger';
import { createReceiver, toBoltLogger } from './receiver';
import type { Requests } from './requests';
import { createServices, type Services, warnIfQuorumUnreachable } from './services';
import type { MessageSync } from './slack/message-sync';
import { Permalinks } from './slack/permalinks';
import type { BotStore } from './store/types';
import type { Sweeper } from './sweeper';

export interface AppDeps {
  config: Config;
  store: BotStore;
  logger: Logger;
  now?: () => number;
  /** Sweeper period; the default keeps expiry well within the promised minute. */
  sweepIntervalMs?: number;
  /** Execution lease, renewed every third of it while a DELETE is under way (default 15 s). Tests shorten it. */
  leaseMs?: number;
  /** How long one message sync may hold a request before another may take over (default 60 s). */
  syncClaimMs?: number;
  /** Timeout of one Slack Web API call (default 10 s). */
  slackTimeoutMs?: number;
  /** Retries of a failed Slack Web API call before the sync gives up and leaves it to the sweeper (default 3). */
  slackRetries?: number;
  /**
   * Slack refused a token for good while running (the app token at a reconnect, the bot token on a call): the
   * bot can no longer hear or answer anyone. main.ts ends the process (non-zero) so the platform restarts it
   * and someone is alerted; without it (in-process tests) it is only logged.
   */
  onTokenRefused?: (which: 'SLACK_APP_TOKEN' | 'SLACK_BOT_TOKEN', error: string) => void;
}

export interface BotApp {
  app: App;
  requests: Requests;
  sweeper: Sweeper;
  sync: MessageSync;
  /** Listen on PORT and, in Socket Mode, connect; resolves with the HTTP port in use. */
  start(): Promise<{ port: number }>;
  /** Stop taking work, let work in flight finish (bounded), and stop the sweeper. Does not close the store. */
  stop(graceMs?: number): Promise<void>;
  /** Wait for background work (message syncs) to settle: for tests and shutdown. */
  idle(): Promise<void>;
}

export function createApp(deps: AppDeps): BotApp {
  const { config, logger } = deps;
  const tokenRefused = (which: 'SLACK_APP_TOKEN' | 'SLACK_BOT_TOKEN', error: string) => {
    logger.error(`Slack refused ${which} while running; the bot can't hear or answer Slack, so it stops`, { error });
    deps.onTokenRefused?.(which, error);
  };
  const bolt = createReceiver(config, deps.store, logger, (error) => tokenRefused('SLACK_APP_TOKEN', error));
  const clientOptions = {
    slackApiUrl: config.slack.apiUrl,
    timeout: deps.slackTimeoutMs ?? 10_000,
    retryConfig: { retries: deps.slackRetries ?? 3, factor: 2, minTimeout: 250, maxTimeout: 5_000, randomize: true },
  };
  const app = new App({
    receiver: bolt.receiver,
    logger: toBoltLogger(logger),
    // `authorize`, not `token`: with a token and token verification off, Bolt 5.1 calls auth.test before
    // every command and click (a Slack round trip on the way to the 3-second answer, and the request is
    // dropped when that call fails). We verify the token once, at start (main.ts), so a slow Slack
    // doesn't block booting either.
    authorize: async () => ({ botToken: config.slack.botToken }),
    // We keep no conversation state in Bolt; its default store costs a failed lookup on every request.
    convoStore: false,
    clientOptions,
  });
  // The app-level client (message sync, permalinks, user groups, the check at start) carries the token.
  const client = new WebClient(config.slack.botToken, { ...clientOptions, logger: toBoltLogger(logger) });
  app.client = client;
  const services = createServices(deps, client, {
    hearsSlack: bolt.hearsSlack,
    onBotTokenRefused: (error) => tokenRefused('SLACK_BOT_TOKEN', error),
  });
  const listenerDeps: ListenerDeps = {
    requests: services.requests,
    posted: (requestId) => services.sync.request(requestId, 'post'),
    policy: config.policy,
    permalinks: new Permalinks(client, 1_000),
    logger,
  };
  registerListeners(app, listenerDeps, config.slack.teamId);

  const { requests, sweeper, sync } = services;
  return {
    app,
    requests,
    sweeper,
    sync,
    async start() {
      // Before anything can claim a DELETE: stricter settings reach the requests already in the store.
      await requests.applyPolicy();
      const port = await bolt.start(app);
      sweeper.start();
      void warnIfQuorumUnreachable(config.policy, client, deps.now ?? Date.now, logger);
      void sweeper.sweep();
      return { port };
    },
    stop: (graceMs = 10_000) => stopApp(services, () => bolt.stop(app), graceMs, logger),
    async idle() {
      await requests.executor.idle();
      await sync.idle();
    },
  };
}

/**
 * New work first: no new DELETE (approved requests stay due in the store for any instance), no timers, no
 * sweeps, no new connections. Then what is under way, within the grace.
 */
async function stopApp(services: Services, closeReceiver: () => Promise<void>, graceMs: number, logger: Logger) {
  const { executor } = services.requests;
  let graceOver = false;
  const grace = new Promise<void>((r) => setTimeout(r, graceMs).unref()).then(() => {
    graceOver = true;
  });
  executor.stopAccepting();
  executor.stopTimers();
  const closing = Promise.all([services.sweeper.stop(), closeReceiver()]);
  await Promise.race([closing.then(() => executor.idle()).then(() => services.sync.idle()), grace]);
  if (graceOver) logger.warn('grace period over with work in flight; recovery will finish it', { graceMs });
  // Closing the BotPenguin client waits for requests under way; past the grace, don't.
  await Promise.race([services.botpenguin.close(), grace]);
}
