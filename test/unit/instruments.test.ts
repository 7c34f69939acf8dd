// The instruments as createApp wires them (src/instruments.ts): the app-level Web API client counts each
// failed call by method and Slack's code, and the store counts each call that rejects, by method name.
import { FakeBotPenguin } from '../../sandbox/fake-botpenguin';
import { FakeSlack } from '../../sandbox/fake-slack';
import { sandboxEnv, tempSqlitePath } from '../../sandbox/harness';
import { loadConfig } from '../../src/config';
import { createInstruments } from '../../src/instruments';
import { silentLogger } from '../../src/logger';
import { createStore } from '../../src/store';

describe('instruments', () => {
  const slack = new FakeSlack();
  const botpenguin = new FakeBotPenguin();
  beforeAll(async () => {
    await Promise.all([slack.start(), botpenguin.start()]);
  });
  afterAll(async () => {
    await Promise.all([slack.stop(), botpenguin.stop()]);
  });

  async function setUp() {
    const loaded = loadConfig(sandboxEnv(slack, botpenguin, tempSqlitePath()) as NodeJS.ProcessEnv);
    if (!loaded.ok) throw new Error(loaded.errors.join('; '));
    const store = await createStore(loaded.config.store);
    const instruments = createInstruments({ config: loaded.config, store, logger: silentLogger });
    return { config: loaded.config, store, instruments };
  }

  it('a failed Web API call of the app-level client is counted once, by method and Slack error code', async () => {
    const { config, store, instruments } = await setUp();
    try {
      const client = instruments.slackClient(config.slack.botToken, {
        slackApiUrl: config.slack.apiUrl,
        retryConfig: { retries: 0 },
      });
      slack.failNext('chat.postMessage', { status: 200, error: 'channel_not_found' });
      await expect(client.chat.postMessage({ channel: 'C0GONE', text: 'hello' })).rejects.toThrow(/channel_not_found/);
      await client.chat.postMessage({ channel: 'C0OPS0001', text: 'hello' });
      const text = await instruments.metrics.registry.metrics();
      expect(text).toContain('bp_delete_slack_api_errors_total{method="chat.postMessage",error="channel_not_found"} 1');
      expect(text).not.toContain('C0GONE');
    } finally {
      await store.close();
    }
  });

  it('a store call that rejects is counted under its method and still rejects', async () => {
    const { store, instruments } = await setUp();
    await store.close(); // every call now fails
    await expect(instruments.store.getRequest('R1')).rejects.toThrow();
    await expect(instruments.store.getRequest('R2')).rejects.toThrow();
    const text = await instruments.metrics.registry.metrics();
    expect(text).toContain('bp_delete_store_errors_total{operation="getRequest"} 2');
  });
});
