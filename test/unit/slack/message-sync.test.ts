// MessageSync never rejects, whatever fails: a store that throws on claimSync (a failover, a reset
// connection, SQLITE_BUSY) or mid-sync is logged and left to the sweeper, and the sync works once the store
// is back. The store here is the real SQLite store behind a switch that makes its calls fail.
import fs from 'node:fs';
import path from 'node:path';
import { webApi } from '@slack/bolt';
import { FakeSlack } from '../../../sandbox/fake-slack';
import { tempSqlitePath } from '../../../sandbox/harness';
import { createLogger } from '../../../src/logger';
import { classifySlackError, MessageSync, syncRetryDelayMs } from '../../../src/slack/message-sync';
import { SqliteStore } from '../../../src/store/dialects/sqlite';
import type { MessageShown, Store } from '../../../src/store/types';
import { anApproval } from '../../helpers/fixtures';
import { switchable } from '../../helpers/switchable-store';

let slack: FakeSlack;
let file: string;
let real: SqliteStore;
const logs: string[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeEach(async () => {
  slack = new FakeSlack();
  await slack.start();
  file = tempSqlitePath();
  real = new SqliteStore(file);
  await real.migrate();
  logs.length = 0;
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
});
afterEach(async () => {
  process.off('unhandledRejection', onUnhandled);
  await real.close();
  await slack.stop();
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
});

async function seed(store: Store): Promise<string> {
  const created = await store.createRequest(
    {
      id: 'RSYNC0001',
      teamId: 'T1',
      channelId: 'C1',
      customerId: 'cust-1',
      reason: 'r',
      requesterId: 'U1',
      approvalsRequired: 2,
      createdAt: Date.now(),
      expiresAt: Date.now() + 3_600_000,
      dryRun: false,
    },
    { kind: 'requested', actorId: 'U1', detail: null, at: Date.now() },
    { maxOpenPerRequester: 1_000_000 },
  );
  if (!created.ok) throw new Error('not created');
  return created.request.id;
}

function newSync(store: Store) {
  const client = new webApi.WebClient('xoxb-test', { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
  const logger = createLogger({ level: 'debug', secrets: [], write: (line) => logs.push(line) });
  return new MessageSync(client, store, logger, { claimMs: 60_000, now: Date.now });
}

test('claimSync failing: request() resolves, nothing rejects unhandled, and the sync works once the store is back', async () => {
  const { store, state } = switchable(real);
  const id = await seed(real);
  const sync = newSync(store);
  state.failing = 'claimSync';
  await expect(sync.request(id)).resolves.toBeUndefined();
  await new Promise((r) => setImmediate(r));
  expect(unhandled).toEqual([]);
  expect(logs.some((l) => l.includes('could not bring the Slack message up to date (store)'))).toBe(true);
  expect(slack.callsTo('chat.postMessage')).toHaveLength(0);

  state.failing = null;
  await sync.request(id);
  expect(slack.channelMessages('C1')).toHaveLength(1);
  expect(await real.listOutOfSync(10)).toEqual([]);
});

test('the store failing mid-sync (after the post): resolves, the claim is released, no second post afterwards', async () => {
  const { store, state } = switchable(real);
  const id = await seed(real);
  const sync = newSync(store);
  // The message is posted and recorded; the reply's record fails.
  state.failing = (method, args) => method === 'recordMessage' && (args[1] as MessageShown).postedEvents !== undefined;
  await expect(sync.request(id)).resolves.toBeUndefined();
  expect(unhandled).toEqual([]);
  expect(slack.channelMessages('C1')).toHaveLength(1);
  expect(state.calls).toContain('endSync');
  // A store fault is not held against the request: no backoff, no end.
  expect((await real.listOutOfSync(10, Date.now())).map((r) => r.id)).toEqual([id]);
  expect((await real.getRequest(id))?.syncError).toBeNull();

  state.failing = null;
  await sync.request(id);
  expect(slack.channelMessages('C1')).toHaveLength(1); // the approval message is not posted again
  expect(await real.listOutOfSync(10)).toEqual([]);
});

test('every store call failing: request() still resolves', async () => {
  const { store, state } = switchable(real);
  const id = await seed(real);
  state.failing = '*';
  await expect(newSync(store).request(id)).resolves.toBeUndefined();
  expect(unhandled).toEqual([]);
});

test('an ask made while a sync runs, before its final check, shares that run; a change stored after it runs again', async () => {
  const { store, state } = switchable(real);
  const id = await seed(real);
  const sync = newSync(store);
  const shows = (who: string) => JSON.stringify(slack.channelMessages('C1')[0]?.blocks ?? []).includes(who);
  const claims = () => state.calls.filter((c) => c === 'claimSync').length;
  // A change stored, and asked for, while the sync claims the request (a preview or a click landing at once).
  let asked: Promise<void> | null = null;
  state.failing = (method) => {
    if (method === 'claimSync' && !asked)
      asked = real.addApproval(id, anApproval('U2', Date.now())).then(() => sync.request(id));
    return false;
  };
  await sync.request(id);
  await asked;
  expect(shows('U2')).toBe(true);
  expect(claims()).toBe(1); // one run read both: no second run with nothing to do
  expect(await real.listOutOfSync(10)).toEqual([]);

  // Once it is in step, a new change and its ask run again, and the message shows it.
  await real.addApproval(id, anApproval('U3', Date.now()));
  await sync.request(id);
  expect(shows('U3')).toBe(true);
  expect(claims()).toBeGreaterThan(1);
  expect(slack.channelMessages('C1')).toHaveLength(1);
  expect(await real.listOutOfSync(10)).toEqual([]);
});

describe('classifySlackError', () => {
  const platform = (error: string) => Object.assign(new Error(error), { data: { ok: false, error } });
  test.each([
    'message_not_found',
    'channel_not_found',
    'is_archived',
    'not_in_channel',
    'cant_update_message',
    'edit_window_closed',
    'invalid_blocks',
    'msg_too_long',
  ])('%s is permanent', (error) => {
    expect(classifySlackError(platform(error))).toEqual({ kind: 'permanent', error });
  });
  test.each(['internal_error', 'fatal_error', 'ratelimited', 'invalid_auth', 'token_revoked', 'service_unavailable'])(
    '%s is transient',
    (error) => {
      expect(classifySlackError(platform(error))).toMatchObject({ kind: 'transient', error });
    },
  );
  test("the client's rate-limit error keeps Slack's Retry-After; a timeout is transient", () => {
    expect(classifySlackError(new Error('A rate limit was exceeded (url: x, retry-after: 30)'))).toEqual({
      kind: 'transient',
      error: 'ratelimited',
      retryAfterMs: 30_000,
    });
    expect(
      classifySlackError(Object.assign(new Error('timeout'), { code: 'slack_webapi_request_error' })),
    ).toMatchObject({ kind: 'transient', retryAfterMs: 0 });
  });
});

test('syncRetryDelayMs: next sweep, then doubling from the base, capped', () => {
  expect([1, 2, 3, 4, 5].map((n) => syncRetryDelayMs(n))).toEqual([0, 5_000, 10_000, 20_000, 40_000]);
  expect(syncRetryDelayMs(20)).toBe(600_000);
  expect(syncRetryDelayMs(1_000)).toBe(600_000);
});
