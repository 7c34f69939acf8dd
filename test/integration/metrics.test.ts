// GET /metrics on METRICS_PORT after a scripted flow over signed HTTP (one deletion, one denial, one failure):
// Prometheus text, the counters by outcome, the paused gauge, and no user id, customer id or reason in it.
// Without METRICS_PORT nothing listens for it (issue 18).
import { type Sandbox, startSandbox } from '../../sandbox/harness';
import { ACTION_APPROVE, ACTION_DENY } from '../../src/constants';
import { APPROVER, actionIds, messageText, REQUESTER, requestDeletion, settle, watchListeners } from '../helpers/flow';

const DELETED = '64b7f0c2e4b0a1b2c3d4e501';
const DENIED = '64b7f0c2e4b0a1b2c3d4e502';
const FAILED = '64b7f0c2e4b0a1b2c3d4e503';
const REASON = 'asked by the customer';

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

// The text exposition format, line by line: a comment (HELP, TYPE) or a sample; nothing else. Values are Go
// floats as Prometheus parses them: prom-client writes an idle event-loop gauge as `Nan`, which ParseFloat takes.
const METRIC_NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = `[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"`;
const SAMPLE = new RegExp(
  `^(${METRIC_NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*)?,?\\})? (-?(?:[0-9.]+(?:e[+-]?[0-9]+)?|\\+Inf|-Inf|[Nn]a[Nn]))(?: -?[0-9]+)?$`,
);
const HELP = new RegExp(`^# HELP ${METRIC_NAME} .*$`);
const TYPE = new RegExp(`^# TYPE ${METRIC_NAME} (counter|gauge|histogram|summary|untyped)$`);

/** Parses Prometheus text strictly: throws on the first line that is neither a comment nor a sample. */
function parsePrometheus(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || HELP.test(line) || TYPE.test(line)) continue;
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`not Prometheus text: ${JSON.stringify(line)}`);
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

async function scrape(sb: Sandbox): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(`http://127.0.0.1:${sb.metricsPort}/metrics`);
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

describe('GET /metrics on METRICS_PORT', () => {
  let sb: Sandbox;
  beforeEach(async () => {
    sb = watchListeners(await startSandbox({ env: { METRICS_PORT: '0' } }));
    for (const id of [DELETED, DENIED, FAILED]) sb.botpenguin.addCustomer(id, `Name of ${id}`, `${id}@example.test`);
  });
  afterEach(async () => {
    await sb.stop({ fakes: true });
  });

  it('after one deletion, one denial and one failure: Prometheus text with the counters by outcome and no ids', async () => {
    const deleted = await requestDeletion(sb, DELETED, REASON);
    await sb.sender.click(APPROVER, ACTION_APPROVE, deleted.requestId);
    await sb.slack.waitFor(() => messageText(deleted.message).includes('was deleted'), 5000, 'the deletion');

    const denied = await requestDeletion(sb, DENIED, REASON);
    // The modal can't be opened: the click denies without a reason, and the Web API error is counted.
    sb.slack.failNext('views.open', { status: 200, error: 'expired_trigger_id' });
    await sb.sender.click(APPROVER, ACTION_DENY, denied.requestId);
    await sb.slack.waitFor(() => actionIds(denied.message).length === 0, 5000, 'the denial');

    sb.botpenguin.answerNext('DELETE', { status: 401, body: { success: false, message: 'Invalid API key' } });
    const failed = await requestDeletion(sb, FAILED, REASON);
    await sb.sender.click(APPROVER, ACTION_APPROVE, failed.requestId);
    await sb.slack.waitFor(() => actionIds(failed.message).length === 0, 5000, 'the failure');
    await settle(sb);

    const scraped = await scrape(sb);
    expect(scraped.status).toBe(200);
    expect(scraped.type).toMatch(/^text\/plain; version=0\.0\.4/);
    const samples = parsePrometheus(scraped.text);

    expect(value(samples, 'bp_delete_requests_created_total')).toBe(3);
    expect(value(samples, 'bp_delete_requests_finished_total', { outcome: 'deleted' })).toBe(1);
    expect(value(samples, 'bp_delete_requests_finished_total', { outcome: 'denied' })).toBe(1);
    expect(value(samples, 'bp_delete_requests_finished_total', { outcome: 'failed' })).toBe(1);
    expect(value(samples, 'bp_delete_requests_finished_total', { outcome: 'expired' })).toBe(0);
    expect(value(samples, 'bp_delete_paused')).toBe(0);
    for (const state of ['pending', 'approved', 'executing', 'uncertain']) {
      expect(value(samples, 'bp_delete_open_requests', { state })).toBe(0);
    }
    const bp = 'bp_delete_botpenguin_request_duration_seconds_count';
    expect(value(samples, bp, { operation: 'delete_customer', result: 'ok' })).toBe(1);
    expect(value(samples, bp, { operation: 'delete_customer', result: 'unauthorized' })).toBe(1);
    expect(
      value(samples, 'bp_delete_slack_api_errors_total', { method: 'views.open', error: 'expired_trigger_id' }),
    ).toBe(1);
    expect(value(samples, 'bp_delete_build_info')).toBe(1);
    expect(value(samples, 'process_cpu_user_seconds_total')).toBeGreaterThanOrEqual(0);

    // No label carries who or what: no Slack user id, customer id, request id or reason, anywhere in the text.
    const labelValues = samples.flatMap((s) => Object.values(s.labels));
    expect(labelValues.length).toBeGreaterThan(20); // the scan below has something to look at
    for (const label of labelValues) expect(label).not.toMatch(/^[UW][A-Z0-9]{6,}$/);
    for (const secretish of [DELETED, DENIED, FAILED, REQUESTER, APPROVER, REASON, deleted.requestId]) {
      expect(scraped.text).not.toContain(secretish);
    }
  });

  it('the paused gauge reads the store: 1 once an approver pauses DELETEs', async () => {
    const res = await sb.sender.command(APPROVER, 'pause maintenance window');
    expect(res.status).toBe(200);
    await settle(sb);
    const samples = parsePrometheus((await scrape(sb)).text);
    expect(value(samples, 'bp_delete_paused')).toBe(1);
    expect(scrapeNot(samples, 'maintenance')).toBe(true);
  });

  it('answers only GET /metrics', async () => {
    expect((await fetch(`http://127.0.0.1:${sb.metricsPort}/`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${sb.metricsPort}/metrics`, { method: 'POST' })).status).toBe(405);
    // The Slack port does not serve them.
    expect((await fetch(`http://127.0.0.1:${sb.port}/metrics`)).status).toBe(404);
  });
});

const scrapeNot = (samples: Sample[], text: string) =>
  samples.every((s) => !Object.values(s.labels).some((v) => v.includes(text)));

describe('without METRICS_PORT', () => {
  const listening = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPServerWrap').length;

  it('nothing listens for metrics: one server fewer than with it', async () => {
    // Both running side by side, each with its own fakes: the second adds one server more than the first.
    const before = listening();
    const off = await startSandbox();
    const withoutMetrics = listening() - before;
    const on = await startSandbox({ env: { METRICS_PORT: '0' } });
    const withMetrics = listening() - before - withoutMetrics;
    await Promise.all([off.stop({ fakes: true }), on.stop({ fakes: true })]);

    expect(off.metricsPort).toBeNull();
    expect(on.metricsPort).toEqual(expect.any(Number));
    expect(withMetrics).toBe(withoutMetrics + 1);
  });
});

it('the strict parser refuses what is not Prometheus text (so the check above means something)', () => {
  expect(() => parsePrometheus('bp_delete_paused 0\n')).not.toThrow();
  expect(() => parsePrometheus('<html>not metrics</html>')).toThrow(/not Prometheus text/);
  expect(() => parsePrometheus('bp_delete_paused{state=pending} 1')).toThrow(/not Prometheus text/);
});
