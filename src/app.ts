// createApp(deps): the Bolt app with its receiver (receiver.ts), the services behind it (services.ts) and
// its listeners (listeners/index.ts).
import { App } from './bolt';
import type { Config } from './config';
import { createInstruments } from './instruments';
import { registerListeners } from './listeners';
import type { ListenerDeps } from './listeners/deps';
import type { Logger } from './logger';
import { slackErrorLabel } from './metrics';
import { createReceiver, toBoltLogger } from './receiver';
import type { Requests } from './requests';
import { createServices, type Services, warnIfQuorumUnreachable } from './services';
import type { MessageSync } from './slack/message-sync';
import type { InstrumentedStore } from './store/types';
import type { Sweeper } from './sweeper';

export interface AppDeps {
  config: Config;
  store: InstrumentedStore;
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
  /** chat.postMessage's pace per channel instead of Slack's one a second: tests that post many messages in one channel. */
  slackPostIntervalMs?: number;
  /** How long the audit webhook's deliveries stay leased to this instance (default 60 s). Tests shorten it. */
  auditLeaseMs?: number;
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
  /**
   * Listen on PORT and, in Socket Mode, connect; serve the metrics (METRICS_PORT) and start the audit webhook
   * when configured. Resolves with the HTTP port and the metrics port in use (null: metrics are off).
   */
  start(): Promise<{ port: number; metricsPort: number | null }>;
  /**
   * Stop taking work, let work in flight finish (bounded), stop the sweeper, the metrics and the webhook.
   * Does not close the store.
   */
  stop(graceMs?: number): Promise<void>;
  /** Wait for background work (message syncs) to settle: for tests and shutdown. */
  idle(): Promise<void>;
}

export function createApp(deps: AppDeps): BotApp {
  const { config, logger } = deps;
  const instruments = createInstruments(deps);
  const { store, metrics } = instruments;
  const tokenRefused = (which: 'SLACK_APP_TOKEN' | 'SLACK_BOT_TOKEN', error: string) => {
    logger.error(`Slack refused ${which} while running; the bot can't hear or answer Slack, so it stops`, { error });
    deps.onTokenRefused?.(which, error);
  };
  const bolt = createReceiver(config, store, logger, (error) => tokenRefused('SLACK_APP_TOKEN', error));
  const clientOptions = {
    slackApiUrl: config.slack.apiUrl,
    timeout: deps.slackTimeoutMs ?? 10_000,
    retryConfig: { retries: deps.slackRetries ?? 3, factor: 2, minTimeout: 250, maxTimeout: 5_000, randomize: true },
    // A 429 is answered by the caller (the message sync's pacer closes the whole bucket until Retry-After),
    // not by the client pausing and retrying on its own.
    rejectRateLimitedCalls: true,
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
  const client = instruments.slackClient(config.slack.botToken, { ...clientOptions, logger: toBoltLogger(logger) });
  app.client = client;
  const services = createServices({ ...deps, store }, client, metrics, {
    hearsSlack: bolt.hearsSlack,
    onBotTokenRefused: (error) => tokenRefused('SLACK_BOT_TOKEN', error),
  });
  const listenerDeps: ListenerDeps = {
    requests: services.requests,
    postRefused: (requestId) => services.sync.postRefused(requestId),
    policy: config.policy,
    permalinks: services.permalinks,
    home: services.home,
    slackApiError: (method, error) => metrics.slackApiError(method, slackErrorLabel(error)),
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
      const { metricsPort } = await instruments.start();
      return { port, metricsPort };
    },
    async stop(graceMs = 10_000) {
      // Side by side: the webhook's round under way (each POST bounded) must not add to the grace.
      await Promise.all([stopApp(services, () => bolt.stop(app), graceMs, logger), instruments.stop()]);
    },
    async idle() {
      await requests.commands.idle();
      await requests.executor.idle();
      await sync.idle();
      await services.home.idle();
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
  const settled = closing
    .then(() => Promise.all([services.requests.commands.idle(), executor.idle()]))
    .then(() => Promise.all([services.sync.idle(), services.home.idle()]));
  await Promise.race([settled, grace]);
  if (graceOver) logger.warn('grace period over with work in flight; recovery will finish it', { graceMs });
  // Closing the BotPenguin client waits for requests under way; past the grace, don't.
  await Promise.race([services.botpenguin.close(), grace]);
}
