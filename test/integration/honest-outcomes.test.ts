// What the channel says when BotPenguin's answer to a DELETE never came (docs/DESIGN.md §5, §8): "may have
// been deleted", never "not deleted", our words kept apart from BotPenguin's; the request keeps its customer
// until a fresh look at BotPenguin's list settles it, or an approver closes it with `/bp-delete close`.
// And MAX_PENDING_PER_REQUESTER holds when one person's commands race.
import type { SlackMessage } from '../../sandbox/fake-slack';
import { SANDBOX_CHANNEL, type Sandbox, startSandbox } from '../../sandbox/harness';
import { ACTION_APPROVE } from '../../src/constants';
import { SETTLE_WINDOW_MS } from '../../src/requests/outcomes';
import { OPEN_STATES } from '../../src/requests/types';
import {
  APPROVER,
  ackText,
  CUSTOMER,
  messageText,
  OUTSIDER,
  REQUESTER,
  requestDeletion,
  settle,
} from '../helpers/flow';
import { postgresSchema } from '../helpers/processes';
import { handClock } from './promises/support';

let sb: Sandbox;
afterEach(async () => {
  await sb?.stop({ fakes: true });
});

/** Every DELETE attempt times out (BotPenguin answers after our 200 ms timeout); returns when it is decided. */
async function deleteWithoutAnswer(requestId: string) {
  sb.botpenguin.answerNext('DELETE', { status: 200, body: { success: true, message: '' }, delayMs: 1_000 }, 5);
  expect((await sb.sender.click(APPROVER, ACTION_APPROVE, requestId)).status).toBe(200);
  await sb.botpenguin.waitFor(() => sb.botpenguin.deletes().length === 5, 15_000, 'five DELETE attempts');
  await settle(sb);
}

const thread = (message: SlackMessage) => sb.slack.thread(SANDBOX_CHANNEL, message.ts).map((m) => m.text);
const everything = (message: SlackMessage) => [messageText(message), message.text, ...thread(message)].join('\n');

describe('a DELETE whose every attempt timed out', () => {
  // The bot's and its store's clock, moved by hand past the settle window.
  const clock = handClock();
  beforeEach(async () => {
    sb = await startSandbox({ env: { BOTPENGUIN_TIMEOUT_MS: '200' }, now: clock.now });
    sb.botpenguin.addCustomer(CUSTOMER);
  });

  it('is uncertain, then settled as not deleted when BotPenguin still lists the customer; the customer is free again', async () => {
    jest.setTimeout(30_000);
    const { requestId, message } = await requestDeletion(sb);
    await settle(sb);
    await deleteWithoutAnswer(requestId);
    // Still listed right after proves nothing (the DELETE may still be under way at BotPenguin) …
    expect(await sb.store.getRequest(requestId)).toMatchObject({ state: 'uncertain' });
    // … until the looks have gone on for the settle window.
    for (let minutes = 2.5; minutes <= SETTLE_WINDOW_MS / 60_000; minutes += 2.5) {
      clock.advance(2.5 * 60_000);
      await sb.bot.requests.executor.settleUncertain();
      if (minutes < SETTLE_WINDOW_MS / 60_000)
        expect(await sb.store.getRequest(requestId)).toMatchObject({ state: 'uncertain' });
    }
    await settle(sb);

    const stored = await sb.store.getRequest(requestId);
    expect(stored).toMatchObject({ state: 'failed', outcome: { kind: 'still_listed', said: 'bot' } });
    const kinds = (await sb.store.listEvents(requestId)).map((e) => e.kind);
    expect(kinds.slice(-2)).toEqual(['uncertain', 'failed']);
    await sb.slack.waitFor(() => thread(message).some((t) => t.includes('still lists')), 5_000, 'the settled reply');
    const said = everything(message);
    expect(thread(message).some((t) => /:warning:.*may have been deleted/.test(t))).toBe(true);
    expect(messageText(message)).toMatch(/not deleted: BotPenguin still lists it/);
    // Never "BotPenguin did not delete", and our own timeout text is never quoted as BotPenguin's words.
    expect(said).not.toMatch(/BotPenguin did not delete/);
    expect(said).not.toMatch(/BotPenguin said/);
    // Settled as not deleted: the customer may be asked for again.
    const again = await sb.sender.command(REQUESTER, `${CUSTOMER} once more`);
    expect(ackText(again.json)).toMatch(/is being posted in this channel/);
  });

  it('stays uncertain when BotPenguin no longer lists it: held, listed, and closed only by an approver', async () => {
    jest.setTimeout(30_000);
    const { requestId, message } = await requestDeletion(sb);
    await settle(sb);
    sb.botpenguin.customers.length = 0; // gone from the list, but nobody knows whether our DELETE did it
    await deleteWithoutAnswer(requestId);

    expect(await sb.store.getRequest(requestId)).toMatchObject({
      state: 'uncertain',
      outcome: { kind: 'uncertain', said: 'bot' },
    });
    await sb.slack.waitFor(
      () => messageText(message).includes('may have been deleted'),
      5_000,
      'the uncertain message',
    );
    expect(everything(message)).not.toMatch(/BotPenguin did not delete|BotPenguin said/);
    expect(messageText(message)).toMatch(/The bot's note: /); // our timeout text, as ours

    // Still holds the customer, and shows as uncertain in `list` and `status`.
    const held = await sb.sender.command(REQUESTER, `${CUSTOMER} again`);
    expect(ackText(held.json)).toMatch(/already has an open request/);
    expect(ackText((await sb.sender.command(REQUESTER, 'list')).json)).toMatch(
      new RegExp(`${requestId}.*uncertain \\(may have been deleted\\)`),
    );
    expect(ackText((await sb.sender.command(REQUESTER, `status ${requestId}`)).json)).toMatch(/uncertain/);

    // Closing it takes an approver, the right words, and an uncertain request.
    expect(ackText((await sb.sender.command(OUTSIDER, `close ${requestId} deleted`)).json)).toMatch(
      /not an authorized approver/,
    );
    expect(ackText((await sb.sender.command(APPROVER, `close ${requestId} maybe`)).json)).toMatch(/Usage/);
    const closed = await sb.sender.command(APPROVER, `close ${requestId} deleted gone from the dashboard too`);
    expect(ackText(closed.json)).toMatch(/closed as deleted/);
    expect(await sb.store.getRequest(requestId)).toMatchObject({
      state: 'succeeded',
      closedBy: APPROVER,
      closeReason: 'gone from the dashboard too',
      outcome: { kind: 'closed_deleted', ok: true },
    });
    expect((await sb.store.listEvents(requestId)).at(-1)).toMatchObject({
      kind: 'deleted',
      actorId: APPROVER,
      detail: 'gone from the dashboard too',
    });
    await sb.slack.waitFor(() => messageText(message).includes('Closed by'), 5_000, 'the closed message');
    expect(ackText((await sb.sender.command(APPROVER, `close ${requestId} kept`)).json)).toMatch(/not uncertain/);
  });
});

const PG_URL = process.env.TEST_DATABASE_URL;
const backends: [string, () => Promise<{ env: Record<string, string>; drop(): Promise<void> }>][] = [
  ['SQLite', async () => ({ env: {}, drop: async () => {} })],
];
if (PG_URL) {
  backends.push([
    'PostgreSQL',
    async () => {
      const schema = await postgresSchema(PG_URL);
      return { env: { DATABASE_URL: schema.databaseUrl }, drop: () => schema.drop() };
    },
  ]);
} else {
  console.warn('PostgreSQL pending-limit test skipped: TEST_DATABASE_URL is not set');
}

describe.each(backends)('MAX_PENDING_PER_REQUESTER when one person sends commands at once (%s)', (_name, backend) => {
  let db: Awaited<ReturnType<(typeof backends)[number][1]>>;
  let other: Sandbox;
  beforeEach(async () => {
    db = await backend();
  });
  afterEach(async () => {
    // Both instances stop before their database goes.
    await other?.stop();
    await sb?.stop({ fakes: true });
    sb = undefined as unknown as Sandbox;
    await db.drop();
  });

  it('10 commands at once over two instances with a limit of 2: exactly 2 requests, 8 refusals', async () => {
    sb = await startSandbox({ env: { MAX_PENDING_PER_REQUESTER: '2', ...db.env } });
    other = await startSandbox({
      env: { MAX_PENDING_PER_REQUESTER: '2', ...db.env },
      slack: sb.slack,
      botpenguin: sb.botpenguin,
      sqlitePath: sb.sqlitePath,
    });
    const customers = Array.from({ length: 10 }, (_, i) => `64b7f0c2e4b0a1b2c3d4${String(i).padStart(4, '0')}`);
    const answers = await Promise.all(
      customers.map((c, i) => (i % 2 ? other : sb).sender.command(REQUESTER, `${c} bulk`)),
    );
    const texts = answers.map((a) => ackText(a.json));
    expect(texts.filter((t) => /is being posted in this channel/.test(t))).toHaveLength(2);
    expect(texts.filter((t) => /You already have 2 open deletion requests/.test(t))).toHaveLength(8);
    // Every command was decided before its answer; the posts they started are what settle() waits for.
    await Promise.all([settle(sb), settle(other)]);
    const open = await sb.store.listRequests({ states: OPEN_STATES, limit: 100 });
    expect(open.filter((r) => r.requesterId === REQUESTER)).toHaveLength(2);
    expect(sb.slack.channelMessages(SANDBOX_CHANNEL)).toHaveLength(2);
  });
});
