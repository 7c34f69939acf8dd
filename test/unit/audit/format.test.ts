// The audit export's CSV cells: RFC 4180 quoting that reads back exactly, and formula-looking text neutralised
// with a leading single quote (OWASP, "CSV Injection").
import fc from 'fast-check';
import { CSV_COLUMNS, csvCell, csvHeader, csvRows, jsonLine } from '../../../src/audit/format';
import type { DeletionRequest } from '../../../src/requests/types';
import { csvObjects, parseCsv } from '../../helpers/csv';
import { aRequest } from '../../helpers/fixtures';

const readBack = (cell: string) => parseCsv(`${cell}\r\n`)[0];

describe('a CSV cell', () => {
  it.each([
    ['plain', 'plain'],
    ['', ''],
    ['a,b', '"a,b"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['cr\rlf\r\n', '"cr\rlf\r\n"'],
    ['=1+1', "'=1+1"],
    ['+1', "'+1"],
    ['-1', "'-1"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\tx', "'\tx"],
    ['\rx', '"\'\rx"'],
    ['=HYPERLINK("x","y")', '"\'=HYPERLINK(""x"",""y"")"'],
    ['a=b', 'a=b'],
  ])('%j is written %j', (value, written) => {
    expect(csvCell(value)).toBe(written);
  });

  it('null is an empty cell; numbers and booleans are written as they read', () => {
    expect([csvCell(null), csvCell(502), csvCell(true), csvCell(false)]).toEqual(['', '502', 'true', 'false']);
  });

  it('any text reads back as itself, or with one leading quote exactly when it starts like a formula', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        const back = readBack(csvCell(text));
        expect(back).toHaveLength(1);
        expect(back[0]).toBe(/^[=+\-@\t\r]/.test(text) ? `'${text}` : text);
      }),
      { numRuns: 500 },
    );
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
});
