// docs/DESIGN.md §4: `/bp-delete <customer_id> [reason…]`, `help`, `status <request-id|customer-id>`, `list`;
// and the durations people write in settings (docs/DESIGN.md §2).
import fc from 'fast-check';
import { formatDuration, parseDuration } from '../../../src/duration';
import { isRequestId, isValidCustomerId, MAX_REASON_LENGTH, parseCommand } from '../../../src/requests/command-text';
import { newRequestId } from '../../../src/requests/ids';

const CUSTOMER = '64b7f0c2e4b0a1b2c3d4e5f6';
const DEFAULT_PATTERN = /^[0-9a-fA-F]{24}$/;

describe('`/bp-delete help`, or no text, explains usage', () => {
  it.each(['', '   ', '\n\t ', 'help', 'HELP', 'Help', '  help  ', '-h', '--help', 'help me please'])('%p', (text) => {
    expect(parseCommand(text)).toEqual({ kind: 'help' });
  });
});

describe('`/bp-delete list` shows the open requests', () => {
  it.each(['list', 'LIST', '  list  ', 'list everything'])('%p', (text) => {
    expect(parseCommand(text)).toEqual({ kind: 'list' });
  });
});

describe('`/bp-delete status <request-id|customer-id>`', () => {
  it('with a request id', () => {
    expect(parseCommand('status R7K2M9QXAB')).toEqual({ kind: 'status', target: 'R7K2M9QXAB' });
  });

  it('with a customer id, extra spaces and extra words ignored', () => {
    expect(parseCommand(`  STATUS    ${CUSTOMER}   and more`)).toEqual({ kind: 'status', target: CUSTOMER });
  });

  it('without a target says so (target null)', () => {
    expect(parseCommand('status')).toEqual({ kind: 'status', target: null });
    expect(parseCommand('status    ')).toEqual({ kind: 'status', target: null });
  });
});

describe('`/bp-delete <customer_id> [reason…]`: the first word is the id, the rest the reason', () => {
  it('an id alone has an empty reason', () => {
    expect(parseCommand(CUSTOMER)).toEqual({ kind: 'request', customerId: CUSTOMER, reason: '' });
  });

  it('an id and a reason', () => {
    expect(parseCommand(`${CUSTOMER} customer asked to close the account`)).toEqual({
      kind: 'request',
      customerId: CUSTOMER,
      reason: 'customer asked to close the account',
    });
  });

  it('a multi-line reason keeps its line breaks', () => {
    const parsed = parseCommand(`${CUSTOMER} GDPR erasure request\nticket #4521\n\nsigned off by legal`);
    expect(parsed).toEqual({
      kind: 'request',
      customerId: CUSTOMER,
      reason: 'GDPR erasure request\nticket #4521\n\nsigned off by legal',
    });
  });

  it('the reason may start on the next line', () => {
    expect(parseCommand(`${CUSTOMER}\nreason below`)).toEqual({
      kind: 'request',
      customerId: CUSTOMER,
      reason: 'reason below',
    });
  });

  it('whitespace around the id and the reason is dropped, inside the reason kept', () => {
    expect(parseCommand(`   ${CUSTOMER} \t  two  spaces   kept \n `)).toEqual({
      kind: 'request',
      customerId: CUSTOMER,
      reason: 'two  spaces   kept',
    });
  });

  it('the id keeps its case (uppercase hex is a valid id)', () => {
    const upper = CUSTOMER.toUpperCase();
    expect(parseCommand(`${upper} x`)).toMatchObject({ customerId: upper });
  });

  it('a word that is not a subcommand is taken as the id (and then checked)', () => {
    expect(parseCommand('delete everything')).toEqual({ kind: 'request', customerId: 'delete', reason: 'everything' });
    expect(isValidCustomerId('delete', DEFAULT_PATTERN)).toBe(false);
  });

  it(`the reason is capped at ${MAX_REASON_LENGTH} characters`, () => {
    const parsed = parseCommand(`${CUSTOMER} ${'x'.repeat(MAX_REASON_LENGTH + 1000)}`);
    expect(parsed.kind === 'request' && parsed.reason).toBe('x'.repeat(MAX_REASON_LENGTH));
  });

  it('the cap never splits an emoji into half a character', () => {
    const parsed = parseCommand(`${CUSTOMER} ${'😀'.repeat(MAX_REASON_LENGTH + 10)}`);
    if (parsed.kind !== 'request') throw new Error('expected a request');
    expect(Array.from(parsed.reason)).toHaveLength(MAX_REASON_LENGTH);
    expect(parsed.reason).toBe('😀'.repeat(MAX_REASON_LENGTH));
  });

  it('a reason within the cap is kept whole', () => {
    const reason = 'r'.repeat(MAX_REASON_LENGTH);
    expect(parseCommand(`${CUSTOMER} ${reason}`)).toMatchObject({ reason });
  });
});

describe('a customer id must match the configured pattern, whole', () => {
  it('the default pattern accepts 24 hex digits in either case', () => {
    expect(isValidCustomerId(CUSTOMER, DEFAULT_PATTERN)).toBe(true);
    expect(isValidCustomerId(CUSTOMER.toUpperCase(), DEFAULT_PATTERN)).toBe(true);
    expect(isValidCustomerId('64B7f0C2e4B0a1B2c3D4e5F6', DEFAULT_PATTERN)).toBe(true);
  });

  it.each([
    ['too short', CUSTOMER.slice(1)],
    ['too long', `${CUSTOMER}0`],
    ['not hex', 'zzb7f0c2e4b0a1b2c3d4e5f6'],
    ['empty', ''],
    ['a request id', 'R7K2M9QXAB'],
    ['a Slack mention', '<!channel>'],
  ])('%s is refused', (_what, id) => {
    expect(isValidCustomerId(id, DEFAULT_PATTERN)).toBe(false);
  });

  it.each([
    ['a space', 'abc def'],
    ['a tab', 'abc\tdef'],
    ['a newline', 'abc\ndef'],
    ['a NUL', 'abc\u0000def'],
    ['an escape', 'abc\u001bdef'],
    ['a trailing newline', 'abcdef\n'],
  ])('an id with %s is refused even by a pattern that allows anything', (_what, id) => {
    expect(isValidCustomerId(id, /.+/s)).toBe(false);
    expect(isValidCustomerId(id, /[\s\S]*/)).toBe(false);
  });

  it('an id longer than 128 characters is refused even by a permissive pattern', () => {
    expect(isValidCustomerId('a'.repeat(128), /[a-z]+/)).toBe(true);
    expect(isValidCustomerId('a'.repeat(129), /[a-z]+/)).toBe(false);
  });

  it('a custom pattern without anchors must still match the whole id', () => {
    const pattern = /[0-9]{3}/;
    expect(isValidCustomerId('123', pattern)).toBe(true);
    expect(isValidCustomerId('abc123', pattern)).toBe(false);
    expect(isValidCustomerId('123abc', pattern)).toBe(false);
    expect(isValidCustomerId('1234', pattern)).toBe(false);
  });

  it('an alternation without anchors must match the whole id with one branch', () => {
    const pattern = /cus_[a-z]+|[0-9]{24}/;
    expect(isValidCustomerId('cus_abc', pattern)).toBe(true);
    expect(isValidCustomerId('cus_abc; DROP', pattern)).toBe(false);
    expect(isValidCustomerId('x000000000000000000000000', pattern)).toBe(false);
  });

  it('a pattern with only one anchor still matches the whole id', () => {
    expect(isValidCustomerId(`${CUSTOMER}zz`, /^[0-9a-f]{24}/)).toBe(false);
    expect(isValidCustomerId(`zz${CUSTOMER}`, /[0-9a-f]{24}$/)).toBe(false);
  });

  it('the pattern’s flags are kept (case-insensitive)', () => {
    expect(isValidCustomerId('CUS_ABC', /cus_[a-z]+/i)).toBe(true);
    expect(isValidCustomerId('CUS_ABC', /cus_[a-z]+/)).toBe(false);
  });

  it('a global pattern gives the same answer every time', () => {
    const pattern = /^[0-9a-f]{24}$/g;
    for (let i = 0; i < 3; i++) expect(isValidCustomerId(CUSTOMER, pattern)).toBe(true);
  });
});

describe('request ids are short, typeable and never a customer id', () => {
  it('the ids the bot makes are request ids, and never valid customer ids', () => {
    for (let i = 0; i < 200; i++) {
      const id = newRequestId();
      expect(isRequestId(id)).toBe(true);
      expect(isValidCustomerId(id, DEFAULT_PATTERN)).toBe(false);
    }
  });

  it('a request id typed in lower case is recognised', () => {
    expect(isRequestId('r7k2m9qxab')).toBe(true);
  });

  it.each([
    ['a customer id', CUSTOMER],
    ['too short', 'R7K2M9QXA'],
    ['too long', 'R7K2M9QXABC'],
    ['not starting with R', 'X7K2M9QXAB'],
    ['an ambiguous letter I', 'R7K2M9QXAI'],
    ['an ambiguous letter O', 'R7K2M9QXAO'],
    ['empty', ''],
    ['with spaces', ' R7K2M9QXAB '],
  ])('%s is not a request id', (_what, text) => {
    expect(isRequestId(text)).toBe(false);
  });
});

describe('durations are written like 90s, 15m, 24h, 7d', () => {
  it.each<[string, number]>([
    ['90s', 90_000],
    ['15m', 900_000],
    ['24h', 86_400_000],
    ['7d', 604_800_000],
    ['500ms', 500],
    ['0s', 0],
    ['0', 0],
    ['2H', 7_200_000],
    [' 5 m ', 300_000],
  ])('%p is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['10x', '10', '-5s', '1.5h', '', 's', 'h24', '24 hours', '1h30m', '99999999999999999999d'])(
    '%p is not a duration',
    (text) => {
      expect(parseDuration(text)).toBeNull();
    },
  );

  it.each<[number, string]>([
    [0, '0s'],
    [90_000, '90s'],
    [900_000, '15m'],
    [3_600_000, '1h'],
    [604_800_000, '7d'],
    [1500, '1500ms'],
  ])('%d ms is shown as %p', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('24 hours is shown as a whole number of a single unit', () => {
    expect(['24h', '1d']).toContain(formatDuration(86_400_000));
  });

  it('what is shown reads back as the same duration', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 365 * 86_400_000 }), (ms) => parseDuration(formatDuration(ms)) === ms),
      { numRuns: 500 },
    );
  });
});
