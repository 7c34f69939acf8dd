// Structured JSON-lines logging with secret redaction: no token may reach a log line, whatever a caller passes.
import type { LogLevel } from './config';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

export function createRedactor(secrets: ReadonlyArray<string | undefined>): (text: string) => string {
  // Longest first, so a secret that contains another is replaced whole.
  const list = secrets
    .filter((s): s is string => typeof s === 'string' && s.length >= 4)
    .sort((a, b) => b.length - a.length);
  return (text) => {
    let out = text;
    for (const secret of list) out = out.split(secret).join('[redacted]');
    return out;
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
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
