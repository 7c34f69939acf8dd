// In front of Bolt's HTTP receiver, for POST /slack/events only: the checks Bolt 5.1 leaves open.
// - A timestamp more than five minutes in the future gets 401 (Bolt refuses only old ones; docs/DESIGN.md §3).
// - The body is read here, capped (413), and handed on as `rawBody`, which Bolt reuses for its signature check.
// - A signed body must be what Bolt can read, parsed by Bolt's own parser so the two always agree: a content
//   type Slack sends (415 otherwise: Bolt parses any other type as JSON, even a form with `; charset=utf-8`),
//   and an object (400 otherwise: Bolt reads `body.ssl_check` unguarded, so a `null` body rejects a promise
//   nobody catches and the process stops).
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { HTTPModuleFunctions, isValidSlackRequest } from './bolt';
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
      const body = readable(req, rawBody);
      if (body !== 'readable' && signedBySlack(req, rawBody, options.signingSecret)) {
        options.logger.warn('refused a signed request Bolt could not read', {
          reason: body,
          contentType: String(req.headers['content-type'] ?? '').slice(0, 100),
        });
        answer(req, res, body === 'content_type' ? 415 : 400);
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

/**
 * The content types Slack sends: commands and interactivity as a form (Bolt parses a form only under this
 * exact type), the Events API as JSON. Any other type Bolt would parse as JSON.
 */
const FORM = 'application/x-www-form-urlencoded';
const isJsonType = (type: string) => /^application\/json\s*(;|$)/i.test(type);

/** Parsed as Bolt parses it (its own function): is it an object Bolt can read fields of? */
function readable(req: IncomingMessage, rawBody: Buffer): 'readable' | 'content_type' | 'not_an_object' {
  const type = req.headers['content-type'] ?? '';
  if (type !== FORM && !isJsonType(type)) return 'content_type';
  let value: unknown;
  try {
    value = HTTPModuleFunctions.parseHTTPRequestBody(
      Object.assign(Object.create(req) as IncomingMessage, { rawBody }) as Parameters<
        typeof HTTPModuleFunctions.parseHTTPRequestBody
      >[0],
    );
  } catch {
    return 'not_an_object';
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? 'readable' : 'not_an_object';
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
