// The redactor under every log line and the audit export: real secrets go wherever they appear, and a short
// database password does not rewrite the words it happens to spell.
import { createLogger, createRedactor } from '../../src/logger';
import { toBoltLogger } from '../../src/receiver';

const BOT_TOKEN = 'xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx';
const APP_TOKEN = 'xapp-1-A0123456789-1234567890123-0a1b2c3d4e5f6a7b8c9d';
const SIGNING_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const BOTPENGUIN_TOKEN = 'bp_live_Zx9!"quoted"\\slash';
const DB_PASSWORD = 'pw-Secret-8842';
const DB_URL = `postgres://bot:${DB_PASSWORD}@db.internal:5432/bp`;
const SHORT_DB_URL = 'postgres://postgres:test@127.0.0.1:5432/test';

const redact = createRedactor([BOT_TOKEN, APP_TOKEN, SIGNING_SECRET, BOTPENGUIN_TOKEN, DB_URL, DB_PASSWORD]);
const SECRETS = [BOT_TOKEN, APP_TOKEN, SIGNING_SECRET, BOTPENGUIN_TOKEN, DB_PASSWORD];

describe('real secrets are redacted wherever they appear', () => {
  it.each([
    ['alone', (s: string) => s],
    ['in a sentence', (s: string) => `invalid token ${s}, try again`],
    ['glued to other text', (s: string) => `x${s}y`],
    ['in a header', (s: string) => `Authorization: Bearer ${s}`],
    ['in a URL query', (s: string) => `https://hooks.example/cb?token=${encodeURIComponent(s)}&retry=1`],
    ['in a JSON string', (s: string) => JSON.stringify({ error: `refused ${s}` })],
    ['twice', (s: string) => `${s} and ${s}`],
  ])('%s', (_where, place) => {
    for (const secret of SECRETS) {
      const out = redact(place(secret));
      expect(out).not.toContain(secret);
      expect(out).not.toContain(encodeURIComponent(secret));
      expect(out).not.toContain(JSON.stringify(secret).slice(1, -1));
      expect(out).toContain('[redacted]');
    }
  });

  it('a database URL: whole when it is a listed secret, its password in any URL whatever its length', () => {
    expect(redact(`could not connect to ${DB_URL}`)).toBe('could not connect to [redacted]');
    const short = createRedactor([SHORT_DB_URL, 'test']);
    expect(short(JSON.stringify({ url: 'postgresql://ops:ops1@10.0.0.7/bp?sslmode=require' }))).toBe(
      JSON.stringify({ url: 'postgresql://ops:[redacted]@10.0.0.7/bp?sslmode=require' }),
    );
    // A password with `@` and `:` in it, as people do write them unencoded.
    expect(short('see postgres://u:p@ss:w0rd@host/db now')).toBe('see postgres://u:[redacted]@host/db now');
    // A URL without a password (or with a port only) is left alone.
    expect(short('https://example.com:8443/path?a=b and ftp://user@host/')).toBe(
      'https://example.com:8443/path?a=b and ftp://user@host/',
    );
  });

  it('the logger writes no secret, from the message or any field', () => {
    const lines: string[] = [];
    const logger = createLogger({ level: 'debug', secrets: SECRETS, write: (line) => lines.push(line) });
    logger.error(`failed with ${BOT_TOKEN}`, { body: { message: `Bearer ${BOTPENGUIN_TOKEN}` }, url: DB_URL });
    expect(lines).toHaveLength(1);
    for (const secret of SECRETS) expect(lines[0]).not.toContain(secret);
    expect(JSON.parse(lines[0])).toMatchObject({ msg: 'failed with [redacted]' });
  });
});

describe('words that happen to spell a short secret stay as typed', () => {
  const short = createRedactor([SHORT_DB_URL, 'test', 'ops1', ' ops1\n', BOT_TOKEN]);

  it('a reason keeps "test" and "ops1" when the database password is one of them', () => {
    const reason = 'test account of the ops1 team (testing done); ticket OPS1-test';
    expect(short(reason)).toBe(reason);
  });

  it('while a real token in the same text still goes', () => {
    expect(short(`test account, token ${BOT_TOKEN} pasted by ops1`)).toBe(
      'test account, token [redacted] pasted by ops1',
    );
  });

  it('a value below 8 characters is never looked for in free text, one of 8 always is', () => {
    expect(createRedactor(['1234567'])('pin 1234567')).toBe('pin 1234567');
    expect(createRedactor(['12345678'])('pin 12345678')).toBe('pin [redacted]');
  });
});

describe("Bolt's debug lines (the Web API client's, each with a call's body)", () => {
  const lines = (level: 'debug' | 'info') => {
    const written: string[] = [];
    const bolt = toBoltLogger(createLogger({ level, secrets: [], write: (line) => written.push(line) }));
    bolt.debug('http request body: {"text":"Ada Lovelace","blocks":[]}');
    bolt.info('started');
    return written;
  };

  it('are not written with debug off; info lines still are', () => {
    const written = lines('info');
    expect(written).toHaveLength(1);
    expect(written[0]).toContain('started');
  });

  it('are written with debug on, without the body (it can hold a customer’s name and email)', () => {
    const written = lines('debug');
    expect(written).toHaveLength(2);
    expect(written[0]).toContain('http request body: (not logged');
    expect(written.join('')).not.toContain('Ada Lovelace');
  });
});
