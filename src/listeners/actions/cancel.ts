import type { ListenerDeps } from '../deps';
import { requestsClick } from './click';

export const cancelAction = (deps: ListenerDeps) =>
  requestsClick(deps, (requests, id, actor) => requests.decisions.cancel(id, actor, 'button'));
