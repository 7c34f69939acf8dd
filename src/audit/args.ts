// The audit export's command line: a window of creation times and an output format, checked strictly.
import { parseArgs } from 'node:util';

export type AuditFormat = 'csv' | 'jsonl';

export interface AuditArgs {
  /** Requests created at or after this (ms since the epoch). */
  since: number;
  /** Requests created before this; null: no end. */
  until: number | null;
  format: AuditFormat;
}

export type ArgsResult =
  | { ok: true; kind: 'export'; args: AuditArgs }
  | { ok: true; kind: 'help' }
  | { ok: false; error: string };

export const USAGE = `Usage: npm run audit -- --since <time> [--until <time>] [--format csv|jsonl]

Prints every deletion request created in [--since, --until) with its events, oldest first.
  --since   required; a UTC date (2026-11-01) or an ISO 8601 time with a zone (2026-11-01T09:30:00Z)
  --until   optional, excluded; same forms (default: no end)
  --format  csv (default: one row per event) or jsonl (one line per request, with an events array)
Reads DATABASE_URL or SQLITE_PATH from the environment or .env, as the bot does.`;

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME =
  /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d)(?:\.\d{1,3})?)?(Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/;

/** Whether the year, month and day name a day that exists (Date would roll 2026-02-30 over to March). */
function dayExists(year: string, month: string, day: string): boolean {
  const date = new Date(Date.UTC(Number(year), Number(month) - 1, Number(day)));
  return (
    date.getUTCFullYear() === Number(year) &&
    date.getUTCMonth() === Number(month) - 1 &&
    date.getUTCDate() === Number(day)
  );
}

/** A date (midnight UTC) or a full ISO 8601 time with its zone, as ms; null when it is neither. */
export function parseTime(text: string): number | null {
  const date = DATE.exec(text);
  if (date) return dayExists(date[1], date[2], date[3]) ? Date.UTC(+date[1], +date[2] - 1, +date[3]) : null;
  const time = TIME.exec(text);
  if (!time || !dayExists(time[1], time[2], time[3])) return null;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}

const timeError = (option: string, value: string) =>
  `${option}: "${value}" is not a date or time; use a UTC date like 2026-11-01 or an ISO 8601 time with a zone ` +
  'like 2026-11-01T09:30:00Z';

export function parseAuditArgs(argv: readonly string[]): ArgsResult {
  let values: { since?: string; until?: string; format?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...argv],
      options: {
        since: { type: 'string' },
        until: { type: 'string' },
        format: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
  if (values.help) return { ok: true, kind: 'help' };
  if (values.since === undefined) return { ok: false, error: '--since is required' };
  const since = parseTime(values.since);
  if (since === null) return { ok: false, error: timeError('--since', values.since) };
  let until: number | null = null;
  if (values.until !== undefined) {
    until = parseTime(values.until);
    if (until === null) return { ok: false, error: timeError('--until', values.until) };
    if (until <= since) return { ok: false, error: '--until must be later than --since' };
  }
  const format = values.format ?? 'csv';
  if (format !== 'csv' && format !== 'jsonl') {
    return { ok: false, error: `--format: "${format}" is not one of csv, jsonl` };
  }
  return { ok: true, kind: 'export', args: { since, until, format } };
}
