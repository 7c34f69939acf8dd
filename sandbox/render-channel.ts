// Shows a sandbox channel as people would see it in Slack, in a terminal: each message's latest
// version rendered from its blocks, its thread indented beneath, and what was shown to one person
// only. Slack mrkdwn becomes readable text (mentions, dates, links, entities, emoji); ANSI colour is
// optional. Used by `npm run demo`; pure functions, so tests can use them too.
import type { Ephemeral, SlackMessage } from './fake-slack';

export interface RenderOptions {
  /** ANSI colour and bold/italic (only for a terminal). Default false: plain text. */
  color?: boolean;
  /** Display names by Slack user id: `<@U123>` becomes `@name` (else `@U123`). */
  names?: Readonly<Record<string, string>>;
  /** Channel names by id: `<#C123>` becomes `#name` (else `#C123`). */
  channelNames?: Readonly<Record<string, string>>;
  /** Who posts the messages, shown above each one. Default `bp-delete`. */
  botName?: string;
  /** Turn known `:emoji:` codes into the characters. Default true. */
  emoji?: boolean;
}

/** Where the messages come from: a FakeSlack, or anything shaped like it. */
export interface ChannelSource {
  channelMessages(channel: string): SlackMessage[];
  thread(channel: string, ts: string): SlackMessage[];
}

const EMOJI: Readonly<Record<string, string>> = {
  alarm_clock: '⏰',
  bust_in_silhouette: '👤',
  gear: '⚙️',
  grey_question: '❔',
  hourglass_flowing_sand: '⏳',
  inbox_tray: '📥',
  information_source: 'ℹ️',
  leftwards_arrow_with_hook: '↩️',
  mag: '🔍',
  no_entry: '⛔',
  no_entry_sign: '🚫',
  octagonal_sign: '🛑',
  stopwatch: '⏱️',
  test_tube: '🧪',
  warning: '⚠️',
  wastebasket: '🗑️',
  white_check_mark: '✅',
  x: '❌',
};

const ANSI = {
  bold: ['\x1b[1m', '\x1b[22m'],
  dim: ['\x1b[2m', '\x1b[22m'],
  italic: ['\x1b[3m', '\x1b[23m'],
  underline: ['\x1b[4m', '\x1b[24m'],
  strike: ['\x1b[9m', '\x1b[29m'],
  red: ['\x1b[31m', '\x1b[39m'],
  green: ['\x1b[32m', '\x1b[39m'],
  yellow: ['\x1b[33m', '\x1b[39m'],
  blue: ['\x1b[34m', '\x1b[39m'],
  magenta: ['\x1b[35m', '\x1b[39m'],
  cyan: ['\x1b[36m', '\x1b[39m'],
} as const;

type Style = keyof typeof ANSI;

function paint(options: RenderOptions, text: string, ...styles: Style[]): string {
  if (!options.color || text === '') return text;
  return styles.reduce((out, s) => `${ANSI[s][0]}${out}${ANSI[s][1]}`, text);
}

/** The visible length of a string (ANSI codes don't count). */
export function visibleLength(text: string): number {
  return Array.from(text.replace(/\x1b\[[0-9;]*m/g, '')).length;
}

/** Slack's three entities, decoded (`&amp;` last, so `&amp;lt;` stays `&lt;`). */
export function decodeEntities(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

function renderToken(inner: string, options: RenderOptions): string {
  const bar = inner.indexOf('|');
  const target = bar >= 0 ? inner.slice(0, bar) : inner;
  const label = bar >= 0 ? inner.slice(bar + 1) : null;
  if (target.startsWith('@')) {
    const id = target.slice(1);
    return paint(options, `@${label ?? options.names?.[id] ?? id}`, 'bold', 'blue');
  }
  if (target.startsWith('#')) {
    const id = target.slice(1);
    return paint(options, `#${label ?? options.channelNames?.[id] ?? id}`, 'bold', 'blue');
  }
  if (target.startsWith('!')) {
    const [kind, ...rest] = target.slice(1).split('^');
    if (kind === 'date') {
      if (label !== null) return inline(label, options);
      const seconds = Number(rest[0]);
      return Number.isFinite(seconds) ? new Date(seconds * 1000).toISOString() : target;
    }
    if (kind === 'subteam') return paint(options, label ?? `@${rest[0] ?? 'group'}`, 'bold', 'blue');
    if (kind === 'here' || kind === 'channel' || kind === 'everyone') {
      return paint(options, `@${kind}`, 'bold', 'yellow');
    }
    return label !== null ? inline(label, options) : target;
  }
  // A link: show its label and where it goes.
  if (label === null || label === target) return paint(options, target, 'underline', 'cyan');
  return `${inline(label, options)} ${paint(options, `(${target})`, 'dim')}`;
}

/** One line of mrkdwn as readable text: code, mentions, links and dates first, then *bold* _italic_ ~strike~. */
function inline(text: string, options: RenderOptions): string {
  const held: string[] = [];
  const hold = (rendered: string) => `\u0000${held.push(rendered) - 1}\u0001`;
  let out = text.replace(/`([^`\n]+)`|<([^<>\n]+)>/g, (_match, code: string | undefined, token: string | undefined) =>
    code !== undefined
      ? hold(options.color ? paint(options, decodeEntities(code), 'cyan') : `\`${decodeEntities(code)}\``)
      : hold(renderToken(token ?? '', options)),
  );
  out = out
    .replace(/(^|[^\w*])\*(?=\S)([^*\n]*?\S)\*(?=[^\w*]|$)/g, (_m, pre: string, t: string) =>
      options.color ? pre + paint(options, t, 'bold') : pre + t,
    )
    .replace(/(^|[^\w_])_(?=\S)([^_\n]*?\S)_(?=[^\w_]|$)/g, (_m, pre: string, t: string) =>
      options.color ? pre + paint(options, t, 'italic') : pre + t,
    )
    .replace(/(^|[^\w~])~(?=\S)([^~\n]*?\S)~(?=[^\w~]|$)/g, (_m, pre: string, t: string) =>
      options.color ? pre + paint(options, t, 'strike') : pre + t,
    );
  if (options.emoji !== false) out = out.replace(/:([a-z0-9_+-]+):/g, (m, name: string) => EMOJI[name] ?? m);
  out = decodeEntities(out);
  return out.replace(/\u0000(\d+)\u0001/g, (_m, i: string) => held[Number(i)] ?? '');
}

/** Slack mrkdwn as readable text; block quotes (`>` at a line start) become `│ `. */
export function mrkdwnToText(text: string, options: RenderOptions = {}): string {
  return text
    .split('\n')
    .map((line) =>
      line.startsWith('>') ? paint(options, '│ ', 'dim') + inline(line.slice(1), options) : inline(line, options),
    )
    .join('\n');
}

interface TextObject {
  type?: string;
  text?: string;
}

function textOf(object: TextObject | undefined, options: RenderOptions): string {
  if (!object || typeof object.text !== 'string') return '';
  return object.type === 'mrkdwn' ? mrkdwnToText(object.text, options) : object.text;
}

interface Element {
  type?: string;
  text?: TextObject | string;
  style?: string;
  placeholder?: TextObject;
  alt_text?: string;
  elements?: Element[];
  url?: string;
  user_id?: string;
  channel_id?: string;
  name?: string;
}

function buttonLabel(element: Element, options: RenderOptions): string {
  const label = `[${typeof element.text === 'string' ? element.text : textOf(element.text, options)}]`;
  if (element.style === 'danger') return paint(options, label, 'bold', 'red');
  if (element.style === 'primary') return paint(options, label, 'bold', 'green');
  return paint(options, label, 'bold');
}

function elementLabel(element: Element, options: RenderOptions): string {
  switch (element.type) {
    case 'button':
      return buttonLabel(element, options);
    case 'image':
      return paint(options, `[image: ${element.alt_text ?? ''}]`, 'dim');
    case 'mrkdwn':
    case 'plain_text':
      return textOf(element as TextObject, options);
    default:
      return paint(options, `[${element.placeholder ? textOf(element.placeholder, options) : element.type} ▾]`, 'bold');
  }
}

/** Field text like `*Customer*\n`id`` as `Customer: id`. */
function fieldText(field: TextObject, options: RenderOptions): string {
  const raw = field.text ?? '';
  const label = field.type === 'mrkdwn' ? /^\*([^*\n]+)\*\n([\s\S]*)$/.exec(raw) : null;
  if (!label) return textOf(field, options).replace(/\n/g, ' ');
  const value = mrkdwnToText(label[2] ?? '', options).replace(/\n/g, ' ');
  return `${paint(options, `${label[1]}:`, 'bold')} ${value}`;
}

function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - visibleLength(text)));
}

function richText(elements: Element[] | undefined, options: RenderOptions): string {
  return (elements ?? [])
    .map((e) => {
      if (e.elements) return richText(e.elements, options);
      if (e.type === 'user') return renderToken(`@${e.user_id ?? ''}`, options);
      if (e.type === 'channel') return renderToken(`#${e.channel_id ?? ''}`, options);
      if (e.type === 'link')
        return renderToken(`${e.url ?? ''}${typeof e.text === 'string' ? `|${e.text}` : ''}`, options);
      if (e.type === 'emoji') return options.emoji === false ? `:${e.name}:` : (EMOJI[e.name ?? ''] ?? `:${e.name}:`);
      return typeof e.text === 'string' ? e.text : '';
    })
    .join('');
}

interface Block {
  type?: string;
  text?: TextObject;
  fields?: TextObject[];
  accessory?: Element;
  elements?: Element[];
  label?: TextObject;
  element?: Element;
  alt_text?: string;
  title?: TextObject;
}

/** A message's blocks as lines of text; the fallback `text` when it has none. */
export function renderBlocks(blocks: readonly unknown[], fallback: string, options: RenderOptions = {}): string[] {
  if (blocks.length === 0) return mrkdwnToText(fallback, options).split('\n');
  const lines: string[] = [];
  for (const block of blocks as Block[]) {
    switch (block.type) {
      case 'header':
        lines.push(paint(options, textOf(block.text, options), 'bold', 'underline'));
        break;
      case 'section': {
        if (block.text) {
          const text = textOf(block.text, options).split('\n');
          if (block.accessory) text[text.length - 1] += `  ${elementLabel(block.accessory, options)}`;
          lines.push(...text);
        }
        if (block.fields && block.fields.length > 0) {
          const cells = block.fields.map((f) => fieldText(f, options));
          const width = Math.min(44, Math.max(...cells.filter((_, i) => i % 2 === 0).map(visibleLength)) + 4);
          for (let i = 0; i < cells.length; i += 2) {
            const right = cells[i + 1];
            lines.push(right === undefined ? (cells[i] ?? '') : pad(cells[i] ?? '', width) + right);
          }
        }
        break;
      }
      case 'context':
        lines.push(paint(options, (block.elements ?? []).map((e) => elementLabel(e, options)).join('  '), 'dim'));
        break;
      case 'divider':
        lines.push(paint(options, '─'.repeat(40), 'dim'));
        break;
      case 'actions':
        lines.push((block.elements ?? []).map((e) => elementLabel(e, options)).join(' '));
        break;
      case 'input':
        lines.push(`${textOf(block.label, options)}: ${paint(options, '[ ________ ]', 'dim')}`);
        break;
      case 'image':
        lines.push(paint(options, `[image: ${block.alt_text ?? textOf(block.title, options)}]`, 'dim'));
        break;
      case 'rich_text':
        lines.push(...richText(block.elements, options).split('\n'));
        break;
      default:
        lines.push(paint(options, `[${block.type ?? 'unknown'} block]`, 'dim'));
    }
  }
  return lines;
}

function indent(lines: string[], first: string, rest: string): string[] {
  return lines.map((line, i) => (i === 0 ? first : rest) + line);
}

/** One top-level message (its latest version) with its thread replies indented beneath. */
export function renderMessage(
  message: SlackMessage,
  replies: readonly SlackMessage[],
  options: RenderOptions = {},
): string {
  const edits = message.history.length - 1;
  const head = [
    paint(options, options.botName ?? 'bp-delete', 'bold', 'magenta'),
    paint(options, 'APP', 'dim'),
    edits > 0 ? paint(options, `(edited ${edits} time${edits === 1 ? '' : 's'})`, 'dim') : '',
  ]
    .filter(Boolean)
    .join(' ');
  const lines = [head, ...indent(renderBlocks(message.blocks, message.text, options), '  ', '  ')];
  if (replies.length > 0) {
    lines.push(paint(options, `  ↳ thread, ${replies.length} repl${replies.length === 1 ? 'y' : 'ies'}:`, 'dim'));
    for (const reply of replies) {
      lines.push(...indent(renderBlocks(reply.blocks, reply.text, options), '    • ', '      '));
    }
  }
  return lines.join('\n');
}

/** Every top-level message of a channel, oldest first, each with its thread. */
export function renderChannel(source: ChannelSource, channel: string, options: RenderOptions = {}): string {
  const name = `#${options.channelNames?.[channel] ?? channel}`;
  const messages = source.channelMessages(channel);
  const title = paint(options, `${name}: ${messages.length} message${messages.length === 1 ? '' : 's'}`, 'bold');
  const body = messages.map((m) => renderMessage(m, source.thread(channel, m.ts), options));
  return [title, '', ...body.flatMap((m) => [m, ''])].join('\n').trimEnd();
}

const VIA: Record<Ephemeral['via'], string> = {
  command_response: 'answer to the slash command',
  'chat.postEphemeral': 'ephemeral message',
  response_url: 'via response_url',
};

/** What each person was shown privately, in the order it was shown. */
export function renderPrivateAnswers(answers: readonly Ephemeral[], options: RenderOptions = {}): string {
  const title = paint(options, 'Only visible to you (each line was shown to one person only):', 'bold');
  if (answers.length === 0) return `${title}\n  (nothing)`;
  const lines = [title];
  answers.forEach((answer, i) => {
    const who = answer.user ? renderToken(`@${answer.user}`, options) : paint(options, 'the clicker', 'bold');
    const head = `${String(i + 1).padStart(2)}. to ${who} ${paint(options, `(${VIA[answer.via]})`, 'dim')}`;
    lines.push(head, ...indent(mrkdwnToText(answer.text, options).split('\n'), '      ', '      '));
  });
  return lines.join('\n');
}
