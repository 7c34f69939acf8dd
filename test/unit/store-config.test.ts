// loadStoreConfig: the store's settings read exactly as loadConfig reads them, without needing the bot's tokens.
import { loadConfig, loadStoreConfig } from '../../src/config';

const BOT: NodeJS.ProcessEnv = {
  SLACK_BOT_TOKEN: 'xoxb-1111-2222-abcdef',
  SLACK_SIGNING_SECRET: '8f742231b10e8888abcd99yyyzzz85a5',
  BOTPENGUIN_API_TOKEN: 'bp-partner-token-123',
  APPROVER_USER_IDS: 'U0APPROVER1',
};

describe('the store settings alone', () => {
  it('need no Slack or BotPenguin setting; the defaults are the bot’s', () => {
    expect(loadStoreConfig({})).toEqual({
      ok: true,
      config: {
        store: {
          databaseUrl: undefined,
          sqlitePath: './data/bp-delete.sqlite',
          poolMax: 10,
          sslRejectUnauthorized: undefined,
        },
        secrets: [],
      },
    });
  });

  it('are the same as the bot’s for the same environment, secrets included', () => {
    const env = {
      ...BOT,
      DATABASE_URL: ' postgres://u:pw@db.example.com/app ',
      DATABASE_POOL_MAX: '4',
      PGSSL_REJECT_UNAUTHORIZED: 'false',
    };
    const bot = loadConfig(env);
    const store = loadStoreConfig(env);
    if (!bot.ok || !store.ok) throw new Error('expected both to load');
    expect(store.config.store).toEqual(bot.config.store);
    expect(store.config.store.databaseUrl).toBe('postgres://u:pw@db.example.com/app');
    expect(store.config.secrets).toEqual(bot.config.secrets);
  });

  it('report a bad store setting as the bot does, and only store settings', () => {
    const env = { SLACK_BOT_TOKEN: 'not-a-token', DATABASE_URL: 'mysql://root:pw@db/x', DATABASE_POOL_MAX: '0' };
    expect(loadStoreConfig(env)).toEqual({
      ok: false,
      errors: [
        'DATABASE_URL: must be a postgres:// or postgresql:// URL',
        'DATABASE_POOL_MAX: must be a whole number from 1 to 100',
      ],
    });
    const bot = loadConfig(env);
    expect(!bot.ok && bot.errors).toEqual(
      expect.arrayContaining(['DATABASE_URL: must be a postgres:// or postgresql:// URL']),
    );
  });
});
