// Posting at Slack's pace with two instances on one PostgreSQL store, against a local Slack that enforces
// Slack's rate limits (sandbox/fake-slack.ts): a burst of requests in one channel reaches Slack without a call
// sent into a running Retry-After (beyond those already in flight), approval messages before thread replies,
// none lost, none twice; the other instance's sweeper, sweeping mid-burst, never posts behind the pacing.

import { Client } from 'pg';
import { FakeBotPenguin } from '../../sandbox/fake-botpenguin';
import { FakeSlack } from '../../sandbox/fake-slack';
import { type Sandbox, startSandbox } from '../../sandbox/harness';
import { SLACK_POST_INTERVAL_MS } from '../../src/slack/pacer';
import { postgresSchema } from '../helpers/processes';

const PG_URL = process.env.TEST_DATABASE_URL;
if (!PG_URL) console.warn('PostgreSQL pacing test skipped: TEST_DATABASE_URL is not set');
const onPostgres = PG_URL ? describe : describe.skip;

const BURST_CHANNEL = 'C0PACEBURST';
const OTHER_CHANNEL = 'C0PACEOTHER';
const customerId = (i: number) => `64b7f0c2e4b0a1b2c3d5${String(i).padStart(4, '0')}`;

onPostgres('two instances on PostgreSQL, Slack enforcing its rate limits', () => {
  let slack: FakeSlack;
  let botpenguin: FakeBotPenguin;
  let schema: Awaited<ReturnType<typeof postgresSchema>>;
  const sandboxes: Sandbox[] = [];

  beforeEach(async () => {
    slack = new FakeSlack();
    slack.latencyMs = 20;
    botpenguin = new FakeBotPenguin();
    await Promise.all([slack.start(), botpenguin.start()]);
    schema = await postgresSchema(PG_URL ?? '');
  });
  afterEach(async () => {
    await Promise.all(sandboxes.splice(0).map((sb) => sb.stop()));
    await Promise.all([slack.stop(), botpenguin.stop()]);
    await schema.drop();
  });

  const instance = async (sweepIntervalMs: number) => {
    const sb = await startSandbox({
      env: { DATABASE_URL: schema.databaseUrl, DATABASE_POOL_MAX: '4' },
      slack,
      botpenguin,
      sweepIntervalMs,
      timings: { slackPostIntervalMs: SLACK_POST_INTERVAL_MS },
    });
    sandboxes.push(sb);
    return sb;
  };

  it('a burst in one channel: no call into a running Retry-After, approval messages first, every reply once', async () => {
    // Sweepers run when the test says so.
    const a = await instance(3_600_000);
    const b = await instance(3_600_000);
    // Each instance sweeps once as it starts: let that pass end, so it can't meet the burst half-way.
    await Promise.all([a.bot.sweeper.sweep(), b.bot.sweeper.sweep()]);
    slack.forget();
    slack.enforceRateLimits();

    const burst = 7;
    const answers = await Promise.all([
      ...Array.from({ length: burst }, (_, i) =>
        a.sender.command(`UPACE${i}`, `${customerId(i)} erasure`, { channel: BURST_CHANNEL }),
      ),
      // The other instance has a channel of its own to post in meanwhile.
      ...Array.from({ length: 2 }, (_, i) =>
        b.sender.command(`UPACEB${i}`, `${customerId(100 + i)} erasure`, { channel: OTHER_CHANNEL }),
      ),
    ]);
    expect(answers.map((r) => r.status)).toEqual(Array(burst + 2).fill(200));

    // Mid-burst, the other instance's sweeper finds every message behind but leaves them alone: the instance
    // pacing them keeps each claim while it waits for its turn, so nobody posts behind its pacing.
    await slack.waitFor(() => slack.channelMessages(BURST_CHANNEL).length >= 3, 10_000, 'the first approval messages');
    // Once instance A holds every one of them (posted, or claimed while it waits for its turn); before that a
    // sweep may rightly take a request A hasn't reached yet.
    const db = new Client({ connectionString: schema.databaseUrl });
    await db.connect();
    try {
      const unheld = `SELECT count(*)::int AS n FROM requests WHERE channel_id = $1 AND sync_until IS NULL AND message_ts IS NULL`;
      for (let i = 0; i < 500 && (await db.query<{ n: number }>(unheld, [BURST_CHANNEL])).rows[0]?.n !== 0; i++)
        await new Promise((r) => setTimeout(r, 10));
      expect((await db.query<{ n: number }>(unheld, [BURST_CHANNEL])).rows[0]?.n).toBe(0);
    } finally {
      await db.end();
    }
    expect((await b.store.listOutOfSync(100)).length).toBeGreaterThan(0);
    await b.bot.sweeper.sweep();
    await b.bot.sweeper.sweep();

    const threaded = (channel: string, n: number) => () => {
      const messages = slack.channelMessages(channel);
      return messages.length >= n && messages.every((m) => slack.thread(channel, m.ts).length > 0);
    };
    await slack.waitFor(threaded(BURST_CHANNEL, burst), 60_000, 'every approval message and its reply');
    await slack.waitFor(threaded(OTHER_CHANNEL, 2), 30_000, "the other instance's messages");
    await Promise.all([a.bot.idle(), b.bot.idle()]);

    // The fake counted every call against Slack's buckets: nothing sent into a Retry-After Slack had announced.
    const record = slack.rateLimitRecord;
    expect(record.calls).toBeGreaterThanOrEqual(2 * (burst + 2));
    expect(record.intoRetryAfter).toBeLessThanOrEqual(record.inFlightAtFirst429 ?? 0);
    // A post behind the pacing (the other instance's sweep) would have run into Slack's limit.
    expect(slack.calls.filter((c) => c.limited && c.args.channel === BURST_CHANNEL)).toEqual([]);
    // Each approval message once, each reply once.
    expect(slack.channelMessages(BURST_CHANNEL)).toHaveLength(burst);
    for (const m of slack.channelMessages(BURST_CHANNEL)) {
      const texts = slack.thread(BURST_CHANNEL, m.ts).map((r) => r.text);
      expect(new Set(texts).size).toBe(texts.length);
    }
    // Approval messages first: in the channel, no reply before the last approval message.
    const order = slack.messages.filter((m) => m.channel === BURST_CHANNEL).map((m) => m.threadTs === null);
    expect(order.slice(0, burst)).toEqual(Array(burst).fill(true));
    for (const sb of [a, b]) expect(await sb.store.listOutOfSync(100)).toEqual([]);
  }, 90_000);
});

describe('the rate-limited fake Slack', () => {
  let slack: FakeSlack;
  beforeEach(async () => {
    slack = new FakeSlack();
    await slack.start();
  });
  afterEach(() => slack.stop());

  it('the fake is strict: posting past the burst without pacing is answered 429, and a call sent after it is counted', async () => {
    slack.enforceRateLimits();
    const post = (text: string) =>
      fetch(`${slack.apiUrl}chat.postMessage`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ channel: BURST_CHANNEL, text }),
      });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await post(`m${i}`)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const refused = await post('again');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(slack.rateLimitRecord).toMatchObject({ limited: 2, intoRetryAfter: 1 });
  });
});
