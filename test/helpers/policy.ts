// A complete Policy (config.policy) for tests that build the rules directly: neutral settings, any overridden.
import type { Policy } from '../../src/config';

const HOUR = 3_600_000;

/** Anyone may ask, nobody may approve until approvers are given, one approval, a day to decide, no delay. */
export function testPolicy(overrides: Partial<Policy> = {}): Policy {
  return {
    approverUserIds: [],
    approverUsergroupIds: [],
    approvalsRequired: 1,
    requesterUserIds: [],
    requesterUsergroupIds: [],
    allowedChannelIds: [],
    requestTtlMs: 24 * HOUR,
    customerIdPattern: /^[0-9a-fA-F]{24}$/,
    executionDelayMs: 0,
    maxPendingPerRequester: 5,
    maxDeletionsPerDay: 50,
    dryRun: false,
    remindAfterMs: 0,
    reasonRequired: false,
    ticket: null,
    ...overrides,
  };
}
