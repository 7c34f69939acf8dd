// The fake Slack's Block Kit checks: each documented limit accepts its maximum and refuses one more,
// and the bot's own blocks pass.

import { checkHomeView, checkMessage, checkModal, LIMITS } from '../../../sandbox/block-kit-limits';
import { FakeSlack } from '../../../sandbox/fake-slack';
import { renderDenyModal } from '../../../src/blocks/deny-modal';
import { renderRequestMessage } from '../../../src/blocks/request-message';
import { aRequest } from '../../helpers/fixtures';

const plain = (text: string) => ({ type: 'plain_text', text });
const mrkdwn = (text: string) => ({ type: 'mrkdwn', text });
const section = (text: string, block_id?: string) => ({ type: 'section', text: mrkdwn(text), block_id });
const button = (over: Record<string, unknown> = {}) => ({
  type: 'button',
  action_id: 'a',
  text: plain('Go'),
  value: 'v',
  ...over,
});
const actions = (elements: unknown[], block_id?: string) => ({ type: 'actions', elements, block_id });
const x = (n: number) => 'x'.repeat(n);
const modal = (over: Record<string, unknown> = {}) => ({
  type: 'modal',
  title: plain('Deny deletion'),
  submit: plain('Deny'),
  close: plain('Back'),
  blocks: [section('hello')],
  ...over,
});

const ok = { ok: true };
const invalid = { ok: false, error: 'invalid_blocks' };

describe('messages (chat.postMessage, chat.update, chat.postEphemeral)', () => {
  it.each([
    [
      'blocks in a message',
      (n: number) => Array.from({ length: n }, () => ({ type: 'divider' })),
      LIMITS.messageBlocks,
    ],
    ['section text', (n: number) => [section(x(n))], LIMITS.sectionText],
    ['header text', (n: number) => [{ type: 'header', text: plain(x(n)) }], LIMITS.headerText],
    [
      'context elements',
      (n: number) => [{ type: 'context', elements: Array.from({ length: n }, () => mrkdwn('c')) }],
      LIMITS.contextElements,
    ],
    [
      'actions elements',
      (n: number) => [actions(Array.from({ length: n }, (_, i) => button({ action_id: `a${i}` })))],
      LIMITS.actionsElements,
    ],
    ['button text', (n: number) => [actions([button({ text: plain(x(n)) })])], LIMITS.buttonText],
    ['button value', (n: number) => [actions([button({ value: x(n) })])], LIMITS.buttonValue],
    ['action_id', (n: number) => [actions([button({ action_id: x(n) })])], LIMITS.actionId],
    ['block_id', (n: number) => [section('s', x(n))], LIMITS.blockId],
    [
      'confirm title',
      (n: number) => [
        actions([button({ confirm: { title: plain(x(n)), text: plain('t'), confirm: plain('y'), deny: plain('n') } })]),
      ],
      LIMITS.confirmTitle,
    ],
    [
      'confirm text',
      (n: number) => [
        actions([
          button({ confirm: { title: plain('t'), text: mrkdwn(x(n)), confirm: plain('y'), deny: plain('n') } }),
        ]),
      ],
      LIMITS.confirmText,
    ],
    [
      'confirm button',
      (n: number) => [
        actions([button({ confirm: { title: plain('t'), text: plain('t'), confirm: plain(x(n)), deny: plain('n') } })]),
      ],
      LIMITS.confirmButton,
    ],
    [
      'confirm deny',
      (n: number) => [
        actions([button({ confirm: { title: plain('t'), text: plain('t'), confirm: plain('y'), deny: plain(x(n)) } })]),
      ],
      LIMITS.confirmButton,
    ],
  ])('%s: the maximum passes, one more is invalid_blocks', (_name, build, max) => {
    expect(checkMessage({ text: 't', blocks: build(max) })).toEqual(ok);
    expect(checkMessage({ text: 't', blocks: build(max + 1) })).toMatchObject(invalid);
  });

  it('block_ids must be unique within a message', () => {
    expect(checkMessage({ blocks: [section('a', 'b1'), section('b', 'b2')] })).toEqual(ok);
    const result = checkMessage({ blocks: [section('a', 'b1'), section('b', 'b1')] });
    expect(result).toMatchObject(invalid);
    expect(result).toMatchObject({ errors: ['block_id "b1" already exists [json-pointer:/blocks/1/block_id]'] });
  });

  it('action_ids must be unique within a message, across blocks too', () => {
    expect(
      checkMessage({ blocks: [actions([button({ action_id: 'a' })]), actions([button({ action_id: 'b' })])] }),
    ).toEqual(ok);
    expect(
      checkMessage({ blocks: [actions([button({ action_id: 'a' })]), actions([button({ action_id: 'a' })])] }),
    ).toMatchObject(invalid);
  });

  it('a button text must be plain_text, and no text may be empty', () => {
    expect(checkMessage({ blocks: [actions([button({ text: mrkdwn('Go') })])] })).toMatchObject(invalid);
    expect(checkMessage({ blocks: [section('')] })).toMatchObject(invalid);
  });

  it('a message text longer than 40,000 characters is msg_too_long', () => {
    expect(checkMessage({ text: x(LIMITS.messageText) })).toEqual(ok);
    expect(checkMessage({ text: x(LIMITS.messageText + 1) })).toMatchObject({ ok: false, error: 'msg_too_long' });
  });

  it('the errors point at the offending field, as Slack’s response_metadata does', () => {
    const result = checkMessage({ blocks: [section('ok'), actions([button({ value: x(2001) })])] });
    expect(result).toEqual({
      ok: false,
      error: 'invalid_blocks',
      errors: ['must be less than 2001 characters [json-pointer:/blocks/1/elements/0/value]'],
    });
  });
});

describe('modals (views.open)', () => {
  it.each([
    ['title', (n: number) => modal({ title: plain(x(n)) }), LIMITS.modalTitle],
    ['submit', (n: number) => modal({ submit: plain(x(n)) }), LIMITS.modalButton],
    ['close', (n: number) => modal({ close: plain(x(n)) }), LIMITS.modalButton],
    [
      'blocks in a modal',
      (n: number) => modal({ blocks: Array.from({ length: n }, () => ({ type: 'divider' })) }),
      LIMITS.modalBlocks,
    ],
    [
      'input label',
      (n: number) =>
        modal({
          blocks: [{ type: 'input', label: plain(x(n)), element: { type: 'plain_text_input', action_id: 'r' } }],
        }),
      LIMITS.inputLabel,
    ],
    [
      'plain_text_input max_length',
      (n: number) =>
        modal({
          blocks: [
            { type: 'input', label: plain('l'), element: { type: 'plain_text_input', action_id: 'r', max_length: n } },
          ],
        }),
      LIMITS.inputMaxLength,
    ],
  ])('%s: the maximum passes, one more is invalid_blocks', (_name, build, max) => {
    expect(checkModal(build(max))).toEqual(ok);
    expect(checkModal(build(max + 1))).toMatchObject(invalid);
  });

  it('a modal needs a plain_text title', () => {
    expect(checkModal(modal({ title: undefined }))).toMatchObject(invalid);
    expect(checkModal(modal({ title: mrkdwn('Deny') }))).toMatchObject(invalid);
  });
});

describe('what the bot sends passes', () => {
  const at = Date.parse('2025-01-15T12:00:00Z');
  it.each([
    ['a pending request', aRequest(at)],
    ['a request with a long reason', aRequest(at, { reason: x(2000) })],
    ['an approved request', aRequest(at, { state: 'approved', approvals: [{ userId: 'U0APPROVER', at }] })],
    ['a denied request', aRequest(at, { state: 'denied', closedBy: 'U0APPROVER', closeReason: x(1000) })],
    ['a dry run', aRequest(at, { dryRun: true })],
  ])('the approval message for %s', (_name, request) => {
    expect(checkMessage(renderRequestMessage(request, at))).toEqual(ok);
  });

  it('the deny modal', () => {
    expect(checkModal(renderDenyModal(aRequest(at)))).toEqual(ok);
  });
});

describe('the fake Slack answers invalid blocks as Slack does, and keeps nothing of them', () => {
  const slack = new FakeSlack();
  beforeAll(async () => {
    await slack.start();
  });
  afterAll(async () => {
    await slack.stop();
  });
  const call = async (method: string, body: Record<string, unknown>) => {
    const res = await fetch(`${slack.apiUrl}${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: 'Bearer xoxb-test' },
      body: JSON.stringify(body),
    });
    return (await res.json()) as Record<string, unknown>;
  };
  const tooMany = Array.from({ length: LIMITS.messageBlocks + 1 }, () => ({ type: 'divider' }));

  it('chat.postMessage, chat.update, chat.postEphemeral, views.open', async () => {
    expect(await call('chat.postMessage', { channel: 'C1', text: 't', blocks: tooMany })).toMatchObject(invalid);
    expect(slack.messages).toHaveLength(0);
    const posted = await call('chat.postMessage', { channel: 'C1', text: 't', blocks: [section('s', 'b1')] });
    expect(posted).toMatchObject({ ok: true });
    const ts = String(posted.ts);
    expect(await call('chat.update', { channel: 'C1', ts, text: 't', blocks: tooMany })).toMatchObject(invalid);
    expect(slack.message('C1', ts)?.history).toHaveLength(1);
    expect(await call('chat.postEphemeral', { channel: 'C1', user: 'U1', text: 't', blocks: tooMany })).toMatchObject(
      invalid,
    );
    expect(slack.ephemerals).toHaveLength(0);
    expect(await call('views.open', { trigger_id: '1', view: modal({ title: plain(x(25)) }) })).toMatchObject(invalid);
    expect(slack.views).toHaveLength(0);
  });

  it('a button’s block_id is the one of the message posted (what clicks carry back)', async () => {
    const posted = await call('chat.postMessage', {
      channel: 'C2',
      text: 't',
      blocks: [section('s', 'facts'), actions([button({ action_id: 'go' })], 'decide-v3')],
    });
    expect(slack.buttonBlockId('C2', String(posted.ts), 'go')).toBe('decide-v3');
    expect(slack.buttonBlockId('C2', String(posted.ts), 'other')).toBeUndefined();
  });
});

describe('a Home tab view (views.publish)', () => {
  const home = (blocks: unknown[]) => ({ type: 'home', blocks });
  it('takes 100 blocks and refuses 101', () => {
    const blocks = (n: number) => Array.from({ length: n }, (_, i) => section('x', `b${i}`));
    expect(checkHomeView(home(blocks(LIMITS.homeBlocks)))).toEqual({ ok: true });
    expect(checkHomeView(home(blocks(LIMITS.homeBlocks + 1)))).toMatchObject({ ok: false, error: 'invalid_blocks' });
  });

  it('must be of type home, and wants each action_id once', () => {
    expect(checkHomeView({ ...home([section('x')]), type: 'modal' })).toMatchObject({ ok: false });
    expect(checkHomeView(home([actions([button()], 'a1'), actions([button()], 'a2')]))).toMatchObject({ ok: false });
  });

  it('the fake Slack refuses a views.publish Slack would refuse, and records the ones it takes', async () => {
    const slack = new FakeSlack();
    await slack.start();
    try {
      const call = (view: unknown) =>
        fetch(`${slack.apiUrl}views.publish`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ user_id: 'U1', view }),
        }).then((r) => r.json());
      expect(await call(home(Array.from({ length: 101 }, () => ({ type: 'divider' }))))).toMatchObject({ ok: false });
      expect(await call(home([section('hello')]))).toMatchObject({ ok: true });
      expect(slack.homeViews).toEqual([{ user: 'U1', view: home([section('hello')]) }]);
    } finally {
      await slack.stop();
    }
  });
});
