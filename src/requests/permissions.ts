// Who may do what: the one place that decides whether a person may ask for, or approve, a deletion.
import type { Policy } from '../config';
import type { Directory } from './ports';
import type { DeletionRequest } from './types';

export type Membership = 'member' | 'not_member' | 'unknown';

/** A request's approvals as they count now: `counted` still are approvers, `formerApprovers` no longer are. */
export interface CountedApprovals {
  counted: string[];
  formerApprovers: string[];
}

/** The approvals a request needs: its own quorum, or this instance's if stricter. */
export const approvalsRequired = (request: DeletionRequest, policy: Pick<Policy, 'approvalsRequired'>): number =>
  Math.max(request.approvalsRequired, policy.approvalsRequired);

export class Permissions {
  constructor(
    private readonly policy: Policy,
    private readonly directory: Directory,
  ) {}

  channelAllowed(channelId: string): boolean {
    const allowed = this.policy.allowedChannelIds;
    return allowed.length === 0 || allowed.includes(channelId);
  }

  /** Anyone may ask unless requesters are listed; 'unknown' when a group could not be read (fail closed). */
  async requesterMembership(userId: string): Promise<Membership> {
    const { requesterUserIds, requesterUsergroupIds } = this.policy;
    if (requesterUserIds.length === 0 && requesterUsergroupIds.length === 0) return 'member';
    return this.membership(userId, requesterUserIds, requesterUsergroupIds);
  }

  async approverMembership(userId: string): Promise<Membership> {
    return this.membership(userId, this.policy.approverUserIds, this.policy.approverUsergroupIds);
  }

  /**
   * Does each earlier approval still count? Only if its giver is still an approver. Null when a group Slack
   * can't read now: the caller then waits (fail closed) rather than drop approvals that may still count.
   * Asked when a new approval arrives (approve) and again when the DELETE is claimed (the executor).
   */
  async approvalsThatCount(request: DeletionRequest): Promise<CountedApprovals | null> {
    const answers = await Promise.all(
      request.approvals.map(async (a) => [a.userId, await this.approverMembership(a.userId)] as const),
    );
    if (answers.some(([, m]) => m === 'unknown')) return null;
    return {
      counted: answers.filter(([, m]) => m === 'member').map(([u]) => u),
      formerApprovers: answers.filter(([, m]) => m === 'not_member').map(([u]) => u),
    };
  }

  private async membership(userId: string, userIds: string[], groupIds: string[]): Promise<Membership> {
    if (userIds.includes(userId)) return 'member';
    // All groups at once: a slash command waits for this before its 3-second answer.
    const answers = await Promise.allSettled(groupIds.map((groupId) => this.directory.usergroupMembers(groupId)));
    if (answers.some((a) => a.status === 'fulfilled' && a.value.has(userId))) return 'member';
    return answers.some((a) => a.status === 'rejected') ? 'unknown' : 'not_member';
  }
}

export type QuorumReach =
  | { kind: 'reachable' }
  /** Fewer approvers than the quorum + 1: a request made by one of them can never be approved. */
  | { kind: 'unreachable'; approvers: number; needed: number }
  | { kind: 'unknown' };

/**
 * Whether every request can reach the quorum: the requester never counts, so a request made by an approver
 * needs APPROVALS_REQUIRED others. config.ts refuses what the listed users alone can't reach; with groups,
 * only Slack knows, so this asks it once at start (the caller warns; the bot still starts).
 */
export async function quorumReach(policy: Policy, directory: Directory): Promise<QuorumReach> {
  const approvers = new Set(policy.approverUserIds);
  try {
    const groups = await Promise.all(policy.approverUsergroupIds.map((id) => directory.usergroupMembers(id)));
    for (const members of groups) for (const userId of members) approvers.add(userId);
  } catch {
    return { kind: 'unknown' };
  }
  const needed = policy.approvalsRequired + 1;
  return approvers.size >= needed ? { kind: 'reachable' } : { kind: 'unreachable', approvers: approvers.size, needed };
}
