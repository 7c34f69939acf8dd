import type { ListenerDeps } from '../deps';
import { requestsClick } from './click';

export const approveAction = (deps: ListenerDeps) =>
  requestsClick(deps, (requests, id, actor) => requests.decisions.approve(id, actor));
