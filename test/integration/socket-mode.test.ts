// Socket Mode end to end, locally: the real bot (SLACK_APP_TOKEN set) asks the fake Slack's
// apps.connections.open for its WebSocket (so SLACK_API_URL reaches Socket Mode too), is sent envelopes as
// Slack sends them, and must acknowledge each within Slack's 3 seconds, through the whole story:
// command → approval message → another user's approval → DELETE → message updated.

import { ACK_DEADLINE_MS, type FakeSocketMode } from '../../sandbox/fake-socket-mode';
import { type Sandbox, startSandbox } from '../../sandbox/harness';
import { ACTION_APPROVE } from '../../src/constants';
import { blockActionsButton, blockActionsUrlButton, IDS, slashCommand } from '../fixtures/slack-payloads';
import { APPROVER, buttonValue, REQUESTER } from '../helpers/flow';
import { eventually } from '../helpers/processes';
import { freshCustomerId } from '../security/support';

const APP_TOKEN = 'xapp-1-A0BPDELETE-1-sandbox-SECRET-app-token';

describe('Socket Mode: the whole story over a WebSocket, every envelope acknowledged in time', () => {
  let sb: Sandbox;
  let socket: FakeSocketMode;
  beforeAll(async () => {
    sb = await startSandbox({ env: { SLACK_APP_TOKEN: APP_TOKEN } });
    if (!sb.slack.socketMode) throw new Error('the fake Slack has no Socket Mode endpoint');
    socket = sb.slack.socketMode;
    await socket.connected();
  });
  afterAll(async () => {
    await sb?.stop({ fakes: true });
  });

  it('connects through SLACK_API_URL with the app token', () => {
    const opens = sb.slack.callsTo('apps.connections.open');
    expect(opens.length).toBeGreaterThanOrEqual(1);
    expect(opens[0]?.authorization).toBe(`Bearer ${APP_TOKEN}`);
    expect(socket.connections).toBe(1);
  });

  it('serves no /slack/events over HTTP: PORT answers only GET /healthz and GET /readyz', async () => {
    const base = `http://127.0.0.1:${sb.port}`;
    expect((await fetch(`${base}/slack/events`, { method: 'POST', body: 'payload={}' })).status).toBe(404);
    expect((await fetch(`${base}/readyz`, { method: 'POST', body: '{}' })).status).toBe(404);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });

  it('GET /readyz answers 503 naming the socket while it is dropped, and 200 once it has reconnected', async () => {
    const readyz = async () => {
      const res = await fetch(`http://127.0.0.1:${sb.port}/readyz`);
      return { status: res.status, body: (await res.json()) as unknown };
    };
    await eventually(async () => (await readyz()).status === 200, 5_000, '/readyz 200 once connected');
    socket.drop();
    await eventually(async () => (await readyz()).status === 503, 5_000, '/readyz 503 once the socket is dropped');
    expect((await readyz()).body).toEqual({ ok: false, store: 'sqlite', failing: ['socket'] });
    expect((await fetch(`http://127.0.0.1:${sb.port}/healthz`)).status).toBe(200);
    // The client reconnects on its own (after its 5-second back-off), through apps.connections.open again.
    await socket.connected(15_000);
    await eventually(async () => (await readyz()).status === 200, 5_000, '/readyz 200 once reconnected');
    expect(socket.connections).toBe(2);
  }, 30_000);

  it('slash command → approval message → approval by another user → DELETE → message updated', async () => {
    const customer = freshCustomerId();
    sb.botpenguin.addCustomer(customer);

    // Socket Mode carries a slash command's fields as a JSON object instead of a form.
    const command = Object.fromEntries(
      new URLSearchParams(
        slashCommand({
          user: REQUESTER,
          text: `${customer} closing the account`,
          responseUrl: sb.slack.responseUrl('s1'),
        }),
      ),
    );
    const commandAck = await socket.send('slash_commands', command);
    expect(commandAck.ms).toBeLessThan(ACK_DEADLINE_MS);
    expect(commandAck.payload).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringMatching(/R[0-9A-Z]{9}/),
    });

    await sb.slack.waitFor(() => sb.slack.channelMessages(IDS.channel).length > 0, 5000, 'the approval message');
    const message = sb.slack.channelMessages(IDS.channel)[0];
    if (!message) throw new Error('no approval message');
    const requestId = buttonValue(message, ACTION_APPROVE) ?? '';
    expect(requestId).toMatch(/^R[0-9A-Z]{9}$/);

    const click = blockActionsButton({
      user: APPROVER,
      value: requestId,
      actionId: ACTION_APPROVE,
      blockId: sb.slack.buttonBlockId(IDS.channel, message.ts, ACTION_APPROVE),
      messageTs: message.ts,
      responseUrl: sb.slack.responseUrl('s2'),
    });
    const clickAck = await socket.send('interactive', click);
    expect(clickAck.ms).toBeLessThan(ACK_DEADLINE_MS);

    await sb.botpenguin.waitFor(() => sb.botpenguin.deletes().length === 1, 5000, 'the DELETE');
    expect(sb.botpenguin.deletes()[0]?.path).toBe(`/customer/${customer}`);
    await sb.bot.idle();
    expect((await sb.store.getRequest(requestId))?.state).toBe('succeeded');
    const updated = sb.slack.message(IDS.channel, message.ts);
    expect(updated?.history.length).toBeGreaterThan(1);
    expect(buttonValue(updated ?? message, ACTION_APPROVE)).toBeUndefined();

    // What no listener handles is acknowledged too, or Slack would send it again.
    const linkAck = await socket.send(
      'interactive',
      blockActionsUrlButton({ user: APPROVER, messageTs: message.ts, responseUrl: sb.slack.responseUrl('s3') }),
    );
    expect(linkAck.ms).toBeLessThan(ACK_DEADLINE_MS);

    expect(socket.late).toEqual([]);
    expect(socket.acks).toHaveLength(3);
  });
});
