import type { Ephemeral, SlackMessage } from '../../../sandbox/fake-slack';
import {
  mrkdwnToText,
  renderBlocks,
  renderChannel,
  renderPrivateAnswers,
  visibleLength,
} from '../../../sandbox/render-channel';
import { renderRequestMessage } from '../../../src/blocks/request-message';
import { renderThreadReply } from '../../../src/blocks/thread-replies';
import type { DeletionRequest } from '../../../src/requests/types';
import { aRequest } from '../../helpers/fixtures';

const NAMES = { URITA: 'rita', UALEX: 'alex' };
const AT = Date.UTC(2025, 0, 15, 9, 30);

function request(overrides: Partial<DeletionRequest> = {}): DeletionRequest {
  return aRequest(AT, {
    id: 'R0ABCDEFGH',
    teamId: 'T1',
    reason: 'asked to <!channel> close & leave',
    requesterId: 'URITA',
    preview: { status: 'found', name: 'Acme Ltd', email: 'ops@acme.test', customerStatus: 'active', checkedAt: AT },
    messageTs: '1.000001',
    messageVersion: 1,
    ...overrides,
  });
}

function message(text: string, blocks: unknown[], ts: string, threadTs: string | null = null): SlackMessage {
  return { channel: 'C0OPS', ts, threadTs, text, blocks, history: [{ text, blocks }] };
}

describe('Slack mrkdwn as readable text', () => {
  it('shows user mentions by name when it knows one, by id otherwise', () => {
    expect(mrkdwnToText('<@URITA> asked <@UNOBODY>', { names: NAMES })).toBe('@rita asked @UNOBODY');
    expect(mrkdwnToText('<@U1|someone>')).toBe('@someone');
  });

  it('shows a date token as its fallback text', () => {
    expect(mrkdwnToText('expires <!date^1736933400^{date_short_pretty} at {time}|2025-01-15 09:30 UTC>.')).toBe(
      'expires 2025-01-15 09:30 UTC.',
    );
  });

  it('decodes entities after reading the markup, so escaped text shows as typed and never as a mention', () => {
    expect(mrkdwnToText('wrong &lt;!channel&gt; customer &amp; co &amp;lt;')).toBe(
      'wrong <!channel> customer & co &lt;',
    );
  });

  it('shows links with their target, special mentions, channels and user groups', () => {
    expect(mrkdwnToText('<https://x.test/a|see it> <https://x.test/b>')).toBe(
      'see it (https://x.test/a) https://x.test/b',
    );
    expect(
      mrkdwnToText('<!here> in <#C0OPS> and <#C1|general> for <!subteam^S1|@admins>', {
        channelNames: { C0OPS: 'ops' },
      }),
    ).toBe('@here in #ops and #general for @admins');
  });

  it('drops bold, italic and strike markers, keeps code in backticks, and draws quotes', () => {
    expect(mrkdwnToText('*Status:* _soon_ ~old~ `id_1*2*`\n>quoted *line*')).toBe(
      'Status: soon old `id_1*2*`\n│ quoted line',
    );
    expect(mrkdwnToText('bp_delete_approve stays as is')).toBe('bp_delete_approve stays as is');
  });

  it('turns the emoji the bot uses into characters, and can leave them as codes', () => {
    expect(mrkdwnToText(':white_check_mark: done :unknown_one:')).toBe('✅ done :unknown_one:');
    expect(mrkdwnToText(':white_check_mark: done', { emoji: false })).toBe(':white_check_mark: done');
  });

  it('uses ANSI codes only when asked for colour', () => {
    const plain = mrkdwnToText('*bold* <@URITA> `code`', { names: NAMES });
    expect(plain).not.toContain('\x1b[');
    const coloured = mrkdwnToText('*bold* <@URITA> `code`', { names: NAMES, color: true });
    expect(coloured).toContain('\x1b[1mbold\x1b[22m');
    expect(visibleLength(coloured)).toBe('bold @rita code'.length);
  });
});

describe('a message rendered from its blocks', () => {
  it('shows the header, the facts as "Label: value", the quoted reason and the buttons', () => {
    const rendered = renderRequestMessage(request(), AT);
    const lines = renderBlocks(rendered.blocks, rendered.text, { names: NAMES });
    const text = lines.join('\n');
    expect(lines[0]).toBe('Delete a BotPenguin customer?');
    expect(text).toMatch(/Customer: `64b7f0c2e4b0a1b2c3d4e5f6` +Requested by: @rita/);
    expect(text).toContain('Expires: 2025-01-16 09:30 UTC');
    expect(text).toContain('│ asked to <!channel> close & leave');
    expect(text).toContain('👤 Name: Acme Ltd');
    expect(lines).toContain('[Approve deletion] [Deny] [Cancel request]');
    expect(text).not.toMatch(/<@|<!date|&amp;|&lt;/);
  });

  it('a decided request has no buttons left', () => {
    const done = request({
      state: 'succeeded',
      approvals: [{ userId: 'UALEX', at: AT }],
      outcome: { ok: true, kind: 'deleted', said: 'botpenguin', message: '', httpStatus: 200 },
      finishedAt: AT,
    });
    const rendered = renderRequestMessage(done, AT);
    const text = renderBlocks(rendered.blocks, rendered.text, { names: NAMES }).join('\n');
    expect(text).toContain('1 of 1 approval: @alex');
    expect(text).toContain('was deleted by BotPenguin (HTTP 200)');
    expect(text).not.toContain('[Approve deletion]');
  });

  it('falls back to the text when there are no blocks, and names unknown blocks', () => {
    expect(renderBlocks([], 'hello <@URITA>', { names: NAMES })).toEqual(['hello @rita']);
    expect(renderBlocks([{ type: 'video' }], 'x')).toEqual(['[video block]']);
  });
});

describe('a channel and its private answers', () => {
  it('lists top-level messages in order with their latest version and their thread indented beneath', () => {
    const r = request();
    const first = renderRequestMessage(r, AT);
    const top = message(first.text, first.blocks, '1.000001');
    const updated = renderRequestMessage({ ...r, state: 'cancelled', closedBy: 'URITA', finishedAt: AT }, AT);
    top.text = updated.text;
    top.blocks = updated.blocks;
    top.history.push({ text: updated.text, blocks: updated.blocks });
    const reply = message(
      renderThreadReply(
        { id: 1, requestId: r.id, kind: 'requested', actorId: 'URITA', detail: 'why', at: AT, postedAt: null },
        r,
      ),
      [],
      '1.000002',
      '1.000001',
    );
    const other = message('second message', [], '1.000003');
    const source = {
      channelMessages: () => [top, other],
      thread: (_channel: string, ts: string) => (ts === top.ts ? [reply] : []),
    };

    const out = renderChannel(source, 'C0OPS', { names: NAMES, channelNames: { C0OPS: 'customer-ops' } });
    const lines = out.split('\n');
    expect(lines[0]).toBe('#customer-ops: 2 messages');
    expect(out).toContain('bp-delete APP (edited 1 time)');
    expect(out).toContain('Cancelled by @rita, nothing was deleted');
    expect(out).not.toContain('[Approve deletion]');
    expect(out).toContain('  ↳ thread, 1 reply:');
    expect(out).toContain('    • 📥 @rita asked to delete customer `64b7f0c2e4b0a1b2c3d4e5f6` (request `R0ABCDEFGH`).');
    expect(out).toContain('      │ why');
    expect(out.indexOf('Cancelled by')).toBeLessThan(out.indexOf('second message'));
  });

  it('lists what each person was shown privately, in order, saying to whom', () => {
    const answers: Ephemeral[] = [
      {
        channel: 'C0OPS',
        user: 'URITA',
        text: ':white_check_mark: Request `R1` posted',
        via: 'command_response',
        order: 1,
      },
      {
        channel: 'C0OPS',
        user: 'URITA',
        text: 'You can’t approve your own request',
        via: 'chat.postEphemeral',
        order: 2,
      },
    ];
    const out = renderPrivateAnswers(answers, { names: NAMES });
    expect(out.split('\n').slice(1)).toEqual([
      ' 1. to @rita (answer to the slash command)',
      '      ✅ Request `R1` posted',
      ' 2. to @rita (ephemeral message)',
      '      You can’t approve your own request',
    ]);
    expect(renderPrivateAnswers([])).toContain('(nothing)');
  });
});
