// Making untrusted text safe and short for Slack mrkdwn and plain_text.

/**
 * Escape user or BotPenguin text for mrkdwn: `<`, `>` and `&` become entities, so no `<!channel>`,
 * `<@U…>`, `<#C…>` or `<http…|label>` survives, and bare @channel/@here/@everyone get a zero-width
 * joiner so they can never notify anybody even if a client parses them.
 */
export function escapeMrkdwn(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/@(channel|here|everyone)\b/gi, '@\u2060$1');
}

const ELLIPSIS = '…';

/** Cut text to at most `max` characters (code points), saying how much was cut. */
export function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  if (chars.length <= max) return text;
  const note = `${ELLIPSIS} (${chars.length} characters, cut)`;
  return chars.slice(0, Math.max(0, max - note.length)).join('') + note;
}

/** Escape, then fit into `max` characters of mrkdwn (entities count as the characters they take). */
export function safeMrkdwn(text: string, max: number): string {
  const escaped = escapeMrkdwn(text);
  if (escaped.length <= max) return escaped;
  const chars = Array.from(text);
  const note = `${ELLIPSIS} (${chars.length} characters, cut)`;
  // Count what each character becomes once escaped; one spare per character covers the
  // zero-width joiner that an @channel may gain. Never splits an entity.
  let budget = max - note.length;
  let kept = 0;
  for (const ch of chars) {
    const cost = ch === '&' ? 5 : ch === '<' || ch === '>' ? 4 : ch === '@' ? ch.length + 1 : ch.length;
    if (cost > budget) break;
    budget -= cost;
    kept += 1;
  }
  return escapeMrkdwn(chars.slice(0, kept).join('')) + note;
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
