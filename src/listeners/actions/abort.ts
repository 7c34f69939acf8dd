import type { ListenerDeps } from '../deps';
import { requestsClick } from './click';

export const abortAction = (deps: ListenerDeps) =>
  requestsClick(deps, (requests, id, actor) => requests.decisions.abort(id, actor));
