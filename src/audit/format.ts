// The audit export's two shapes: CSV, one row per event with the request's columns repeated (RFC 4180, every
// field quoted, guarded against formula injection under any list separator), and JSON Lines, one request per line with its events. Times are ISO 8601 UTC.
import type { ControlEvent, DeletionOutcome } from '../requests/types';
import type { AuditedRequest } from '../store/types';

/** Applied to every text value before it is written (the export redacts the bot's secrets with it). */
export type Clean = (text: string) => string;

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

/** BotPenguin's answer as recorded, with exactly these fields (absent ones as null). */
function outcomeOf(outcome: DeletionOutcome | null, clean: Clean) {
  if (!outcome) return null;
  return {
    ok: outcome.ok,
    kind: clean(outcome.kind),
    message: clean(outcome.message),
    /** Whose words `message` are: BotPenguin's own, or the bot's. */
    said: outcome.said,
    httpStatus: outcome.httpStatus ?? null,
    attempts: outcome.attempts ?? null,
  };
}

/** One request as the JSON Lines export writes it (without the line break). */
export function jsonLine({ request: r, events }: AuditedRequest, clean: Clean): string {
  const text = (value: string | null) => (value === null ? null : clean(value));
  return JSON.stringify({
    requestId: r.id,
    customerId: clean(r.customerId),
    teamId: r.teamId,
    channelId: r.channelId,
    requesterId: r.requesterId,
    reason: clean(r.reason),
    /** The first match of TICKET_PATTERN in the reason; null when none was asked for. */
    ticket: text(r.ticket),
    state: r.state,
    approvalsRequired: r.approvalsRequired,
    dryRun: r.dryRun,
    createdAt: iso(r.createdAt),
    expiresAt: iso(r.expiresAt),
    executeAt: iso(r.executeAt),
    finishedAt: iso(r.finishedAt),
    closedBy: r.closedBy,
    /** The channel a `/bp-delete deny|cancel <id>` was typed in, when not the request's own. */
    closedFrom: r.closedFrom ?? null,
    closeReason: text(r.closeReason),
    deleteStarts: r.deleteStarts,
    /** When the first DELETE was started (the trail's delete_sent events say when each was). */
    deleteStartedAt: iso(r.deleteStartedAt ?? null),
    outcome: outcomeOf(r.outcome, clean),
    events: events.map((e) => ({ id: e.id, kind: e.kind, actorId: e.actorId, at: iso(e.at), detail: text(e.detail) })),
  });
}

export const CSV_COLUMNS = [
  'request_id',
  'customer_id',
  'team_id',
  'channel_id',
  'requester_id',
  'reason',
  'ticket',
  'state',
  'approvals_required',
  'dry_run',
  'created_at',
  'expires_at',
  'execute_at',
  'finished_at',
  'closed_by',
  'closed_from',
  'close_reason',
  'delete_starts',
  'delete_started_at',
  'outcome_ok',
  'outcome_kind',
  'outcome_message',
  'outcome_http_status',
  'outcome_attempts',
  'event_id',
  'event_kind',
  'event_actor_id',
  'event_at',
  'event_detail',
] as const;

type Cell = string | number | boolean | null;

// A spreadsheet runs a cell that starts with one of these as a formula (OWASP, "CSV Injection"). Which characters
// split cells depends on the reader's locale and import settings (`,` here, `;` in German or French Excel, TAB,
// line breaks), so every part of a value that one of them could start is guarded, quotes before it included: a
// reader that splits without honouring quotes would strip them.
const FORMULA_PART = /(?<=^|[,;\t\r\n])(?="*[=+\-@\t\r])/g;

/** The value as the export writes it: a single quote before every part that could start a formula cell. */
export function guardFormulas(text: string): string {
  return text.replace(FORMULA_PART, "'");
}

/** One CSV field: guarded (see guardFormulas), then always quoted as RFC 4180 says, whatever it holds. */
export function csvCell(value: Cell): string {
  const text = guardFormulas(value === null ? '' : String(value));
  return `"${text.replace(/"/g, '""')}"`;
}

const csvLine = (cells: readonly Cell[]) => `${cells.map(csvCell).join(',')}\r\n`;

export const csvHeader = (): string => csvLine(CSV_COLUMNS);

/** One row per event (one row with empty event columns should a request have none), each ending in CRLF. */
export function csvRows({ request: r, events }: AuditedRequest, clean: Clean): string {
  const outcome = outcomeOf(r.outcome, clean);
  const requestCells: Cell[] = [
    r.id,
    clean(r.customerId),
    r.teamId,
    r.channelId,
    r.requesterId,
    clean(r.reason),
    r.ticket === null ? null : clean(r.ticket),
    r.state,
    r.approvalsRequired,
    r.dryRun,
    iso(r.createdAt),
    iso(r.expiresAt),
    iso(r.executeAt),
    iso(r.finishedAt),
    r.closedBy,
    r.closedFrom ?? null,
    r.closeReason === null ? null : clean(r.closeReason),
    r.deleteStarts,
    iso(r.deleteStartedAt ?? null),
    outcome?.ok ?? null,
    outcome?.kind ?? null,
    outcome?.message ?? null,
    outcome?.httpStatus ?? null,
    outcome?.attempts ?? null,
  ];
  if (events.length === 0) return csvLine([...requestCells, null, null, null, null, null]);
  return events
    .map((e) =>
      csvLine([...requestCells, e.id, e.kind, e.actorId, iso(e.at), e.detail === null ? null : clean(e.detail)]),
    )
    .join('');
}

/**
 * A pause or resume of every DELETE, after the requests: a CSV row with only the channel it was typed in and
 * the event columns (no request), so the trail shows it whether or not a request was open.
 */
export function csvControlRow(e: ControlEvent, clean: Clean): string {
  const cells: Cell[] = CSV_COLUMNS.map(() => null);
  const set = (column: (typeof CSV_COLUMNS)[number], value: Cell) => {
    cells[CSV_COLUMNS.indexOf(column)] = value;
  };
  set('channel_id', e.channelId);
  set('event_kind', e.kind);
  set('event_actor_id', e.actorId);
  set('event_at', iso(e.at));
  set('event_detail', e.detail === null ? null : clean(e.detail));
  return csvLine(cells);
}

/** A pause or resume as a JSON line of its own, `{"control": {…}}`, after the requests' lines. */
export function jsonControlLine(e: ControlEvent, clean: Clean): string {
  return JSON.stringify({
    control: {
      kind: e.kind,
      actorId: e.actorId,
      channelId: e.channelId,
      at: iso(e.at),
      detail: e.detail === null ? null : clean(e.detail),
    },
  });
}
