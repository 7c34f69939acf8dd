// In front of Bolt's HTTP receiver, for POST /slack/events only: the checks Bolt 5.1 leaves open.
// - A timestamp more than five minutes in the future gets 401 (Bolt refuses only old ones; docs/DESIGN.md §3).
// - The body is read here, capped (413), and handed on as `rawBody`, which Bolt reuses for its signature check.
// - A signed body whose JSON (or `payload` field) is not an object gets 400: Bolt reads `body.ssl_check`
//   unguarded, so a `null` payload rejects a promise nobody catches and the process stops.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { isValidSlackRequest } from '@slack/bolt';
import type { Logger } from './logger';

const MAX_SKEW_SECONDS = 5 * 60;

export interface SlackEventsGuardOptions {
  path: string;
  signingSecret: string;
  limitBytes: number;
  logger: Logger;
}

export function guardSlackEvents(next: RequestListener, options: SlackEventsGuardOptions): RequestListener {
  return (req, res) => {
    if (req.method?.toUpperCase() !== 'POST' || pathOf(req.url) !== options.path) {
      next(req, res);
      return;
    }
    const timestamp = Number(req.headers['x-slack-request-timestamp']);
    if (Number.isFinite(timestamp) && timestamp - Date.now() / 1000 > MAX_SKEW_SECONDS) {
      options.logger.warn('refused a request signed with a timestamp from the future');
      answer(req, res, 401);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > options.limitBytes) {
        refused = true;
        options.logger.warn('refused a request body over the size limit', { limitBytes: options.limitBytes });
        answer(req, res, 413);
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => {
      refused = true;
    });
    req.on('end', () => {
      if (refused) return;
      const rawBody = Buffer.concat(chunks);
      if (!isObjectBody(rawBody, req.headers['content-type']) && signedBySlack(req, rawBody, options.signingSecret)) {
        options.logger.warn('refused a signed request whose body is not a JSON object');
        answer(req, res, 400);
        return;
      }
      (req as IncomingMessage & { rawBody?: Buffer }).rawBody = rawBody;
      next(req, res);
    });
  };
}

function pathOf(url: string | undefined): string | null {
  try {
    return new URL(url ?? '/', 'http://localhost').pathname;
  } catch {
    return null;
  }
}

function answer(req: IncomingMessage, res: ServerResponse, status: number): void {
  req.pause();
  if (!res.headersSent) res.writeHead(status, { connection: 'close' });
  res.end();
}

/** Parsed as Bolt parses it: is it an object Bolt can read fields of? Unparseable JSON is Bolt's to refuse. */
function isObjectBody(rawBody: Buffer, contentType: string | undefined): boolean {
  const text = rawBody.toString();
  let json: string = text;
  if (contentType?.split(';')[0]?.trim().toLowerCase() === 'application/x-www-form-urlencoded') {
    const { payload } = parseQuery(text);
    if (typeof payload !== 'string') return true;
    json = payload;
  }
  try {
    const value: unknown = JSON.parse(json);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return true;
  }
}

function signedBySlack(req: IncomingMessage, rawBody: Buffer, signingSecret: string): boolean {
  const signature = req.headers['x-slack-signature'];
  if (typeof signature !== 'string') return false;
  return isValidSlackRequest({
    signingSecret,
    body: rawBody.toString(),
    headers: {
      'x-slack-signature': signature,
      'x-slack-request-timestamp': Number(req.headers['x-slack-request-timestamp']),
    },
  });
}
