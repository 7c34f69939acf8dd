// Two real bot processes on one PostgreSQL database (a schema of this test's own): a request through one,
// then 40 approve clicks spread over both at once. Exactly one DELETE reaches BotPenguin, and the message
// ends in one consistent final state (docs/DESIGN.md §5, §6). Needs TEST_DATABASE_URL; skipped, visibly, without.
import { FakeBotPenguin } from '../../../sandbox/fake-botpenguin';
import { FakeSlack } from '../../../sandbox/fake-slack';
import { SANDBOX_CHANNEL } from '../../../sandbox/harness';
import { ACTION_APPROVE } from '../../../src/constants';
import { PostgresStore } from '../../../src/store/dialects/postgres';
import { actionIds, CUSTOMER, messageText } from '../../helpers/flow';
import { botEnv, buildTestBot, killLeftovers, postgresSchema, requestThrough, startBot } from '../../helpers/processes';

const PG_URL = process.env.TEST_DATABASE_URL;
const APPROVERS = Array.from({ length: 40 }, (_, i) => `UAPPR${String(i + 1).padStart(4, '0')}`);
const REQUIRED = 3;

if (!PG_URL) {
  console.warn('PostgreSQL two-process test skipped: TEST_DATABASE_URL is not set');
}

(PG_URL ? describe : describe.skip)('two bot processes on one PostgreSQL database', () => {
  jest.setTimeout(30_000);
  let slack: FakeSlack;
  let botpenguin: FakeBotPenguin;
  let schema: Awaited<ReturnType<typeof postgresSchema>>;

  beforeEach(async () => {
    slack = new FakeSlack();
    botpenguin = new FakeBotPenguin();
    await Promise.all([slack.start(), botpenguin.start()]);
    botpenguin.addCustomer(CUSTOMER);
    schema = await postgresSchema(PG_URL ?? '');
  });

  afterEach(async () => {
    killLeftovers();
    await Promise.all([slack.stop(), botpenguin.stop()]);
    await schema.drop();
  });

  it('PostgreSQL: 40 approve clicks over both processes at once → one DELETE, one final message, one outcome reply', async () => {
    const main = buildTestBot();
    const env = {
      ...botEnv(slack, botpenguin, { DATABASE_URL: schema.databaseUrl, DATABASE_POOL_MAX: '5' }),
      APPROVER_USER_IDS: APPROVERS.join(','),
      APPROVALS_REQUIRED: String(REQUIRED),
      // Nothing crashes here, so no claim or lease needs to lapse early: long ones rule out overlapping syncs,
      // and a take-over because a loaded machine stalled a renewal past the 1 s lease botEnv sets for crashes.
      BP_DELETE_TEST_SYNC_CLAIM_MS: '10000',
      BP_DELETE_TEST_LEASE_MS: '15000',
    };
    // Both start (and migrate) at once.
    const [one, two] = await Promise.all([startBot(main, env, slack), startBot(main, env, slack)]);

    const { requestId, message } = await requestThrough(one, slack, CUSTOMER);
    const answers = await Promise.all(
      APPROVERS.map((user, i) => (i % 2 === 0 ? one : two).sender.click(user, ACTION_APPROVE, requestId)),
    );
    expect(answers.map((a) => a.status)).toEqual(APPROVERS.map(() => 200));

    const outcome = (t: string) => /:wastebasket:|:x:/.test(t);
    const replies = () => slack.thread(SANDBOX_CHANNEL, message.ts).map((m) => m.text);
    await slack.waitFor(
      () => actionIds(message).length === 0 && messageText(message).includes('was deleted') && replies().some(outcome),
      10_000,
      'the final message and its outcome reply',
    );
    // Every click was either counted or refused, privately, with a reason.
    await slack.waitFor(() => slack.ephemerals.length === APPROVERS.length - REQUIRED, 5000, 'the refusals');
    // Let both sweepers have several more goes (0.2 s each, lease 1 s): nothing may change any more.
    await new Promise((r) => setTimeout(r, 1_500));

    expect(botpenguin.deletes()).toHaveLength(1);
    expect(slack.channelMessages(SANDBOX_CHANNEL)).toHaveLength(1);
    expect(slack.ephemerals).toHaveLength(APPROVERS.length - REQUIRED);
    expect(slack.ephemerals.every((e) => /already/.test(e.text))).toBe(true);
    const thread = replies();
    expect(thread.filter((t) => t.includes('asked to delete'))).toHaveLength(1);
    expect(thread.filter((t) => t.includes(' approved ('))).toHaveLength(REQUIRED);
    expect(thread.filter(outcome)).toHaveLength(1);
    // The message never went back to an older state once it showed the outcome.
    const versions = message.history.map((v) => JSON.stringify(v.blocks));
    const first = versions.findIndex((v) => v.includes('was deleted'));
    expect(versions.slice(first).every((v) => v === versions[versions.length - 1])).toBe(true);

    expect(await one.stop()).toEqual({ code: 0, signal: null });
    expect(await two.stop()).toEqual({ code: 0, signal: null });
    const store = new PostgresStore({ connectionString: PG_URL ?? '', schema: schema.name, poolMax: 1 });
    try {
      const request = await store.getRequest(requestId);
      expect(request).toMatchObject({ state: 'succeeded', deleteStarts: 1, outcome: { kind: 'deleted' } });
      expect(request?.approvals).toHaveLength(REQUIRED);
    } finally {
      await store.close();
    }
  });
});
