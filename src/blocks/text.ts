// Text to and from Slack: decoding what Slack sends, escaping untrusted text for mrkdwn, and the one
// helper that cuts mrkdwn to fit Slack's limits.

/**
 * A slash command's `text` as the person typed it. Slack sends `&`, `<` and `>` typed by a person as
 * `&amp;`, `&lt;` and `&gt;` (its escaping for all text, docs: "Formatting text for app surfaces" →
 * "Escaping text"), so a literal `<` or `>` in what arrives is a sequence Slack made: with the command's
 * `should_escape: false` (our manifest) there are none; if an operator turns escaping on, mentions,
 * channels and links arrive as `<@U123|name>`, `<#C123|name>`, `<https://…|typed>`, and become what was
 * typed (`@name`, `#name`, the link's label or URL). One pass, so `&amp;lt;` becomes `&lt;`, not `<`.
 */
export function decodeSlackText(text: string): string {
  return text.replace(
    /<([^<>]*)>|&(amp|lt|gt);/g,
    (_match, sequence: string | undefined, entity: string | undefined) => {
      if (entity !== undefined) return ENTITIES[entity] ?? '';
      return readableSequence(sequence ?? '').replace(/&(amp|lt|gt);/g, (_m, inner: string) => ENTITIES[inner] ?? '');
    },
  );
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>' };

function readableSequence(sequence: string): string {
  const bar = sequence.indexOf('|');
  const target = bar === -1 ? sequence : sequence.slice(0, bar);
  const label = bar === -1 ? '' : sequence.slice(bar + 1);
  if (target.startsWith('@')) return label ? `@${label.replace(/^@/, '')}` : target;
  if (target.startsWith('#')) return label ? `#${label.replace(/^#/, '')}` : target;
  if (target.startsWith('!')) {
    // <!here>, <!channel>, <!subteam^S123|@team>, <!date^…|fallback>
    if (label) return label;
    const word = target.slice(1).split('^')[0] ?? '';
    return `@${word}`;
  }
  return label || target;
}

/**
 * Escape user or BotPenguin text for mrkdwn: `<`, `>` and `&` become entities, so no `<!channel>`,
 * `<@U…>`, `<#C…>` or `<http…|label>` survives, and bare @channel/@here/@everyone get a zero-width
 * joiner so they can never notify anybody even if a client parses them. Also where a letter follows
 * (`@channelZ`): a cut for length could otherwise leave a bare `@channel` before the `…`.
 */
export function escapeMrkdwn(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/@(channel|here|everyone)/gi, '@\u2060$1');
}

const ELLIPSIS = '…';

/** Cut text to at most `max` characters (code points), saying how much was cut. */
export function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  const note = `${ELLIPSIS} (${chars.length} characters, cut)`;
  return chars.slice(0, Math.max(0, max - note.length)).join('') + note;
}

/** Escape, then fit into `max` characters of mrkdwn, saying how long the original was if it had to be cut. */
export function safeMrkdwn(text: string, max: number): string {
  const escaped = escapeMrkdwn(text);
  if (escaped.length <= max) return escaped;
  return fitMrkdwn(escaped, max, `${ELLIPSIS} (${Array.from(text).length} characters, cut)`);
}

/**
 * The pieces mrkdwn may be cut between: a control sequence `<…>` (mention, channel, user group, link, date
 * token, `<!here>`), one of the three entities, or else one code point (so no surrogate pair is split).
 */
const MRKDWN_TOKEN = /<[^<>]*>|&(?:amp|lt|gt);|[\s\S]/gu;

export const CUT_NOTE = `${ELLIPSIS} (cut)`;

/**
 * The one place that decides how mrkdwn is cut: at most `max` UTF-16 units (what `.length` and Slack's
 * limits count), cut between tokens so no entity, link, mention or date token is ever split, and ending
 * with `note` so the reader sees it was cut. Text that fits is returned as it is. When even the note
 * does not fit, a bare `…` (or nothing, for `max` 0) is used instead.
 */
export function fitMrkdwn(text: string, max: number, note: string = CUT_NOTE): string {
  if (text.length <= max) return text;
  const ending = note.length <= max ? note : max >= ELLIPSIS.length ? ELLIPSIS : '';
  const budget = max - ending.length;
  let end = 0;
  for (const token of text.matchAll(MRKDWN_TOKEN)) {
    const next = token.index + token[0].length;
    if (next > budget) break;
    end = next;
  }
  return text.slice(0, end).trimEnd() + ending;
}

/**
 * Whole lines (or multi-line entries) joined by newlines, within `max`: when they don't all fit, the last
 * ones are left out and `more(n)` says how many. A first entry too long on its own is cut with fitMrkdwn.
 */
export function fitLines(entries: readonly string[], max: number, more: (left: number) => string): string {
  const all = entries.join('\n');
  if (all.length <= max) return all;
  let kept = 0;
  let length = 0;
  for (const entry of entries) {
    const withEntry = length + (kept > 0 ? 1 : 0) + entry.length;
    const left = entries.length - kept - 1;
    if (withEntry + (left > 0 ? 1 + more(left).length : 0) > max) break;
    length = withEntry;
    kept += 1;
  }
  const left = entries.length - kept;
  if (kept === 0) {
    const tail = left > 1 ? `\n${more(left - 1)}` : '';
    return fitMrkdwn(entries[0] ?? '', Math.max(0, max - tail.length)) + (tail.length <= max ? tail : '');
  }
  return [...entries.slice(0, kept), more(left)].join('\n');
}

/** Plain text for header/button/title fields (no mrkdwn parsing there, only a length limit). */
export function plain(text: string, max: number): string {
  return truncate(text.replace(/[\r\n]+/g, ' '), max);
}

const MAX_QUOTE_LINES = 40;

/**
 * Untrusted text as an escaped mrkdwn block quote of at most `max` characters, keeping the author's
 * line breaks (at most 40 lines; the rest is joined). Each line's `>` counts against the limit.
 */
export function safeQuote(text: string, max: number): string {
  const lines = text.split(/\r?\n/);
  const kept =
    lines.length > MAX_QUOTE_LINES
      ? [...lines.slice(0, MAX_QUOTE_LINES - 1), lines.slice(MAX_QUOTE_LINES - 1).join(' ')]
      : lines;
  return quote(safeMrkdwn(kept.join('\n'), max - kept.length));
}

/** Mrkdwn as a block quote, line by line. */
export function quote(mrkdwn: string): string {
  return mrkdwn
    .split('\n')
    .map((line) => `>${line}`)
    .join('\n');
}

/** Slack's localised date token, with a UTC fallback for clients that can't render it. */
export function slackDate(ms: number, format = '{date_short_pretty} at {time}'): string {
  const seconds = Math.floor(ms / 1000);
  const fallback = `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return `<!date^${seconds}^${format}|${fallback}>`;
}

export function utcTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(11, 16)} UTC`;
}

export const mention = (userId: string) => `<@${userId}>`;

/** A user group mention, which notifies its members. */
export const groupMention = (groupId: string) => `<!subteam^${groupId}>`;

/** A short value (a customer id) as inline code: escaped, cut, and no backtick to end it early. */
export const code = (text: string) => `\`${safeMrkdwn(text, 200).replace(/`/g, "'")}\``;

/**
 * A request's ticket: a link when TICKET_URL_TEMPLATE made one, else inline code; null when it has none.
 * Slack's link syntax `<url|label>`: in the URL `&`, `<` and `>` become entities (the template has no `<`, `>`
 * or `|`, and the ticket is URL-encoded into it); the label is escaped like any text, and has no `|` or `>`.
 */
export function ticketLink(request: { ticket: string | null; ticketUrl: string | null }): string | null {
  if (!request.ticket) return null;
  if (!request.ticketUrl) return code(request.ticket);
  const url = request.ticketUrl.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  return `<${url}|${safeMrkdwn(request.ticket, 100).replace(/\|/g, '¦')}>`;
}

/** Quoted text from someone else (a person, BotPenguin), escaped and cut visibly. */
export const quoted = (text: string, max: number) => `“${safeMrkdwn(text, max)}”`;

/** Slack advises keeping a message's text within 4,000 characters (chat.postMessage, "Truncating content"). */
export const TEXT_LIMIT = 4000;
