// Structured JSON-lines logging with secret redaction: no token may reach a log line, whatever a caller passes.
import type { LogLevel } from './config';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** Whether lines of this level are written (so a caller can skip building one that would be dropped). */
  enabled(level: LogLevel): boolean;
}

/**
 * Listed secrets shorter than this are not looked for in free text: a test database's password (`test`,
 * `ops1`) would rewrite those words in every reason. Tokens and signing secrets are far longer.
 */
const MIN_SECRET_LENGTH = 8;
/** The password in a URL's user info (`scheme://user:password@host`), whatever its length or whoever set it. */
const URL_PASSWORD = /([a-z][a-z0-9+.-]{0,31}:\/\/[^\s:@/?#"'<>]*:)[^\s/?#"'<>]*(?=@)/gi;
const REDACTED = '[redacted]';

/**
 * Replaces each secret, wherever it appears: as given, as a JSON string spells it and as a URL encodes it (a
 * secret of fewer than 8 characters only as a URL's password), and the password in any URL.
 */
export function createRedactor(secrets: ReadonlyArray<string | undefined>): (text: string) => string {
  const forms = secrets
    .filter((s): s is string => typeof s === 'string' && s.length >= MIN_SECRET_LENGTH)
    .flatMap((s) => [s, JSON.stringify(s).slice(1, -1), encodeURIComponent(s)]);
  // Longest first, so a secret that contains another is replaced whole.
  const list = [...new Set(forms)].sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const secret of list) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    // Most lines hold no URL: the search for one is skipped (a log line per request must stay cheap).
    return out.includes('://') ? out.replace(URL_PASSWORD, `$1${REDACTED}`) : out;
  };
}

export function errorFields(error: unknown): LogFields {
  if (error instanceof Error) return { error: error.message, errorName: error.name, stack: error.stack };
  return { error: String(error) };
}

export function createLogger(options: {
  level: LogLevel;
  secrets: ReadonlyArray<string | undefined>;
  write?: (line: string) => void;
}): Logger {
  const redact = createRedactor(options.secrets);
  const write = options.write ?? ((line: string) => process.stdout.write(line));
  const threshold = ORDER[options.level];
  const log =
    (level: LogLevel) =>
    (msg: string, fields: LogFields = {}) => {
      if (ORDER[level] < threshold) return;
      let line: string;
      try {
        line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields });
      } catch {
        line = JSON.stringify({ time: new Date().toISOString(), level, msg, note: 'fields not serialisable' });
      }
      write(`${redact(line)}\n`);
    };
  return {
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    enabled: (level) => ORDER[level] >= threshold,
  };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {}, enabled: () => false };
