// The audit export's arguments: a window given as UTC dates or ISO 8601 times with a zone, a known format.
import { parseAuditArgs, parseTime } from '../../../src/audit/args';

describe('a time on the command line', () => {
  it.each([
    ['2026-11-01', Date.UTC(2026, 10, 1)],
    ['2024-02-29', Date.UTC(2024, 1, 29)],
    ['2026-11-01T09:30Z', Date.UTC(2026, 10, 1, 9, 30)],
    ['2026-11-01T09:30:15Z', Date.UTC(2026, 10, 1, 9, 30, 15)],
    ['2026-11-01T09:30:15.250Z', Date.UTC(2026, 10, 1, 9, 30, 15, 250)],
    ['2026-11-01T09:30:00+02:00', Date.UTC(2026, 10, 1, 7, 30)],
    ['2026-11-01T00:30:00-05:30', Date.UTC(2026, 10, 1, 6, 0)],
  ])('%s is %d', (text, ms) => {
    expect(parseTime(text)).toBe(ms);
  });

  it.each([
    '2026-02-29', // not a leap year
    '2026-02-30',
    '2026-13-01',
    '2026-11-31',
    '2026-11-01T24:00:00Z',
    '2026-11-01T09:60Z',
    '2026-11-01T09:30:00', // no zone: whose 09:30?
    '2026-11-01 09:30:00Z',
    '26-11-01',
    '2026-11-1',
    'yesterday',
    '1700000000000',
    '',
  ])('%j is refused', (text) => {
    expect(parseTime(text)).toBeNull();
  });
});

describe('the arguments', () => {
  it('--since alone: CSV, no end', () => {
    expect(parseAuditArgs(['--since', '2026-11-01'])).toEqual({
      ok: true,
      kind: 'export',
      args: { since: Date.UTC(2026, 10, 1), until: null, format: 'csv' },
    });
  });

  it('all of them, either spelling', () => {
    expect(parseAuditArgs(['--since=2026-11-01', '--until', '2026-12-01', '--format=jsonl'])).toEqual({
      ok: true,
      kind: 'export',
      args: { since: Date.UTC(2026, 10, 1), until: Date.UTC(2026, 11, 1), format: 'jsonl' },
    });
  });

  it('--help, or -h', () => {
    expect(parseAuditArgs(['--help'])).toEqual({ ok: true, kind: 'help' });
    expect(parseAuditArgs(['-h'])).toEqual({ ok: true, kind: 'help' });
  });

  it.each([
    [[], '--since is required'],
    [['--since'], "--since <value>' argument missing"],
    [['--since', '2026-11-01', '--until', '2026-11-01'], '--until must be later than --since'],
    [['--since', '2026-11-01', '--format', 'CSV'], '--format: "CSV" is not one of csv, jsonl'],
    [['--since', '2026-11-01', '--limit', '5'], "'--limit'"],
  ])('%j is refused: %s', (argv, message) => {
    const result = parseAuditArgs(argv);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.error).toContain(message);
  });
});
