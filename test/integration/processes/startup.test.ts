// Starting the real process: a token Slack refuses stops it before it listens; a Slack that can't be
// reached does not; either way no secret is printed.
import { FakeBotPenguin } from '../../../sandbox/fake-botpenguin';
import { FakeSlack } from '../../../sandbox/fake-slack';
import { SANDBOX_SECRETS, tempSqlitePath } from '../../../sandbox/harness';
import { botEnv, buildBot, killLeftovers, startBot } from '../../helpers/processes';

jest.setTimeout(30_000);

let main: string;
let slack: FakeSlack;
let botpenguin: FakeBotPenguin;

beforeAll(() => {
  main = buildBot();
});
beforeEach(async () => {
  slack = new FakeSlack();
  botpenguin = new FakeBotPenguin();
  await Promise.all([slack.start(), botpenguin.start()]);
});
afterEach(async () => {
  killLeftovers();
  await Promise.all([slack.stop(), botpenguin.stop()]);
});

describe('starting the bot process', () => {
  it('a bot token that Slack refuses (invalid_auth) stops it before it listens, without printing the token', async () => {
    slack.failNext('auth.test', { status: 200, error: 'invalid_auth' }, 5);
    const env = botEnv(slack, botpenguin, { SQLITE_PATH: tempSqlitePath() });
    const failure = await startBot(main, env, slack).then(
      () => null,
      (error: Error) => error.message,
    );
    expect(failure).toMatch(/exited while starting \(\{"code":1/);
    expect(failure).toContain('Slack refused SLACK_BOT_TOKEN');
    for (const secret of Object.values(SANDBOX_SECRETS)) expect(failure).not.toContain(secret);
  });

  it('a Slack that answers auth.test with a server error does not stop it', async () => {
    slack.failNext('auth.test', { status: 500 }, 5);
    const bot = await startBot(main, botEnv(slack, botpenguin, { SQLITE_PATH: tempSqlitePath() }), slack);
    expect(bot.lines.join('\n')).toContain('could not verify the bot token');
    expect((await fetch(`http://127.0.0.1:${bot.port}/healthz`)).status).toBe(200);
    expect(await bot.stop()).toEqual({ code: 0, signal: null });
  });
});
