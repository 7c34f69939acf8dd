// Whatever no listener acknowledges (an older version's button, a URL button's click, a payload type we
// don't handle, `payload={}`) is acknowledged as soon as Bolt is done with it, and changes nothing.
// Without this, Bolt holds the request until its unhandled-request timeout (3 s) and answers 404,
// and in Socket Mode leaves the envelope unacknowledged, so Slack retries it.
import type { App } from '@slack/bolt';
import type { Logger } from '../logger';

type ProcessEvent = App['processEvent'];

/**
 * Wraps `app.processEvent`, the one entry point every receiver (HTTP and Socket Mode) calls with each
 * request and its `ack`. Bolt resolves it once the listeners that matched have run; all of ours ack first.
 */
export function ackUnhandled(app: App, logger: Logger): void {
  const processEvent: ProcessEvent = app.processEvent.bind(app);
  app.processEvent = async (event) => {
    let acked = false;
    const ack = event.ack;
    const tracked: typeof event = {
      ...event,
      ack: (response) => {
        acked = true;
        return ack(response);
      },
    };
    // A rejection is left to the receiver's error handler, as before.
    await processEvent(tracked);
    if (!acked) {
      logger.debug('acknowledged a request no listener handled', describe(event.body));
      await ack();
    }
  };
}

/** Enough to recognise the request in a log, nothing the user typed. */
function describe(body: unknown): Record<string, string | null> {
  const b = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
  const actions = Array.isArray(b.actions) ? (b.actions as { action_id?: unknown }[]) : [];
  const view = b.view as { callback_id?: unknown } | undefined;
  const pick = (v: unknown) => (typeof v === 'string' ? v.slice(0, 64) : null);
  return {
    type: pick(b.type),
    command: pick(b.command),
    actionId: pick(actions[0]?.action_id),
    callbackId: pick(view?.callback_id ?? b.callback_id),
  };
}
