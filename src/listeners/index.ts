// Every listener, registered in the order Bolt runs them: the workspace guard first, then commands, buttons,
// modals and events; whatever none of them acknowledges is acknowledged last; errors are logged.
import type { App } from '@slack/bolt';
import { errorFields } from '../logger';
import { ackUnhandled } from './ack-unhandled';
import * as actions from './actions';
import * as commands from './commands';
import type { ListenerDeps } from './deps';
import * as events from './events';
import { teamGuard } from './team-guard';
import * as views from './views';

/** `servedTeam` is SLACK_TEAM_ID: the workspace or organisation whose users the bot serves. */
export function registerListeners(app: App, deps: ListenerDeps, servedTeam: string | undefined): void {
  app.use(teamGuard(servedTeam, deps.logger));
  commands.register(app, deps);
  actions.register(app, deps);
  views.register(app, deps);
  events.register(app, deps);
  ackUnhandled(app, deps.logger);
  app.error(async (error) => {
    deps.logger.error('unhandled error in a listener', errorFields(error));
  });
}
