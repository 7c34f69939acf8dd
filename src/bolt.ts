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
// Bolt's App module loads both receivers (and @slack/socket-mode) itself, whichever mode is used: a few ms,
// as undici, the one large dependency of Socket Mode, is loaded for BotPenguin anyway.
export const { default: HTTPReceiver } =
  require('@slack/bolt/dist/receivers/HTTPReceiver') as typeof import('@slack/bolt/dist/receivers/HTTPReceiver');
export type HTTPReceiver = import('@slack/bolt').HTTPReceiver;
export const { default: SocketModeReceiver } =
  require('@slack/bolt/dist/receivers/SocketModeReceiver') as typeof import('@slack/bolt/dist/receivers/SocketModeReceiver');
export type SocketModeReceiver = import('@slack/bolt').SocketModeReceiver;
/** The Web API client of Bolt's own @slack/web-api (the version Bolt is tested with). */
export const { WebClient } = fromBolt('@slack/web-api') as typeof webApi;
export type WebClient = webApi.WebClient;
