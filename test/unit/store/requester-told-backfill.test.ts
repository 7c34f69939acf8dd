// Migration 11 counts every request that had already ended (or become uncertain) as told, so the first
// sync after an upgrade sends nobody a direct message about an old request; open ones are still owed.
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../../../src/store/migrations';

const MIGRATION = MIGRATIONS.find((m) => m.version === 11);
const BEFORE = MIGRATIONS.filter((m) => m.version < 11);

describe('migration 11: requests already ended count as told', () => {
  it('exists', () => expect(MIGRATION).toBeDefined());

  it('on SQLite: ended and uncertain ones are told, open ones are not; nothing is due a reminder', () => {
    const db = new Database(':memory:');
    try {
      for (const m of BEFORE) db.exec(m.sql('sqlite'));
      const states = ['pending', 'approved', 'executing', 'uncertain', 'succeeded', 'failed', 'denied', 'expired'];
      const insert = db.prepare(`INSERT INTO requests (id, team_id, channel_id, customer_id, reason, requester_id,
        state, approvals_required, created_at, expires_at) VALUES (?, 'T', 'C', ?, '', 'U', ?, 1, 1, 2)`);
      for (const state of states) insert.run(state, `c-${state}`, state);
      db.exec(MIGRATION?.sql('sqlite') ?? '');
      const rows = db.prepare('SELECT id, requester_told, next_remind_at, reminders_sent FROM requests').all() as {
        id: string;
        requester_told: string | null;
        next_remind_at: number | null;
        reminders_sent: number;
      }[];
      for (const row of rows) {
        const open = ['pending', 'approved', 'executing'].includes(row.id);
        expect(row).toEqual({
          id: row.id,
          requester_told: open ? null : row.id,
          next_remind_at: null,
          reminders_sent: 0,
        });
      }
    } finally {
      db.close();
    }
  });
});
