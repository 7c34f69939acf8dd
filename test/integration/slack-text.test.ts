// Text as Slack really sends and shows it, through the real app over signed HTTP: command text is
// decoded once and escaped once; every update of the message uses fresh block ids; clicks are routed by
// action_id alone, whatever block they come from.

import type { SlackMessage } from '../../sandbox/fake-slack';
import { SANDBOX_CHANNEL, type Sandbox, startSandbox } from '../../sandbox/harness';
import { ACTION_APPROVE, ACTION_CANCEL } from '../../src/constants';
import { APPROVER, actionIds, CUSTOMER, messageText, REQUESTER, requestDeletion, settle } from '../helpers/flow';

/**
 * "R&D <legal> review" as Slack delivers it in a slash command's `text`. Slack escapes `&`, `<` and `>`
 * in all text: "Slack uses &, <, and > as control characters for special parsing in text objects, so they
 * must be converted to HTML entities" ("Formatting text for app surfaces", Escaping text); its formatting
 * page's own example: a user types `Hello & <world>`, the text carries `Hello &amp; &lt;world&gt;`
 * ("All text in Slack uses the same system of escaping"). With the command's `should_escape: false`
 * (manifest.yml), mentions and links are not turned into `<@U…|name>` sequences, so these three entities
 * are all there is to decode.
 */
const TYPED = 'R&D <legal> review';
const AS_SLACK_SENDS = 'R&amp;D &lt;legal&gt; review';
const ONCE_ESCAPED = 'R&amp;D &lt;legal&gt; review';

const blockIds = (blocks: unknown[]) => blocks.map((b) => (b as { block_id?: string }).block_id ?? '');

describe('command text is decoded once, stored as typed and escaped once', () => {
  let sb: Sandbox;
  beforeEach(async () => {
    sb = await startSandbox();
  });
  afterEach(async () => {
    await sb.stop({ fakes: true });
  });

  it(`a reason arriving as "${AS_SLACK_SENDS}" is stored as "${TYPED}" and shown once-escaped`, async () => {
    const { requestId, message } = await requestDeletion(sb, CUSTOMER, AS_SLACK_SENDS);
    await settle(sb);
    expect((await sb.store.getRequest(requestId))?.reason).toBe(TYPED);

    const reasonSection = (message.blocks as { block_id?: string; text?: { text: string } }[]).find((b) =>
      b.block_id?.startsWith('reason.'),
    );
    expect(reasonSection?.text?.text).toBe(`*Reason*\n>${ONCE_ESCAPED}`);
    for (const shown of [messageText(message), message.text]) {
      expect(shown.split(ONCE_ESCAPED)).toHaveLength(2);
      expect(shown).not.toContain('&amp;amp;');
      expect(shown).not.toContain('&amp;lt;');
    }
    expect(message.text).toContain(`Reason for the request: “${ONCE_ESCAPED}”`);
    const thread = sb.slack.thread(SANDBOX_CHANNEL, message.ts).map((m) => m.text);
    expect(thread[0]).toContain(`>${ONCE_ESCAPED}`);
    expect(thread[0]).not.toContain('&amp;amp;');
  });

  it('what the person typed is echoed once-escaped in a refusal too', async () => {
    const res = await sb.sender.command(REQUESTER, 'not&amp;an&lt;id&gt; because');
    const answer = String((res.json as { text?: string } | null)?.text ?? '');
    expect(answer).toContain('`not&amp;an&lt;id&gt;`');
    expect(answer).not.toContain('&amp;amp;');
  });
});

describe('each update of the message uses fresh block ids, and clicks route by action_id alone', () => {
  let sb: Sandbox;
  beforeEach(async () => {
    sb = await startSandbox();
    sb.botpenguin.addCustomer(CUSTOMER, 'Acme Ltd', 'ops@acme.test');
  });
  afterEach(async () => {
    await sb.stop({ fakes: true });
  });

  function expectFreshIds(message: SlackMessage): void {
    expect(message.history.length).toBeGreaterThan(1);
    const seen = new Set<string>();
    for (const version of message.history) {
      const ids = blockIds(version.blocks);
      expect(new Set(ids).size).toBe(ids.length);
      for (const id of ids) {
        expect(seen.has(id)).toBe(false);
        seen.add(id);
      }
    }
  }

  it('a click carrying the block id of the version it was pressed in is routed, and every update renews the ids', async () => {
    const { requestId, message } = await requestDeletion(sb);
    const decide = blockIds(message.blocks).find((id) => id.startsWith('decide.'));
    expect(decide).toMatch(/^decide\.v\d+$/);
    const payload = sb.sender.clickPayload(APPROVER, ACTION_APPROVE, requestId, { messageTs: message.ts });
    (payload.actions as { block_id: string }[])[0] = {
      ...(payload.actions as { block_id: string }[])[0],
      block_id: decide as string,
    };
    expect((await sb.sender.signedPayload(payload)).status).toBe(200);
    await sb.botpenguin.waitFor(() => sb.botpenguin.deletes().length === 1);
    await settle(sb);
    expect(messageText(message)).toContain('was deleted');
    expectFreshIds(message);
  });

  it('a click from a block id we never rendered still reaches the cancel listener: nothing routes by block_id', async () => {
    const { requestId, message } = await requestDeletion(sb);
    const payload = sb.sender.clickPayload(REQUESTER, ACTION_CANCEL, requestId, { messageTs: message.ts });
    (payload.actions as { block_id: string }[])[0] = {
      ...(payload.actions as { block_id: string }[])[0],
      block_id: 'some-other-block.v999',
    };
    expect((await sb.sender.signedPayload(payload)).status).toBe(200);
    await sb.slack.waitFor(() => actionIds(message).length === 0, 5000, 'the buttons to go');
    await settle(sb);
    expect(messageText(message)).toContain(`Cancelled by <@${REQUESTER}>`);
    expectFreshIds(message);
  });
});
