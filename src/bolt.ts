// The parts of Bolt we use, loaded without Bolt's entry module: that one also loads the Express, AWS Lambda
// and OAuth pieces (about a third of Bolt's start-up), which this bot never uses. One file, so a Bolt
// upgrade that moves them breaks here, at start, and in the typecheck.
import { createRequire } from 'node:module';
import type { webApi } from '@slack/bolt';

const fromBolt = createRequire(require.resolve('@slack/bolt'));

export const { default: App } = require('@slack/bolt/dist/App') as typeof import('@slack/bolt/dist/App');
export type App = import('@slack/bolt').App;
export const HTTPModuleFunctions =
  require('@slack/bolt/dist/receivers/HTTPModuleFunctions') as typeof import('@slack/bolt').HTTPModuleFunctions;
export const { isValidSlackRequest } =
  require('@slack/bolt/dist/receivers/verify-request') as typeof import('@slack/bolt/dist/receivers/verify-request');
/**
 * The receivers, each loaded in its own mode. Bolt's App module loads SocketModeReceiver (and @slack/socket-mode)
 * in either mode; that costs a few ms, as undici, its one large dependency, is loaded for BotPenguin anyway.
 */
export const loadHTTPReceiver = () =>
  (require('@slack/bolt/dist/receivers/HTTPReceiver') as typeof import('@slack/bolt/dist/receivers/HTTPReceiver'))
    .default;
export const loadSocketModeReceiver = () =>
  (
    require('@slack/bolt/dist/receivers/SocketModeReceiver') as typeof import('@slack/bolt/dist/receivers/SocketModeReceiver')
  ).default;
/** The Web API client of Bolt's own @slack/web-api (the version Bolt is tested with). */
export const { WebClient } = fromBolt('@slack/web-api') as typeof webApi;
export type WebClient = webApi.WebClient;
