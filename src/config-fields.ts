// The field types the settings are made of (config.ts): each parses one variable and says, without echoing
// the value, what is wrong with it.
import { z } from 'zod';
import { parseDuration } from './duration';

const unsetIfEmpty = (value: unknown) => (typeof value === 'string' && value.trim() === '' ? undefined : value);
export const optional = <T extends z.ZodType>(schema: T) => z.preprocess(unsetIfEmpty, schema.optional());
export const required = <T extends z.ZodType<unknown, string>>(schema: T) =>
  z.preprocess(unsetIfEmpty, z.string({ error: 'is required' }).pipe(schema));

export const token = (prefix: string) =>
  z
    .string()
    .trim()
    .refine((v) => v.startsWith(prefix), `must start with "${prefix}"`)
    .refine((v) => !/\s/.test(v), 'must not contain spaces');

const idList = (pattern: RegExp, what: string) =>
  z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((id) => id.trim())
        .filter((id) => id !== ''),
    )
    .refine((ids) => ids.every((id) => pattern.test(id)), {
      message: `must be a comma-separated list of Slack ${what} ids (like ${pattern.source.slice(1, 2)}0123ABCD)`,
    });
export const userIds = idList(/^[UW][A-Z0-9]{2,}$/, 'user');
export const usergroupIds = idList(/^S[A-Z0-9]{2,}$/, 'user group');
export const channelIds = idList(/^[CGD][A-Z0-9]{2,}$/, 'channel');

export const integer = (min: number, max: number) =>
  z
    .string()
    .trim()
    .refine((v) => /^\d+$/.test(v) && Number(v) >= min && Number(v) <= max, {
      message: `must be a whole number from ${min} to ${max}`,
    })
    .transform(Number);

export const duration = (allowZero: boolean) =>
  z.string().transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === null || (!allowZero && ms === 0)) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a duration like 90s, 15m, 24h or 7d${allowZero ? ' (0s for none)' : ''}`,
      });
      return z.NEVER;
    }
    return ms;
  });

export const httpUrl = z
  .string()
  .trim()
  .refine((v) => {
    try {
      const url = new URL(v);
      return url.protocol === 'https:' || url.protocol === 'http:';
    } catch {
      return false;
    }
  }, 'must be an http(s) URL');

// Standard Webhooks: "whsec_" then the base64 of a 24 to 64 byte key (the spec's bounds).
export const webhookSecret = z
  .string()
  .trim()
  .refine((v) => {
    const key = v.slice('whsec_'.length);
    if (!v.startsWith('whsec_') || !/^[A-Za-z0-9+/]+={0,2}$/.test(key) || key.length % 4 !== 0) return false;
    const bytes = Buffer.from(key, 'base64').length;
    return bytes >= 24 && bytes <= 64;
  }, 'must be a Standard Webhooks secret: whsec_ followed by the base64 of a 24 to 64 byte key');

export const bool = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['true', 'false', '1', '0', 'yes', 'no'].includes(v), 'must be true or false')
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

// Only the two spellings pg users expect; unset means "let the URL's sslmode decide".
export const strictBool = z
  .string()
  .trim()
  .toLowerCase()
  .refine((v) => ['true', 'false', '1', '0'].includes(v), 'must be true, false, 1 or 0')
  .transform((v) => v === 'true' || v === '1');

export const regex = z.string().transform((v, ctx) => {
  try {
    return new RegExp(v);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be a valid regular expression' });
    return z.NEVER;
  }
});

// A pattern that matches nothing at all (an empty match) would let every reason through as a ticket of "".
export const ticketPattern = regex.refine((pattern) => !pattern.test(''), 'must not match an empty text');

// The ticket is URL-encoded into it; `<`, `>`, `|` and spaces would break the mrkdwn link it becomes.
export const ticketUrlTemplate = httpUrl
  .refine((v) => v.length <= 1000, 'must be at most 1000 characters')
  .refine((v) => v.includes('{ticket}'), 'must contain {ticket} where the ticket goes')
  .refine((v) => !/[<>|\s]/.test(v), 'must not contain <, >, | or spaces');

// The store's settings: all the audit export needs (it must run without the bot's Slack and BotPenguin tokens).
