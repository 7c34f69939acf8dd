// Sending the DELETE exactly once: the claim (under one lock with the daily count and the pause), the
// fenced take-over and lease, the settle checks of uncertain outcomes, and the pause itself.
import type { DeletionRequest, Pause } from '../../requests/types';
import type { Db } from '../dialect';
import type { RequestRow } from '../rows';
import type { ClaimResult, ExecutionClaim, FencingToken, NewEvent, PauseChange, PauseResult } from '../types';
import { CONTROLS_ID, DAILY_LIMIT_LOCK_KEY, ERASE_PREVIEW, type PauseRow, toPause, WAITING } from './base';
import { SqlRequests } from './requests';

export class SqlExecution extends SqlRequests {
  async claimExecution(id: string, claim: ExecutionClaim): Promise<ClaimResult> {
    // Every instance's claims take turns on one lock, so the daily count and the claim are one step.
    return this.transaction(
      async (db): Promise<ClaimResult> => {
        const [row] = await db.all<Pick<RequestRow, 'state' | 'dry_run'> & { due: number }>(
          `SELECT state, dry_run,
             CASE WHEN execute_at IS NULL OR execute_at <= ${this.dialect.nowMs} THEN 1 ELSE 0 END AS due
           FROM requests WHERE id = ?${this.dialect.forUpdate}`,
          [id],
        );
        if (!row || row.state !== 'approved' || row.due !== 1) {
          return { kind: 'not_due', request: row ? await this.load(db, id) : null };
        }
        // Under the same lock as setPause: once a pause is stored, no claim starts a DELETE.
        if (await this.pausedNow(db)) return { kind: 'paused', request: await this.loaded(db, id) };
        if (claim.drop) await this.dropApprovals(db, id, claim.drop);
        const dryRun = row.dry_run === 1 || claim.dryRun;
        if (!dryRun && (await this.deletionsSince(db, claim.dayStart)) >= claim.maxPerDay) {
          return { kind: 'daily_limit', request: await this.loaded(db, id) };
        }
        await db.run(
          `UPDATE requests SET state = 'executing', version = version + 1, lease_until = ${this.dialect.nowMs} + ?,
             delete_starts = delete_starts + 1, delete_started_at = COALESCE(delete_started_at, ?), dry_run = ?
           WHERE id = ? AND state = 'approved'`,
          [claim.leaseMs, claim.now, dryRun ? 1 : 0, id],
        );
        if (!dryRun) await this.insertEvent(db, id, claim.sent);
        return { kind: 'claimed', request: await this.loaded(db, id) };
      },
      { lockKey: DAILY_LIMIT_LOCK_KEY },
    );
  }

  async takeOverExecution(
    id: string,
    takeOver: { now: number; leaseMs: number; seenToken: FencingToken; sent: NewEvent | null },
  ): Promise<DeletionRequest | null> {
    const now = this.dialect.nowMs;
    return this.transaction(async (db) => {
      const changed = await db.run(
        `UPDATE requests SET lease_until = ${now} + ?, delete_starts = delete_starts + 1,
           delete_started_at = COALESCE(delete_started_at, ?)
         WHERE id = ? AND state = 'executing' AND (lease_until IS NULL OR lease_until < ${now}) AND delete_starts = ?`,
        [takeOver.leaseMs, takeOver.now, id, takeOver.seenToken],
      );
      if (changed === 0) return null;
      if (takeOver.sent) await this.insertEvent(db, id, takeOver.sent);
      return this.loaded(db, id);
    });
  }

  async renewLease(id: string, token: FencingToken, leaseMs: number): Promise<boolean> {
    const changed = await this.dialect.run(
      `UPDATE requests SET lease_until = ${this.dialect.nowMs} + ?
       WHERE id = ? AND state = 'executing' AND delete_starts = ?`,
      [leaseMs, id, token],
    );
    return changed > 0;
  }

  async claimSettleCheck(id: string, maxChecks: number, nextInMs: number): Promise<boolean> {
    const now = this.dialect.nowMs;
    const changed = await this.dialect.run(
      `UPDATE requests SET settle_checks = settle_checks + 1, settle_after = ${now} + ?
       WHERE id = ? AND state = 'uncertain' AND settle_checks < ? AND (settle_after IS NULL OR settle_after <= ${now})`,
      [nextInMs, id, maxChecks],
    );
    return changed > 0;
  }

  private async pausedNow(db: Db): Promise<boolean> {
    const [row] = await db.all<{ paused: number }>('SELECT paused FROM controls WHERE id = ?', [CONTROLS_ID]);
    return row?.paused === 1;
  }

  private async readPause(db: Db): Promise<Pause | null> {
    const [row] = await db.all<PauseRow>(
      'SELECT paused, paused_by, reason, channel_id, at FROM controls WHERE id = ?',
      [CONTROLS_ID],
    );
    return row ? toPause(row) : null;
  }

  async getPause(): Promise<Pause | null> {
    return this.readPause(this.dialect);
  }

  async setPause(change: PauseChange): Promise<PauseResult> {
    // The claims' lock: a claim either finished before the pause or sees it.
    const result = await this.transaction(
      async (db): Promise<PauseResult & { expired: number }> => {
        const changed = await db.run(
          'UPDATE controls SET paused = ?, paused_by = ?, reason = ?, channel_id = ?, at = ? WHERE id = ? AND paused = ?',
          [
            change.paused ? 1 : 0,
            change.by,
            change.reason,
            change.channelId,
            change.at,
            CONTROLS_ID,
            change.paused ? 0 : 1,
          ],
        );
        const pause = await this.readPause(db);
        if (changed === 0) return { changed: false, pause, affected: [], expired: 0 };
        // The trail of pauses, kept whether or not a request is open (controls holds only the latest).
        await db.run('INSERT INTO control_events (kind, actor_id, detail, channel_id, at) VALUES (?, ?, ?, ?, ?)', [
          change.paused ? 'paused' : 'resumed',
          change.by,
          change.reason,
          change.channelId,
          change.at,
        ]);
        const expired = change.expire ? await this.expireApproved(db, change.expire.before, change.expire.event) : [];
        const open = await db.all<{ id: string }>(`SELECT id FROM requests WHERE state ${WAITING} ORDER BY id`);
        for (const { id } of open) {
          await db.run('UPDATE requests SET version = version + 1 WHERE id = ?', [id]);
          await this.insertEvent(db, id, change.event);
        }
        return { changed: true, pause, affected: [...expired, ...open.map((r) => r.id)], expired: expired.length };
      },
      { lockKey: DAILY_LIMIT_LOCK_KEY },
    );
    // Expired ones had their preview erased.
    if (result.expired > 0) await this.dialect.forgetOverwritten();
    return { changed: result.changed, pause: result.pause, affected: result.affected };
  }

  /** Approved requests that expired before `before` end expired, each with `event`; returns them. */
  private async expireApproved(db: Db, before: number, event: PauseChange['event']): Promise<string[]> {
    const stale = await db.all<{ id: string }>("SELECT id FROM requests WHERE state = 'approved' AND expires_at <= ?", [
      before,
    ]);
    for (const { id } of stale) {
      await db.run(
        `UPDATE requests SET state = 'expired', finished_at = ?, version = version + 1, ${ERASE_PREVIEW}
         WHERE id = ? AND state = 'approved'`,
        [event.at, id],
      );
      await this.insertEvent(db, id, event);
    }
    return stale.map((r) => r.id);
  }
}
