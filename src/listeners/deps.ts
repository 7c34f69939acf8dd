import type { PolicyConfig } from '../config';
import type { Logger } from '../logger';
import type { RequestService } from '../requests/service';
import type { Permalinks } from '../slack/permalinks';

/** What listeners need; app.ts builds it. */
export interface ListenerDeps {
  service: RequestService;
  settings: PolicyConfig;
  permalinks: Permalinks;
  logger: Logger;
}
