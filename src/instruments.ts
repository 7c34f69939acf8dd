// The operators' instruments, wired: Prometheus metrics (GET /metrics on METRICS_PORT, only when it is set)
// and the audit webhook (only when AUDIT_WEBHOOK_URL is set). Both hear of the trail's events from the store
// once they commit, so neither sits in the path of a command, a click or a DELETE.

import { type AuditWebhook, startAuditWebhook } from './audit-webhook';
import { classifyEvent } from './audit-webhook/event-type';
import { WebClient } from './bolt';
import type { Config } from './config';
import { createRedactor, type Logger } from './logger';
import { createMetrics, type Metrics, slackErrorLabel } from './metrics';
import { type MetricsServer, startMetricsServer } from './metrics/server';
import type { InstrumentedStore } from './store/types';

export interface Instruments {
  metrics: Metrics;
  /** The store as the app uses it: the same, with every failed call counted. */
  store: InstrumentedStore;
  /** A Web API client whose failed calls are counted by method and Slack's error code. */
  slackClient(token: string, options: ConstructorParameters<typeof WebClient>[1]): WebClient;
  /** Serve the metrics and start the webhook's deliveries; resolves with the metrics port (null: off). */
  start(): Promise<{ metricsPort: number | null }>;
  /** Stop serving and delivering (what is not acknowledged stays in the outbox). */
  stop(): Promise<void>;
}

export function createInstruments(deps: {
  config: Config;
  store: InstrumentedStore;
  logger: Logger;
  /** The audit webhook's lease (see AuditWebhookWorkerDeps.leaseMs). */
  auditLeaseMs?: number;
}): Instruments {
  const { config, store, logger } = deps;
  const webhookSettings = config.auditWebhook;
  const metrics = createMetrics({
    countOpenByState: () => store.countOpenByState(),
    isPaused: async () => (await store.getPause()) !== null,
    auditBacklog: webhookSettings ? () => store.auditOutbox.backlog() : null,
  });
  let webhook: AuditWebhook | null = null;
  let server: MetricsServer | null = null;
  store.onEventsCommitted((events) => {
    for (const event of events) {
      metrics.trailEvent(classifyEvent(event, { outcome: event.outcomeKind ? { kind: event.outcomeKind } : null }));
    }
    webhook?.poke();
  });
  return {
    metrics,
    store: countFailures(store, metrics.storeError),
    slackClient: (token, options) => new CountingWebClient(metrics, token, options),
    async start() {
      if (webhookSettings) {
        webhook = startAuditWebhook(webhookSettings, {
          outbox: store.auditOutbox,
          logger,
          clean: createRedactor(config.secrets),
          metrics,
          leaseMs: deps.auditLeaseMs,
        });
      }
      if (config.metricsPort !== undefined) server = await startMetricsServer(metrics.registry, config.metricsPort);
      return { metricsPort: server?.port ?? null };
    },
    async stop() {
      await Promise.all([webhook?.stop(), server?.close()]);
      webhook = null;
      server = null;
    },
  };
}

/** Every Web API method of this client goes through apiCall, so one override counts every failure once. */
class CountingWebClient extends WebClient {
  constructor(
    private readonly metrics: Metrics,
    token: string,
    options: ConstructorParameters<typeof WebClient>[1],
  ) {
    super(token, options);
  }

  override async apiCall(method: string, options?: Record<string, unknown>) {
    try {
      return await super.apiCall(method, options);
    } catch (error) {
      this.metrics.slackApiError(method, slackErrorLabel(error));
      throw error;
    }
  }
}

/** The store, with each method call that rejects counted under the method's name (and still rejected). */
function countFailures<S extends object>(store: S, storeError: (operation: string) => void): S {
  // Each method wrapped once, not at every call (the store is called several times per command).
  const wrapped = new Map<string, { method: unknown; counted: (...args: unknown[]) => unknown }>();
  return new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== 'function' || typeof name !== 'string') return value;
      const known = wrapped.get(name);
      if (known?.method === value) return known.counted;
      const counted = (...args: unknown[]) => {
        const result = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (!(result instanceof Promise)) return result;
        return result.catch((error: unknown) => {
          storeError(name);
          throw error;
        });
      };
      wrapped.set(name, { method: value, counted });
      return counted;
    },
  });
}
