// Issue 16: the trail records every DELETE sent and every pause and resume, as events (who, when, which attempt),
// and the audit export carries them. Expected event kinds: `delete_sent` at each claim and take-over (its detail
// names the attempt), `paused` and `resumed` even when no request is open (then as rows of their own).
import { type Sandbox, startSandbox } from '../../../sandbox/harness';
import { ACTION_APPROVE } from '../../../src/constants';
import { APPROVER, APPROVER2, ackText, CUSTOMER, requestDeletion, settle } from '../../helpers/flow';
import { auditRows } from './support';

const sandboxes: Sandbox[] = [];
const start = async (...args: Parameters<typeof startSandbox>) => {
  const sb = await startSandbox(...args);
  sandboxes.push(sb);
  return sb;
};
afterEach(async () => {
  // The first one started the fakes and the others share them: it stops last, and stops them.
  const [first, ...others] = sandboxes.splice(0);
  for (const sb of others) await sb.stop();
  await first?.stop({ fakes: true });
});

/** A DELETE sent by one instance, then re-sent by another that took it over when the first one's lease ran out. */
async function sentThenTakenOver() {
  const first = await start({ sweepIntervalMs: 100 });
  first.botpenguin.addCustomer(CUSTOMER);
  const { requestId } = await requestDeletion(first);
  await settle(first);
  const held = first.botpenguin.holdDeletes(); // the first instance's DELETE gets no answer for now
  expect((await first.sender.click(APPROVER, ACTION_APPROVE, requestId)).status).toBe(200);
  await first.botpenguin.waitFor(() => first.botpenguin.deletes().length === 1, 5_000, 'the first DELETE');
  // The second instance's clock is a minute on: to it (and its store), the first one's lease has run out.
  const second = await start({
    slack: first.slack,
    botpenguin: first.botpenguin,
    sqlitePath: first.sqlitePath,
    now: () => Date.now() + 60_000,
    sweepIntervalMs: 100,
  });
  await first.botpenguin.waitFor(() => first.botpenguin.deletes().length === 2, 5_000, 'the re-sent DELETE');
  held.release();
  await Promise.all([settle(first), settle(second)]);
  expect(await first.store.getRequest(requestId)).toMatchObject({ state: 'succeeded', deleteStarts: 2 });
  return { sb: first, requestId };
}

describe('every DELETE sent is in the trail', () => {
  // Claims and take-overs write no event.
  it('a claim and a take-over each record delete_sent, with its attempt', async () => {
    const { sb, requestId } = await sentThenTakenOver();
    const sent = (await sb.store.listEvents(requestId)).filter((e) => (e.kind as string) === 'delete_sent');
    expect(sent).toHaveLength(2);
    expect(sent[0]?.detail).toMatch(/\b1\b/);
    expect(sent[1]?.detail).toMatch(/\b2\b/);
    expect(sent[0]?.at).toBeLessThanOrEqual(sent[1]?.at ?? 0);
  });

  // The export has no delete_started_at column and no delete_sent rows.
  it('the export carries them: delete_sent rows and when the DELETE was started', async () => {
    const { sb, requestId } = await sentThenTakenOver();
    const rows = (await auditRows(sb)).filter((r) => r.request_id === requestId);
    expect(rows.filter((r) => r.event_kind === 'delete_sent')).toHaveLength(2);
    expect(rows[0]?.delete_started_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
  });
});

describe('every pause and resume is in the trail', () => {
  // Kept only in one overwritten row: with no open request, nothing records who paused and resumed.
  it('with no open request: the export has a paused and a resumed row, who and why', async () => {
    const sb = await start();
    expect(ackText((await sb.sender.command(APPROVER, 'pause incident 7: BotPenguin misbehaving')).json)).toMatch(
      /Every DELETE is paused/,
    );
    expect(ackText((await sb.sender.command(APPROVER2, 'resume')).json)).toMatch(/DELETEs are resumed/);
    await sb.slack.waitFor(() => sb.slack.callsTo('chat.postMessage').length === 2, 5_000, 'both announcements');
    await settle(sb);
    const rows = await auditRows(sb);
    expect(rows).toContainEqual(
      expect.objectContaining({
        event_kind: 'paused',
        event_actor_id: APPROVER,
        event_detail: expect.stringContaining('incident 7'),
      }),
    );
    expect(rows).toContainEqual(expect.objectContaining({ event_kind: 'resumed', event_actor_id: APPROVER2 }));
  });

  it('with an open request: paused and resumed are events of that request, with who and why', async () => {
    const sb = await start();
    sb.botpenguin.addCustomer(CUSTOMER);
    const { requestId } = await requestDeletion(sb);
    await sb.sender.command(APPROVER, 'pause incident 8');
    await sb.sender.command(APPROVER2, 'resume');
    await settle(sb);
    const events = await sb.store.listEvents(requestId);
    expect(events).toContainEqual(expect.objectContaining({ kind: 'paused', actorId: APPROVER, detail: 'incident 8' }));
    expect(events).toContainEqual(expect.objectContaining({ kind: 'resumed', actorId: APPROVER2 }));
    const rows = (await auditRows(sb)).filter((r) => r.request_id === requestId);
    expect(rows.map((r) => r.event_kind)).toEqual(expect.arrayContaining(['paused', 'resumed']));
  });
});
