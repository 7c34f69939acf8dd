// Which earlier approvals still count: decided once (Permissions.approvalsThatCount), asked by approve and again
// when the DELETE is claimed; and the quorum a request needs.
import { approvalsRequired, Permissions } from '../../../src/requests/permissions';
import type { Directory } from '../../../src/requests/ports';
import { aRequest } from '../../helpers/fixtures';
import { testPolicy } from '../../helpers/policy';

const GROUP = 'S0APPROVERS';

function directory(members: string[], failing = false): Directory {
  return {
    async usergroupMembers() {
      if (failing) throw new Error('usergroups.users.list failed');
      return new Set(members);
    },
  };
}

const approvedBy = (...userIds: string[]) => aRequest(0, { approvals: userIds.map((userId, at) => ({ userId, at })) });

describe('approvalsThatCount', () => {
  it('counts approvers listed by id or in a group; the others are former approvers, in the order they approved', async () => {
    const permissions = new Permissions(
      testPolicy({ approverUserIds: ['U0LISTED'], approverUsergroupIds: [GROUP] }),
      directory(['U0MEMBER']),
    );
    expect(await permissions.approvalsThatCount(approvedBy('U0GONE2', 'U0LISTED', 'U0MEMBER', 'U0GONE1'))).toEqual({
      counted: ['U0LISTED', 'U0MEMBER'],
      formerApprovers: ['U0GONE2', 'U0GONE1'],
    });
    expect(await permissions.approvalsThatCount(approvedBy())).toEqual({ counted: [], formerApprovers: [] });
  });

  it('says nothing (null) when a group cannot be read: an approval that may still count is never dropped', async () => {
    const permissions = new Permissions(
      testPolicy({ approverUserIds: ['U0LISTED'], approverUsergroupIds: [GROUP] }),
      directory([], true),
    );
    expect(await permissions.approvalsThatCount(approvedBy('U0LISTED', 'U0MEMBER'))).toBeNull();
    // Listed by id: known without asking Slack.
    expect(await permissions.approvalsThatCount(approvedBy('U0LISTED'))).toEqual({
      counted: ['U0LISTED'],
      formerApprovers: [],
    });
  });
});

describe('approvalsRequired', () => {
  it("is the request's own quorum, or this instance's when stricter; never lower", () => {
    expect(approvalsRequired(aRequest(0, { approvalsRequired: 1 }), { approvalsRequired: 2 })).toBe(2);
    expect(approvalsRequired(aRequest(0, { approvalsRequired: 3 }), { approvalsRequired: 2 })).toBe(3);
  });
});
