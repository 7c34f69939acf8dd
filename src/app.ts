// createApp(deps): the Bolt app, its receiver (HTTP or Socket Mode), /healthz, and the pieces behind it.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CustomRoute } from '@slack/bolt';
import { App, HTTPReceiver, LogLevel, SocketModeReceiver, webApi } from '@slack/bolt';
import { cannotPostReason, renderPauseAnnouncement } from './blocks/replies';
import { BotPenguinClient } from './botpenguin/client';
import type { CheckpointHook } from './checkpoints';
import type { Config } from './config';
import { guardSlackEvents } from './http-guard';
import { ackUnhandled } from './listeners/ack-unhandled';
import * as actions from './listeners/actions';
import * as commands from './listeners/commands';
import type { ListenerDeps } from './listeners/deps';
import { teamGuard } from './listeners/team-guard';
import * as views from './listeners/views';
import { errorFields, type Logger } from './logger';
import { createRequests, type Requests } from './requests';
import { quorumReach } from './requests/permissions';
import type { Directory } from './requests/ports';
import { Previewer } from './requests/preview';
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
  /** Execution lease, renewed every third of it while a DELETE is under way (default 15 s). Tests shorten it. */
  leaseMs?: number;
  /** How long one message sync may hold a request before another may take over (default 60 s). */
  syncClaimMs?: number;
  /** Timeout of one Slack Web API call (default 10 s). */
  slackTimeoutMs?: number;
  /** Retries of a failed Slack Web API call before the sync gives up and leaves it to the sweeper (default 3). */
  slackRetries?: number;
  /** Called at each checkpoint (see checkpoints.ts); the process tests kill the bot there. */
  checkpoint?: CheckpointHook;
}

/** Short, because the owner renews it: after a crash, another instance takes over within about this long. */
const DEFAULT_LEASE_MS = 15_000;

export interface BotApp {
  app: App;
  requests: Requests;
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
const BODY_LIMIT_BYTES = 512 * 1024;

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
        // Bolt hands these to its SocketModeClient's WebClient, so apps.connections.open goes to SLACK_API_URL too.
        installerOptions: { port: config.port, clientOptions: { slackApiUrl: config.slack.apiUrl } },
        logger: boltLogger,
      })
    : new HTTPReceiver({
        signingSecret: config.slack.signingSecret ?? '',
        endpoints: '/slack/events',
        customRoutes: [healthz],
        bodyLimit: BODY_LIMIT_BYTES,
        logger: boltLogger,
        port: config.port,
      });

  if (receiver instanceof HTTPReceiver) {
    // Bolt calls this property for every request, so wrapping it puts our checks first (see http-guard.ts).
    receiver.requestListener = guardSlackEvents(receiver.requestListener, {
      path: '/slack/events',
      signingSecret: config.slack.signingSecret ?? '',
      limitBytes: BODY_LIMIT_BYTES,
      logger,
    });
  }

  const clientOptions = {
    slackApiUrl: config.slack.apiUrl,
    timeout: deps.slackTimeoutMs ?? 10_000,
    retryConfig: { retries: deps.slackRetries ?? 3, factor: 2, minTimeout: 250, maxTimeout: 5_000, randomize: true },
    // A 429 is answered by the caller (the message sync's pacer closes the whole bucket until Retry-After),
    // not by the client pausing and retrying on its own.
    rejectRateLimitedCalls: true,
  };
  const app = new App({
    receiver,
    logger: boltLogger,
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
  app.client = new webApi.WebClient(config.slack.botToken, { ...clientOptions, logger: boltLogger });
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
  // Late-bound: the rules need onChange, and the sync tells the rules when a message can't be posted.
  let withdraw: (requestId: string, slackError: string) => Promise<void> = async () => undefined;
  const sync = new MessageSync(client, store, logger, {
    claimMs: deps.syncClaimMs ?? 60_000,
    now,
    onCannotPost: (requestId, slackError) => withdraw(requestId, slackError),
  });
  const onChange = (requestId: string) => {
    void sync.request(requestId);
  };
  const directory = new SlackUsergroupDirectory(client, { ttlMs: 60_000, now, timeoutMs: 1_500 });
  const requests = createRequests({
    store,
    policy: config.policy,
    directory,
    deleter: botpenguin,
    previewer,
    now,
    leaseMs: deps.leaseMs ?? DEFAULT_LEASE_MS,
    onChange,
    onPause: (change) => {
      if (!change.channelId) return;
      client.chat
        .postMessage({ channel: change.channelId, text: renderPauseAnnouncement(change), unfurl_links: false })
        .catch((error: unknown) =>
          logger.warn('could not announce the pause in its channel', {
            channelId: change.channelId,
            ...errorFields(error),
          }),
        );
    },
    logger,
    checkpoint: deps.checkpoint,
  });
  const { executor } = requests;
  withdraw = async (requestId, slackError) => {
    await requests.withdraw(requestId, cannotPostReason(slackError));
  };
  const sweeper = new Sweeper({
    store,
    requests,
    executor,
    sync: (id) => sync.request(id),
    now,
    logger,
    intervalMs: deps.sweepIntervalMs ?? 5_000,
  });

  const listenerDeps: ListenerDeps = {
    requests,
    posted: (requestId) => sync.request(requestId),
    policy: config.policy,
    permalinks: new Permalinks(client, 1_000),
    logger,
  };
  app.use(teamGuard(config.slack.teamId, logger));
  commands.register(app, listenerDeps);
  actions.register(app, listenerDeps);
  views.register(app, listenerDeps);
  ackUnhandled(app, logger);
  app.error(async (error) => {
    logger.error('unhandled error in a listener', errorFields(error));
  });

  let server: Server | null = null;
  return {
    app,
    requests,
    sweeper,
    sync,
    async start() {
      // Before anything can claim a DELETE: stricter settings reach the requests already in the store.
      await requests.applyPolicy();
      if (receiver instanceof HTTPReceiver) {
        server = await receiver.start(config.port);
      } else {
        await app.start();
      }
      sweeper.start();
      // Its own uncached lookup: a group read at start must not stand in for the check at a click.
      const once = new SlackUsergroupDirectory(client, { ttlMs: 0, now, timeoutMs: 5_000 });
      void warnIfQuorumUnreachable(config.policy, once, logger);
      void sweeper.sweep();
      const address = server?.address() as AddressInfo | null | undefined;
      return { port: address?.port ?? null };
    },
    async stop(graceMs = 10_000) {
      let graceOver = false;
      const grace = new Promise<void>((r) => setTimeout(r, graceMs).unref()).then(() => {
        graceOver = true;
      });
      // New work first: no new DELETE (approved requests stay due in the store for any instance), no timers,
      // no sweeps, no new connections. Then what is under way, within the grace.
      executor.stopAccepting();
      executor.stopTimers();
      const closing = Promise.all([
        sweeper.stop(),
        receiver instanceof HTTPReceiver ? receiver.stop().catch(() => undefined) : closeSocket(app, receiver),
      ]);
      await Promise.race([closing.then(() => executor.idle()).then(() => sync.idle()), grace]);
      if (graceOver) logger.warn('grace period over with work in flight; recovery will finish it', { graceMs });
      // Closing the BotPenguin client waits for requests under way; past the grace, don't.
      await Promise.race([botpenguin.close(), grace]);
    },
    async idle() {
      await executor.idle();
      await sync.idle();
    },
  };
}

/**
 * Bolt's SocketModeReceiver.stop() sends the WebSocket close frame without waiting for Slack's answer; wait for
 * it (briefly), so the connection is closed cleanly rather than cut when the process exits.
 */
async function closeSocket(app: App, receiver: SocketModeReceiver): Promise<void> {
  const closed = new Promise<void>((resolve) => {
    receiver.client.once('disconnected', () => resolve());
    setTimeout(resolve, 2_000).unref();
  });
  await app.stop().catch(() => undefined);
  await closed;
}

/** A quorum the approvers can't reach for a request one of them makes is worth a warning at start. */
async function warnIfQuorumUnreachable(policy: Config['policy'], directory: Directory, logger: Logger): Promise<void> {
  const reach = await quorumReach(policy, directory);
  if (reach.kind === 'unreachable') {
    logger.warn('too few approvers: a request made by an approver can never reach APPROVALS_REQUIRED', {
      approvers: reach.approvers,
      needed: reach.needed,
    });
  } else if (reach.kind === 'unknown') {
    logger.warn('could not read the approver user groups at start to check the quorum can be reached');
  }
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
