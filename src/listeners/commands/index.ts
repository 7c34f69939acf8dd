import type { App } from '@slack/bolt';
import { COMMAND } from '../../constants';
import type { ListenerDeps } from '../deps';
import { bpDeleteCommand } from './bp-delete';

export const register = (app: App, deps: ListenerDeps): void => {
  app.command(COMMAND, bpDeleteCommand(deps));
};
