import type { ListenerDeps } from '../deps';
import { serviceClick } from './click';

export const abortAction = (deps: ListenerDeps) => serviceClick(deps, (service, id, actor) => service.abort(id, actor));
