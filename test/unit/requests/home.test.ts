// The rules behind the Home tab (see world.ts): which requests wait for a person's approval, their own
// requests, and a click from the tab, which has no channel but passes every other check of a click.
import { mayApproveNow } from '../../../src/requests/home';
import {
  APPROVER,
  APPROVER_2,
  APPROVER_GROUP,
  actor,
  CUSTOMER,
  CUSTOMER_2,
  create,
  expectUnchanged,
  HOUR,
  OUTSIDER,
  REQUESTER,
  refusal,
  START,
  value,
  world,
} from './world';

const fromHome = (userId: string, teamId = 'T0TEAM') => actor(userId, { channelId: undefined, teamId });

describe('a click from the Home tab', () => {
  it('approves through the same rules: no channel needed, the DELETE sent once', async () => {
    const w = await world();
    const request = await create(w);
    expect(value(await w.requests.decisions.approve(request.id, fromHome(APPROVER), 'home')).state).toBe('approved');
    await w.executor.idle();
    expect(w.deleter.calls).toEqual([CUSTOMER]);
  });

  it('a message click that names no channel is still refused', async () => {
    const w = await world();
    const request = await create(w);
    expect(
      await expectUnchanged(w, request, () => w.requests.decisions.approve(request.id, fromHome(APPROVER), 'button')),
    ).toEqual({ kind: 'wrong_place' });
  });

  it('is refused from another workspace, to the requester, and to someone who is not an approver', async () => {
    const w = await world();
    const request = await create(w);
    const approve = (who: ReturnType<typeof fromHome>) => w.requests.decisions.approve(request.id, who, 'home');
    expect(await expectUnchanged(w, request, () => approve(fromHome(APPROVER, 'T0OTHER')))).toEqual({
      kind: 'wrong_place',
    });
    expect(refusal(await approve(fromHome(OUTSIDER))).kind).toBe('not_approver');
    expect(refusal(await approve(fromHome(REQUESTER))).kind).toBe('self_approval');
    expect(w.deleter.calls).toEqual([]);
  });

  it('deny is checked the same way (the modal is opened only when allowed)', async () => {
    const w = await world();
    const request = await create(w);
    expect(refusal(await w.requests.decisions.checkDeny(request.id, fromHome(OUTSIDER), 'home')).kind).toBe(
      'not_approver',
    );
    expect(value(await w.requests.decisions.deny(request.id, fromHome(APPROVER), null, 'home')).state).toBe('denied');
  });
});

describe('what the Home tab lists', () => {
  it('for an approver: the pending requests they may approve now, soonest expiry first', async () => {
    const w = await world({ approvalsRequired: 2, approverUserIds: [APPROVER, APPROVER_2, 'U0APPROVER3'] });
    const first = await create(w, CUSTOMER);
    w.clock.now += HOUR;
    const second = await create(w, CUSTOMER_2);
    const own = value(await w.requests.commands.create(actor(APPROVER), '64b7f0c2e4b0a1b2c3d4e5f8', 'mine'));
    const approved = value(await w.requests.commands.create(actor(REQUESTER), '64b7f0c2e4b0a1b2c3d4e5f9', 'x'));
    value(await w.requests.decisions.approve(approved.id, actor(APPROVER)));

    const queue = await w.requests.home.queueOf(APPROVER, 'T0TEAM');
    expect(queue.approver).toBe('member');
    expect(queue.waiting.map((r) => r.id)).toEqual([first.id, second.id]);
    expect(queue.mine.map((r) => r.id)).toEqual([own.id]);
    expect(queue.pause).toBeNull();
    // The other approver may approve the one APPROVER asked for, and the one APPROVER approved.
    const other = await w.requests.home.queueOf(APPROVER_2, 'T0TEAM');
    expect(other.waiting.map((r) => r.id).sort()).toEqual([first.id, second.id, own.id, approved.id].sort());
  });

  it('for someone who is not an approver: nothing waits, their own requests are listed', async () => {
    const w = await world();
    const request = await create(w);
    const queue = await w.requests.home.queueOf(REQUESTER, 'T0TEAM');
    expect(queue.approver).toBe('not_member');
    expect(queue.waiting).toEqual([]);
    expect(queue.mine.map((r) => [r.id, r.state])).toEqual([[request.id, 'pending']]);
  });

  it('nothing waits when Slack cannot say whether the person is an approver (fail closed)', async () => {
    const w = await world({ approverUserIds: [], approverUsergroupIds: [APPROVER_GROUP] });
    await create(w);
    w.directory.failing.add(APPROVER_GROUP);
    const queue = await w.requests.home.queueOf(APPROVER, 'T0TEAM');
    expect(queue.approver).toBe('unknown');
    expect(queue.waiting).toEqual([]);
  });

  it('an expired request, another workspace’s, or a paused store: said as such', async () => {
    const w = await world();
    const request = await create(w);
    expect(mayApproveNow(request, APPROVER, 'T0OTHER', START)).toBe(false);
    expect(mayApproveNow(request, APPROVER, undefined, START)).toBe(true);
    expect(mayApproveNow(request, APPROVER, 'T0TEAM', request.expiresAt)).toBe(false);
    await w.requests.commands.command(actor(APPROVER), 'pause maintenance');
    const queue = await w.requests.home.queueOf(APPROVER, 'T0TEAM');
    expect(queue.pause).toMatchObject({ by: APPROVER, reason: 'maintenance' });
  });
});
