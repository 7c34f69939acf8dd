import type { ListenerDeps } from '../deps';
import { serviceClick } from './click';

export const cancelAction = (deps: ListenerDeps) =>
  serviceClick(deps, (service, id, actor) => service.cancel(id, actor));
