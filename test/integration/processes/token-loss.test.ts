// Issue 16, defect 6: a bot that can't hear Slack stops. The real process in Socket Mode: when Slack recycles
// the socket and then refuses the app token for good (a revocation or rotation), the process ends non-zero
// with a clear log line (not an unhandled rejection), so the platform restarts it and someone is alerted; a
// transient failure of the reconnect is retried and the bot stays up.
import { FakeBotPenguin } from '../../../sandbox/fake-botpenguin';
import { FakeSlack } from '../../../sandbox/fake-slack';
import type { FakeSocketMode } from '../../../sandbox/fake-socket-mode';
import { SANDBOX_SECRETS, tempSqlitePath } from '../../../sandbox/harness';
import { botEnv, buildBot, eventually, killLeftovers, parseLine, startBot } from '../../helpers/processes';

jest.setTimeout(40_000);

const APP_TOKEN = 'xapp-1-A0BPDELETE-1-sandbox-SECRET-app-token';

let main: string;
let slack: FakeSlack;
let botpenguin: FakeBotPenguin;
let socket: FakeSocketMode;

beforeAll(() => {
  main = buildBot();
});
beforeEach(async () => {
  slack = new FakeSlack();
  botpenguin = new FakeBotPenguin();
  await Promise.all([slack.start(), botpenguin.start()]);
  socket = await slack.enableSocketMode();
});
afterEach(async () => {
  killLeftovers();
  await Promise.all([slack.stop(), botpenguin.stop()]);
});

const socketBot = () =>
  startBot(
    main,
    { ...botEnv(slack, botpenguin, { SQLITE_PATH: tempSqlitePath() }), SLACK_APP_TOKEN: APP_TOKEN },
    slack,
  );

describe('Socket Mode: losing Slack while running', () => {
  it('the app token refused at a reconnect (invalid_auth): exits non-zero, saying why, no secret printed', async () => {
    const bot = await socketBot();
    await socket.connected();
    slack.failNext('apps.connections.open', { status: 200, error: 'invalid_auth' }, 50);
    socket.drop();
    const exit = await bot.exited;
    expect(exit.code).toBe(1);
    const entries = bot.lines.map(parseLine).filter((e) => e !== null);
    expect(entries).toContainEqual(
      expect.objectContaining({
        level: 'error',
        msg: expect.stringContaining('Slack refused SLACK_APP_TOKEN while running'),
        error: 'invalid_auth',
      }),
    );
    const all = bot.lines.join('\n');
    expect(all).not.toMatch(/unhandled rejection/i);
    for (const secret of [...Object.values(SANDBOX_SECRETS), APP_TOKEN]) expect(all).not.toContain(secret);
  });

  it('a reconnect that fails for a while (Slack answers 500) is retried: the bot reconnects and stays up', async () => {
    const bot = await socketBot();
    await socket.connected();
    slack.failNext('apps.connections.open', { status: 500 }, 2);
    socket.drop();
    await eventually(() => socket.connections === 2, 30_000, 'the reconnect');
    await eventually(
      async () => (await fetch(`http://127.0.0.1:${bot.port}/readyz`)).status === 200,
      5_000,
      '/readyz 200 once reconnected',
    );
    expect(await bot.stop()).toEqual({ code: 0, signal: null });
  });
});

describe('HTTP mode: the bot token refused while running', () => {
  it('a Web API call answered token_revoked ends the process non-zero, saying why', async () => {
    const bot = await startBot(main, botEnv(slack, botpenguin, { SQLITE_PATH: tempSqlitePath() }), slack);
    // The approval message's first post is the bot's next Web API call.
    slack.failNext('chat.postMessage', { status: 200, error: 'token_revoked' }, 50);
    expect((await bot.sender.command('UREQUESTER', '64b7f0c2e4b0a1b2c3d4e5f6 customer asked')).status).toBe(200);
    const exit = await bot.exited;
    expect(exit.code).toBe(1);
    expect(bot.lines.map(parseLine)).toContainEqual(
      expect.objectContaining({
        level: 'error',
        msg: expect.stringContaining('Slack refused SLACK_BOT_TOKEN while running'),
        error: 'token_revoked',
      }),
    );
  });
});
