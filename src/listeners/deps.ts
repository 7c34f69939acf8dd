import type { Policy } from '../config';
import type { Logger } from '../logger';
import type { Requests } from '../requests';
import type { HomeTab } from '../slack/home-tab';
import type { Permalinks } from '../slack/permalinks';

/** What listeners need; app.ts builds it. */
export interface ListenerDeps {
  requests: Requests;
  /** Resolves once a request's message sync under way has run: true if Slack refused its message for good. */
  postRefused: (requestId: string) => Promise<boolean>;
  policy: Policy;
  permalinks: Permalinks;
  /** Each person's Home tab: published when opened, and where a click on it is answered. */
  home: HomeTab;
  /** A Web API call of a listener failed (counted by method and Slack's error code; the caller handles it). */
  slackApiError: (method: string, error: unknown) => void;
  logger: Logger;
}
