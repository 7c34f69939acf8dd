// How Slack reaches the bot (HTTP or Socket Mode) and the probes on PORT: GET /healthz (liveness: the process
// answers) and GET /readyz (readiness: the store answers and, in Socket Mode, the socket is connected).

import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { App, Logger as BoltLogger, LogLevel } from '@slack/bolt';
import { HTTPReceiver, SocketModeReceiver } from './bolt';
import type { Config } from './config';
import { guardSlackEvents } from './http-guard';
import type { Logger } from './logger';
import { slackErrorCode } from './slack/slack-errors';
import { TOKEN_REFUSED } from './slack/verify-token';
import type { Store } from './store/types';

/** Slack sends a few hundred KB at most; anything larger is refused with 413 before parsing. */
const BODY_LIMIT_BYTES = 512 * 1024;
const EVENTS_PATH = '/slack/events';
/** A probe waits this long for the store; an unreachable database must not hold it until the probe times out. */
const PING_TIMEOUT_MS = 2_000;

/** How long to wait before asking apps.connections.open again after a transient failure of a reconnect. */
const RECONNECT_RETRY_MS = 5_000;

export interface BotReceiver {
  receiver: HTTPReceiver | SocketModeReceiver;
  /** Whether Slack can reach the bot now: always in HTTP mode; in Socket Mode, while the socket is connected. */
  hearsSlack(): boolean;
  /** Listen on PORT and, in Socket Mode, connect; resolves with the HTTP port in use. */
  start(app: App): Promise<number>;
  stop(app: App): Promise<void>;
}

/** `onTokenRefused`: Slack refused SLACK_APP_TOKEN for good while running (a reconnect); the caller ends the process. */
export function createReceiver(
  config: Config,
  store: Store,
  logger: Logger,
  onTokenRefused: (error: string) => void,
): BotReceiver {
  return config.slack.appToken
    ? socketModeReceiver(config, config.slack.appToken, store, logger, onTokenRefused)
    : httpReceiver(config, store, logger);
}

function httpReceiver(config: Config, store: Store, logger: Logger): BotReceiver {
  const signingSecret = config.slack.signingSecret ?? '';
  const answer = probes(store, () => null);
  const receiver = new HTTPReceiver({
    signingSecret,
    endpoints: EVENTS_PATH,
    customRoutes: ['/healthz', '/readyz'].map((path) => ({
      path,
      method: ['GET'],
      handler: (req: IncomingMessage, res: ServerResponse) => void answer(req, res),
    })),
    bodyLimit: BODY_LIMIT_BYTES,
    logger: toBoltLogger(logger),
    port: config.port,
  });
  // Bolt calls this property for every request, so wrapping it puts our checks first (see http-guard.ts).
  receiver.requestListener = guardSlackEvents(receiver.requestListener, {
    path: EVENTS_PATH,
    signingSecret,
    limitBytes: BODY_LIMIT_BYTES,
    logger,
  });
  return {
    receiver,
    hearsSlack: () => true,
    async start() {
      const server = await receiver.start(config.port);
      return (server.address() as AddressInfo).port;
    },
    async stop() {
      await receiver.stop().catch(() => undefined);
    },
  };
}

function socketModeReceiver(
  config: Config,
  appToken: string,
  store: Store,
  logger: Logger,
  onTokenRefused: (error: string) => void,
): BotReceiver {
  const receiver = new SocketModeReceiver({
    appToken,
    // Bolt hands these to its SocketModeClient's WebClient, so apps.connections.open goes to SLACK_API_URL too.
    installerOptions: { clientOptions: { slackApiUrl: config.slack.apiUrl } },
    logger: toBoltLogger(logger),
  });
  // Every state but `connected` means Slack can't reach us right now; the client reconnects on its own.
  let connected = false;
  receiver.client.on('connected', () => {
    connected = true;
  });
  for (const state of ['connecting', 'reconnecting', 'disconnecting', 'disconnected', 'close']) {
    receiver.client.on(state, () => {
      connected = false;
    });
  }
  let stopping = false;
  keepReconnecting(receiver, logger, onTokenRefused, () => stopping);
  // Our own server for the probes: Bolt's (for custom routes) doesn't say which port it got.
  const server = http.createServer(probes(store, () => (connected ? null : 'socket')));
  return {
    receiver,
    hearsSlack: () => connected,
    async start(app) {
      await new Promise<void>((resolve) => server.listen(config.port, resolve));
      await app.start();
      return (server.address() as AddressInfo).port;
    },
    async stop(app) {
      stopping = true;
      server.close();
      // Keep-alive connections of probes would hold the process open after the server closed.
      server.closeAllConnections();
      await closeSocket(app, receiver);
    },
  };
}

/**
 * The Socket Mode client reconnects by calling its own start() from a timer, and lets that promise reject
 * unhandled when apps.connections.open fails in a way it deems unrecoverable: the bot would stay deaf for good.
 * Wrapped here (the client reads `this.start` when it schedules a reconnect): a refused token is reported to
 * `onTokenRefused`, anything else (network, HTTP errors) is retried. The first start's failure still rejects
 * app.start(), so main.ts exits as before.
 */
function keepReconnecting(
  receiver: SocketModeReceiver,
  logger: Logger,
  onTokenRefused: (error: string) => void,
  stopping: () => boolean,
): void {
  const client = receiver.client;
  const start = client.start.bind(client);
  let startedOnce = false;
  const guarded = async (): ReturnType<typeof start> => {
    try {
      const opened = await start();
      startedOnce = true;
      return opened;
    } catch (error) {
      if (!startedOnce) throw error;
      const code = slackErrorCode(error);
      if (code && TOKEN_REFUSED.has(code)) {
        onTokenRefused(code);
        return new Promise<never>(() => {}); // the process is ending
      }
      if (stopping()) return new Promise<never>(() => {});
      logger.warn('could not reconnect the Socket Mode socket; will retry', {
        error: typeof code === 'string' ? code : error instanceof Error ? error.message : String(error),
        retryInMs: RECONNECT_RETRY_MS,
      });
      await new Promise((resolve) => setTimeout(resolve, RECONNECT_RETRY_MS));
      return stopping() ? new Promise<never>(() => {}) : guarded();
    }
  };
  client.start = guarded;
}

/** GET /healthz and GET /readyz; `socketFailing` names the socket when it is not connected (null in HTTP mode). */
function probes(store: Store, socketFailing: () => string | null) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' || (path !== '/healthz' && path !== '/readyz')) {
      reply(res, 404, { ok: false });
      return;
    }
    if (path === '/healthz') {
      reply(res, 200, { ok: true });
      return;
    }
    const failing = [(await storeAnswers(store)) ? null : 'store', socketFailing()].filter((f) => f !== null);
    reply(res, failing.length === 0 ? 200 : 503, { ok: failing.length === 0, store: store.kind, failing });
  };
}

async function storeAnswers(store: Store): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), PING_TIMEOUT_MS);
  });
  const ping = store.ping().then(
    () => true,
    () => false,
  );
  try {
    return await Promise.race([ping, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
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

/**
 * The Web API client's debug line with each call's body: an approval message's body holds the customer's name
 * and email while the request waits, and logs keep what the store erases. Logged without the body.
 */
const CALL_BODY = /^http request body: [\s\S]*$/;
const withoutBody = (line: string) =>
  line.replace(CALL_BODY, 'http request body: (not logged: it can hold a customer’s name and email)');

/** Bolt and its receivers log through our JSON logger (and its redaction). */
export function toBoltLogger(logger: Logger): BoltLogger {
  // LogLevel.INFO, as a string: the enum's module is not loaded for a type.
  let level = 'info' as LogLevel;
  const join = (msgs: unknown[]) =>
    msgs.map((m) => (typeof m === 'string' ? m : m instanceof Error ? m.message : JSON.stringify(m))).join(' ');
  return {
    // The Web API client writes a debug line per call, its whole body included: not even built unless logged.
    debug: (...msgs: unknown[]) => {
      if (logger.enabled('debug')) logger.debug(withoutBody(join(msgs)), { source: 'bolt' });
    },
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
