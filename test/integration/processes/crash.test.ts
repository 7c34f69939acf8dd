// A real bot process killed (SIGKILL) at each point where a crash could lose something, then started
// again on the same store (an SQLite file): no request is lost, the message catches up, and the DELETE
// is sent again only when its first answer was never recorded (docs/DESIGN.md §5). Also: SIGTERM.
import fs from 'node:fs';
import type { FakeBotPenguin } from '../../../sandbox/fake-botpenguin';
import type { FakeSlack, SlackMessage } from '../../../sandbox/fake-slack';
import { SANDBOX_CHANNEL, tempSqlitePath } from '../../../sandbox/harness';
import type { Checkpoint } from '../../../src/checkpoints';
import { ACTION_APPROVE } from '../../../src/constants';
import { SqliteStore } from '../../../src/store/dialects/sqlite';
import { APPROVER, actionIds, buttonValue, CUSTOMER, messageText, REQUESTER } from '../../helpers/flow';
import {
  type BotProcess,
  botEnv,
  buildTestBot,
  eventually,
  parseLine,
  postOnNewConnection,
  requestThrough,
  startBot,
  startFakes,
  stopFakes,
} from '../../helpers/processes';

jest.setTimeout(30_000);

let main: string;
let slack: FakeSlack;
let botpenguin: FakeBotPenguin;
let sqlitePath: string;

beforeAll(() => {
  main = buildTestBot();
});

beforeEach(async () => {
  ({ slack, botpenguin } = await startFakes());
  sqlitePath = tempSqlitePath();
});

afterEach(async () => {
  await stopFakes({ slack, botpenguin });
  fs.rmSync(sqlitePath.replace(/\/[^/]+$/, ''), { recursive: true, force: true });
});

const env = (crashAt?: Checkpoint) => ({
  ...botEnv(slack, botpenguin, { SQLITE_PATH: sqlitePath }),
  ...(crashAt ? { BP_DELETE_TEST_CRASH_AT: crashAt } : {}),
});
const start = (crashAt?: Checkpoint) => startBot(main, env(crashAt), slack);

const thread = (message: SlackMessage) => slack.thread(SANDBOX_CHANNEL, message.ts).map((m) => m.text);
const outcomeReplies = (message: SlackMessage) => thread(message).filter((t) => /:wastebasket:|:x:/.test(t));
const isDeleted = (message: SlackMessage, how = 'was deleted') =>
  actionIds(message).length === 0 && messageText(message).includes(how);

/** The request as the store has it, read from the file once every process is gone. */
async function stored(requestId: string) {
  const store = new SqliteStore(sqlitePath);
  try {
    return await store.getRequest(requestId);
  } finally {
    await store.close();
  }
}

/** Killed by its crash point, as a crash or the OOM killer would: SIGKILL, nothing cleaned up. */
async function expectKilled(bot: BotProcess, point: Checkpoint) {
  expect(await bot.exited).toEqual({ code: null, signal: 'SIGKILL' });
  expect(bot.lines.join('\n')).toContain(`BP_DELETE_TEST_CRASH_AT=${point} reached`);
}

/** Longer than a lease (1 s) and several sweeps (0.2 s): time enough for a wrong re-send to show. */
const quietPeriod = () => new Promise((r) => setTimeout(r, 1_300));

describe('a bot process killed mid-way loses nothing and never deletes twice after a recorded answer', () => {
  it('after the request is stored, before its message is posted: the restarted bot posts it', async () => {
    const first = await start('after-request-stored');
    await expect(first.sender.command(REQUESTER, `${CUSTOMER} closing the account`)).rejects.toThrow();
    await expectKilled(first, 'after-request-stored');
    expect(slack.channelMessages(SANDBOX_CHANNEL)).toHaveLength(0);

    const second = await start();
    await slack.waitFor(() => slack.channelMessages(SANDBOX_CHANNEL).length === 1, 5000, 'the message');
    const message = slack.channelMessages(SANDBOX_CHANNEL)[0] as SlackMessage;
    const requestId = buttonValue(message, ACTION_APPROVE) ?? '';
    expect(messageText(message)).toContain(CUSTOMER);
    await slack.waitFor(() => thread(message).length === 1, 5000, 'the "asked to delete" reply');
    expect(thread(message)[0]).toContain('asked to delete');

    // The recovered request works as any other.
    await second.sender.click(APPROVER, ACTION_APPROVE, requestId);
    await slack.waitFor(() => isDeleted(message) && outcomeReplies(message).length === 1, 5000, 'the outcome');
    expect(botpenguin.deletes()).toHaveLength(1);
    expect(await second.stop()).toEqual({ code: 0, signal: null });
    expect(slack.channelMessages(SANDBOX_CHANNEL)).toHaveLength(1);
    expect(await stored(requestId)).toMatchObject({ state: 'succeeded', deleteStarts: 1 });
  });

  it('after the approval, before the DELETE: the restarted bot sends it, once', async () => {
    const first = await start('after-approval');
    const { requestId, message } = await requestThrough(first, slack, CUSTOMER);
    await first.sender.click(APPROVER, ACTION_APPROVE, requestId).catch(() => null);
    await expectKilled(first, 'after-approval');
    expect(botpenguin.deletes()).toHaveLength(0);

    const second = await start();
    await slack.waitFor(() => isDeleted(message) && outcomeReplies(message).length === 1, 8000, 'the outcome');
    expect(botpenguin.deletes()).toHaveLength(1);
    expect(thread(message).filter((t) => t.includes(`<@${APPROVER}> approved`))).toHaveLength(1);
    await quietPeriod();
    expect(botpenguin.deletes()).toHaveLength(1);
    expect(await second.stop()).toEqual({ code: 0, signal: null });
    expect(await stored(requestId)).toMatchObject({ state: 'succeeded', deleteStarts: 1 });
  });

  it('while the DELETE is in flight (the bot is killed before the answer comes): re-sent after the lease, "already gone"', async () => {
    const first = await start();
    const { requestId, message } = await requestThrough(first, slack, CUSTOMER);
    botpenguin.latencyMs = 1_000; // BotPenguin deletes the customer, but answers too late for this process
    await first.sender.click(APPROVER, ACTION_APPROVE, requestId);
    await botpenguin.waitFor(() => botpenguin.deletes().length === 1, 5000, 'the DELETE');
    first.child.kill('SIGKILL');
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    await eventually(() => botpenguin.customers.length === 0, 5000, 'BotPenguin to finish the first DELETE');
    botpenguin.latencyMs = 0;

    const restartedAt = Date.now();
    const second = await start();
    // The outcome's reply may wait its turn behind the replies the killed process left (one post a second).
    await slack.waitFor(
      () => isDeleted(message, 'already gone') && outcomeReplies(message).length > 0,
      8000,
      'the "already gone" outcome',
    );
    // Taken over within about one lease (1 s) and a sweep of the restarted process, not minutes later.
    expect(Date.now() - restartedAt).toBeLessThan(6_000);
    expect(botpenguin.deletes()).toHaveLength(2);
    await quietPeriod();
    expect(botpenguin.deletes()).toHaveLength(2);
    expect(outcomeReplies(message)).toHaveLength(1);
    expect(await second.stop()).toEqual({ code: 0, signal: null });
    expect(await stored(requestId)).toMatchObject({
      state: 'succeeded',
      deleteStarts: 2,
      outcome: { ok: true, kind: 'already_gone' },
    });
  });

  it('after BotPenguin answered, before the answer is recorded: re-sent once, reported "already gone"', async () => {
    const first = await start('after-delete-answered');
    const { requestId, message } = await requestThrough(first, slack, CUSTOMER);
    await first.sender.click(APPROVER, ACTION_APPROVE, requestId);
    await expectKilled(first, 'after-delete-answered');
    expect(botpenguin.deletes()).toHaveLength(1);
    expect(botpenguin.customers).toHaveLength(0);

    const second = await start();
    // The outcome's reply may wait its turn behind the replies the killed process left (one post a second).
    await slack.waitFor(
      () => isDeleted(message, 'already gone') && outcomeReplies(message).length > 0,
      8000,
      'the "already gone" outcome',
    );
    expect(botpenguin.deletes()).toHaveLength(2);
    await quietPeriod();
    expect(botpenguin.deletes()).toHaveLength(2);
    expect(outcomeReplies(message)).toHaveLength(1);
    expect(await second.stop()).toEqual({ code: 0, signal: null });
    expect(await stored(requestId)).toMatchObject({ state: 'succeeded', outcome: { kind: 'already_gone' } });
  });

  it('after the answer is recorded, before the message shows it: no second DELETE; the message catches up', async () => {
    const first = await start('after-delete-recorded');
    const { requestId, message } = await requestThrough(first, slack, CUSTOMER);
    await first.sender.click(APPROVER, ACTION_APPROVE, requestId);
    await expectKilled(first, 'after-delete-recorded');
    expect(botpenguin.deletes()).toHaveLength(1);
    expect(messageText(message)).not.toContain('was deleted');

    const second = await start();
    await slack.waitFor(() => isDeleted(message) && outcomeReplies(message).length === 1, 8000, 'the outcome');
    await quietPeriod();
    expect(botpenguin.deletes()).toHaveLength(1);
    expect(outcomeReplies(message)).toHaveLength(1);
    expect(await second.stop()).toEqual({ code: 0, signal: null });
    expect(await stored(requestId)).toMatchObject({
      state: 'succeeded',
      deleteStarts: 1,
      outcome: { kind: 'deleted' },
    });
  });
});

describe('SIGTERM', () => {
  it('stops taking work, finishes the DELETE in flight, closes the store and exits 0', async () => {
    const bot = await start();
    const { requestId, message } = await requestThrough(bot, slack, CUSTOMER);
    botpenguin.latencyMs = 1_500;
    await bot.sender.click(APPROVER, ACTION_APPROVE, requestId);
    await botpenguin.waitFor(() => botpenguin.deletes().length === 1, 5000, 'the DELETE');

    const signalledAt = Date.now();
    bot.child.kill('SIGTERM');
    await eventually(() => bot.lines.some((l) => parseLine(l)?.msg === 'stopping'), 5000, '"stopping"');
    // No new work: a new connection is refused while the DELETE is still under way.
    const late = bot.sender.commandBody(REQUESTER, '64b7f0c2e4b0a1b2c3d4ffff late request');
    await expect(postOnNewConnection(bot.port, late)).rejects.toThrow(/ECONNREFUSED/);

    expect(await bot.exited).toEqual({ code: 0, signal: null });
    expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(1_000); // it waited for BotPenguin's answer
    const logged = bot.lines.map(parseLine).map((l) => l?.msg);
    expect(logged.indexOf('request finished')).toBeLessThan(logged.indexOf('stopped'));
    expect(logged).not.toContain('grace period over with work in flight; recovery will finish it');
    // The store was closed cleanly: SQLite folds its write-ahead log back and removes it on close.
    expect(fs.existsSync(`${sqlitePath}-wal`)).toBe(false);
    // The outcome reached the channel before it went.
    expect(isDeleted(message)).toBe(true);
    expect(outcomeReplies(message)).toHaveLength(1);
    expect(slack.channelMessages(SANDBOX_CHANNEL)).toHaveLength(1);
    expect(botpenguin.deletes()).toHaveLength(1);
    expect(await stored(requestId)).toMatchObject({ state: 'succeeded', deleteStarts: 1 });
  });
});
