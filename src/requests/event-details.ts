// The events the rules hand the store to write with a change: what a person reads in the thread and in
// `/bp-delete status` about approvals that stopped counting, a reopened request, stricter settings and a
// pause. The store writes them as given.
import type { ApprovalDrop, NewEvent } from '../store/types';

const mentions = (userIds: readonly string[]) => userIds.map((u) => `@${u}`).join(', ');

/** An approval's event: how many approvals count now, of how many needed. */
export const approvalEvent =
  (userId: string, at: number) =>
  (count: number, required: number): NewEvent => ({
    kind: 'approved',
    actorId: userId,
    detail: `${count} of ${required}`,
    at,
  });

/** Remove the approvals of people who are no longer approvers, saying so in the thread. */
export function formerApproversDrop(userIds: readonly string[], at: number): ApprovalDrop | null {
  if (userIds.length === 0) return null;
  return {
    userIds,
    event: (dropped) => ({
      kind: 'policy',
      actorId: null,
      detail: `No longer counted: the approval of ${mentions(dropped)}, who ${dropped.length === 1 ? 'is' : 'are'} no longer an approver.`,
      at,
    }),
  };
}

/** An approved request back to pending: too few of its approvals count. */
export const reopenedEvent = (
  counted: number,
  required: number,
  formerApprovers: readonly string[],
  at: number,
): NewEvent => ({
  kind: 'reopened',
  actorId: null,
  detail: `Back to waiting for approval: ${counted} of ${required} approvals count${formerApprovers.length ? ` (no longer approvers: ${mentions(formerApprovers)})` : ''}, so no DELETE was sent.`,
  at,
});

/** A stricter DRY_RUN or APPROVALS_REQUIRED of an instance that started, reaching a request that had weaker ones. */
export const stricterSettingsEvent =
  (now: { dryRun: boolean; approvalsRequired: number }, at: number) =>
  (before: { dryRun: boolean; approvalsRequired: number }): NewEvent => {
    const said = [
      now.dryRun && !before.dryRun ? 'DRY RUN is now on: no DELETE will be sent for this request' : '',
      before.approvalsRequired < now.approvalsRequired
        ? `it now needs ${now.approvalsRequired} approvals (was ${before.approvalsRequired})`
        : '',
    ].filter((s) => s !== '');
    return {
      kind: 'policy',
      actorId: null,
      detail: `The bot restarted with stricter settings: ${said.join('; ')}.`,
      at,
    };
  };

/** An approved request whose time ran out while DELETEs were paused: not sent on resume. */
export const expiredWhilePausedEvent = (at: number): NewEvent => ({
  kind: 'expired',
  actorId: null,
  detail: 'It expired while DELETEs were paused, so no DELETE was sent.',
  at,
});

/** The trail's record of a DELETE started: the claim (start 1) or a take-over after a lost answer (2, 3, …). */
export const deleteSentEvent = (start: number, at: number): NewEvent => ({
  kind: 'delete_sent',
  actorId: null,
  detail:
    start === 1
      ? 'start 1'
      : `start ${start}: re-sent after a take-over (the answer to the start before was never recorded)`,
  at,
});
