// GET /metrics on its own port: Prometheus text with the bot's counters, gauges read from the store at
// scrape time, and labels that can never carry a user id, customer id or reason.

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { LogLevel, webApi } from '@slack/bolt';
import { classifyEvent } from '../../../src/audit-webhook/event-type';
import { createMetrics, FINISH_OUTCOMES, type MetricsSources, slackErrorLabel } from '../../../src/metrics';
import { type MetricsServer, startMetricsServer } from '../../../src/metrics/server';

const USER = 'U0ASKER1';
const CUSTOMER = '5f3a9c0e1b2d4e6f7a8b9c0d';
const REASON = 'customer asked by email';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The exposition format's sample lines; throws on a line that is neither a sample nor a comment. */
function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ') || line.startsWith('# TYPE ')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?[0-9.e+-]+|[Nn]a[Nn]|[+-]Inf)$/.exec(line);
    if (!match) throw new Error(`not Prometheus text: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[key as string] = value as string;
    }
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

const value = (samples: Sample[], name: string, labels: Record<string, string> = {}) =>
  samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

describe('GET /metrics', () => {
  let server: MetricsServer;
  let paused = true;
  let storeUp = true;
  const sources: MetricsSources = {
    countOpenByState: async () => {
      if (!storeUp) throw new Error('store unreachable');
      return { pending: 2, uncertain: 1 };
    },
    isPaused: async () => paused,
    auditBacklog: async () => 4,
  };
  const metrics = createMetrics(sources);

  beforeAll(async () => {
    server = await startMetricsServer(metrics.registry, 0);
  });
  afterAll(() => server.close());

  const scrape = async () => {
    const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    return res.text();
  };

  it('after a deletion, a denial and a failure: counters by outcome, open requests by state, the pause', async () => {
    const request = { outcome: null };
    for (const kind of ['requested', 'requested', 'requested', 'deleted', 'denied', 'failed'] as const) {
      metrics.trailEvent(classifyEvent({ kind, actorId: kind === 'denied' ? USER : null }, request));
    }
    metrics.trailEvent(classifyEvent({ kind: 'approved', actorId: USER }, request)); // not an outcome
    const samples = parse(await scrape());
    expect(value(samples, 'bp_delete_requests_created_total')).toBe(3);
    for (const outcome of FINISH_OUTCOMES) {
      const expected = ['deleted', 'denied', 'failed'].includes(outcome) ? 1 : 0;
      expect([outcome, value(samples, 'bp_delete_requests_finished_total', { outcome })]).toEqual([outcome, expected]);
    }
    expect(value(samples, 'bp_delete_open_requests', { state: 'pending' })).toBe(2);
    expect(value(samples, 'bp_delete_open_requests', { state: 'approved' })).toBe(0);
    expect(value(samples, 'bp_delete_open_requests', { state: 'uncertain' })).toBe(1);
    expect(value(samples, 'bp_delete_paused')).toBe(1);
    expect(value(samples, 'bp_delete_audit_webhook_backlog')).toBe(4);
    expect(value(samples, 'bp_delete_build_info', { version: '0.1.0', node_version: process.version })).toBe(1);
    expect(value(samples, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
  });

  it('an approver closing an uncertain request counts as deleted or failed by the verdict', async () => {
    const before = parse(await scrape());
    metrics.trailEvent({ type: 'closed', verdict: 'kept' });
    const after = parse(await scrape());
    const failed = (s: Sample[]) => value(s, 'bp_delete_requests_finished_total', { outcome: 'failed' }) ?? 0;
    expect(failed(after)).toBe(failed(before) + 1);
  });

  it('the gauges are read at each scrape, so every instance shows what the store holds now', async () => {
    paused = false;
    expect(value(parse(await scrape()), 'bp_delete_paused')).toBe(0);
    paused = true;
  });

  it('a store that does not answer still gives a scrape, without open counts, and counts the error', async () => {
    storeUp = false;
    const samples = parse(await scrape());
    storeUp = true;
    expect(samples.some((s) => s.name === 'bp_delete_open_requests')).toBe(false);
    // All metrics are read side by side, so the error a gauge's read meets shows from the next scrape on.
    const next = parse(await scrape());
    expect(value(next, 'bp_delete_store_errors_total', { operation: 'countOpenByState' })).toBe(1);
    expect(value(next, 'bp_delete_open_requests', { state: 'pending' })).toBe(2);
  });

  it('BotPenguin durations are a histogram by operation and result', async () => {
    metrics.botpenguinCall('delete_customer', 'ok', 0.2);
    metrics.botpenguinCall('delete_customer', 'server_error', 3);
    const samples = parse(await scrape());
    const count = (result: string) =>
      value(samples, 'bp_delete_botpenguin_request_duration_seconds_count', { operation: 'delete_customer', result });
    expect([count('ok'), count('server_error')]).toEqual([1, 1]);
    expect(
      value(samples, 'bp_delete_botpenguin_request_duration_seconds_bucket', {
        operation: 'delete_customer',
        result: 'ok',
        le: '0.25',
      }),
    ).toBe(1);
  });

  it('no label carries a user id, a customer id or a reason, whatever a caller passes', async () => {
    metrics.slackApiError('chat.postMessage', 'ratelimited');
    metrics.slackApiError('chat.postMessage', USER);
    metrics.slackApiError(`chat.postMessage ${USER}`, 'not_in_channel');
    metrics.slackApiError('chat.update', CUSTOMER);
    metrics.slackApiError('chat.update', REASON);
    metrics.storeError(CUSTOMER);
    metrics.storeError('createRequest');
    // Values the types forbid, as an `any` would pass them.
    metrics.botpenguinCall(CUSTOMER as 'delete_customer', 'ok', 1);
    metrics.trailEvent({ type: USER as 'deleted', verdict: null });
    const text = await scrape();
    for (const forbidden of [USER, CUSTOMER, REASON, 'customer asked']) expect(text).not.toContain(forbidden);
    const samples = parse(text);
    expect(
      value(samples, 'bp_delete_slack_api_errors_total', { method: 'chat.postMessage', error: 'ratelimited' }),
    ).toBe(1);
    expect(value(samples, 'bp_delete_slack_api_errors_total', { method: 'chat.postMessage', error: 'invalid' })).toBe(
      1,
    );
    expect(value(samples, 'bp_delete_slack_api_errors_total', { method: 'other', error: 'not_in_channel' })).toBe(1);
    expect(value(samples, 'bp_delete_store_errors_total', { operation: 'createRequest' })).toBe(1);
  });

  it("Slack's error codes are bounded: past the first 40 distinct ones, newcomers count as other", async () => {
    const fresh = createMetrics({ ...sources, auditBacklog: null });
    const words = 'alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima mike'.split(' ');
    for (const a of words) for (const b of words.slice(0, 4)) fresh.slackApiError('chat.update', `${a}_${b}`);
    const samples = parse(await fresh.registry.metrics()).filter((s) => s.name === 'bp_delete_slack_api_errors_total');
    expect(samples).toHaveLength(41);
    expect(value(samples, 'bp_delete_slack_api_errors_total', { error: 'other' })).toBe(words.length * 4 - 40);
  });

  it('without a webhook there is no webhook backlog or failure metric', async () => {
    const text = await createMetrics({ ...sources, auditBacklog: null }).registry.metrics();
    expect(text).not.toContain('bp_delete_audit_webhook');
  });

  it('answers only GET /metrics', async () => {
    expect((await fetch(`http://127.0.0.1:${server.port}/`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${server.port}/metrics`, { method: 'POST' })).status).toBe(405);
  });
});

describe("the error label of a Web API call that threw is Slack's code, or the kind of failure", () => {
  it('from a real WebClient against a local Slack', async () => {
    const answers: Record<string, () => [number, object]> = {
      '/api/chat.postMessage': () => [200, { ok: false, error: 'not_in_channel' }],
      '/api/chat.update': () => [500, { ok: false }],
    };
    const slack = http.createServer((req, res) => {
      const [status, body] = answers[req.url ?? '']?.() ?? [404, {}];
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => slack.listen(0, '127.0.0.1', resolve));
    const port = (slack.address() as AddressInfo).port;
    const client = new webApi.WebClient('xoxb-test', {
      slackApiUrl: `http://127.0.0.1:${port}/api/`,
      retryConfig: { retries: 0 },
      logLevel: LogLevel.ERROR,
    });
    const codeOf = (call: Promise<unknown>) => call.then(() => 'no error', slackErrorLabel);
    try {
      expect(await codeOf(client.chat.postMessage({ channel: 'C0OPS', text: 'x' }))).toBe('not_in_channel');
      expect(await codeOf(client.chat.update({ channel: 'C0OPS', ts: '1.2', text: 'x' }))).toBe('http_error');
    } finally {
      slack.closeAllConnections();
      await new Promise((resolve) => slack.close(resolve));
    }
    const refused = new webApi.WebClient('xoxb-test', {
      slackApiUrl: `http://127.0.0.1:${port}/api/`,
      retryConfig: { retries: 0 },
      logLevel: LogLevel.ERROR,
    });
    expect(await codeOf(refused.auth.test())).toBe('request_error');
    expect(slackErrorLabel(new Error('something else'))).toBe('unknown_error');
  });
});
