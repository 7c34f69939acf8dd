// A person opened the app's Home tab: publish what waits for them (the Messages tab needs nothing).
import type { AllMiddlewareArgs, SlackEventMiddlewareArgs } from '@slack/bolt';
import type { ListenerDeps } from '../deps';

export const appHomeOpened =
  (deps: ListenerDeps) =>
  async ({ event, body }: AllMiddlewareArgs & SlackEventMiddlewareArgs<'app_home_opened'>): Promise<void> => {
    if (event.tab !== 'home') return;
    await deps.home.opened(event.user, body.team_id || undefined);
  };
