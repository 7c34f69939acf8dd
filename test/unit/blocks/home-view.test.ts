// The Home tab's blocks: within Slack's limits however much is listed, "and N more" visible, user text
// escaped and cut visibly, states in describe.ts's words, a ticket when the request has one.
import { checkHomeView } from '../../../sandbox/block-kit-limits';
import { HOME_BLOCK_LIMIT, MAX_MINE_SHOWN, MAX_WAITING_SHOWN, renderHomeView } from '../../../src/blocks/home-view';
import { ACTION_APPROVE, ACTION_DENY, homeActionId, MESSAGE_OR_HOME } from '../../../src/constants';
import type { HomeQueue } from '../../../src/requests/home';
import type { DeletionRequest } from '../../../src/requests/types';
import { aRequest } from '../../helpers/fixtures';

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const many = (n: number, over: Partial<DeletionRequest> = {}) =>
  Array.from({ length: n }, (_, i) => aRequest(NOW - i, { id: `R${String(i).padStart(9, '0')}`, ...over }));
const queue = (over: Partial<HomeQueue> = {}): HomeQueue => ({
  userId: 'U0APPROVER1',
  approver: 'member',
  waiting: [],
  mine: [],
  readAll: { waiting: true, mine: true },
  pause: null,
  ...over,
});
const text = (view: unknown) => JSON.stringify(view);

describe('the Home tab view', () => {
  it('stays within 100 blocks with hundreds listed, saying how many more', () => {
    const view = renderHomeView(
      queue({ waiting: many(200), mine: many(120, { requesterId: 'U0APPROVER1' }) }),
      NOW,
      'x',
    );
    expect(view.blocks.length).toBeLessThanOrEqual(HOME_BLOCK_LIMIT);
    expect(checkHomeView(view)).toEqual({ ok: true });
    expect(text(view)).toContain(`…and ${200 - MAX_WAITING_SHOWN} more in the channels`);
    expect(text(view)).toContain(`…and ${120 - MAX_MINE_SHOWN} more older ones`);
  });

  it('says "at least" when the list read stopped at its limit', () => {
    const view = renderHomeView(queue({ waiting: many(40), readAll: { waiting: false, mine: true } }), NOW);
    expect(text(view)).toContain(`…and at least ${40 - MAX_WAITING_SHOWN} more`);
  });

  it('gives each request its own Approve and Deny, matched by the listeners and carrying only the id', () => {
    const [a, b] = many(2);
    const view = renderHomeView(queue({ waiting: [a as DeletionRequest, b as DeletionRequest] }), NOW);
    const blocks = view.blocks as { type: string; elements?: { action_id?: string; value?: string }[] }[];
    const ids = blocks.flatMap((block) =>
      block.type === 'actions' ? (block.elements ?? []).map((e) => [e.action_id, e.value]) : [],
    );
    expect(ids).toEqual([
      [homeActionId(ACTION_APPROVE, 'R000000000'), 'R000000000'],
      [homeActionId(ACTION_DENY, 'R000000000'), 'R000000000'],
      [homeActionId(ACTION_APPROVE, 'R000000001'), 'R000000001'],
      [homeActionId(ACTION_DENY, 'R000000001'), 'R000000001'],
    ]);
    const approve = MESSAGE_OR_HOME(ACTION_APPROVE);
    expect(approve.test(homeActionId(ACTION_APPROVE, 'R000000000'))).toBe(true);
    expect(approve.test(ACTION_APPROVE)).toBe(true);
    expect(approve.test(homeActionId(ACTION_DENY, 'R000000000'))).toBe(false);
    expect(approve.test(ACTION_DENY)).toBe(false);
    expect(approve.test(`${ACTION_APPROVE}_x`)).toBe(false);
    expect(approve.test(`${ACTION_APPROVE}.home.`)).toBe(false);
  });

  it('escapes user text and cuts a long reason visibly; no name or email', () => {
    const request = aRequest(NOW, {
      reason: `<!channel> ${'y'.repeat(1000)}`,
      preview: { status: 'found', name: 'Acme Ltd', email: 'ops@acme.test', checkedAt: NOW },
    });
    const view = renderHomeView(queue({ waiting: [request] }), NOW);
    expect(text(view)).not.toContain('<!channel>');
    expect(text(view)).toContain('&lt;!channel&gt;');
    expect(text(view)).toMatch(/1011 characters, cut\)/);
    expect(text(view)).not.toMatch(/Acme Ltd|ops@acme\.test/);
  });

  it("words the requester's states as their messages do, with the ticket when there is one", () => {
    const denied = aRequest(NOW, { id: 'R000000001', state: 'denied', closedBy: 'U0APPROVER1', finishedAt: NOW });
    const withTicket = {
      ...aRequest(NOW, { id: 'R000000002' }),
      ticket: 'DSR-42',
      ticketUrl: 'https://t.example/DSR-42',
    };
    const view = renderHomeView(queue({ approver: 'not_member', mine: [denied, withTicket] }), NOW);
    expect(text(view)).toContain('Denied by <@U0APPROVER1>');
    expect(text(view)).toContain('nothing was deleted');
    expect(text(view)).toContain('Waiting for approval');
    expect(text(view)).toContain('<https://t.example/DSR-42|DSR-42>');
    expect(text(view)).toContain('You are not an approver');
    expect(view.blocks.some((b) => b.type === 'actions')).toBe(false);
  });

  it('says whether deletions are paused', () => {
    expect(text(renderHomeView(queue(), NOW))).toContain('Deletions are not paused');
    const paused = renderHomeView(
      queue({ pause: { by: 'U0APPROVER2', reason: 'audit', channelId: null, at: NOW } }),
      NOW,
    );
    expect(text(paused)).toContain('Deletions are paused');
    expect(text(paused)).toContain('audit');
  });
});
