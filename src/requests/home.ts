// What a person's Home tab lists: the requests they may approve now (the checks a click of Approve makes
// before it looks at the quorum), their own requests, and the pause. Plain ids in, plain data out.
import type { Store } from '../store/types';
import type { Membership, Permissions } from './permissions';
import { type DeletionRequest, isDecidable, type Pause } from './types';

/** How many requests of each list are read for one Home tab: past this, its "more" count is "at least". */
const SCAN_LIMIT = 500;

export interface HomeQueue {
  userId: string;
  /** Whether the person is an approver now ('unknown': a group could not be read, so no buttons). */
  approver: Membership;
  /** Oldest expiry first: what needs a decision soonest. */
  waiting: DeletionRequest[];
  /** Their own requests, newest first. */
  mine: DeletionRequest[];
  /** The store holds more than were read (SCAN_LIMIT): the lists' lengths are "at least". */
  readAll: { waiting: boolean; mine: boolean };
  pause: Pause | null;
}

export interface HomeQueuesDeps {
  store: Store;
  permissions: Permissions;
  now: () => number;
}

export class HomeQueues {
  constructor(private readonly deps: HomeQueuesDeps) {}

  /** `teamId`: the workspace the person opened the tab in; requests of another one are not theirs to decide. */
  async queueOf(userId: string, teamId: string | undefined): Promise<HomeQueue> {
    const { store, permissions, now } = this.deps;
    const [approver, pending, mine, pause] = await Promise.all([
      permissions.approverMembership(userId),
      store.listRequests({ states: ['pending'], limit: SCAN_LIMIT }),
      store.listRequests({ requesterId: userId, limit: SCAN_LIMIT }),
      store.getPause(),
    ]);
    const at = now();
    const waiting =
      approver === 'member'
        ? pending
            .filter((r) => mayApproveNow(r, userId, teamId, at))
            .sort((a, b) => a.expiresAt - b.expiresAt || (a.id < b.id ? -1 : 1))
        : [];
    const readAll = { waiting: pending.length < SCAN_LIMIT, mine: mine.length < SCAN_LIMIT };
    return { userId, approver, waiting, mine, readAll, pause };
  }
}

/**
 * What Decisions.approve refuses before it counts approvals, for an approver: another workspace's request,
 * one no longer decidable, their own, one they already approved. A click still goes through approve itself.
 */
export function mayApproveNow(
  request: DeletionRequest,
  userId: string,
  teamId: string | undefined,
  now: number,
): boolean {
  const otherTeam = teamId !== undefined && request.teamId !== '' && request.teamId !== teamId;
  return (
    !otherTeam &&
    isDecidable(request, now) &&
    request.requesterId !== userId &&
    !request.approvals.some((a) => a.userId === userId)
  );
}
