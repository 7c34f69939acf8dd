// A stored deletion request as the renderers see it, for tests of pure functions; and what tests hand the store.
import { approvalEvent } from '../../src/requests/event-details';
import type { DeletionRequest } from '../../src/requests/types';
import type { NewApproval } from '../../src/store/types';

/** A pending request created at `at`, expiring a day later; override any field. */
export function aRequest(at: number, overrides: Partial<DeletionRequest> = {}): DeletionRequest {
  return {
    id: 'R7K2M9QXAB',
    teamId: 'T0TEAM',
    channelId: 'C0OPS',
    customerId: '64b7f0c2e4b0a1b2c3d4e5f6',
    reason: 'customer asked to close the account',
    ticket: null,
    ticketUrl: null,
    requesterId: 'U0REQUESTER',
    state: 'pending',
    approvalsRequired: 1,
    approvals: [],
    createdAt: at,
    expiresAt: at + 86_400_000,
    executeAt: null,
    closedBy: null,
    closeReason: null,
    outcome: null,
    deleteStarts: 0,
    leaseUntil: null,
    dryRun: false,
    preview: null,
    messageTs: '1736942400.000100',
    version: 1,
    messageVersion: 0,
    finishedAt: null,
    ...overrides,
  };
}

/** No per-requester limit, for tests that create requests straight in the store. */
export const NO_OPEN_LIMIT = { maxOpenPerRequester: 1_000_000 } as const;

/**
 * An approval as the rules hand it to Store.addApproval: the request's own quorum (0 never raises it), no
 * approvals dropped, and the rules' own event.
 */
export function anApproval(
  userId: string,
  at: number,
  overrides: Partial<Omit<NewApproval, 'userId' | 'at'>> = {},
): NewApproval {
  return {
    userId,
    at,
    approvalsRequired: 0,
    executionDelayMs: 0,
    drop: null,
    event: approvalEvent(userId, at),
    ...overrides,
  };
}
