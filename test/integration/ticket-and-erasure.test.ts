// Issue 17, items 3 and 4 over signed HTTP: the ticket a request must name (TICKET_PATTERN) and carries into
// its card, thread, status, list and export; and a customer's name and email, shown while a request waits,
// gone from everything the bot keeps or sends once it is decided (or its DELETE is about to go out).
import fs from 'node:fs';
import { Writable } from 'node:stream';
import type { SlackMessage } from '../../sandbox/fake-slack';
import { SANDBOX_CHANNEL, type Sandbox, startSandbox } from '../../sandbox/harness';
import { runAudit } from '../../src/audit';
import { ACTION_APPROVE } from '../../src/constants';
import {
  APPROVER,
  ackText,
  CUSTOMER,
  messageText,
  REQUESTER,
  requestDeletion,
  settle,
  watchListeners,
} from '../helpers/flow';

const TICKETS = {
  TICKET_PATTERN: '\\bDSR-\\d+\\b',
  TICKET_EXAMPLE: 'DSR-1234',
  TICKET_URL_TEMPLATE: 'https://tickets.example/browse/{ticket}?from=bp&view=full',
};
/** The template filled in, as a mrkdwn link must spell it (`&` as an entity). */
const LINK_42 = '<https://tickets.example/browse/DSR-42?from=bp&amp;view=full|DSR-42>';

/** The export as the `npm run audit` command writes it, in this process, from the sandbox's SQLite file. */
async function exportOf(sb: Sandbox, format: 'csv' | 'jsonl'): Promise<string> {
  let out = '';
  const sink = (write: (text: string) => void) =>
    new Writable({
      write(chunk, _encoding, done) {
        write(String(chunk));
        done();
      },
    });
  const code = await runAudit(['--since', '2000-01-01', '--format', format], {
    env: { SQLITE_PATH: sb.sqlitePath },
    stdout: sink((text) => {
      out += text;
    }),
    stderr: sink(() => {}),
  });
  expect(code).toBe(0);
  return out;
}

describe('TICKET_PATTERN: every request names its ticket', () => {
  let sb: Sandbox;
  beforeEach(async () => {
    sb = watchListeners(await startSandbox({ env: TICKETS }));
    sb.botpenguin.addCustomer(CUSTOMER, 'Acme Ltd', 'ops@acme.test');
  });
  afterEach(async () => {
    await sb.stop({ fakes: true });
  });

  it('a request whose reason names no ticket is refused with the example, and nothing is posted or stored', async () => {
    const res = await sb.sender.command(REQUESTER, `${CUSTOMER} the customer asked by email`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ response_type: 'ephemeral' });
    expect(ackText(res.json)).toContain("must name the request's ticket");
    expect(ackText(res.json)).toContain('`DSR-1234`');
    expect(ackText(res.json)).toContain('Nothing was posted');
    const bare = await sb.sender.command(REQUESTER, CUSTOMER);
    expect(ackText(bare.json)).toContain('`DSR-1234`');
    await settle(sb);
    expect(sb.slack.channelMessages(SANDBOX_CHANNEL)).toHaveLength(0);
    expect(await sb.store.listRequests({ limit: 10 })).toEqual([]);
  });

  it('a request with a ticket shows it as a link on the card, in the thread, in status and list, and in the export', async () => {
    const { requestId, message } = await requestDeletion(sb, CUSTOMER, 'erasure asked in DSR-42 (and DSR-43)');
    await settle(sb);
    expect(messageText(message)).toContain(`*Ticket*\n${LINK_42}`);
    expect(message.text).toContain(`Ticket: ${LINK_42}.`);
    expect(sb.slack.thread(SANDBOX_CHANNEL, message.ts)[0]?.text).toContain(`ticket ${LINK_42}`);
    expect(await sb.store.getRequest(requestId)).toMatchObject({
      ticket: 'DSR-42',
      ticketUrl: 'https://tickets.example/browse/DSR-42?from=bp&view=full',
    });

    expect(ackText((await sb.sender.command(REQUESTER, 'list')).json)).toContain(`ticket ${LINK_42}`);
    expect(ackText((await sb.sender.command(REQUESTER, `status ${requestId}`)).json)).toContain(`ticket ${LINK_42}`);

    await sb.sender.click(APPROVER, ACTION_APPROVE, requestId, { messageTs: message.ts });
    await sb.botpenguin.waitFor(() => sb.botpenguin.deletes().length === 1);
    await settle(sb);

    const csv = (await exportOf(sb, 'csv')).split('\r\n');
    const header = (csv[0] ?? '').split(',');
    const column = header.indexOf('"ticket"');
    expect(column).toBeGreaterThan(0);
    const rows = csv.slice(1).filter((line) => line !== '');
    expect(rows.length).toBeGreaterThan(1);
    for (const row of rows) expect(row.split(',')[column]).toBe('"DSR-42"');
    const [line] = (await exportOf(sb, 'jsonl')).trim().split('\n');
    expect(JSON.parse(line ?? '{}')).toMatchObject({ requestId, ticket: 'DSR-42', state: 'succeeded' });
  });
});

// Distinctive strings: found only where the bot really copied the customer's details.
const NAME = 'Zebulon Quixotic-Erasable';
const EMAIL = 'zq.erasable-7731@privacy.example';
const PERSONAL = [NAME, EMAIL, 'Quixotic', 'zq.erasable'];

const holdsPersonalData = (text: string) => PERSONAL.some((piece) => text.includes(piece));

/** The SQLite files as bytes: the database, its write-ahead log and its shared-memory index. */
function sqliteFiles(sb: Sandbox): { file: string; bytes: Buffer }[] {
  const files = [sb.sqlitePath, `${sb.sqlitePath}-wal`, `${sb.sqlitePath}-shm`];
  return files.filter((file) => fs.existsSync(file)).map((file) => ({ file, bytes: fs.readFileSync(file) }));
}

function filesHolding(sb: Sandbox): string[] {
  return sqliteFiles(sb)
    .filter(({ bytes }) => PERSONAL.some((piece) => bytes.includes(Buffer.from(piece, 'utf8'))))
    .map(({ file }) => file);
}

/** Everything the bot keeps: the requests with their events, as the store reads them back. */
async function storeText(sb: Sandbox): Promise<string> {
  const requests = await sb.store.listRequests({ limit: 100 });
  const events = await Promise.all(requests.map((r) => sb.store.listEvents(r.id)));
  return JSON.stringify({ requests, events });
}

/** The request is shown with the customer's name and email while it waits: that is what they are for. */
async function waitForPreview(sb: Sandbox, message: SlackMessage): Promise<void> {
  await sb.slack.waitFor(() => messageText(message).includes(NAME), 5000, 'the preview on the card');
  expect(messageText(message)).toContain(EMAIL);
  expect(message.text).toContain(NAME);
  // Proof that the scans below can fail: the details are in the store and in its files right now.
  expect(await storeText(sb)).toContain(EMAIL);
  expect(filesHolding(sb)).not.toEqual([]);
}

/** Nothing the bot keeps or sends from `fromCall` on (of the fake Slack's recorded calls) holds the details. */
async function expectNoPersonalData(sb: Sandbox, message: SlackMessage, fromCall: number): Promise<void> {
  const last = message.history.at(-1);
  expect(holdsPersonalData(JSON.stringify(last))).toBe(false);
  expect(messageText(message)).toContain('name and email are no longer kept');
  const later = sb.slack.calls.slice(fromCall).filter((call) => holdsPersonalData(JSON.stringify(call.args)));
  expect(later.map((call) => call.method)).toEqual([]);
  const replies = sb.slack.thread(SANDBOX_CHANNEL, message.ts).map((reply) => reply.text);
  expect(replies.length).toBeGreaterThan(1);
  expect(replies.filter(holdsPersonalData)).toEqual([]);
  // Never logged, not even while the request waited.
  expect(sb.logs.length).toBeGreaterThan(0);
  expect(sb.logs.filter(holdsPersonalData)).toEqual([]);
  expect(holdsPersonalData(await storeText(sb))).toBe(false);
  expect(holdsPersonalData(await exportOf(sb, 'csv'))).toBe(false);
  expect(holdsPersonalData(await exportOf(sb, 'jsonl'))).toBe(false);
  expect(filesHolding(sb)).toEqual([]);
}

describe("no personal data after the decision: the customer's name and email", () => {
  let sb: Sandbox;
  let t: number;
  beforeEach(async () => {
    t = Date.now();
    sb = watchListeners(await startSandbox({ env: { REQUEST_TTL: '15m' }, now: () => t }));
    sb.botpenguin.addCustomer(CUSTOMER, NAME, EMAIL);
  });
  afterEach(async () => {
    await sb.stop({ fakes: true });
  });

  it('are erased from the store, its files and the card before the DELETE is sent, and never come back', async () => {
    const { requestId, message } = await requestDeletion(sb);
    await waitForPreview(sb, message);
    const held = sb.botpenguin.holdDeletes();
    await sb.sender.click(APPROVER, ACTION_APPROVE, requestId, { messageTs: message.ts });
    await sb.botpenguin.waitFor(() => sb.botpenguin.deletes().length === 1, 5000, 'the DELETE');
    // The DELETE is out and unanswered: the erasure came first.
    expect(holdsPersonalData(JSON.stringify(await sb.store.getRequest(requestId)))).toBe(false);
    expect(filesHolding(sb)).toEqual([]);
    await sb.slack.waitFor(() => !holdsPersonalData(JSON.stringify(message.history.at(-1))), 5000, 'the erased card');
    const fromCall = sb.slack.calls.length;
    const erasedVersion = message.history.length - 1;
    held.release();
    await settle(sb);
    expect(messageText(message)).toContain('was deleted');
    expect(message.history.slice(erasedVersion).filter((v) => holdsPersonalData(JSON.stringify(v)))).toEqual([]);
    expect(await sb.store.getRequest(requestId)).toMatchObject({ state: 'succeeded', preview: { status: 'erased' } });
    await expectNoPersonalData(sb, message, fromCall);
  });

  it('are erased when an approver denies the request', async () => {
    const { requestId, message } = await requestDeletion(sb);
    await waitForPreview(sb, message);
    const fromCall = sb.slack.calls.length;
    const denied = await sb.sender.command(APPROVER, `deny ${requestId} wrong customer`);
    expect(ackText(denied.json)).toContain('denied');
    await settle(sb);
    expect(await sb.store.getRequest(requestId)).toMatchObject({ state: 'denied', preview: { status: 'erased' } });
    expect(messageText(message)).toContain(`Denied by <@${APPROVER}>`);
    await expectNoPersonalData(sb, message, fromCall);
    expect(sb.botpenguin.deletes()).toHaveLength(0);
  });

  it('are erased when the request expires', async () => {
    const { requestId, message } = await requestDeletion(sb);
    await waitForPreview(sb, message);
    const fromCall = sb.slack.calls.length;
    t += 15 * 60_000 + 1;
    await sb.bot.sweeper.sweep();
    await settle(sb);
    expect(await sb.store.getRequest(requestId)).toMatchObject({ state: 'expired', preview: { status: 'erased' } });
    expect(messageText(message)).toContain('Expired, nothing was deleted');
    await expectNoPersonalData(sb, message, fromCall);
  });
});
