// createApp(deps): the Bolt app, its receiver (HTTP or Socket Mode), /healthz, and the pieces behind it.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CustomRoute } from '@slack/bolt';
import { App, HTTPReceiver, LogLevel, SocketModeReceiver, type webApi } from '@slack/bolt';
import { BotPenguinClient } from './botpenguin/client';
import type { Config } from './config';
import * as actions from './listeners/actions';
import * as commands from './listeners/commands';
import type { ListenerDeps } from './listeners/deps';
import { teamGuard } from './listeners/team-guard';
import * as views from './listeners/views';
import { errorFields, type Logger } from './logger';
import { Executor } from './requests/executor';
import { newRequestId } from './requests/ids';
import { Policy } from './requests/policy';
import { Previewer } from './requests/preview';
import { RequestService } from './requests/service';
import { MessageSync } from './slack/message-sync';
import { Permalinks } from './slack/permalinks';
import { SlackUsergroupDirectory } from './slack/usergroups';
import type { Store } from './store/types';
import { Sweeper } from './sweeper';

export interface AppDeps {
  config: Config;
  store: Store;
  logger: Logger;
  now?: () => number;
  /** Sweeper period; the default keeps expiry well within the promised minute. */
  sweepIntervalMs?: number;
}

export interface BotApp {
  app: App;
  service: RequestService;
  sweeper: Sweeper;
  sync: MessageSync;
  /** Listen (HTTP) or connect (Socket Mode); resolves with the HTTP port in use. */
  start(): Promise<{ port: number | null }>;
  /** Stop taking work, let work in flight finish (bounded), and stop the sweeper. Does not close the store. */
  stop(graceMs?: number): Promise<void>;
  /** Wait for background work (message syncs) to settle: for tests and shutdown. */
  idle(): Promise<void>;
}

/** Slack sends a few hundred KB at most; anything larger is refused with 413 before parsing. */
export const BODY_LIMIT = '512kb';

export function createApp(deps: AppDeps): BotApp {
  const { config, store, logger } = deps;
  const now = deps.now ?? Date.now;
  const boltLogger = toBoltLogger(logger);

  const healthz: CustomRoute = {
    path: '/healthz',
    method: ['GET'],
    handler: (_req, res) => {
      store.ping().then(
        () => reply(res, 200, { ok: true, store: store.kind }),
        () => reply(res, 503, { ok: false, store: store.kind, error: 'store unreachable' }),
      );
    },
  };

  const receiver = config.slack.appToken
    ? new SocketModeReceiver({
        appToken: config.slack.appToken,
        customRoutes: [healthz],
        installerOptions: { port: config.port },
        logger: boltLogger,
      })
    : new HTTPReceiver({
        signingSecret: config.slack.signingSecret ?? '',
        endpoints: '/slack/events',
        customRoutes: [healthz],
        bodyLimit: BODY_LIMIT,
        logger: boltLogger,
        port: config.port,
      });

  const app = new App({
    token: config.slack.botToken,
    receiver,
    logger: boltLogger,
    // We verify the token ourselves at start (main.ts) so that a slow Slack doesn't block booting.
    tokenVerificationEnabled: false,
    clientOptions: {
      slackApiUrl: config.slack.apiUrl,
      timeout: 10_000,
      retryConfig: { retries: 3, factor: 2, minTimeout: 250, maxTimeout: 5_000, randomize: true },
    },
  });
  const client: webApi.WebClient = app.client;

  const botpenguin = new BotPenguinClient({
    baseUrl: config.botpenguin.apiUrl,
    token: config.botpenguin.token,
    timeoutMs: config.botpenguin.timeoutMs,
    onAttempt: (info) => {
      if (info.retryInMs !== undefined) logger.warn('BotPenguin call will be retried', info);
    },
  });
  const previewer = new Previewer(botpenguin, { maxPages: 5, budgetMs: 8_000, cacheMs: 60_000, now });
  const sync = new MessageSync(client, store, logger, { claimMs: 60_000, now });
  const onChange = (requestId: string) => {
    void sync.request(requestId);
  };
  const executor = new Executor({
    store,
    deleter: botpenguin,
    previewer,
    now,
    // All attempts with their timeouts and backoff, plus margin: only then may another instance take over.
    leaseMs: 5 * config.botpenguin.timeoutMs + 60_000,
    maxDeletionsPerDay: config.policy.maxDeletionsPerDay,
    onChange,
    logger,
  });
  const policy = new Policy(
    config.policy,
    new SlackUsergroupDirectory(client, { ttlMs: 60_000, now, timeoutMs: 1_500 }),
  );
  const service = new RequestService({
    store,
    policy,
    settings: config.policy,
    now,
    newId: newRequestId,
    executor,
    previewer,
    onChange,
    logger,
  });
  const sweeper = new Sweeper({
    store,
    service,
    executor,
    sync: (id) => sync.request(id),
    now,
    logger,
    intervalMs: deps.sweepIntervalMs ?? 5_000,
  });

  const listenerDeps: ListenerDeps = {
    service,
    settings: config.policy,
    permalinks: new Permalinks(client, 1_500),
    logger,
  };
  app.use(teamGuard(config.slack.teamId, logger));
  commands.register(app, listenerDeps);
  actions.register(app, listenerDeps);
  views.register(app, listenerDeps);
  app.error(async (error) => {
    logger.error('unhandled error in a listener', errorFields(error));
  });

  let server: Server | null = null;
  return {
    app,
    service,
    sweeper,
    sync,
    async start() {
      if (receiver instanceof HTTPReceiver) {
        server = await receiver.start(config.port);
      } else {
        await app.start();
      }
      sweeper.start();
      void sweeper.sweep();
      const address = server?.address() as AddressInfo | null | undefined;
      return { port: address?.port ?? null };
    },
    async stop(graceMs = 10_000) {
      service.stopTimers();
      await sweeper.stop();
      if (receiver instanceof HTTPReceiver) {
        await receiver.stop().catch(() => undefined);
      } else {
        await app.stop().catch(() => undefined);
      }
      await Promise.race([
        Promise.all([executor.idle(), sync.idle()]).then(() => sync.idle()),
        new Promise((r) => setTimeout(r, graceMs).unref()),
      ]);
      await botpenguin.close();
    },
    async idle() {
      await executor.idle();
      await sync.idle();
    },
  };
}

function reply(res: import('node:http').ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

/** Bolt and its receivers log through our JSON logger (and its redaction). */
function toBoltLogger(logger: Logger) {
  let level = LogLevel.INFO;
  const join = (msgs: unknown[]) =>
    msgs.map((m) => (typeof m === 'string' ? m : m instanceof Error ? m.message : JSON.stringify(m))).join(' ');
  return {
    debug: (...msgs: unknown[]) => logger.debug(join(msgs), { source: 'bolt' }),
    info: (...msgs: unknown[]) => logger.info(join(msgs), { source: 'bolt' }),
    warn: (...msgs: unknown[]) => logger.warn(join(msgs), { source: 'bolt' }),
    error: (...msgs: unknown[]) => logger.error(join(msgs), { source: 'bolt' }),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}
