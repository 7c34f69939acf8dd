import type { ListenerDeps } from '../deps';
import { serviceClick } from './click';

export const approveAction = (deps: ListenerDeps) =>
  serviceClick(deps, (service, id, actor) => service.approve(id, actor));
