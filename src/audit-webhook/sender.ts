// POSTs one signed delivery to the receiver (Standard Webhooks: webhook-id, webhook-timestamp,
// webhook-signature over `id.timestamp.body`), bounded in time, and says whether it was accepted.
import { Webhook } from 'standardwebhooks';
import { Agent, request } from 'undici';

export type DeliveryResult = { ok: true } | { ok: false; status: number | null; error: string };

export type Deliver = (id: string, body: string) => Promise<DeliveryResult>;

/** The three headers for `body` sent as message `id` at `at`. */
export function signedHeaders(webhook: Webhook, id: string, at: Date, body: string): Record<string, string> {
  return {
    'webhook-id': id,
    // Seconds, as the spec says; receivers refuse a timestamp far from their clock, so it is the send time.
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': webhook.sign(id, at, body),
  };
}

export interface WebhookSender {
  deliver: Deliver;
  close(): Promise<void>;
}

export function createWebhookSender(options: {
  url: string;
  secret: string;
  timeoutMs: number;
  now: () => number;
}): WebhookSender {
  const webhook = new Webhook(options.secret);
  // Its own connection pool: a slow receiver never holds a socket that Slack or BotPenguin calls need.
  const agent = new Agent({
    connect: { timeout: options.timeoutMs },
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    connections: 8,
  });
  return {
    async deliver(id, body) {
      const headers = {
        'content-type': 'application/json',
        'user-agent': 'bp-delete-audit-webhook',
        ...signedHeaders(webhook, id, new Date(options.now()), body),
      };
      try {
        const res = await request(options.url, {
          method: 'POST',
          headers,
          body,
          dispatcher: agent,
          signal: AbortSignal.timeout(options.timeoutMs),
        });
        // Read (and drop) the answer so the connection can be reused; a receiver's body is not ours to log.
        await res.body.dump();
        if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true };
        return { ok: false, status: res.statusCode, error: `HTTP ${res.statusCode}` };
      } catch (error) {
        // The code only (ECONNREFUSED, UND_ERR_HEADERS_TIMEOUT, …): a message could quote the URL.
        const code = (error as { code?: unknown }).code;
        const name = error instanceof Error ? error.name : 'Error';
        return { ok: false, status: null, error: typeof code === 'string' ? code : name };
      }
    },
    close: () => agent.close(),
  };
}
