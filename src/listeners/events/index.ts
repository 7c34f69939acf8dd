import type { App } from '@slack/bolt';
import type { ListenerDeps } from '../deps';
import { appHomeOpened } from './app-home-opened';

export const register = (app: App, deps: ListenerDeps): void => {
  app.event('app_home_opened', appHomeOpened(deps));
};
