// Shared by the security tests: "nothing changed" snapshots, a normal request that must still work after
// an attack, a body sender that reads the answer while still sending, and the dangerous mrkdwn test.
import http from 'node:http';
import { SANDBOX_CHANNEL, type Sandbox } from '../../sandbox/harness';
import type { SentResponse } from '../../sandbox/slack-sender';
import { ACTION_APPROVE } from '../../src/constants';
import { APPROVER, REQUESTER, requestDeletion, settle, watchListeners } from '../helpers/flow';

let counter = 0;
/** A fresh valid (24-hex) customer id per call, so tests never collide on the one-open-request rule. */
export function freshCustomerId(): string {
  counter += 1;
  return `5ec0${String(process.pid % 10_000).padStart(4, '0')}${String(counter).padStart(16, '0')}`;
}

/** Everything an attack could have changed: stored requests and events, Slack posts, BotPenguin calls. */
export interface Footprint {
  requests: string;
  events: string;
  slackWrites: number;
  botpenguinCalls: number;
}

const WRITES = new Set(['chat.postMessage', 'chat.update', 'views.open']);

/** Taken before an attack, it starts counting the app's listeners, so that the one after knows they are done. */
export async function footprint(sb: Sandbox): Promise<Footprint> {
  watchListeners(sb);
  await settle(sb);
  const requests = await sb.store.listRequests({ limit: 1000 });
  const events = await Promise.all(requests.map((r) => sb.store.listEvents(r.id)));
  return {
    requests: JSON.stringify(requests),
    events: JSON.stringify(events),
    slackWrites: sb.slack.calls.filter((c) => WRITES.has(c.method)).length,
    botpenguinCalls: sb.botpenguin.calls.length,
  };
}

/** Once the bot has finished what the attack started (listeners, and their work), nothing has changed. */
export async function expectNothingChanged(sb: Sandbox, before: Footprint): Promise<void> {
  expect(await footprint(sb)).toEqual(before);
}

/** After an attack, the bot still serves a normal request end to end: request, approval, one DELETE. */
export async function expectStillServes(sb: Sandbox): Promise<void> {
  const customer = freshCustomerId();
  sb.botpenguin.addCustomer(customer);
  const deletes = sb.botpenguin.deletes().length;
  const { requestId, message } = await requestDeletion(sb, customer, 'still works', REQUESTER);
  expect(requestId).toMatch(/^R[0-9A-Z]{9}$/);
  const click = await sb.sender.click(APPROVER, ACTION_APPROVE, requestId, { messageTs: message.ts });
  expect(click.status).toBe(200);
  await sb.botpenguin.waitFor(() => sb.botpenguin.deletes().length === deletes + 1, 5000, 'the DELETE');
  await sb.bot.idle();
  expect(sb.botpenguin.deletes().at(-1)?.path).toBe(`/customer/${customer}`);
  expect((await sb.store.getRequest(requestId))?.state).toBe('succeeded');
}

/** Record every HTTP answer the bot gives this sandbox's sender (for the secrets scan). */
export function recordAnswers(sb: Sandbox): SentResponse[] {
  const answers: SentResponse[] = [];
  const raw = sb.sender.raw.bind(sb.sender);
  sb.sender.raw = async (body, headers) => {
    const answer = await raw(body, headers);
    answers.push(answer);
    return answer;
  };
  return answers;
}

/**
 * POST a body in small pieces and take the answer as soon as it comes, even mid-body: a server that
 * refuses a large body answers before reading it all (a client that only reads after sending gets a reset).
 */
export function postInPieces(port: number, body: Buffer, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const req = http.request({
      host: '127.0.0.1',
      port,
      path: '/slack/events',
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'content-length': String(body.length),
        ...headers,
      },
    });
    req.on('response', (res) => {
      res.resume();
      settled = true;
      resolve(res.statusCode ?? 0);
      req.destroy();
    });
    req.on('error', (error) => {
      if (!settled) reject(error);
    });
    void (async () => {
      for (let i = 0; i < body.length && !settled; i += 16_384) {
        if (!req.write(body.subarray(i, i + 16_384))) await new Promise((r) => req.once('drain', r));
        await new Promise((r) => setImmediate(r));
      }
      if (!settled) req.end();
    })();
  });
}

/**
 * The markup the bot itself puts in messages: mentions of known users, the sandbox's channel (the Home tab
 * names a request's channel), Slack dates (with our UTC fallback) and permalinks from the fake Slack. Any
 * other `<` came from user text.
 */
export function withoutBotMarkup(text: string, knownUsers: readonly string[]): string {
  const users = knownUsers.map((u) => u.replace(/[^A-Z0-9]/g, '')).join('|');
  return text
    .replace(new RegExp(`<@(?:${users})>`, 'g'), '')
    .replaceAll(`<#${SANDBOX_CHANNEL}>`, '')
    .replace(/<!date\^\d+\^\{[a-z_]+\}(?: at \{time\}| \{time_secs\})?\|\d{4}-\d\d-\d\d \d\d:\d\d UTC>/g, '')
    .replace(/<https:\/\/example\.slack\.com\/archives\/[A-Z0-9]+\/p\d+\|[^<>|]*>/g, '');
}

/**
 * Fails when mrkdwn still holds markup from user text: any `<` left once the bot's own markup is removed
 * (`<!channel>`, `<@…>`, `<#…>`, `<http…|…>` all start with one), or a bare @channel/@here/@everyone
 * (our escaping breaks those with a zero-width joiner).
 */
export function expectSafeMrkdwn(text: string, knownUsers: readonly string[], where = 'mrkdwn'): void {
  const rest = withoutBotMarkup(text, knownUsers);
  if (rest.includes('<') || /@(?:channel|here|everyone)\b/i.test(rest)) {
    throw new Error(`user markup survived in ${where}: ${JSON.stringify(text)}`);
  }
}

/** Every string in a JSON value (texts of blocks, fields, modal views…), to scan them all. */
export function stringsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(stringsIn);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(stringsIn);
  return [];
}

/** Fragments a hostile user would type into a reason or an id. */
export const HOSTILE_FRAGMENTS = [
  '<!channel>',
  '<!here>',
  '<!everyone>',
  '<@U0VICTIM>',
  '<#C0SECRET|secret>',
  '<http://evil.example|click me>',
  '<https://evil.example>',
  '<mailto:a@b.c|mail>',
  '<!subteam^S0ADMINS>',
  '<!date^1700000000^{date}|x>',
  '@channel',
  '@here',
  '@everyone',
  '&lt;!channel&gt;',
  '&amp;lt;!here&amp;gt;',
  '&#60;!channel&#62;',
  '<',
  '>',
  '&',
  '|',
  '!',
  '@',
  '#',
  '`',
  '*',
  '_',
  '~',
  '\n',
  ' ',
  'a',
  'Z',
  '9',
  '\u200b',
  '\u2060',
  '＜!channel＞',
  'é',
  '😀',
];
