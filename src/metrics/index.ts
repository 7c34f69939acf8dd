// Prometheus metrics on a registry of the bot's own. Counters are fed by hooks in this process; what
// several instances must agree on (open requests, the pause, the webhook backlog) is read from the store
// when Prometheus scrapes. Every label value comes from a closed set: no user id, customer id or reason.
import fs from 'node:fs';
import path from 'node:path';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { EventClass } from '../audit-webhook/event-type';
import type { AnsweredFailureKind } from '../requests/ports';
import { OPEN_STATES, type RequestState } from '../requests/types';

export const FINISH_OUTCOMES = [
  'deleted',
  'denied',
  'cancelled',
  'expired',
  'failed',
  'uncertain',
  'dry_run',
  'withdrawn',
  'aborted',
] as const;
export type FinishOutcome = (typeof FINISH_OUTCOMES)[number];

export const BOTPENGUIN_OPERATIONS = ['delete_customer', 'list_customers'] as const;
export type BotPenguinOperation = (typeof BOTPENGUIN_OPERATIONS)[number];
export const BOTPENGUIN_RESULTS = [
  'ok',
  'not_found',
  'unauthorized',
  'rejected',
  'rate_limited',
  'server_error',
  'timeout',
  'network',
  'bad_response',
] as const satisfies ReadonlyArray<'ok' | AnsweredFailureKind>;
export type BotPenguinResult = (typeof BOTPENGUIN_RESULTS)[number];

/** The Web API methods the bot calls (and those the open issues add); any other is counted as `other`. */
export const SLACK_METHODS = [
  'auth.test',
  'apps.connections.open',
  'chat.postMessage',
  'chat.postEphemeral',
  'chat.update',
  'chat.getPermalink',
  'conversations.open',
  'usergroups.users.list',
  'views.open',
  'views.publish',
  'response_url',
] as const;

/** What the metrics read from the store at scrape time, so that every instance reports the same. */
export interface MetricsSources {
  /** Open requests by state (states with none may be left out). */
  countOpenByState(): Promise<Partial<Record<RequestState, number>>>;
  isPaused(): Promise<boolean>;
  /** Trail events not yet acknowledged by the audit webhook; null when no webhook is configured. */
  auditBacklog: (() => Promise<number>) | null;
}

export interface Metrics {
  readonly registry: Registry;
  /** An event was recorded in the trail (after its transaction committed). */
  trailEvent(event: EventClass): void;
  botpenguinCall(operation: BotPenguinOperation, result: BotPenguinResult, seconds: number): void;
  /** A Web API call that failed: `error` is Slack's short code (`ratelimited`, `not_in_channel`, …). */
  slackApiError(method: string, error: string): void;
  /** A store call that threw; `operation` is a method name (letters and underscores). */
  storeError(operation: string): void;
  auditWebhookFailure(): void;
}

/**
 * The `error` label of a Web API call that threw (@slack/web-api's errors): Slack's own code when Slack
 * answered `ok: false`, else what kind of failure it was.
 */
export function slackErrorLabel(error: unknown): string {
  const { code, data } = (error ?? {}) as { code?: unknown; data?: { error?: unknown } };
  if (code === 'slack_webapi_platform_error') return typeof data?.error === 'string' ? data.error : 'platform_error';
  if (code === 'slack_webapi_rate_limited_error') return 'ratelimited';
  if (code === 'slack_webapi_http_error') return 'http_error';
  if (code === 'slack_webapi_request_error') return 'request_error';
  return 'unknown_error';
}

/** Slack's codes and our method names: lower-case words joined by `_` (a user or customer id has digits). */
const CODE = /^[a-z]+(?:_[a-z]+)*$/;
const METHOD_NAME = /^[a-zA-Z]+(?:_[a-zA-Z]+)*$/;
/** A label that takes values from outside keeps at most this many; later newcomers count as `other`. */
const MAX_OPEN_LABEL_VALUES = 40;

/**
 * A label whose values come from outside (Slack's error codes, store method names): only values of the
 * expected shape, and only the first MAX_OPEN_LABEL_VALUES of them, so the series stay few.
 */
function boundedLabel(shape: RegExp): (value: string) => string {
  const seen = new Set<string>();
  return (value) => {
    if (!shape.test(value) || value.length > 64) return 'invalid';
    if (seen.has(value)) return value;
    if (seen.size >= MAX_OPEN_LABEL_VALUES) return 'other';
    seen.add(value);
    return value;
  };
}

const inSet = <T extends string>(set: readonly T[], value: string): value is T =>
  (set as readonly string[]).includes(value);

function packageVersion(): string {
  // src/metrics and dist/metrics both sit two levels below package.json.
  const file = path.join(__dirname, '..', '..', 'package.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
}

export function createMetrics(sources: MetricsSources): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });

  buildInfo(registry);

  const created = new Counter({
    name: 'bp_delete_requests_created_total',
    help: 'Deletion requests created by this instance.',
    registers: [registry],
  });
  const finished = new Counter({
    name: 'bp_delete_requests_finished_total',
    help: 'Requests that reached an outcome in this instance (an uncertain one is counted again when settled).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  for (const outcome of FINISH_OUTCOMES) finished.inc({ outcome }, 0);

  const storeErrors = new Counter({
    name: 'bp_delete_store_errors_total',
    help: 'Store calls that failed, by operation.',
    labelNames: ['operation'],
    registers: [registry],
  });
  const storeOperation = boundedLabel(METHOD_NAME);
  const storeError = (operation: string) => storeErrors.inc({ operation: storeOperation(operation) });

  storeGauges(registry, sources, storeError);

  const botpenguin = new Histogram({
    name: 'bp_delete_botpenguin_request_duration_seconds',
    help: "Duration of calls to BotPenguin's Partner API, by operation and result.",
    labelNames: ['operation', 'result'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });

  const slackErrors = new Counter({
    name: 'bp_delete_slack_api_errors_total',
    help: 'Slack Web API calls that failed, by method and Slack error code.',
    labelNames: ['method', 'error'],
    registers: [registry],
  });
  const slackError = boundedLabel(CODE);

  const webhookFailures = new Counter({
    name: 'bp_delete_audit_webhook_failures_total',
    help: 'Audit webhook deliveries that failed (each is retried).',
    registers: sources.auditBacklog ? [registry] : [],
  });
  return {
    registry,
    trailEvent(event) {
      if (event.type === 'requested') return created.inc();
      const outcome = event.type === 'closed' ? (event.verdict === 'deleted' ? 'deleted' : 'failed') : event.type;
      if (inSet(FINISH_OUTCOMES, outcome)) finished.inc({ outcome });
    },
    botpenguinCall(operation, result, seconds) {
      // The types close these sets; the checks keep a cast or an `any` from widening them.
      if (!inSet(BOTPENGUIN_OPERATIONS, operation) || !inSet(BOTPENGUIN_RESULTS, result)) return;
      botpenguin.observe({ operation, result }, seconds);
    },
    slackApiError(method, error) {
      slackErrors.inc({ method: inSet(SLACK_METHODS, method) ? method : 'other', error: slackError(error) });
    },
    storeError,
    auditWebhookFailure: () => webhookFailures.inc(),
  };
}

function buildInfo(registry: Registry): void {
  new Gauge({
    name: 'bp_delete_build_info',
    help: 'Always 1; the labels say which bp-delete and which Node.js run.',
    labelNames: ['version', 'node_version'],
    registers: [registry],
  }).set({ version: packageVersion(), node_version: process.version }, 1);
}

/** Gauges read from the store at each scrape, so several instances agree; a failed read is counted, not thrown. */
function storeGauges(registry: Registry, sources: MetricsSources, storeError: (operation: string) => void): void {
  new Gauge({
    name: 'bp_delete_open_requests',
    help: 'Open requests by state, as the store holds them (the same on every instance).',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      this.reset();
      try {
        const counts = await sources.countOpenByState();
        for (const state of OPEN_STATES) this.set({ state }, counts[state] ?? 0);
      } catch {
        // A scrape while the store is down still answers; the gap and the error counter say why.
        storeError('countOpenByState');
      }
    },
  });
  new Gauge({
    name: 'bp_delete_paused',
    help: '1 while every DELETE is paused (/bp-delete pause), 0 otherwise.',
    registers: [registry],
    async collect() {
      this.reset();
      try {
        this.set((await sources.isPaused()) ? 1 : 0);
      } catch {
        storeError('isPaused');
      }
    },
  });
  const backlog = sources.auditBacklog;
  if (backlog) {
    new Gauge({
      name: 'bp_delete_audit_webhook_backlog',
      help: 'Trail events not yet acknowledged by the audit webhook receiver.',
      registers: [registry],
      async collect() {
        this.reset();
        try {
          this.set(await backlog());
        } catch {
          storeError('auditBacklog');
        }
      },
    });
  }
}
