// The audit trail pushed as signed webhooks, end to end (issue 18): two real bot processes share PostgreSQL,
// a local receiver verifies every delivery with `new Webhook(secret).verify` and answers 500 for a while, and
// the processes are killed with a delivery in flight and started again. Every event id of the store's trail for the flow's
// requests arrives at least once, in order per request; the commands and clicks are answered within Slack's
// 3 seconds while the receiver fails. Needs TEST_DATABASE_URL; skipped, visibly, without.
import type { FakeBotPenguin } from '../../../sandbox/fake-botpenguin';
import type { FakeSlack } from '../../../sandbox/fake-slack';
import { ACTION_APPROVE, ACTION_DENY } from '../../../src/constants';
import { PostgresStore } from '../../../src/store/dialects/postgres';
import { actionIds, messageText } from '../../helpers/flow';
import {
  type BotProcess,
  botEnv,
  buildTestBot,
  eventually,
  postgresSchema,
  requestThrough,
  startBot,
  startFakes,
  stopFakes,
} from '../../helpers/processes';
import { type Receiver, SECRET, startReceiver } from '../../unit/audit-webhook/support';

const PG_URL = process.env.TEST_DATABASE_URL;
const DELETED = '64b7f0c2e4b0a1b2c3d4e601';
const DENIED = '64b7f0c2e4b0a1b2c3d4e602';
const FAILED = '64b7f0c2e4b0a1b2c3d4e603';
/** What Slack gives an app to answer a command or a click. */
const SLACK_ANSWER_MS = 3_000;

if (!PG_URL) {
  console.warn('PostgreSQL audit webhook process test skipped: TEST_DATABASE_URL is not set');
}

(PG_URL ? describe : describe.skip)(
  'the audit webhook, two processes on PostgreSQL, a failing receiver, a kill',
  () => {
    jest.setTimeout(90_000);
    let slack: FakeSlack;
    let botpenguin: FakeBotPenguin;
    let schema: Awaited<ReturnType<typeof postgresSchema>>;
    let receiver: Receiver;

    beforeEach(async () => {
      ({ slack, botpenguin } = await startFakes());
      for (const id of [DELETED, DENIED, FAILED]) botpenguin.addCustomer(id);
      schema = await postgresSchema(PG_URL ?? '');
      receiver = await startReceiver(SECRET);
    });

    afterEach(async () => {
      await stopFakes({ slack, botpenguin });
      await receiver.close();
      await schema.drop();
    });

    it('every event of the trail arrives at least once, in order per request, signed; Slack is answered in time', async () => {
      const main = buildTestBot();
      const env = {
        ...botEnv(slack, botpenguin, { DATABASE_URL: schema.databaseUrl, DATABASE_POOL_MAX: '4' }),
        AUDIT_WEBHOOK_URL: receiver.url,
        AUDIT_WEBHOOK_SECRET: SECRET,
        // A killed process's deliveries are leased for this long before the other takes them over.
        BP_DELETE_TEST_AUDIT_LEASE_MS: '1500',
      };
      let [one, two] = await Promise.all([startBot(main, env, slack), startBot(main, env, slack)]);
      receiver.failNext(Number.MAX_SAFE_INTEGER); // the receiver is down

      const answerTimes: number[] = [];
      const timed = async (answer: () => Promise<{ status: number }>) => {
        const started = Date.now();
        const res = await answer();
        answerTimes.push(Date.now() - started);
        expect(res.status).toBe(200);
      };
      const request = async (bot: BotProcess, customerId: string) => {
        const started = Date.now();
        const made = await requestThrough(bot, slack, customerId);
        answerTimes.push(Date.now() - started);
        return made;
      };

      const deleted = await request(one, DELETED);
      await timed(() => two.sender.click('UAPPROVER1', ACTION_APPROVE, deleted.requestId));
      await slack.waitFor(() => messageText(deleted.message).includes('was deleted'), 10_000, 'the deletion');
      const denied = await request(two, DENIED);
      slack.failNext('views.open', { status: 200, error: 'expired_trigger_id' });
      await timed(() => one.sender.click('UAPPROVER1', ACTION_DENY, denied.requestId));
      botpenguin.answerNext('DELETE', { status: 401, body: { success: false, message: 'Invalid API key' } });
      const failed = await request(one, FAILED);
      await timed(() => two.sender.click('UAPPROVER1', ACTION_APPROVE, failed.requestId));

      const flow = [deleted, denied, failed];
      await slack.waitFor(
        () =>
          messageText(denied.message).includes('Denied by') && messageText(failed.message).includes('Deletion failed'),
        10_000,
        'the denial and the failure',
      );
      expect(flow.every((r) => actionIds(r.message).length === 0)).toBe(true);

      // Deliveries have failed; then, with a delivery in flight (the receiver holds it unanswered), both
      // processes are killed (SIGKILL: no cleanup), so what they had leased is neither acknowledged nor released.
      const failing = (bot: BotProcess) => bot.lines.some((l) => l.includes('audit webhook: delivery failed'));
      await eventually(() => failing(one) || failing(two), 10_000, 'a failed delivery');
      expect(receiver.accepted).toHaveLength(0);
      receiver.failNext(0);
      receiver.hang(true);
      await eventually(() => receiver.held > 0, 15_000, 'a delivery in flight');
      one.child.kill('SIGKILL');
      two.child.kill('SIGKILL');
      await Promise.all([one.exited, two.exited]);

      // The receiver comes back, and both are started again: they take over the lapsed leases.
      receiver.hang(false);
      [one, two] = await Promise.all([startBot(main, env, slack), startBot(main, env, slack)]);

      const store = new PostgresStore({ connectionString: PG_URL ?? '', schema: schema.name, poolMax: 1 });
      try {
        const trail = new Map<string, number[]>();
        for (const { requestId } of flow)
          trail.set(
            requestId,
            (await store.listEvents(requestId)).map((e) => e.id),
          );
        const expected = [...trail.values()].flat();
        // requested, approved, outcome; requested, denied; requested, approved, outcome (and any the trail adds)
        expect(expected.length).toBeGreaterThanOrEqual(8);
        const arrived = () => new Set(receiver.accepted.map((d) => d.payload.data.eventId));
        await eventually(() => expected.every((id) => arrived().has(id)), 45_000, 'every event of the trail');

        expect(receiver.rejected).toBe(0); // every delivery's signature verified
        for (const [requestId, ids] of trail) {
          // In order per request: the first arrival of each event follows the first arrival of the one before.
          const firstArrivals = receiver.accepted
            .filter((d) => d.payload.data.requestId === requestId)
            .map((d) => d.payload.data.eventId)
            .filter((id, i, all) => all.indexOf(id) === i);
          expect(firstArrivals).toEqual(ids);
        }
        for (const d of receiver.accepted) expect(d.id).toBe(`evt_${d.payload.data.eventId}`);
        expect(receiver.accepted.map((d) => d.body).join('\n')).not.toContain('@example');
      } finally {
        await store.close();
      }
      expect(Math.max(...answerTimes)).toBeLessThan(SLACK_ANSWER_MS);
      await Promise.all([one.stop(), two.stop()]);
    });
  },
);
