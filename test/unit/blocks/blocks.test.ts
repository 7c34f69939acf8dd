// docs/DESIGN.md §4 and §6: what the channel shows. The request message, its thread replies and every ephemeral
// answer are pure functions of the stored request; user text can never notify, link or break Slack's limits.
import type { types } from '@slack/bolt';
import { renderCreated, renderHelp, renderList, renderRefusal, renderStatus } from '../../../src/blocks/replies';
import { renderRequestMessage } from '../../../src/blocks/request-message';
import { escapeMrkdwn, plain, safeMrkdwn, truncate } from '../../../src/blocks/text';
import { renderThreadReply } from '../../../src/blocks/thread-replies';
import type { Policy } from '../../../src/config';
import { ACTION_ABORT, ACTION_APPROVE, ACTION_CANCEL, ACTION_DENY } from '../../../src/constants';
import type { Refusal } from '../../../src/requests/refusals';
import type { DeletionRequest, EventKind, RequestEvent, RequestState } from '../../../src/requests/types';
import { aRequest } from '../../helpers/fixtures';

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const HOUR = 3_600_000;
const CUSTOMER = '64b7f0c2e4b0a1b2c3d4e5f6';
const REQUESTER = 'U0REQUESTER';
const APPROVER = 'U0APPROVER1';

function request(overrides: Partial<DeletionRequest> = {}): DeletionRequest {
  return aRequest(NOW - HOUR, { customerId: CUSTOMER, requesterId: REQUESTER, ...overrides });
}

function event(kind: EventKind, overrides: Partial<RequestEvent> = {}): RequestEvent {
  return {
    id: 1,
    requestId: 'R7K2M9QXAB',
    kind,
    actorId: APPROVER,
    detail: null,
    at: NOW,
    postedAt: null,
    ...overrides,
  };
}

/** One fixture per state a message can show. */
const STATES: Record<string, DeletionRequest> = {
  pending: request(),
  'pending, one of two approvals': request({ approvalsRequired: 2, approvals: [{ userId: APPROVER, at: NOW - 1000 }] }),
  'approved, DELETE due now': request({
    state: 'approved',
    approvals: [{ userId: APPROVER, at: NOW }],
    executeAt: NOW,
  }),
  'approved, during the execution delay': request({
    state: 'approved',
    approvals: [{ userId: APPROVER, at: NOW }],
    executeAt: NOW + 10 * 60_000,
  }),
  executing: request({
    state: 'executing',
    approvals: [{ userId: APPROVER, at: NOW }],
    executeAt: NOW,
    deleteStarts: 1,
  }),
  succeeded: request({
    state: 'succeeded',
    approvals: [{ userId: APPROVER, at: NOW }],
    outcome: {
      ok: true,
      kind: 'deleted',
      said: 'botpenguin',
      message: 'Customer deleted',
      httpStatus: 200,
      attempts: 1,
    },
    finishedAt: NOW,
  }),
  'succeeded, already gone': request({
    state: 'succeeded',
    outcome: { ok: true, kind: 'already_gone', said: 'botpenguin', message: 'Not found', httpStatus: 404, attempts: 1 },
    finishedAt: NOW,
  }),
  'succeeded, dry run': request({
    state: 'succeeded',
    dryRun: true,
    outcome: { ok: true, kind: 'dry_run', said: 'bot', message: 'DRY RUN: no DELETE was sent.' },
    finishedAt: NOW,
  }),
  failed: request({
    state: 'failed',
    outcome: {
      ok: false,
      kind: 'rejected',
      said: 'botpenguin',
      message: 'Customer has an active subscription',
      httpStatus: 400,
      attempts: 1,
    },
    finishedAt: NOW,
  }),
  'failed, daily limit': request({
    state: 'failed',
    outcome: { ok: false, kind: 'daily_limit', said: 'bot', message: 'The daily limit of 50 deletions was reached.' },
    finishedAt: NOW,
  }),
  denied: request({ state: 'denied', closedBy: APPROVER, closeReason: 'ticket not signed off', finishedAt: NOW }),
  cancelled: request({ state: 'cancelled', closedBy: REQUESTER, finishedAt: NOW }),
  expired: request({ state: 'expired', expiresAt: NOW - 1, finishedAt: NOW - 1 }),
  aborted: request({ state: 'aborted', closedBy: REQUESTER, executeAt: NOW + 60_000, finishedAt: NOW }),
};

type AnyBlock = types.KnownBlock & Record<string, unknown>;
interface Button {
  action_id: string;
  value?: string;
  style?: string;
  text: { text: string };
  confirm?: {
    title: { text: string };
    text: { text: string };
    confirm: { text: string };
    deny: { text: string };
    style?: string;
  };
}

const blocksOf = (r: DeletionRequest, now = NOW) => renderRequestMessage(r, now).blocks as AnyBlock[];

function buttons(r: DeletionRequest, now = NOW): Button[] {
  return blocksOf(r, now)
    .filter((b) => b.type === 'actions')
    .flatMap((b) => (b as unknown as { elements: Button[] }).elements);
}

/** Every text a person can see in a message: block texts, fields, context elements, buttons, and the fallback. */
function visibleTexts(r: DeletionRequest, now = NOW): string[] {
  const texts: string[] = [renderRequestMessage(r, now).text];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      for (const [key, v] of Object.entries(node)) {
        if (key === 'text' && typeof v === 'string') texts.push(v);
        else walk(v);
      }
    }
  };
  walk(renderRequestMessage(r, now).blocks);
  return texts;
}

/** A block by its name: block ids carry the request's version (`status.v3`). */
function sectionText(r: DeletionRequest, blockId: string): string {
  const block = blocksOf(r).find((b) => b.block_id === `${blockId}.v${r.version}`) as
    | { text?: { text: string } }
    | undefined;
  if (!block?.text) throw new Error(`no section ${blockId}`);
  return block.text.text;
}

const HOSTILE =
  'Hi <!channel> and <!here> and <!everyone>, ping <@U0EVIL> in <#C0EVIL|general>, see <http://evil.example/x|your invoice> ' +
  'or <mailto:a@b.c|mail> or <!subteam^S0EVIL>; @channel @here @everyone. Tom & Jerry > Bugs < Daffy';
const FORBIDDEN = ['<!channel>', '<!here>', '<!everyone>', '<@U0EVIL>', '<#C0EVIL', '<http', '<mailto', '<!subteam'];

function expectHarmless(text: string) {
  for (const bad of FORBIDDEN) expect(text).not.toContain(bad);
  expect(text).not.toMatch(/@(channel|here|everyone)\b/i);
  expect(text).not.toContain('&amp;amp;');
  expect(text).not.toContain('&amp;lt;');
}

describe('user text can never notify anybody, link anywhere or mention anyone', () => {
  it('escapeMrkdwn turns <, > and & into entities, once, and neutralises @channel/@here/@everyone', () => {
    const out = escapeMrkdwn(HOSTILE);
    expectHarmless(out);
    expect(out).toContain('&lt;!channel&gt;');
    expect(out).toContain('Tom &amp; Jerry');
    expect(out).toContain('&gt; Bugs &lt; Daffy');
    expect(out).toContain('@\u2060channel');
  });

  it('an email address keeps its @', () => {
    expect(escapeMrkdwn('mail ops@here.example')).toContain('ops@');
  });

  it('a hostile reason, deny reason, BotPenguin message and customer preview are all harmless in every state', () => {
    const hostile: Partial<DeletionRequest> = {
      reason: HOSTILE,
      closeReason: HOSTILE,
      preview: { status: 'found', name: HOSTILE, email: '<mailto:x@y.z|x>', customerStatus: '<!here>', checkedAt: NOW },
    };
    for (const r of Object.values(STATES)) {
      const outcome = r.outcome ? { ...r.outcome, message: HOSTILE } : null;
      for (const text of visibleTexts({ ...r, ...hostile, outcome })) expectHarmless(text);
    }
  });

  it('the reason is shown escaped, not dropped', () => {
    const text = sectionText(request({ reason: 'Tom & Jerry <!channel>' }), 'reason');
    expect(text).toContain('Tom &amp; Jerry &lt;!channel&gt;');
  });

  it('a customer id that a custom pattern let through cannot notify, in the blocks or the notification text', () => {
    for (const r of [request({ customerId: '<!channel>' }), request({ customerId: '@here' })]) {
      for (const text of visibleTexts(r)) expectHarmless(text);
    }
  });

  it('thread replies escape the reason and the deny reason', () => {
    const r = request({ reason: HOSTILE });
    expectHarmless(renderThreadReply(event('requested', { actorId: REQUESTER, detail: HOSTILE }), r));
    expectHarmless(renderThreadReply(event('denied', { detail: HOSTILE }), { ...r, state: 'denied' }));
    expectHarmless(
      renderThreadReply(event('failed', { actorId: null }), {
        ...r,
        state: 'failed',
        outcome: { ok: false, kind: 'rejected', said: 'botpenguin', message: HOSTILE, httpStatus: 400 },
      }),
    );
  });
});

describe('long text is cut to fit Slack’s limits, and says it was cut', () => {
  const LONG = 'word '.repeat(2000); // 10,000 characters
  const LONG_LINES = 'a short line\n'.repeat(770); // ~10,000 characters, many lines

  it.each([
    ['one long paragraph', LONG],
    ['many short lines', LONG_LINES],
    ['full of entities', '<&>'.repeat(3334)],
    ['full of @here', '@here '.repeat(1667)],
    ['one character per line', 'x\n'.repeat(5000)],
  ])('a 10,000-character reason (%s) keeps every section ≤ 3000 characters', (_what, reason) => {
    expect(reason.length).toBeGreaterThanOrEqual(9990);
    for (const r of Object.values(STATES)) {
      const long = { ...r, reason, closeReason: reason, outcome: r.outcome ? { ...r.outcome, message: reason } : null };
      for (const block of blocksOf(long)) {
        const b = block as {
          type: string;
          text?: { text: string };
          fields?: { text: string }[];
          elements?: { text?: string }[];
        };
        if (b.type === 'section') {
          if (b.text) expect(b.text.text.length).toBeLessThanOrEqual(3000);
          for (const f of b.fields ?? []) expect(f.text.length).toBeLessThanOrEqual(2000);
        }
        if (b.type === 'context')
          for (const e of b.elements ?? []) expect((e.text ?? '').length).toBeLessThanOrEqual(3000);
      }
      expect(sectionText(long, 'reason')).toMatch(/cut/);
    }
  });

  it('the reason section says how long the original was', () => {
    expect(sectionText(request({ reason: LONG }), 'reason')).toContain('10000 characters, cut');
  });

  it('a short reason is shown whole', () => {
    expect(sectionText(request({ reason: 'r'.repeat(2000) }), 'reason')).toContain('r'.repeat(2000));
    expect(sectionText(request({ reason: 'r'.repeat(2000) }), 'reason')).not.toMatch(/cut/);
  });

  it('a missing reason says so', () => {
    expect(sectionText(request({ reason: '' }), 'reason')).toContain('none given');
  });

  it('safeMrkdwn never exceeds its limit nor splits an entity', () => {
    for (const text of ['&'.repeat(500), '<>'.repeat(300), '@here '.repeat(100), 'x'.repeat(500), '😀'.repeat(300)]) {
      const out = safeMrkdwn(text, 120);
      expect(out.length).toBeLessThanOrEqual(120);
      expect(out).toMatch(/cut\)$/);
      expect(out.replace(/&(amp|lt|gt);/g, '')).not.toMatch(/&/);
    }
  });

  it('truncate and plain keep to their limit', () => {
    expect(truncate('x'.repeat(500), 75).length).toBeLessThanOrEqual(75);
    expect(truncate('short', 75)).toBe('short');
    const p = plain('line one\nline two'.repeat(40), 150);
    expect(p.length).toBeLessThanOrEqual(150);
    expect(p).not.toContain('\n');
  });
});

describe('every message keeps to Block Kit’s structural limits', () => {
  it.each(Object.entries(STATES))('%s: header ≤ 150, button texts ≤ 75, block_ids unique', (_name, r) => {
    for (const variant of [r, { ...r, dryRun: true }]) {
      const blocks = blocksOf(variant);
      const header = blocks.find((b) => b.type === 'header') as { text: { text: string } } | undefined;
      expect(header).toBeDefined();
      expect(header?.text.text.length).toBeLessThanOrEqual(150);
      const ids = blocks.map((b) => b.block_id);
      expect(ids.every((id) => typeof id === 'string' && id.length > 0 && id.length <= 255)).toBe(true);
      expect(new Set(ids).size).toBe(ids.length);
      expect(blocks.length).toBeLessThanOrEqual(50);
      for (const button of buttons(variant)) {
        expect(button.text.text.length).toBeGreaterThan(0);
        expect(button.text.text.length).toBeLessThanOrEqual(75);
        expect((button.value ?? '').length).toBeLessThanOrEqual(2000);
        if (button.confirm) {
          expect(button.confirm.title.text.length).toBeLessThanOrEqual(100);
          expect(button.confirm.text.text.length).toBeLessThanOrEqual(300);
          expect(button.confirm.confirm.text.length).toBeLessThanOrEqual(30);
          expect(button.confirm.deny.text.length).toBeLessThanOrEqual(30);
        }
      }
      expect(renderRequestMessage(variant, NOW).text.length).toBeGreaterThan(0);
    }
  });
});

describe('a pending request shows what the approver needs, and the buttons to decide', () => {
  const r = request({ approvalsRequired: 2, approvals: [{ userId: APPROVER, at: NOW - 1000 }] });
  const text = visibleTexts(r).join('\n');

  it('shows the customer id, the requester, the reason, the expiry and the approvals so far', () => {
    expect(text).toContain(CUSTOMER);
    expect(text).toContain(`<@${REQUESTER}>`);
    expect(text).toContain('customer asked to close the account');
    expect(text).toContain(`<!date^${Math.floor(r.expiresAt / 1000)}^`);
    expect(text).toContain('1 of 2 approvals');
    expect(text).toContain(`<@${APPROVER}>`);
    expect(text).toContain(r.id);
  });

  it('has approve, deny and cancel buttons, each carrying the request id only', () => {
    const bs = buttons(r);
    expect(bs.map((b) => b.action_id)).toEqual([ACTION_APPROVE, ACTION_DENY, ACTION_CANCEL]);
    for (const b of bs) expect(b.value).toBe(r.id);
  });

  it('approve is a danger button with a danger confirmation naming the customer', () => {
    const approve = buttons(r).find((b) => b.action_id === ACTION_APPROVE);
    expect(approve?.style).toBe('danger');
    expect(approve?.confirm?.style).toBe('danger');
    expect(approve?.confirm?.text.text).toContain(CUSTOMER);
  });

  it('once its time has run out, the buttons are gone even before it is marked expired', () => {
    expect(buttons(request({ expiresAt: NOW }))).toEqual([]);
  });
});

describe('a decided request has no approve, deny or cancel buttons', () => {
  const decided = Object.entries(STATES).filter(([, r]) => r.state !== 'pending');

  it.each(decided)('%s', (name, r) => {
    const ids = buttons(r).map((b) => b.action_id);
    expect(ids).not.toContain(ACTION_APPROVE);
    expect(ids).not.toContain(ACTION_DENY);
    expect(ids).not.toContain(ACTION_CANCEL);
    if (name === 'approved, during the execution delay') expect(ids).toEqual([ACTION_ABORT]);
    else expect(ids).toEqual([]);
  });

  it('during the execution delay only the abort button is shown, carrying the request id, and the time of the DELETE', () => {
    const r = STATES['approved, during the execution delay'] as DeletionRequest;
    expect(buttons(r)).toEqual([expect.objectContaining({ action_id: ACTION_ABORT, value: r.id })]);
    expect(sectionText(r, 'status')).toContain('12:10 UTC');
  });

  it('the abort button disappears once the DELETE is due', () => {
    const r = STATES['approved, during the execution delay'] as DeletionRequest;
    expect(buttons(r, r.executeAt as number)).toEqual([]);
  });
});

describe('the message says what happened', () => {
  const status = (name: string) => sectionText(STATES[name] as DeletionRequest, 'status');

  it.each<[string, RegExp[]]>([
    ['pending', [/Waiting for approval/]],
    ['executing', [/Deleting now/]],
    ['succeeded', [/Deleted/, new RegExp(`${CUSTOMER}.*deleted`), /HTTP 200/]],
    ['succeeded, already gone', [/already gone/]],
    ['succeeded, dry run', [/DRY RUN/, /no DELETE was sent/]],
    ['failed', [/failed/, /Customer has an active subscription/, /HTTP 400/]],
    ['failed, daily limit', [/daily limit of 50/]],
    ['denied', [new RegExp(`Denied by <@${APPROVER}>`), /ticket not signed off/, /nothing was deleted/]],
    ['cancelled', [new RegExp(`Cancelled by <@${REQUESTER}>`), /nothing was deleted/]],
    ['expired', [/Expired/, /nothing was deleted/]],
    ['aborted', [new RegExp(`Aborted by <@${REQUESTER}>`), /nothing was deleted/]],
  ])('%s', (name, patterns) => {
    for (const p of patterns) expect(status(name)).toMatch(p);
  });

  it('the notification text follows the state', () => {
    expect(renderRequestMessage(STATES.denied as DeletionRequest, NOW).text).toMatch(/Denied/);
    expect(renderRequestMessage(STATES.succeeded as DeletionRequest, NOW).text).toMatch(/Deleted/);
  });
});

describe('DRY RUN is said everywhere when it is on', () => {
  const dry = (r: DeletionRequest) => ({ ...r, dryRun: true });

  it.each(Object.entries(STATES))('%s: header, notification text and approve button', (_name, r) => {
    const rendered = renderRequestMessage(dry(r), NOW);
    const header = rendered.blocks.find((b) => b.type === 'header') as { text: { text: string } };
    expect(header.text.text).toContain('DRY RUN');
    expect(rendered.text).toContain('DRY RUN');
  });

  it('the approve button and its confirmation say nothing will be deleted', () => {
    const approve = buttons(dry(request())).find((b) => b.action_id === ACTION_APPROVE);
    expect(approve?.text.text).toMatch(/dry run/i);
    expect(approve?.confirm?.text.text).toContain('DRY RUN');
  });

  it.each<EventKind>([
    'requested',
    'approved',
    'delete_sent',
    'deleted',
    'failed',
    'denied',
    'cancelled',
    'expired',
    'aborted',
  ])('the %s thread reply', (kind) => {
    expect(renderThreadReply(event(kind, { detail: '1 of 1' }), dry(STATES.succeeded as DeletionRequest))).toContain(
      'DRY RUN',
    );
  });

  it('without DRY RUN, nobody is told it is one', () => {
    expect(renderRequestMessage(request(), NOW).text).not.toContain('DRY RUN');
    expect(visibleTexts(request()).join('\n')).not.toContain('DRY RUN');
    expect(renderThreadReply(event('requested'), request())).not.toContain('DRY RUN');
  });
});

describe('thread replies are the audit trail', () => {
  const mentionsRequester = (text: string) => text.includes(`<@${REQUESTER}>`);

  it.each<[string, EventKind, DeletionRequest]>([
    ['deleted', 'deleted', STATES.succeeded as DeletionRequest],
    ['deleted in a dry run', 'deleted', STATES['succeeded, dry run'] as DeletionRequest],
    ['already gone', 'deleted', STATES['succeeded, already gone'] as DeletionRequest],
    ['failed', 'failed', STATES.failed as DeletionRequest],
    ['denied', 'denied', STATES.denied as DeletionRequest],
    ['expired', 'expired', STATES.expired as DeletionRequest],
    ['aborted', 'aborted', STATES.aborted as DeletionRequest],
  ])('an outcome (%s) mentions the requester', (_what, kind, r) => {
    expect(mentionsRequester(renderThreadReply(event(kind, { actorId: kind === 'denied' ? APPROVER : null }), r))).toBe(
      true,
    );
  });

  it('each reply names who did it', () => {
    expect(renderThreadReply(event('requested', { actorId: REQUESTER }), request())).toContain(`<@${REQUESTER}>`);
    expect(renderThreadReply(event('approved', { detail: '1 of 2' }), request())).toContain(`<@${APPROVER}> approved`);
    expect(renderThreadReply(event('denied'), STATES.denied as DeletionRequest)).toContain(`<@${APPROVER}> denied`);
    expect(
      renderThreadReply(event('cancelled', { actorId: REQUESTER }), STATES.cancelled as DeletionRequest),
    ).toContain(`<@${REQUESTER}> cancelled`);
  });

  it('a failure shows BotPenguin’s message', () => {
    expect(renderThreadReply(event('failed', { actorId: null }), STATES.failed as DeletionRequest)).toContain(
      'Customer has an active subscription',
    );
  });

  it('a deny reason is quoted in the reply', () => {
    expect(
      renderThreadReply(event('denied', { detail: 'ticket not signed off' }), STATES.denied as DeletionRequest),
    ).toContain('>ticket not signed off');
  });

  it('every event kind renders a non-empty reply', () => {
    const kinds: Record<EventKind, true> = {
      requested: true,
      approved: true,
      delete_sent: true,
      deleted: true,
      failed: true,
      uncertain: true,
      denied: true,
      cancelled: true,
      expired: true,
      aborted: true,
      reopened: true,
      policy: true,
      paused: true,
      resumed: true,
      reminded: true,
    };
    for (const kind of Object.keys(kinds) as EventKind[]) {
      expect(renderThreadReply(event(kind), STATES.succeeded as DeletionRequest).trim().length).toBeGreaterThan(10);
    }
  });
});

describe('every refusal is explained in a sentence', () => {
  const decided = STATES.denied as DeletionRequest;
  // A Record keyed by kind: adding a Refusal kind without a fixture here fails to compile.
  const REFUSALS: Record<Refusal['kind'], Refusal> = {
    unknown_request: { kind: 'unknown_request' },
    wrong_place: { kind: 'wrong_place' },
    being_denied: { kind: 'being_denied', by: 'U0APPROVER' },
    channel_not_allowed: { kind: 'channel_not_allowed', allowedChannelIds: ['C0ALLOWED1', 'C0ALLOWED2'] },
    invalid_customer_id: { kind: 'invalid_customer_id', given: 'not-an-id', pattern: '^[0-9a-fA-F]{24}$' },
    requester_not_allowed: { kind: 'requester_not_allowed' },
    reason_required: { kind: 'reason_required' },
    ticket_required: { kind: 'ticket_required', pattern: '\\bDSR-\\d+\\b', example: 'DSR-1234' },
    directory_unavailable: { kind: 'directory_unavailable' },
    too_many_pending: { kind: 'too_many_pending', max: 5 },
    already_open: { kind: 'already_open', existing: request() },
    self_approval: { kind: 'self_approval' },
    not_approver: { kind: 'not_approver' },
    already_approved: { kind: 'already_approved' },
    decided: { kind: 'decided', request: decided },
    expired: { kind: 'expired', request: STATES.expired as DeletionRequest },
    only_requester_cancels: { kind: 'only_requester_cancels' },
    not_abortable: { kind: 'not_abortable', request: STATES.succeeded as DeletionRequest },
    not_allowed_to_abort: { kind: 'not_allowed_to_abort' },
    daily_limit: { kind: 'daily_limit', max: 50, resetsAt: Date.UTC(2025, 0, 16) },
    status_needs_target: { kind: 'status_needs_target' },
    status_not_found: { kind: 'status_not_found', target: 'R0000000AB' },
    status_elsewhere: { kind: 'status_elsewhere', channelId: 'C0ELSEWHERE' },
    close_usage: { kind: 'close_usage' },
    not_uncertain: { kind: 'not_uncertain', request: decided },
    already_open_elsewhere: {
      kind: 'already_open_elsewhere',
      requestId: 'R7K2M9QXAB',
      customerId: '64b7f0c2e4b0a1b2c3d4e5f6',
    },
    needs_request_id: { kind: 'needs_request_id', subcommand: 'deny' },
    only_requester_or_approver_cancels: { kind: 'only_requester_or_approver_cancels' },
  };

  it.each(Object.entries(REFUSALS))('%s', (_kind, refusal) => {
    const text = renderRefusal(refusal);
    // Every field the sentence uses is there: nothing missing was interpolated.
    expect(text).not.toMatch(/undefined|null|NaN|\[object Object\]/);
    expect(text.replace(/:[a-z_]+:/g, '').trim().length).toBeGreaterThan(20);
    expect(text.length).toBeLessThanOrEqual(3000);
  });

  it('every refusal reads differently', () => {
    const texts = Object.values(REFUSALS).map((r) => renderRefusal(r));
    expect(new Set(texts).size).toBe(texts.length);
  });

  it('the details a person needs are in the sentence', () => {
    expect(renderRefusal(REFUSALS.channel_not_allowed)).toContain('<#C0ALLOWED1>');
    expect(renderRefusal(REFUSALS.channel_not_allowed)).toContain('<#C0ALLOWED2>');
    expect(renderRefusal(REFUSALS.invalid_customer_id)).toContain('not-an-id');
    expect(renderRefusal(REFUSALS.too_many_pending)).toContain('5');
    expect(renderRefusal(REFUSALS.already_open)).toContain(request().id);
    expect(renderRefusal(REFUSALS.already_open, 'https://acme.slack.com/archives/C0OPS/p1')).toContain(
      '<https://acme.slack.com/archives/C0OPS/p1|',
    );
    expect(renderRefusal(REFUSALS.decided)).toContain('denied');
    expect(renderRefusal(REFUSALS.not_abortable)).toContain('deleted');
    expect(renderRefusal(REFUSALS.daily_limit)).toContain('50');
    expect(renderRefusal(REFUSALS.status_not_found)).toContain('R0000000AB');
  });

  it('what the person typed is echoed harmlessly', () => {
    expectHarmless(renderRefusal({ kind: 'invalid_customer_id', given: '<!channel>@here', pattern: '^<!here>$' }));
    expectHarmless(renderRefusal({ kind: 'status_not_found', target: '<!channel>' }));
    expectHarmless(renderRefusal({ kind: 'already_open', existing: request({ customerId: '<!channel>' }) }));
  });
});

describe('help, created, list and status answers', () => {
  const settings: Policy = {
    approverUserIds: [APPROVER],
    approverUsergroupIds: ['S0ADMINS'],
    approvalsRequired: 2,
    requesterUserIds: [],
    requesterUsergroupIds: [],
    allowedChannelIds: [],
    requestTtlMs: 15 * 60_000,
    customerIdPattern: /^[0-9a-fA-F]{24}$/,
    executionDelayMs: 90_000,
    maxPendingPerRequester: 5,
    maxDeletionsPerDay: 50,
    dryRun: true,
    remindAfterMs: 0,
    reasonRequired: false,
    ticket: null,
  };

  it('help explains usage, who approves, how many, the expiry, the delay and DRY RUN', () => {
    const text = renderHelp(settings);
    expect(text).toContain('/bp-delete &lt;customer_id&gt; [reason]');
    expect(text).toContain('status');
    expect(text).toContain('list');
    expect(text).toContain(`<@${APPROVER}>`);
    expect(text).toContain('<!subteam^S0ADMINS>');
    expect(text).toContain('*Approvals needed:* 2');
    expect(text).toContain('15m');
    expect(text).toContain('90s');
    expect(text).toContain('DRY RUN');
    expect(renderHelp({ ...settings, dryRun: false, executionDelayMs: 0 })).not.toMatch(/DRY RUN|Delay/);
  });

  it('help says when a reason or a ticket is required, with the example', () => {
    expect(renderHelp(settings)).not.toMatch(/\*Ticket:\*|\*Reason:\*/);
    expect(renderHelp({ ...settings, reasonRequired: true })).toContain('*Reason:* required');
    const ticket = { pattern: /\bDSR-\d+\b/, example: 'DSR-1234', urlTemplate: null };
    expect(renderHelp({ ...settings, ticket })).toContain(
      "*Ticket:* the reason must name the request's ticket, like `DSR-1234`",
    );
  });

  it('created names the request, the customer and the approvals needed', () => {
    const text = renderCreated(request({ approvalsRequired: 2 }));
    expect(text).toContain('R7K2M9QXAB');
    expect(text).toContain(CUSTOMER);
    expect(text).toContain('2 approvals');
    expect(renderCreated(request({ dryRun: true }))).toContain('DRY RUN');
  });

  it('list shows each open request, or says there is none', () => {
    expect(renderList([], new Map())).toMatch(/No open deletion requests/);
    const text = renderList([request(), request({ id: 'R7K2M9QXAC', customerId: '<!channel>' })], new Map());
    expect(text).toContain('R7K2M9QXAB');
    expect(text).toContain('R7K2M9QXAC');
    expectHarmless(text);
  });

  it('status shows the state and the history, within an ephemeral message’s size', () => {
    const r = STATES.denied as DeletionRequest;
    const events = [event('requested', { actorId: REQUESTER }), event('denied', { detail: 'x'.repeat(3000) })];
    const text = renderStatus(r, events, null);
    expect(text).toContain('denied');
    expect(text).toContain(`<@${APPROVER}> denied`);
    expect(text.length).toBeLessThanOrEqual(4000);
  });
});

// Every state has a fixture above (compile-time check).
const _everyState: Record<RequestState, true> = Object.fromEntries(
  Object.values(STATES).map((r) => [r.state, true]),
) as Record<RequestState, true>;
test('every request state has a message fixture', () => {
  expect(Object.keys(_everyState).sort()).toEqual(
    ['aborted', 'approved', 'cancelled', 'denied', 'executing', 'expired', 'failed', 'pending', 'succeeded'].sort(),
  );
});
