// Parsing the text of `/bp-delete …`: the first word is a subcommand or a customer id, the rest the reason.

export type ParsedCommand =
  | { kind: 'help' }
  | { kind: 'list' }
  | { kind: 'status'; target: string | null }
  /** `close <request-id> deleted|kept [note]`; null parts when missing or not understood. */
  | { kind: 'close'; requestId: string | null; verdict: 'deleted' | 'kept' | null; note: string }
  | { kind: 'pause'; reason: string | null }
  | { kind: 'resume' }
  | { kind: 'deny'; requestId: string | null; reason: string | null }
  | { kind: 'cancel'; requestId: string | null }
  | { kind: 'abort'; requestId: string | null }
  | { kind: 'request'; customerId: string; reason: string };

/** Longest reason kept; Slack's own command text limit is lower, this guards the store. */
export const MAX_REASON_LENGTH = 4000;

export function parseCommand(text: string): ParsedCommand {
  const trimmed = text.trim();
  if (trimmed === '') return { kind: 'help' };
  const match = /^(\S+)(?:\s+([\s\S]*))?$/.exec(trimmed);
  const first = match?.[1] ?? '';
  const rest = (match?.[2] ?? '').trim();
  const word = first.toLowerCase();
  if (word === 'help' || word === '-h' || word === '--help') return { kind: 'help' };
  if (word === 'list') return { kind: 'list' };
  if (word === 'status') return { kind: 'status', target: rest.split(/\s+/)[0] || null };
  if (word === 'close') {
    const [, id = '', verdict = '', note = ''] = /^(\S*)\s*(\S*)\s*([\s\S]*)$/.exec(rest) ?? [];
    const v = verdict.toLowerCase();
    return {
      kind: 'close',
      requestId: isRequestId(id) ? id.toUpperCase() : null,
      verdict: v === 'deleted' || v === 'kept' ? v : null,
      note: Array.from(note.trim()).slice(0, MAX_REASON_LENGTH).join(''),
    };
  }
  const reason = (text: string) => Array.from(text).slice(0, MAX_REASON_LENGTH).join('') || null;
  if (word === 'pause') return { kind: 'pause', reason: reason(rest) };
  if (word === 'resume') return { kind: 'resume' };
  if (word === 'abort') {
    const id = rest.split(/\s+/)[0] ?? '';
    return { kind: 'abort', requestId: isRequestId(id) ? id.toUpperCase() : null };
  }
  if (word === 'deny' || word === 'cancel') {
    const [, id = '', why = ''] = /^(\S*)\s*([\s\S]*)$/.exec(rest) ?? [];
    const requestId = isRequestId(id) ? id.toUpperCase() : null;
    return word === 'deny' ? { kind: 'deny', requestId, reason: reason(why.trim()) } : { kind: 'cancel', requestId };
  }
  return { kind: 'request', customerId: first, reason: Array.from(rest).slice(0, MAX_REASON_LENGTH).join('') };
}

/** Each configured pattern, anchored to match whole (built once per pattern, not per command). */
const anchored = new WeakMap<RegExp, RegExp>();

/** Customer ids are matched whole against the configured pattern, whatever anchors it has. */
export function isValidCustomerId(id: string, pattern: RegExp): boolean {
  if (id.length === 0 || id.length > 128 || /[\s\u0000-\u001f]/.test(id)) return false;
  let whole = anchored.get(pattern);
  if (!whole) {
    whole = new RegExp(`^(?:${pattern.source})$`, pattern.flags.replace(/[gy]/g, ''));
    anchored.set(pattern, whole);
  }
  return whole.test(id);
}

/** Request ids look like R7K2M9QXAB: short enough to type, never a valid 24-hex customer id. */
export function isRequestId(text: string): boolean {
  return /^R[0-9A-HJKMNP-TV-Z]{9}$/.test(text.toUpperCase());
}
