// Turns a TransitionPatch into SET clauses; column names come from this fixed map only.
import type { TransitionPatch } from './types';

export function patchAssignments(
  patch: TransitionPatch,
  placeholder: (index: number) => string,
  firstIndex: number,
): { sql: string[]; values: unknown[] } {
  const sql: string[] = [];
  const values: unknown[] = [];
  const set = (column: string, value: unknown) => {
    values.push(value);
    sql.push(`${column} = ${placeholder(firstIndex + values.length - 1)}`);
  };
  if (patch.executeAt !== undefined) set('execute_at', patch.executeAt);
  if (patch.closedBy !== undefined) set('closed_by', patch.closedBy);
  if (patch.closeReason !== undefined) set('close_reason', patch.closeReason);
  if (patch.outcome !== undefined) set('outcome', patch.outcome === null ? null : JSON.stringify(patch.outcome));
  if (patch.leaseUntil !== undefined) set('lease_until', patch.leaseUntil);
  if (patch.finishedAt !== undefined) set('finished_at', patch.finishedAt);
  if (patch.closedFrom !== undefined) set('closed_from', patch.closedFrom);
  if (patch.reminder !== undefined) {
    set('reminders_sent', patch.reminder.sent);
    set('next_remind_at', patch.reminder.nextAt);
  }
  if (patch.unclaimed) {
    // Both read the row as it was: a first start undone leaves no start and no start time.
    sql.push('delete_starts = delete_starts - 1');
    sql.push('delete_started_at = CASE WHEN delete_starts <= 1 THEN NULL ELSE delete_started_at END');
  }
  if (patch.approvalsRequired !== undefined) {
    // Never lowered: a stricter instance may have raised it since the rules read it.
    values.push(patch.approvalsRequired, patch.approvalsRequired);
    const [a, b] = [placeholder(firstIndex + values.length - 2), placeholder(firstIndex + values.length - 1)];
    sql.push(`approvals_required = CASE WHEN approvals_required < ${a} THEN ${b} ELSE approvals_required END`);
  }
  return { sql, values };
}
