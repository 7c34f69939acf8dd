// The pieces behind the listeners, wired together: BotPenguin client, previewer, message sync, directory,
// the rules and the sweeper. Nothing here knows how Slack reaches the bot.

import type { AppDeps } from './app';
import { cannotPostReason, renderPauseAnnouncement } from './blocks/replies';
import type { WebClient } from './bolt';
import { BotPenguinClient } from './botpenguin/client';
import type { Config } from './config';
import { errorFields, type Logger } from './logger';
import type { Metrics } from './metrics';
import { createRequests, type Requests } from './requests';
import { quorumReach } from './requests/permissions';
import type { Directory } from './requests/ports';
import { Previewer } from './requests/preview';
import { HomeTab } from './slack/home-tab';
import { MessageSync } from './slack/message-sync';
import { Permalinks } from './slack/permalinks';
import { SlackUsergroupDirectory } from './slack/usergroups';
import { Sweeper } from './sweeper';

/** Short, because the owner renews it: after a crash, another instance takes over within about this long. */
const DEFAULT_LEASE_MS = 15_000;

export interface Services {
  botpenguin: BotPenguinClient;
  requests: Requests;
  sync: MessageSync;
  sweeper: Sweeper;
  permalinks: Permalinks;
  home: HomeTab;
}

/** What the services learn of Slack's connection from the receiver and the app. */
export interface SlackLink {
  /** Whether Slack can reach the bot now (see BotReceiver.hearsSlack). */
  hearsSlack: () => boolean;
  /** Slack refused the bot token for good on a call. */
  onBotTokenRefused: (error: string) => void;
}

export function createServices(deps: AppDeps, client: WebClient, metrics: Metrics, link: SlackLink): Services {
  const { config, store, logger } = deps;
  const now = deps.now ?? Date.now;
  const botpenguin = new BotPenguinClient({
    baseUrl: config.botpenguin.apiUrl,
    token: config.botpenguin.token,
    timeoutMs: config.botpenguin.timeoutMs,
    onAttempt: (info) => {
      if (info.retryInMs !== undefined) logger.warn('BotPenguin call will be retried', info);
    },
    onCall: (operation, result, seconds) => metrics.botpenguinCall(operation, result, seconds),
  });
  const previewer = new Previewer(botpenguin, { maxPages: 5, budgetMs: 8_000, cacheMs: 60_000, now });
  // Late-bound: the rules need onChange, and the sync tells the rules when a message can't be posted.
  let withdraw: (requestId: string, slackError: string) => Promise<void> = async () => undefined;
  const permalinks = new Permalinks(client, 1_000);
  const sync = new MessageSync(client, store, logger, {
    claimMs: deps.syncClaimMs ?? 60_000,
    postIntervalMs: deps.slackPostIntervalMs,
    now,
    onCannotPost: (requestId, slackError) => withdraw(requestId, slackError),
    requesterDm: config.notifyRequester ? { permalink: (channelId, ts) => permalinks.get(channelId, ts) } : null,
    onTokenRefused: link.onBotTokenRefused,
  });
  // Late-bound too: the Home tab reads through the rules.
  let home: HomeTab | null = null;
  const onChange = (requestId: string) => {
    void sync.request(requestId);
    void home?.changed(requestId);
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
    hearsSlack: link.hearsSlack,
    onChange,
    onPause: (change) => {
      void home?.everyone();
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
  });
  home = new HomeTab({
    client,
    queues: requests.home,
    find: (requestId) => requests.decisions.find(requestId),
    now,
    logger,
  });
  withdraw = async (requestId, slackError) => {
    await requests.decisions.withdraw(requestId, cannotPostReason(slackError));
  };
  const sweeper = new Sweeper({
    store,
    requests,
    sync: (id) => sync.request(id),
    now,
    logger,
    intervalMs: deps.sweepIntervalMs ?? 5_000,
  });
  return { botpenguin, requests, sync, sweeper, permalinks, home };
}

/** A quorum the approvers can't reach for a request one of them makes is worth a warning at start. */
export async function warnIfQuorumUnreachable(
  policy: Config['policy'],
  client: WebClient,
  now: () => number,
  logger: Logger,
): Promise<void> {
  // Its own uncached lookup: a group read at start must not stand in for the check at a click.
  const directory: Directory = new SlackUsergroupDirectory(client, { ttlMs: 0, now, timeoutMs: 5_000 });
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
