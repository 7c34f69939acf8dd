// Slack work that can never succeed (a deleted approval message, an archived channel) is tried once, recorded
// on the request and never retried; work that may succeed later backs off per request; neither holds up a
// newer request. Through the sandbox: the real app, the fake Slack told to fail specific channels and messages.

import { SANDBOX_CHANNEL, type Sandbox, startSandbox } from '../../sandbox/harness';
import { ACTION_APPROVE } from '../../src/constants';
import type { DeletionRequest } from '../../src/requests/types';
import { SLACK_POST_INTERVAL_MS } from '../../src/slack/pacer';
import { buttonValue, CUSTOMER, messageText, REQUESTER, requestDeletion, settle } from '../helpers/flow';

const ARCHIVED = 'C0ARCHIVED';
const T = Date.now();

let sb: Sandbox;
let skew = 0;
beforeEach(async () => {
  skew = 0;
  sb = await startSandbox({
    now: () => Date.now() + skew,
    sweepIntervalMs: 3_600_000, // sweeps only when the test says so
    // A generous timeout: a call timed out under load would be a transient failure, tried again.
    timings: { slackTimeoutMs: 5_000, slackRetries: 0, slackPostIntervalMs: SLACK_POST_INTERVAL_MS },
  });
  sb.botpenguin.addCustomer(CUSTOMER);
});
afterEach(() => sb.stop({ fakes: true }));

/** A finished request whose message was posted (`ts`) and then fell behind: it expired, unshown. */
async function behindRequest(n: number, channelId: string, ts: string): Promise<DeletionRequest> {
  const { store } = sb;
  const id = `RFAIR${String(n).padStart(5, '0')}`;
  const created = await store.createRequest(
    {
      id,
      teamId: 'T0SANDBOX',
      channelId,
      customerId: `old-customer-${n}`,
      reason: 'old',
      requesterId: `UOLD${n}`,
      approvalsRequired: 2,
      createdAt: T - 3_600_000 + n,
      expiresAt: T - 60_000,
      dryRun: false,
    },
    { kind: 'requested', actorId: `UOLD${n}`, detail: null, at: T - 3_600_000 },
    { maxOpenPerRequester: 1_000_000 },
  );
  if (!created.ok) throw new Error('not created');
  const events = await store.listEvents(id);
  await store.recordMessage(id, {
    ts,
    version: created.request.version,
    postedEvents: { ids: events.map((e) => e.id), at: T },
  });
  const expired = await store.transition(
    id,
    ['pending'],
    'expired',
    { finishedAt: T },
    {
      kind: 'expired',
      actorId: null,
      detail: null,
      at: T,
    },
  );
  if (!expired) throw new Error('not expired');
  return expired;
}

const updatesOf = (ids: Set<string>) =>
  sb.slack.callsTo('chat.update').filter((c) => ids.has(`${String(c.args.channel)}/${String(c.args.ts)}`)).length;

describe('fair, finite retries of Slack work', () => {
  it('60 requests whose messages fail for good + 1 new one whose first post failed: the new one is posted within one sweep; the 60 are tried once', async () => {
    // 30 whose approval message was deleted (chat.update: message_not_found), 30 in a channel archived since.
    sb.slack.failWhere({ channel: ARCHIVED }, { status: 200, error: 'is_archived' });
    const targets = new Set<string>();
    for (let n = 0; n < 60; n++) {
      const channel = n % 2 === 0 ? SANDBOX_CHANNEL : ARCHIVED;
      const ts = `1600000000.${String(n).padStart(6, '0')}`;
      await behindRequest(n, channel, ts);
      targets.add(`${channel}/${ts}`);
    }
    expect(await sb.store.listOutOfSync(100)).toHaveLength(60);

    await sb.bot.sweeper.sweep(); // 50 of them (the batch) are tried, and fail for good
    await settle(sb);
    expect(updatesOf(targets)).toBe(50);

    // A new request whose first post fails (Slack answers 500 in its channel for a while).
    const down = sb.slack.failWhere({ method: 'chat.postMessage', channel: SANDBOX_CHANNEL }, { status: 500 });
    const res = await sb.sender.command(REQUESTER, `${CUSTOMER} closing the account`);
    expect(res.status).toBe(200);
    await settle(sb);
    expect(sb.slack.channelMessages(SANDBOX_CHANNEL)).toHaveLength(0);
    down();
    skew += 11 * 60_000; // past its backoff, whatever its failures

    await sb.bot.sweeper.sweep(); // one sweep
    await settle(sb);
    const posted = sb.slack.channelMessages(SANDBOX_CHANNEL);
    expect(posted).toHaveLength(1);
    expect(messageText(posted[0]!)).toContain(CUSTOMER);
    expect(buttonValue(posted[0]!, ACTION_APPROVE)).toMatch(/^R/);
    expect(updatesOf(targets)).toBe(60); // the other 10 were tried in that sweep, once each

    // Never again, however many sweeps, however late.
    for (let i = 0; i < 3; i++) {
      skew += 60 * 60_000;
      await sb.bot.sweeper.sweep();
      await settle(sb);
    }
    expect(updatesOf(targets)).toBe(60);
    expect(await sb.store.listOutOfSync(100)).toEqual([]);
    // Recorded on the request, with the reason, and logged once each.
    expect((await sb.store.getRequest('RFAIR00000'))?.syncError).toBe('message_not_found');
    expect((await sb.store.getRequest('RFAIR00001'))?.syncError).toBe('is_archived');
    expect(sb.logs.filter((l) => l.includes('its sync has ended'))).toHaveLength(60);
    // A change to an ended request (its sync asked for directly) doesn't retry it either.
    await sb.bot.sync.request('RFAIR00000');
    expect(updatesOf(targets)).toBe(60);
  });

  it('a transient failure backs off per request, is not retried before it is due, then succeeds', async () => {
    const { requestId, message } = await requestDeletion(sb);
    await settle(sb);
    const ts = message.ts;
    const target = new Set([`${SANDBOX_CHANNEL}/${ts}`]);
    const shown = updatesOf(target); // the preview's update
    const down = sb.slack.failWhere({ method: 'chat.update', ts }, { status: 500 });
    // Changed behind the bot's back (no sync asked for): only the sweeper will notice.
    const request = await sb.store.transition(requestId, ['pending'], 'expired', { finishedAt: Date.now() }, null);
    if (!request) throw new Error('not expired');

    await sb.bot.sweeper.sweep(); // failure 1: retried at the next sweep
    await settle(sb);
    expect(updatesOf(target) - shown).toBe(1);
    await sb.bot.sweeper.sweep(); // failure 2: backs off 5 s
    await settle(sb);
    expect(updatesOf(target) - shown).toBe(2);
    await sb.bot.sweeper.sweep(); // not due: not tried
    await settle(sb);
    expect(updatesOf(target) - shown).toBe(2);
    expect(await sb.store.listOutOfSync(10, Date.now() + skew)).toEqual([]);
    expect((await sb.store.listOutOfSync(10)).map((r) => r.id)).toEqual([request.id]);

    skew += 5_100;
    await sb.bot.sweeper.sweep(); // due: failure 3, backs off 10 s
    await settle(sb);
    expect(updatesOf(target) - shown).toBe(3);
    skew += 5_100;
    await sb.bot.sweeper.sweep(); // not due yet
    await settle(sb);
    expect(updatesOf(target) - shown).toBe(3);

    down(); // Slack answers again
    skew += 5_100;
    await sb.bot.sweeper.sweep();
    await settle(sb);
    expect(updatesOf(target) - shown).toBe(4);
    expect(await sb.store.listOutOfSync(10)).toEqual([]);
    expect((await sb.store.getRequest(request.id))?.syncError).toBeNull();
    expect(messageText(message)).toContain('Expired');
    expect(sb.logs.filter((l) => l.includes('will retry') && l.includes(request.id))).toHaveLength(3);
  });

  it('a 429 with Retry-After: the sync waits it out itself, and the store tells other instances to wait too', async () => {
    const ts = '1600000000.000200';
    const request = await behindRequest(200, SANDBOX_CHANNEL, ts);
    const target = new Set([`${SANDBOX_CHANNEL}/${ts}`]);
    const deferred = new Promise<void>((resolve) =>
      sb.slack.observe((call) => {
        if (call.method === 'chat.update') resolve();
      }),
    );
    sb.slack.failNext('chat.update', { status: 429, retryAfterSeconds: 2 });
    const swept = sb.bot.sweeper.sweep();
    await deferred;
    // While Slack holds the method back, another instance's sweeper finds nothing due.
    let dueNow = await sb.store.listOutOfSync(10, Date.now());
    for (let i = 0; i < 100 && dueNow.length > 0; i++) {
      await new Promise((r) => setTimeout(r, 10));
      dueNow = await sb.store.listOutOfSync(10, Date.now());
    }
    expect(dueNow).toEqual([]);
    await swept;
    await settle(sb); // the sync itself tries again once the Retry-After is over: no sweep needed
    const updates = sb.slack.callsTo('chat.update');
    expect(updatesOf(target)).toBe(2);
    expect((updates[1]?.at ?? 0) - (updates[0]?.at ?? 0)).toBeGreaterThanOrEqual(1_900);
    expect(await sb.store.listOutOfSync(10)).toEqual([]);
    expect(await sb.store.getRequest(request.id)).toMatchObject({ state: 'expired' });
  });
});
