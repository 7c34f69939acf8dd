// A stricter setting reaches the requests already open, in a real process restart: a request approved under
// DRY_RUN=false and waiting out EXECUTION_DELAY, then the bot stopped (SIGTERM) or killed (SIGKILL) and
// started again with DRY_RUN=true: no DELETE reaches BotPenguin, the outcome is DRY RUN, and the message and
// `help` say DRY RUN (docs/DESIGN.md).
import fs from 'node:fs';
import { FakeBotPenguin } from '../../../sandbox/fake-botpenguin';
import { FakeSlack } from '../../../sandbox/fake-slack';
import { tempSqlitePath } from '../../../sandbox/harness';
import { ACTION_APPROVE } from '../../../src/constants';
import { SqliteStore } from '../../../src/store/dialects/sqlite';
import { APPROVER, ackText, CUSTOMER, messageText, REQUESTER } from '../../helpers/flow';
import { botEnv, buildTestBot, killLeftovers, requestThrough, startBot } from '../../helpers/processes';

jest.setTimeout(30_000);

let main: string;
let slack: FakeSlack;
let botpenguin: FakeBotPenguin;
let sqlitePath: string;

beforeAll(() => {
  main = buildTestBot();
});

beforeEach(async () => {
  slack = new FakeSlack();
  botpenguin = new FakeBotPenguin();
  await Promise.all([slack.start(), botpenguin.start()]);
  botpenguin.addCustomer(CUSTOMER);
  sqlitePath = tempSqlitePath();
});

afterEach(async () => {
  killLeftovers();
  await Promise.all([slack.stop(), botpenguin.stop()]);
  fs.rmSync(sqlitePath.replace(/\/[^/]+$/, ''), { recursive: true, force: true });
});

const env = (dryRun: boolean) => ({
  ...botEnv(slack, botpenguin, { SQLITE_PATH: sqlitePath }),
  EXECUTION_DELAY: '3s',
  DRY_RUN: String(dryRun),
});

async function stored(requestId: string) {
  const store = new SqliteStore(sqlitePath);
  try {
    return await store.getRequest(requestId);
  } finally {
    await store.close();
  }
}

describe.each(['SIGTERM', 'SIGKILL'] as const)('restarted with DRY_RUN=true after %s', (signal) => {
  it('an approved request of the DRY_RUN=false process sends no DELETE; its outcome is DRY RUN', async () => {
    const first = await startBot(main, env(false), slack);
    const { requestId, message } = await requestThrough(first, slack, CUSTOMER);
    expect(messageText(message)).not.toContain('DRY RUN');
    expect((await first.sender.click(APPROVER, ACTION_APPROVE, requestId)).status).toBe(200);
    await slack.waitFor(() => messageText(message).includes('Deleting at'), 5000, 'the countdown');
    first.child.kill(signal);
    await first.exited;
    expect(botpenguin.deletes()).toHaveLength(0);

    const second = await startBot(main, env(true), slack);
    // At once, before the DELETE time: the message says DRY RUN, and so does help.
    await slack.waitFor(() => messageText(message).includes('DRY RUN'), 5000, 'the DRY RUN mark');
    expect(ackText((await second.sender.command(REQUESTER, 'help')).json)).toContain('DRY RUN is on');
    await slack.waitFor(() => messageText(message).includes('no DELETE was sent'), 10_000, 'the dry-run outcome');
    expect(botpenguin.deletes()).toHaveLength(0);
    expect(await second.stop()).toEqual({ code: 0, signal: null });
    expect(await stored(requestId)).toMatchObject({
      state: 'succeeded',
      dryRun: true,
      outcome: { ok: true, kind: 'dry_run' },
    });
    expect(botpenguin.deletes()).toHaveLength(0);
  });
});
