// The requests themselves: creating them, reading them, approvals, conditional transitions and the
// stricter-settings floor. Every write is conditional on the state it was judged in.
import type { CustomerPreview, DeletionRequest, RequestEvent, RequestState } from '../../requests/types';
import { ERASED_STATES } from '../../requests/types';
import { type Db, inList } from '../dialect';
import { patchAssignments } from '../patch';
import { type EventRow, type RequestRow, toEvent } from '../rows';
import type {
  ApprovalDrop,
  ApprovalResult,
  CreateResult,
  FencingToken,
  NewApproval,
  NewEvent,
  NewRequest,
  PolicyFloor,
  RequestFilter,
  TransitionPatch,
} from '../types';
import { ERASE_PREVIEW, hydrate, OPEN, type RequestWithApprovals, SqlBase, WAITING } from './base';

const ONE_OPEN_PER_CUSTOMER = 'requests_one_open_per_customer';

export class SqlRequests extends SqlBase {
  private async findOpen(db: Db, customerId: string): Promise<DeletionRequest | null> {
    const [row] = await db.all<RequestWithApprovals>(
      `${this.selectRequest} WHERE lower(r.customer_id) = lower(?) AND r.state ${OPEN}`,
      [customerId],
    );
    return row ? hydrate(row) : null;
  }

  async createRequest(
    input: NewRequest,
    event: NewEvent,
    limit: { maxOpenPerRequester: number },
  ): Promise<CreateResult> {
    // Where two instances insert for the same customer at once, the second fails on the partial unique
    // index; then the winner's request is the answer. Should it have closed in between, try again.
    // The requester's lock makes their creates take turns, so each counts the others' inserts.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.transaction(
          async (db): Promise<CreateResult> => {
            const existing = await this.findOpen(db, input.customerId);
            if (existing) return { ok: false, kind: 'already_open', existing };
            if ((await this.openByRequester(db, input.requesterId)) >= limit.maxOpenPerRequester) {
              return { ok: false, kind: 'too_many_open', max: limit.maxOpenPerRequester };
            }
            await db.run(
              `INSERT INTO requests (id, team_id, channel_id, customer_id, reason, ticket, ticket_url, requester_id, state,
                 approvals_required, created_at, expires_at, dry_run, next_remind_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)`,
              [
                input.id,
                input.teamId,
                input.channelId,
                input.customerId,
                input.reason,
                input.ticket ?? null,
                input.ticketUrl ?? null,
                input.requesterId,
                input.approvalsRequired,
                input.createdAt,
                input.expiresAt,
                input.dryRun ? 1 : 0,
                input.nextRemindAt ?? null,
              ],
            );
            await this.insertEvent(db, input.id, event);
            return { ok: true, request: await this.loaded(db, input.id) };
          },
          { lockName: `requester:${input.requesterId}` },
        );
      } catch (error) {
        if (!this.dialect.isUniqueViolation(error, ONE_OPEN_PER_CUSTOMER) || attempt >= 2) throw error;
        const existing = await this.findOpen(this.dialect, input.customerId);
        if (existing) return { ok: false, kind: 'already_open', existing };
      }
    }
  }

  async listRequests(filter: RequestFilter): Promise<DeletionRequest[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.channelId !== undefined) {
      where.push('r.channel_id = ?');
      params.push(filter.channelId);
    }
    if (filter.customerId !== undefined) {
      where.push('lower(r.customer_id) = lower(?)');
      params.push(filter.customerId);
    }
    if (filter.requesterId !== undefined) {
      where.push('r.requester_id = ?');
      params.push(filter.requesterId);
    }
    if (filter.states) {
      // Written out, like OPEN: the list of open requests in a channel is then served by requests_open_by_channel.
      const states = filter.states.filter((state) => /^[a-z_]+$/.test(state));
      where.push(
        states.length === 0 ? 'r.state IN (NULL)' : `r.state IN (${states.map((st) => `'${st}'`).join(', ')})`,
      );
    }
    const clause = where.length ? `WHERE ${where.join(' AND ')}` : '';
    return this.many(
      `${this.selectRequest} ${clause} ORDER BY r.created_at DESC, ${this.dialect.bytewise('r.id')} LIMIT ?`,
      [...params, filter.limit],
    );
  }

  async listEvents(requestId: string): Promise<RequestEvent[]> {
    const rows = await this.dialect.all<EventRow>('SELECT * FROM events WHERE request_id = ? ORDER BY id', [requestId]);
    return rows.map(toEvent);
  }

  private async openByRequester(db: Db, requesterId: string): Promise<number> {
    const [{ n }] = await db.all<{ n: number }>(
      `SELECT COUNT(*) AS n FROM requests WHERE requester_id = ? AND state ${OPEN}`,
      [requesterId],
    );
    return n;
  }

  async countDeletionsSince(since: number): Promise<number> {
    return this.deletionsSince(this.dialect, since);
  }

  protected async deletionsSince(db: Db, since: number): Promise<number> {
    const [{ n }] = await db.all<{ n: number }>(
      'SELECT COUNT(*) AS n FROM requests WHERE delete_started_at >= ? AND dry_run = 0',
      [since],
    );
    return n;
  }

  async setPreview(id: string, preview: CustomerPreview, states: readonly RequestState[]): Promise<boolean> {
    const changed = await this.dialect.run(
      `UPDATE requests SET preview = ?, version = version + 1 WHERE id = ? AND state ${inList(states.length)}`,
      [JSON.stringify(preview), id, ...states],
    );
    if (changed > 0 && preview.status === 'erased') await this.dialect.forgetOverwritten();
    return changed > 0;
  }

  async addApproval(id: string, approval: NewApproval): Promise<ApprovalResult> {
    return this.transaction(async (db): Promise<ApprovalResult> => {
      // The row lock makes concurrent approvals (from any instance) take turns: the second one sees the
      // first one's count and state.
      const [row] = await db.all<RequestRow>(`SELECT * FROM requests WHERE id = ?${this.dialect.forUpdate}`, [id]);
      if (!row || row.state !== 'pending' || row.expires_at <= approval.at) {
        return { kind: 'not_pending', request: row ? await this.load(db, id) : null };
      }
      // An approver's Deny click holds it (see holdForDeny): deny wins from the moment of the click.
      if (row.deny_hold_until != null && row.deny_hold_until > approval.at) {
        return { kind: 'being_denied', request: await this.loaded(db, id) };
      }
      const inserted = await db.run(
        'INSERT INTO approvals (request_id, user_id, at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING',
        [id, approval.userId, approval.at],
      );
      if (inserted === 0) return { kind: 'duplicate', request: await this.loaded(db, id) };
      // Told whom NOT to count (not whom to count): an approval that raced this one still counts.
      if (approval.drop) await this.dropApprovals(db, id, approval.drop);
      const required = Math.max(row.approvals_required, approval.approvalsRequired);
      const [{ n }] = await db.all<{ n: number }>('SELECT COUNT(*) AS n FROM approvals WHERE request_id = ?', [id]);
      const reached = n >= required;
      await db.run(
        `UPDATE requests SET ${reached ? `state = 'approved', execute_at = ${this.dialect.nowMs} + ?, ` : ''}
           approvals_required = ?, version = version + 1 WHERE id = ?`,
        [...(reached ? [approval.executionDelayMs] : []), required, id],
      );
      await this.insertEvent(db, id, approval.event(n, required));
      return { kind: reached ? 'approved' : 'recorded', request: await this.loaded(db, id) };
    });
  }

  /** Remove those of `drop`'s approvals still stored, with its event; returns whose. */
  protected async dropApprovals(db: Db, id: string, drop: ApprovalDrop): Promise<string[]> {
    if (drop.userIds.length === 0) return [];
    const rows = await db.all<{ user_id: string }>(
      `SELECT user_id FROM approvals WHERE request_id = ? AND user_id ${inList(drop.userIds.length)}`,
      [id, ...drop.userIds],
    );
    const dropped = rows.map((r) => r.user_id).sort();
    if (dropped.length === 0) return [];
    await db.run(`DELETE FROM approvals WHERE request_id = ? AND user_id ${inList(dropped.length)}`, [id, ...dropped]);
    await this.insertEvent(db, id, drop.event(dropped));
    return dropped;
  }

  async transition(
    id: string,
    from: readonly RequestState[],
    to: RequestState,
    patch: TransitionPatch,
    event: NewEvent | null,
    token?: FencingToken,
  ): Promise<DeletionRequest | null> {
    const erases = ERASED_STATES.includes(to);
    const done = await this.transaction(async (db): Promise<DeletionRequest | null> => {
      const { sql, values } = patchAssignments(patch, () => '?', 0);
      const sets = ['state = ?', 'version = version + 1', ...(erases ? [ERASE_PREVIEW] : []), ...sql].join(', ');
      const fenced = token === undefined ? '' : " AND state = 'executing' AND delete_starts = ?";
      // One reminder per interval: only the write that finds the count it was judged on posts it.
      const reminder = patch.reminder ? ' AND reminders_sent = ?' : '';
      const changed = await db.run(
        `UPDATE requests SET ${sets} WHERE id = ? AND state ${inList(from.length)}${fenced}${reminder}`,
        [
          to,
          ...values,
          id,
          ...from,
          ...(token === undefined ? [] : [token]),
          ...(patch.reminder ? [patch.reminder.sent - 1] : []),
        ],
      );
      if (changed === 0) return null;
      if (patch.dropApprovals) await this.dropApprovals(db, id, patch.dropApprovals);
      if (event) await this.insertEvent(db, id, event);
      return this.load(db, id);
    });
    if (done && erases) await this.dialect.forgetOverwritten();
    return done;
  }

  async applyPolicyFloor(floor: PolicyFloor): Promise<string[]> {
    return this.transaction(async (db): Promise<string[]> => {
      const rows = await db.all<{ id: string; dry_run: number; approvals_required: number }>(
        `SELECT id, dry_run, approvals_required FROM requests
         WHERE state ${WAITING} AND ((dry_run = 0 AND ? = 1) OR approvals_required < ?)${this.dialect.forUpdate}`,
        [floor.dryRun ? 1 : 0, floor.approvalsRequired],
      );
      for (const row of rows) {
        await db.run('UPDATE requests SET dry_run = ?, approvals_required = ?, version = version + 1 WHERE id = ?', [
          floor.dryRun ? 1 : row.dry_run,
          Math.max(row.approvals_required, floor.approvalsRequired),
          row.id,
        ]);
        await this.insertEvent(
          db,
          row.id,
          floor.event({ dryRun: row.dry_run === 1, approvalsRequired: row.approvals_required }),
        );
      }
      return rows.map((r) => r.id);
    });
  }
}
