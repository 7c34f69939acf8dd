// The audit webhook as main.ts starts it: a signed sender to AUDIT_WEBHOOK_URL and the background worker
// over the store's outbox. Off (never called) when the webhook is not configured.
import type { AuditWebhookSettings } from '../config';
import type { Logger } from '../logger';
import { createWebhookSender } from './sender';
import { type AuditOutbox, AuditWebhookWorker, type AuditWebhookWorkerDeps } from './worker';

/** One POST, headers to last byte; a round of deliveries stays well inside the worker's lease. */
const DELIVERY_TIMEOUT_MS = 10_000;

export interface AuditWebhook {
  /** An event was recorded: deliver it now rather than at the next poll. */
  poke(): void;
  /** Stop after the deliveries under way; what is not acknowledged stays in the outbox. */
  stop(): Promise<void>;
}

export function startAuditWebhook(
  settings: AuditWebhookSettings,
  deps: {
    outbox: AuditOutbox;
    logger: Logger;
    clean: (text: string) => string;
    metrics: AuditWebhookWorkerDeps['metrics'];
    leaseMs?: number;
  },
): AuditWebhook {
  const sender = createWebhookSender({ ...settings, timeoutMs: DELIVERY_TIMEOUT_MS, now: Date.now });
  const worker = new AuditWebhookWorker({ ...deps, deliver: sender.deliver });
  worker.start();
  return {
    poke: () => worker.poke(),
    stop: async () => {
      await worker.stop();
      await sender.close();
    },
  };
}
