// Reminders to the approvers of a request nobody has decided: REMIND_AFTER after it was asked, then after
// twice that, then four times…, while it is pending, unexpired and DELETEs are not paused. The sweeper
// drives them; each is a conditional write of the (reminders_sent, next_remind_at) pair with its event,
// so however many instances sweep at once, one interval gives one reminder.
import type { Policy } from '../config';
import type { Logger } from '../logger';
import type { Store } from '../store/types';
import type { ChangeNotifier } from './ports';
import type { DeletionRequest } from './types';

export interface RemindersDeps {
  store: Store;
  policy: Policy;
  now: () => number;
  onChange: ChangeNotifier;
  logger: Logger;
}

const BATCH = 50;

/**
 * When the reminder after `sent` reminders is due, counted from `from`: REMIND_AFTER × 2^sent. Null when
 * reminders are off, or when it would come at or after the expiry (the request ends first).
 */
export function nextReminderAt(from: number, sent: number, remindAfterMs: number, expiresAt: number): number | null {
  if (remindAfterMs <= 0) return null;
  const at = from + remindAfterMs * 2 ** Math.min(sent, 30);
  return at < expiresAt ? at : null;
}

/**
 * Whom a reminder mentions: the listed approvers and approver groups, less the requester (who can't approve)
 * and those who already approved. Space-separated ids, kept as the event's detail so the reply says whom it
 * reminded then.
 */
export function reminderAddressees(request: DeletionRequest, policy: Policy): string {
  const done = new Set([request.requesterId, ...request.approvals.map((a) => a.userId)]);
  return [...policy.approverUserIds.filter((id) => !done.has(id)), ...policy.approverUsergroupIds].join(' ');
}

export class Reminders {
  constructor(private readonly deps: RemindersDeps) {}

  /** One sweep's reminders: every due one, each claimed by one instance only. */
  async remindDue(): Promise<void> {
    const { store, policy, now } = this.deps;
    if (policy.remindAfterMs <= 0) return;
    const due = await store.listForSweep({ kind: 'remindable', now: now(), limit: BATCH });
    for (const request of due) await this.remind(request);
  }

  private async remind(request: DeletionRequest): Promise<void> {
    const { store, policy, now } = this.deps;
    const at = now();
    const sent = (request.remindersSent ?? 0) + 1;
    const reminded = await store.transition(
      request.id,
      ['pending'],
      'pending',
      { reminder: { sent, nextAt: nextReminderAt(at, sent, policy.remindAfterMs, request.expiresAt) } },
      { kind: 'reminded', actorId: null, detail: reminderAddressees(request, policy) || null, at },
    );
    // Null: decided, or another instance posted this reminder first.
    if (!reminded) return;
    this.deps.logger.info('approvers reminded', { requestId: request.id, reminder: sent });
    this.deps.onChange(request.id);
  }
}
