// Two real bot processes on one PostgreSQL schema whose clocks disagree by 30 s (sandbox/clock-shift.ts
// moves one's Date by BP_DELETE_TEST_CLOCK_SHIFT_MS). Leases and due times are the database's, so the
// instance whose clock runs ahead neither takes over a DELETE that is still under way (a slow BotPenguin,
// slower than the lease) nor runs an approved one before its EXECUTION_DELAY is over (docs/DESIGN.md §9).
// Needs TEST_DATABASE_URL; skipped, visibly, without.
import { FakeBotPenguin } from '../../../sandbox/fake-botpenguin';
import { FakeSlack } from '../../../sandbox/fake-slack';
import { ACTION_ABORT, ACTION_APPROVE } from '../../../src/constants';
import { PostgresStore } from '../../../src/store/dialects/postgres';
import { CUSTOMER, messageText } from '../../helpers/flow';
import {
  type BotProcess,
  botEnv,
  buildClockShift,
  buildTestBot,
  eventually,
  killLeftovers,
  parseLine,
  postgresSchema,
  requestThrough,
  startBot,
} from '../../helpers/processes';

const PG_URL = process.env.TEST_DATABASE_URL;
const SHIFT_MS = 30_000;

if (!PG_URL) {
  console.warn('PostgreSQL clock-skew process test skipped: TEST_DATABASE_URL is not set');
}

(PG_URL ? describe : describe.skip)('two bot processes whose clocks differ by 30 s, on one PostgreSQL database', () => {
  jest.setTimeout(40_000);
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

  const env = (extra: Record<string, string> = {}) => ({
    ...botEnv(slack, botpenguin, { DATABASE_URL: schema.databaseUrl, DATABASE_POOL_MAX: '4' }),
    BOTPENGUIN_TIMEOUT_MS: '15000',
    ...extra,
  });
  /** The instance whose clock runs SHIFT_MS ahead; checks from its own log that the shift took. */
  const startAhead = async (extra: Record<string, string> = {}): Promise<BotProcess> => {
    const bot = await startBot(
      buildTestBot(),
      env({ ...extra, BP_DELETE_TEST_CLOCK_SHIFT_MS: String(SHIFT_MS) }),
      slack,
      ['--require', buildClockShift()],
    );
    const logged = Date.parse(String(parseLine(bot.lines.find((l) => parseLine(l)?.time) ?? '')?.time));
    expect(logged - Date.now()).toBeGreaterThan(SHIFT_MS - 5_000);
    return bot;
  };
  const stored = async (requestId: string) => {
    const store = new PostgresStore({ connectionString: PG_URL ?? '', schema: schema.name, poolMax: 1 });
    try {
      return await store.getRequest(requestId);
    } finally {
      await store.close();
    }
  };

  it('a DELETE slower than the lease is never taken over by the instance whose clock runs ahead: one DELETE', async () => {
    const owner = await startBot(buildTestBot(), env(), slack);
    const { requestId, message } = await requestThrough(owner, slack, CUSTOMER);
    // BotPenguin answers after 7 s; the lease is 1 s, renewed every ~330 ms by the owner.
    botpenguin.answerNext('DELETE', { status: 200, body: { success: true, message: '' }, delayMs: 7_000 });
    expect((await owner.sender.click('UAPPROVER1', ACTION_APPROVE, requestId)).status).toBe(200);
    await botpenguin.waitFor(() => botpenguin.deletes().length === 1, 5_000, 'the DELETE');

    // The other instance starts while the DELETE is under way; its sweeper looks for stale executions every
    // 0.2 s with a clock 30 s ahead of the lease it reads.
    const ahead = await startAhead();
    await slack.waitFor(() => messageText(message).includes('was deleted'), 15_000, 'the outcome');
    await new Promise((r) => setTimeout(r, 1_500)); // several more sweeps of both

    expect(botpenguin.deletes()).toHaveLength(1);
    expect(await stored(requestId)).toMatchObject({
      state: 'succeeded',
      deleteStarts: 1,
      outcome: { kind: 'deleted' },
    });
    expect(await owner.stop()).toEqual({ code: 0, signal: null });
    expect(await ahead.stop()).toEqual({ code: 0, signal: null });
  });

  it('an approved DELETE waits out EXECUTION_DELAY on the database clock: the instance ahead does not run it early', async () => {
    const delayed = { EXECUTION_DELAY: '20s' };
    const [one, ahead] = await Promise.all([startBot(buildTestBot(), env(delayed), slack), startAhead(delayed)]);
    const { requestId } = await requestThrough(one, slack, CUSTOMER);
    expect((await one.sender.click('UAPPROVER1', ACTION_APPROVE, requestId)).status).toBe(200);
    await eventually(async () => (await stored(requestId))?.state === 'approved', 5_000, 'the approval');
    // Both sweepers run every 0.2 s; the one ahead would see executeAt as 10 s past.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(botpenguin.deletes()).toHaveLength(0);
    expect((await stored(requestId))?.state).toBe('approved');

    // Still abortable. (Whether the message shows the Abort button depends on the clock of the instance that
    // last rendered it: the one ahead thinks the window is over. The abort itself is the store's to decide.)
    expect((await one.sender.click('UAPPROVER2', ACTION_ABORT, requestId)).status).toBe(200);
    await eventually(async () => (await stored(requestId))?.state === 'aborted', 5_000, 'the abort');
    expect(botpenguin.deletes()).toHaveLength(0);
    expect(await one.stop()).toEqual({ code: 0, signal: null });
    expect(await ahead.stop()).toEqual({ code: 0, signal: null });
  });
});
