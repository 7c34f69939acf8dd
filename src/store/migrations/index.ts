// Versioned schema, shared by both stores. Each entry runs once, in order; dialect differences are
// limited to the few spots marked below, so the two stores stay the same schema.
import type { DatabaseKind } from '../dialect';

export interface Migration {
  version: number;
  name: string;
  sql: (dialect: DatabaseKind) => string;
}

const bigint = (d: DatabaseKind) => (d === 'postgres' ? 'BIGINT' : 'INTEGER');
/** requests/types.ts's NEWS_STATES as migration 11 wrote them (a migration never changes). */
const NEWS = "('succeeded', 'failed', 'uncertain', 'denied', 'cancelled', 'aborted', 'expired')";

/** The table that records which migrations ran; created before them. */
export const migrationsTable = (d: DatabaseKind): string =>
  `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at ${bigint(d)} NOT NULL)`;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'requests, approvals, events',
    sql: (d) => `
      CREATE TABLE requests (
        id TEXT PRIMARY KEY,
        team_id TEXT NOT NULL,
        channel_id TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        reason TEXT NOT NULL,
        requester_id TEXT NOT NULL,
        state TEXT NOT NULL,
        approvals_required INTEGER NOT NULL,
        created_at ${bigint(d)} NOT NULL,
        expires_at ${bigint(d)} NOT NULL,
        execute_at ${bigint(d)},
        closed_by TEXT,
        close_reason TEXT,
        outcome TEXT,
        delete_starts INTEGER NOT NULL DEFAULT 0,
        delete_started_at ${bigint(d)},
        lease_until ${bigint(d)},
        dry_run INTEGER NOT NULL DEFAULT 0,
        preview TEXT,
        message_ts TEXT,
        version INTEGER NOT NULL DEFAULT 1,
        message_version INTEGER NOT NULL DEFAULT 0,
        sync_until ${bigint(d)},
        finished_at ${bigint(d)}
      );
      CREATE UNIQUE INDEX requests_one_open_per_customer ON requests (lower(customer_id))
        WHERE state IN ('pending', 'approved', 'executing');
      CREATE INDEX requests_state ON requests (state);
      CREATE INDEX requests_channel ON requests (channel_id, created_at);
      CREATE INDEX requests_requester ON requests (requester_id, state);
      CREATE INDEX requests_out_of_sync ON requests (message_version, version);
      CREATE TABLE approvals (
        request_id TEXT NOT NULL REFERENCES requests (id),
        user_id TEXT NOT NULL,
        at ${bigint(d)} NOT NULL,
        PRIMARY KEY (request_id, user_id)
      );
      CREATE TABLE events (
        id ${d === 'postgres' ? 'BIGSERIAL PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT'},
        request_id TEXT NOT NULL REFERENCES requests (id),
        kind TEXT NOT NULL,
        actor_id TEXT,
        detail TEXT,
        at ${bigint(d)} NOT NULL,
        posted_at ${bigint(d)}
      );
      CREATE INDEX events_request ON events (request_id, id);
      CREATE INDEX events_unposted ON events (request_id) WHERE posted_at IS NULL;
    `,
  },
  {
    version: 2,
    name: 'index for the daily deletion count',
    // countDeletionsSince / claimExecution count by delete_started_at on every final approval.
    sql: () => 'CREATE INDEX requests_delete_started ON requests (delete_started_at)',
  },
  {
    version: 3,
    name: 'uncertain outcomes hold their customer; settle checks',
    // An uncertain request is open: it keeps its customer until it is settled or closed by an approver.
    sql: (d) => `
      DROP INDEX requests_one_open_per_customer;
      CREATE UNIQUE INDEX requests_one_open_per_customer ON requests (lower(customer_id))
        WHERE state IN ('pending', 'approved', 'executing', 'uncertain');
      ALTER TABLE requests ADD COLUMN settle_checks INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE requests ADD COLUMN settle_after ${bigint(d)};
    `,
  },
  {
    version: 4,
    name: 'pause of every DELETE; where a deny or cancel came from',
    // One row: whether DELETEs are paused, by whom, why, where and since when.
    sql: (d) => `
      CREATE TABLE controls (
        id INTEGER PRIMARY KEY,
        paused INTEGER NOT NULL DEFAULT 0,
        paused_by TEXT,
        reason TEXT,
        channel_id TEXT,
        at ${bigint(d)}
      );
      INSERT INTO controls (id, paused) VALUES (1, 0);
      ALTER TABLE requests ADD COLUMN closed_from TEXT;
    `,
  },
  {
    version: 5,
    name: 'sync backoff and permanent failure; indexes that read only open or unsynced work',
    // sync_retry_at: when the sweeper may try this request's Slack sync again (0: at once). sync_error: Slack's
    // answer that ended the sync for good (the message is gone, the channel archived, …); NULL while it may sync.
    // requests_needs_sync's predicate is the out-of-sync condition itself, so every write that bumps `version`
    // (whoever writes it) puts the row in the index in the same statement, and the sync takes it out.
    sql: (d) => `
      ALTER TABLE requests ADD COLUMN sync_retry_at ${bigint(d)} NOT NULL DEFAULT 0;
      ALTER TABLE requests ADD COLUMN sync_failures INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE requests ADD COLUMN sync_error TEXT;
      DROP INDEX requests_out_of_sync;
      CREATE INDEX requests_needs_sync ON requests (sync_retry_at, created_at)
        WHERE sync_error IS NULL AND (message_ts IS NULL OR message_version < version);
      CREATE INDEX requests_customer ON requests (lower(customer_id), created_at DESC);
      CREATE INDEX requests_open_by_channel ON requests (channel_id, created_at)
        WHERE state IN ('pending', 'approved', 'executing', 'uncertain');
    `,
  },
  {
    version: 6,
    name: 'index for the audit export',
    // listAuditPage walks requests by (created_at, id byte by byte): without it every page of the export
    // scans and sorts the whole table. PostgreSQL: in the "C" collation, as the query compares ids.
    sql: (d) => `CREATE INDEX requests_created ON requests (created_at, id${d === 'postgres' ? ' COLLATE "C"' : ''})`,
  },
  {
    version: 7,
    name: "whose words each stored outcome's message are",
    // Outcomes written before DeletionOutcome.said existed: the kinds whose message the bot writes are the
    // bot's; the rest were shown as BotPenguin's, and stay so.
    sql: (d) => {
      const ours = "('dry_run', 'customer_changed', 'daily_limit', 'still_listed', 'closed_deleted', 'closed_kept')";
      return d === 'postgres'
        ? `UPDATE requests SET outcome = jsonb_set(outcome::jsonb, '{said}',
             to_jsonb(CASE WHEN outcome::jsonb ->> 'kind' IN ${ours} THEN 'bot' ELSE 'botpenguin' END))::text
           WHERE outcome IS NOT NULL AND outcome::jsonb -> 'said' IS NULL`
        : `UPDATE requests SET outcome = json_set(outcome, '$.said',
             CASE WHEN json_extract(outcome, '$.kind') IN ${ours} THEN 'bot' ELSE 'botpenguin' END)
           WHERE outcome IS NOT NULL AND json_type(outcome, '$.said') IS NULL`;
    },
  },
  {
    version: 8,
    name: 'outbox of the audit webhook',
    // A row per trail event not yet acknowledged by the audit webhook's receiver, written by the store in
    // the same transaction as the event (SqlBase.insertEvent). `stream` orders delivery: the request id, ''
    // for an event of no request. Events recorded before this migration are not queued (the export has them).
    sql: (d) => `
      CREATE TABLE audit_outbox (
        event_id ${bigint(d)} PRIMARY KEY REFERENCES events (id),
        stream TEXT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        retry_at ${bigint(d)} NOT NULL DEFAULT 0,
        lease_owner TEXT,
        lease_until ${bigint(d)}
      );
      CREATE INDEX audit_outbox_stream ON audit_outbox (stream, event_id);
    `,
  },
  {
    version: 10,
    name: 'deny holds; the trail of pauses and resumes',
    // deny_hold_by/until: an approver clicked Deny and its modal is open; until then (or until the modal is
    // closed) no approval is recorded. control_events: every pause and resume, kept even when no request is open.
    sql: (d) => `
      ALTER TABLE requests ADD COLUMN deny_hold_by TEXT;
      ALTER TABLE requests ADD COLUMN deny_hold_until ${bigint(d)};
      CREATE TABLE control_events (
        id ${d === 'postgres' ? 'BIGSERIAL PRIMARY KEY' : 'INTEGER PRIMARY KEY AUTOINCREMENT'},
        kind TEXT NOT NULL,
        actor_id TEXT NOT NULL,
        detail TEXT,
        channel_id TEXT,
        at ${bigint(d)} NOT NULL
      );
      CREATE INDEX control_events_at ON control_events (at, id);
    `,
  },
  {
    version: 11,
    name: 'the requester told of an ending; reminders to approvers',
    // requester_told: the last state whose direct message to the requester was settled (sent, refused, or not
    // owed), written by the message sync that holds the request's claim; requests_requester_untold holds
    // exactly the rows still owed that decision (its predicate is that condition, NEWS_STATES written out).
    // Requests that ended before this migration count as told, so nobody gets a message about an old one.
    // next_remind_at / reminders_sent: the next reminder of a pending request is claimed by a conditional update on the pair, so one interval gives one reminder.
    sql: (d) => `
      ALTER TABLE requests ADD COLUMN requester_told TEXT;
      ALTER TABLE requests ADD COLUMN next_remind_at ${bigint(d)};
      ALTER TABLE requests ADD COLUMN reminders_sent INTEGER NOT NULL DEFAULT 0;
      UPDATE requests SET requester_told = state WHERE state NOT IN ('pending', 'approved', 'executing');
      CREATE INDEX requests_remind ON requests (next_remind_at) WHERE state = 'pending' AND next_remind_at IS NOT NULL;
      CREATE INDEX requests_requester_untold ON requests (sync_retry_at, created_at)
        WHERE sync_error IS NULL AND state IN ${NEWS}
          AND (requester_told IS NULL OR requester_told <> state);
    `,
  },
  {
    version: 12,
    name: "each request's ticket (TICKET_PATTERN) and its link",
    sql: () => `
      ALTER TABLE requests ADD COLUMN ticket TEXT;
      ALTER TABLE requests ADD COLUMN ticket_url TEXT;
    `,
  },
];
