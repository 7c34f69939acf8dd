import type { PolicyConfig } from '../config';
import type { Logger } from '../logger';
import type { RequestService } from '../requests/service';
import type { Permalinks } from '../slack/permalinks';

/** What listeners need; app.ts builds it. */
export interface ListenerDeps {
  service: RequestService;
  /** Resolves once a request's message sync has run (its approval message is posted, or can't be). */
  posted: (requestId: string) => Promise<void>;
  settings: PolicyConfig;
  permalinks: Permalinks;
  logger: Logger;
}
