// The audit export's CSV cells: RFC 4180 quoting of every field that reads back exactly, and every part of a value
// that a spreadsheet could make a cell of (split on `,`, `;`, TAB or a line break) neutralised with a leading
// single quote when it starts like a formula (OWASP, "CSV Injection").
import fc from 'fast-check';
import { CSV_COLUMNS, csvCell, csvHeader, csvRows, guardFormulas, jsonLine } from '../../../src/audit/format';
import { createRedactor } from '../../../src/logger';
import type { DeletionRequest } from '../../../src/requests/types';
import { csvObjects, parseCsv } from '../../helpers/csv';
import { aRequest } from '../../helpers/fixtures';

const readBack = (cell: string) => parseCsv(`${cell}\r\n`)[0];
const FORMULA = /^[=+\-@\t\r]/;

/**
 * The cells a spreadsheet would make of `csv` if it split on `separator` without honouring quotes (the worst a
 * reader set to another locale does), each stripped of the quotes that open a quoted field: split at the record
 * ends only (so a cell may start with TAB or CR, which count as formula starts too), and at TAB and every line
 * break as well.
 */
function naiveCells(csv: string, separator: string): string[] {
  const strip = (cell: string) => cell.replace(/^"+/, '');
  const byRecord = csv.split('\r\n').flatMap((record) => record.split(separator));
  const byAnything = csv.split(new RegExp(`[${separator}\\t\\r\\n]`));
  return [...byRecord, ...byAnything].map(strip);
}

describe('a CSV cell', () => {
  it.each([
    ['plain', '"plain"'],
    ['', '""'],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['cr\rlf\r\n', '"cr\rlf\r\n"'],
    ['=1+1', '"\'=1+1"'],
    ['+1', '"\'+1"'],
    ['-1', '"\'-1"'],
    ['@SUM(A1)', '"\'@SUM(A1)"'],
    ['\tx', '"\'\tx"'],
    ['\rx', '"\'\rx"'],
    ['=HYPERLINK("x","y")', '"\'=HYPERLINK(""x"",""y"")"'],
    ['a=b', '"a=b"'],
    ["ticket 42;=cmd|' /C calc'!A0", "\"ticket 42;'=cmd|' /C calc'!A0\""],
    ['a, -1', '"a, -1"'],
    ['a,-1;+2\t@3\n=4\r-5', "\"a,'-1;'+2\t'@3\n'=4\r'-5\""],
    ['x;"=1', '"x;\'""=1"'],
    ['x\t\t=1', '"x\t\'\t\'=1"'],
  ])('%j is written %j', (value, written) => {
    expect(csvCell(value)).toBe(written);
  });

  it('null is an empty cell; numbers and booleans are written as they read', () => {
    expect([csvCell(null), csvCell(502), csvCell(true), csvCell(false)]).toEqual(['""', '"502"', '"true"', '"false"']);
  });

  it('any text reads back as RFC 4180 says: the guarded text, which differs only by the quotes the guard added', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const back = readBack(csvCell(text));
        expect(back).toEqual([guardFormulas(text)]);
        expect(back[0].replace(/(^|[,;\t\r\n])'(?="*[=+\-@\t\r])/g, '$1')).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  const formulaText = fc.stringMatching(/^[a-z0-9 ,;\t\r\n"'=+\-@|!()]{0,40}$/);
  it.each([',', ';'])('split on %j without honouring quotes, no cell of any row starts a formula', (separator) => {
    fc.assert(
      fc.property(fc.array(formulaText, { minLength: 1, maxLength: 6 }), (values) => {
        const csv = values.map((value) => `${[value, value].map(csvCell).join(',')}\r\n`).join('');
        for (const cell of naiveCells(csv, separator)) expect(cell).not.toMatch(FORMULA);
      }),
      { numRuns: 200 },
    );
  });

  it('the check above flags the unguarded cell the audit found (so it means something)', () => {
    const unguarded = `"${"ticket 42;=cmd|' /C calc'!A0"}"\r\n`;
    expect(naiveCells(unguarded, ';').some((cell) => FORMULA.test(cell))).toBe(true);
    expect(naiveCells(unguarded, ',').some((cell) => FORMULA.test(cell))).toBe(false);
  });
});

const request: DeletionRequest = aRequest(Date.UTC(2026, 10, 1), {
  id: 'R1',
  teamId: 'T1',
  channelId: 'C1',
  customerId: 'cust',
  reason: 'token xoxb-secret-1 here',
  requesterId: 'U1',
  messageTs: null,
});
const clean = (text: string) => text.replace('xoxb-secret-1', '[redacted]');

describe('rows of a request', () => {
  it('a request without events still gets a row, its event columns empty', () => {
    const rows = csvObjects(csvHeader() + csvRows({ request, events: [] }, clean));
    expect(rows).toHaveLength(1);
    expect(Object.keys(rows[0])).toEqual([...CSV_COLUMNS]);
    expect(rows[0]).toMatchObject({ request_id: 'R1', event_id: '', event_kind: '', event_at: '', outcome_ok: '' });
  });

  it('text goes through the cleaner in both formats', () => {
    const events = [
      {
        id: 1,
        requestId: 'R1',
        kind: 'requested' as const,
        actorId: 'U1',
        detail: request.reason,
        at: 0,
        postedAt: null,
      },
    ];
    const csv = csvRows({ request, events }, clean);
    const json = jsonLine({ request, events }, clean);
    for (const text of [csv, json]) {
      expect(text).not.toContain('xoxb-secret-1');
      expect(text).toContain('token [redacted] here');
    }
    expect(JSON.parse(json).events[0].at).toBe('1970-01-01T00:00:00.000Z');
  });

  it('with the redactor the export uses, a short database password leaves the words of a reason alone', () => {
    const redact = createRedactor(['postgres://bot:test@db/bp', 'test', 'xoxb-secret-1-long']);
    const reason = 'test account for ops; see postgres://bot:test@db/bp and xoxb-secret-1-long';
    const csv = csvRows({ request: { ...request, reason }, events: [] }, redact);
    expect(csvObjects(csvHeader() + csv)[0].reason).toBe('test account for ops; see [redacted] and [redacted]');
    const other = 'a test; see postgres://ops:test@elsewhere/x';
    expect(JSON.parse(jsonLine({ request: { ...request, reason: other }, events: [] }, redact)).reason).toBe(
      'a test; see postgres://ops:[redacted]@elsewhere/x',
    );
  });
});
