// A strict RFC 4180 reader for the tests: every record ends in CRLF, a quote may appear only in a quoted field
// (doubled), and anything else is an error, so output that a spreadsheet would misread fails the test.
export function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let i = 0;
  while (i < text.length) {
    const record: string[] = [];
    for (;;) {
      let field = '';
      if (text[i] === '"') {
        i += 1;
        for (;;) {
          if (i >= text.length) throw new Error('a quoted field is not closed');
          if (text[i] === '"') {
            if (text[i + 1] !== '"') break;
            field += '"';
            i += 2;
          } else {
            field += text[i];
            i += 1;
          }
        }
        i += 1; // the closing quote
      } else {
        while (i < text.length && text[i] !== ',' && text[i] !== '\r' && text[i] !== '\n') {
          if (text[i] === '"') throw new Error(`a quote in an unquoted field at offset ${i}`);
          field += text[i];
          i += 1;
        }
      }
      record.push(field);
      if (text[i] === ',') {
        i += 1;
        continue;
      }
      if (text.startsWith('\r\n', i)) {
        i += 2;
        break;
      }
      throw new Error(`expected a comma or CRLF at offset ${i}`);
    }
    records.push(record);
  }
  return records;
}

/** The records as objects keyed by the header row; every record must have the header's width. */
export function csvObjects(text: string): Record<string, string>[] {
  const [header, ...rows] = parseCsv(text);
  if (!header) throw new Error('no header row');
  return rows.map((row, n) => {
    if (row.length !== header.length) throw new Error(`record ${n + 1} has ${row.length} fields, not ${header.length}`);
    return Object.fromEntries(header.map((name, k) => [name, row[k]]));
  });
}
