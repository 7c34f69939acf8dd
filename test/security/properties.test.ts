// Property-based tests (fast-check) over the command text, the reason and the customer id: the parser
// never throws, an invalid id never reaches the store or BotPenguin, the DELETE path is exactly the
// validated id URL-encoded, and no mrkdwn from user text survives into anything the bot renders.
import fc from 'fast-check';
import { SANDBOX_CHANNEL, type Sandbox, startSandbox } from '../../sandbox/harness';
import { asSlackSends } from '../../sandbox/slack-sender';
import { renderDenyModal } from '../../src/blocks/deny-modal';
import { renderCreated, renderList, renderRefusal, renderStatus } from '../../src/blocks/replies';
import { renderRequestMessage } from '../../src/blocks/request-message';
import { escapeMrkdwn, safeMrkdwn } from '../../src/blocks/text';
import { renderThreadReply } from '../../src/blocks/thread-replies';
import type { Policy } from '../../src/config';
import { ACTION_APPROVE, ACTION_DENY, VIEW_DENY_REASON } from '../../src/constants';
import { silentLogger } from '../../src/logger';
import { createRequests } from '../../src/requests';
import { isValidCustomerId, MAX_REASON_LENGTH, parseCommand } from '../../src/requests/command-text';
import type { DeleteResult } from '../../src/requests/ports';
import type { Actor } from '../../src/requests/types';
import { FINAL_STATES } from '../../src/requests/types';
import { SqliteStore } from '../../src/store/dialects/sqlite';
import { APPROVER, APPROVER2, OUTSIDER, REQUESTER } from '../helpers/flow';
import { expectSafeMrkdwn, HOSTILE_FRAGMENTS, stringsIn } from './support';

const USERS = [REQUESTER, APPROVER, APPROVER2, OUTSIDER];
const HEX24 = /^[0-9a-fA-F]{24}$/;
/** Lets through almost every printable character, to exercise URL-encoding of the DELETE path. */
const PERMISSIVE = '^[A-Za-z0-9._~%/?#-]{1,40}$';
const SUBCOMMANDS = new Set(['help', '-h', '--help', 'list', 'status']);

const hostileText = (maxLength = 40) => fc.string({ unit: fc.constantFrom(...HOSTILE_FRAGMENTS), maxLength });
const hex24 = fc.stringMatching(HEX24);
/** Command texts: arbitrary (any code units), hostile fragments, and near-valid ids with junk around them. */
const commandText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  hostileText(),
  fc.tuple(hex24, hostileText(10)).map(([id, reason]) => `${id} ${reason}`),
  fc.tuple(hostileText(3), hex24, hostileText(3)).map(([a, id, b]) => `${a}${id}${b} reason`),
  fc
    .tuple(hex24, fc.constantFrom('/', '/..', '%2F', '?x=1', '#', '\u0000', '\t', ''))
    .map(([id, s]) => `${s}${id}${s}`),
  fc.constantFrom('help', 'LIST', 'status', 'status R0000000000', '--help', ' ', ''),
);

describe('the command parser', () => {
  it('never throws, and every result has the shape the rules rely on', () => {
    fc.assert(
      fc.property(fc.oneof(commandText, fc.string({ unit: 'grapheme', maxLength: 5000 })), (text) => {
        const parsed = parseCommand(text);
        expect(['help', 'list', 'status', 'request']).toContain(parsed.kind);
        if (parsed.kind === 'request') {
          expect(parsed.customerId).not.toBe('');
          expect(parsed.customerId).not.toMatch(/\s/);
          expect(Array.from(parsed.reason).length).toBeLessThanOrEqual(MAX_REASON_LENGTH);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('never accepts an id with whitespace or control characters, whatever the pattern allows', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (id) => {
        if (isValidCustomerId(id, /.*/s)) expect(id).not.toMatch(/[\s\u0000-\u001f]/);
        if (isValidCustomerId(id, HEX24)) expect(id).toMatch(HEX24);
      }),
      { numRuns: 500 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------
// The rules (createRequests) with the real SQLite store (in memory) and a recording Deleter in place of BotPenguin.

class RecordingDeleter {
  readonly calls: string[] = [];
  answer: DeleteResult = { ok: true, status: 200, attempts: 1, message: 'deleted' };
  async deleteCustomer(customerId: string): Promise<DeleteResult> {
    this.calls.push(customerId);
    return this.answer;
  }
}

const NO_GROUPS = { usergroupMembers: async () => new Set<string>() };

async function requestsWorld(overrides: Partial<Policy> = {}) {
  const policy: Policy = {
    approverUserIds: [APPROVER, APPROVER2],
    approverUsergroupIds: [],
    approvalsRequired: 1,
    requesterUserIds: [],
    requesterUsergroupIds: [],
    allowedChannelIds: [],
    requestTtlMs: 86_400_000,
    customerIdPattern: HEX24,
    executionDelayMs: 0,
    maxPendingPerRequester: 1000,
    maxDeletionsPerDay: 100_000,
    dryRun: false,
    remindAfterMs: 0,
    reasonRequired: false,
    ticket: null,
    ...overrides,
  };
  const now = () => Date.UTC(2025, 5, 1, 12);
  const store = new SqliteStore(':memory:', { now }); // one clock: the store's lease and due times follow it
  await store.migrate();
  const deleter = new RecordingDeleter();
  const requests = createRequests({
    store,
    policy,
    directory: NO_GROUPS,
    deleter,
    previewer: null,
    now,
    leaseMs: 60_000,
    hearsSlack: () => true,
    onChange: () => {},
    logger: silentLogger,
  });
  const { executor } = requests;
  const close = async () => {
    executor.stopTimers();
    await executor.idle();
    await store.close();
  };
  return { policy, store, deleter, executor, requests, close };
}

const actor = (userId: string): Actor => ({ userId, teamId: 'T0TEAM', channelId: 'C0OPS' });

describe('an invalid customer id never reaches the store or BotPenguin (rules level, real SQLite store)', () => {
  it.each([
    ['the default 24-hex pattern', HEX24],
    ['a permissive pattern', new RegExp(PERMISSIVE)],
  ])('with %s, for any command text', async (_name, pattern) => {
    await fc.assert(
      fc.asyncProperty(commandText, async (text) => {
        const w = await requestsWorld({ customerIdPattern: pattern });
        try {
          const result = await w.requests.commands.command(actor(REQUESTER), text);
          const stored = await w.store.listRequests({ limit: 10 });
          for (const request of stored) expect(isValidCustomerId(request.customerId, pattern)).toBe(true);
          if (result.kind === 'created') {
            expect(stored.map((r) => r.customerId)).toEqual([result.request.customerId]);
            const parsed = parseCommand(text);
            expect(parsed.kind === 'request' && parsed.customerId).toBe(result.request.customerId);
            await w.requests.decisions.approve(result.request.id, actor(APPROVER));
            await w.executor.idle();
            expect(w.deleter.calls).toEqual([result.request.customerId]);
          } else {
            expect(stored).toEqual([]);
          }
          for (const id of w.deleter.calls) expect(isValidCustomerId(id, pattern)).toBe(true);
        } finally {
          await w.close();
        }
      }),
      { numRuns: 150 },
    );
  });
});

// ---------------------------------------------------------------------------------------------------
// Escaping: every renderer, fed requests made by the rules from hostile text.

describe('escaping: no mrkdwn from user text survives into what the bot renders', () => {
  it('escapeMrkdwn leaves no `<` or `>` and no live @channel/@here/@everyone, applied once or twice', () => {
    fc.assert(
      fc.property(fc.oneof(hostileText(60), fc.string({ unit: 'binary', maxLength: 200 })), (text) => {
        for (const escaped of [escapeMrkdwn(text), escapeMrkdwn(escapeMrkdwn(text))]) {
          expect(escaped).not.toMatch(/[<>]/);
          expect(escaped).not.toMatch(/@(?:channel|here|everyone)\b/i);
          // Every `&` starts one of the three entities Slack knows, so nothing decodes into markup.
          expect(escaped.replace(/&(?:amp|lt|gt);/g, '')).not.toContain('&');
        }
      }),
      { numRuns: 500 },
    );
  });

  it('safeMrkdwn cut to any length never leaves markup or half an entity', () => {
    fc.assert(
      fc.property(hostileText(80), fc.integer({ min: 0, max: 300 }), (text, max) => {
        const out = safeMrkdwn(text, max);
        expect(out).not.toMatch(/[<>]/);
        expect(out).not.toMatch(/@(?:channel|here|everyone)\b/i);
        expect(out.replace(/&(?:amp|lt|gt);/g, '')).not.toContain('&');
      }),
      { numRuns: 500 },
    );
  });

  it('the approval message, thread replies, modal and every ephemeral answer, for hostile ids, reasons and BotPenguin messages', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.stringMatching(/^[^\s]{1,60}$/).filter((id) => !SUBCOMMANDS.has(id.toLowerCase())),
        hostileText(40),
        hostileText(20),
        hostileText(20),
        fc.boolean(),
        async (customerId, reason, denyReason, botpenguinMessage, deny) => {
          const w = await requestsWorld({ customerIdPattern: /^[^\s]+$/ });
          try {
            w.deleter.answer = { ok: false, kind: 'rejected', status: 400, attempts: 1, message: botpenguinMessage };
            const created = await w.requests.commands.command(actor(REQUESTER), `${customerId} ${reason}`);
            if (created.kind !== 'created') throw new Error(`not created: ${JSON.stringify(created)}`);
            const id = created.request.id;
            if (deny) await w.requests.decisions.deny(id, actor(APPROVER), denyReason, 'button');
            else await w.requests.decisions.approve(id, actor(APPROVER));
            await w.executor.idle();
            const request = await w.store.getRequest(id);
            if (!request) throw new Error('request vanished');
            const events = await w.store.listEvents(id);
            const again = await w.requests.commands.command(actor(APPROVER2), `${customerId} again`);
            const rendered: [string, unknown][] = [
              ['created answer', renderCreated(created.request)],
              ['pending message', renderRequestMessage(created.request, Date.UTC(2025, 5, 1, 12))],
              ['final message', renderRequestMessage(request, Date.UTC(2025, 5, 1, 13))],
              ['deny modal', renderDenyModal(created.request)],
              ['status answer', renderStatus(request, events, null)],
              ['list answer', renderList([request], new Map())],
              [
                'invalid id refusal',
                renderRefusal({ kind: 'invalid_customer_id', given: reason, pattern: '^[0-9a-f]{24}$' }),
              ],
              ['status refusal', renderRefusal({ kind: 'status_not_found', target: reason })],
              [
                'second request answer',
                again.kind === 'refused' ? renderRefusal(again.refusal) : renderCreated(created.request),
              ],
              ...events.map((e): [string, unknown] => [`thread reply ${e.kind}`, renderThreadReply(e, request)]),
            ];
            for (const [where, value] of rendered) {
              for (const text of stringsIn(value)) expectSafeMrkdwn(text, USERS, where);
            }
          } finally {
            await w.close();
          }
        },
      ),
      { numRuns: 80 },
    );
  });

  it('the checker itself flags markup that is not escaped (so the property above can fail)', () => {
    for (const bad of ['<!channel>', 'x <!here> y', '<@U0VICTIM>', '<#C0SECRET|s>', '<http://evil|ok>', 'ping @here']) {
      expect(() => expectSafeMrkdwn(bad, USERS)).toThrow(/user markup survived/);
    }
    expect(() => expectSafeMrkdwn(`<@${REQUESTER}> asked <!date^1^{time}|2025-01-01 00:00 UTC>`, USERS)).not.toThrow();
  });
});

// ---------------------------------------------------------------------------------------------------
// The same properties end to end, over signed HTTP to the real app (fewer runs: each is a round trip).

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await pause(10);
  }
}

/** Approve whatever the last command created, and wait until it is decided. */
async function approveNewest(sb: Sandbox, knownIds: Set<string>): Promise<string | null> {
  await sb.bot.idle();
  const fresh = (await sb.store.listRequests({ limit: 1000 })).filter((r) => !knownIds.has(r.id));
  if (fresh.length === 0) return null;
  expect(fresh).toHaveLength(1);
  const request = fresh[0] as (typeof fresh)[number];
  knownIds.add(request.id);
  await sb.sender.click(APPROVER, ACTION_APPROVE, request.id);
  await waitUntil(
    async () => FINAL_STATES.includes((await sb.store.getRequest(request.id))?.state ?? 'pending'),
    'the request to finish',
  );
  await sb.bot.idle();
  return request.customerId;
}

describe('end to end over signed HTTP', () => {
  let sb: Sandbox;
  afterEach(async () => {
    await sb.stop({ fakes: true });
  });

  it('any command text: only a valid id is stored, and only a stored id is DELETEd, at /customer/<id>', async () => {
    sb = await startSandbox({ env: { MAX_PENDING_PER_REQUESTER: '1000' } });
    const known = new Set<string>();
    await fc.assert(
      fc.asyncProperty(commandText, async (text) => {
        const deletes = sb.botpenguin.deletes().length;
        const res = await sb.sender.command(REQUESTER, text);
        expect(res.status).toBe(200);
        const customerId = await approveNewest(sb, known);
        for (const request of await sb.store.listRequests({ limit: 1000 })) {
          expect(request.customerId).toMatch(HEX24);
        }
        const sent = sb.botpenguin.deletes().slice(deletes);
        expect(sent.map((d) => d.path)).toEqual(customerId === null ? [] : [`/customer/${customerId}`]);
      }),
      { numRuns: 15 },
    );
  }, 25_000);

  it('with a permissive CUSTOMER_ID_PATTERN, the DELETE path is exactly /customer/ + encodeURIComponent(id)', async () => {
    sb = await startSandbox({
      env: { CUSTOMER_ID_PATTERN: PERMISSIVE, MAX_PENDING_PER_REQUESTER: '1000' },
    });
    const known = new Set<string>();
    const id = fc
      .oneof(
        fc.stringMatching(new RegExp(PERMISSIVE)),
        fc.constantFrom(
          '.',
          '..',
          '...',
          '../admin',
          '..%2F..%2Fadmin',
          '%2e%2e',
          'a/../../b',
          '?page',
          '#frag',
          'x?y#z',
          '%00',
          'a%2Fb',
        ),
      )
      .filter((s) => !SUBCOMMANDS.has(s.toLowerCase()));
    await fc.assert(
      fc.asyncProperty(id, async (customerId) => {
        const deletes = sb.botpenguin.deletes().length;
        const res = await sb.sender.command(REQUESTER, `${customerId} encoding`);
        expect(res.status).toBe(200);
        expect(await approveNewest(sb, known)).toBe(customerId);
        const sent = sb.botpenguin
          .deletes()
          .slice(deletes)
          .map((d) => d.path);
        // `.` and `..` are dot segments a URL resolves away, so the client refuses them rather than DELETE {base}/.
        expect(sent).toEqual(
          customerId === '.' || customerId === '..' ? [] : [`/customer/${encodeURIComponent(customerId)}`],
        );
      }),
      { numRuns: 25 },
    );
  }, 25_000);

  it('hostile reasons, deny reasons and ids: nothing the bot posts, updates or answers carries live markup', async () => {
    sb = await startSandbox({
      env: { MAX_PENDING_PER_REQUESTER: '1000', CUSTOMER_ID_PATTERN: '^[^\\s]{1,60}$' },
    });
    // The approver keeps a Home tab open: it lists each hostile request (id and reason) while it waits.
    await sb.sender.appHomeOpened(APPROVER);
    const answers: unknown[] = [];
    await fc.assert(
      fc.asyncProperty(
        fc
          .stringMatching(/^[^\s]{1,30}$/)
          .filter((s) => !SUBCOMMANDS.has(s.toLowerCase()) && !/[\uD800-\uDFFF]/.test(s)),
        hostileText(30),
        hostileText(20),
        async (customerId, reason, denyReason) => {
          const before = sb.slack.channelMessages(SANDBOX_CHANNEL).length;
          // Typed as a person types it: Slack sends `<`, `>` and `&` as entities (an id with `<` and a reason
          // with `>` would otherwise read as one `<…>` sequence Slack wrote, and the id as another).
          const created = await sb.sender.command(REQUESTER, asSlackSends(`${customerId} ${reason}`));
          answers.push(created.json, (await sb.sender.command(OUTSIDER, asSlackSends(`status ${reason}`))).json);
          const open = (await sb.store.listRequests({ customerId, limit: 1 }))[0];
          if (!open) throw new Error(`no request for ${JSON.stringify(customerId)}: ${created.text}`);
          answers.push((await sb.sender.command(APPROVER, asSlackSends(`${customerId} duplicate`))).json);
          await sb.slack.waitFor(() => sb.slack.channelMessages(SANDBOX_CHANNEL).length > before, 5000, 'the message');
          await sb.sender.click(REQUESTER, ACTION_APPROVE, open.id); // refused: own request
          await sb.sender.click(APPROVER, ACTION_DENY, open.id);
          await sb.slack.waitFor(() => sb.slack.views.length > 0, 5000, 'the deny modal');
          const view = sb.slack.views.pop() as { private_metadata: string };
          await sb.sender.viewSubmission(
            APPROVER,
            { callback_id: VIEW_DENY_REASON, private_metadata: view.private_metadata },
            { deny_reason: { reason: { type: 'plain_text_input', value: denyReason } } },
          );
          await waitUntil(async () => (await sb.store.getRequest(open.id))?.state === 'denied', 'the denial');
          await sb.bot.idle();
        },
      ),
      { numRuns: 8 },
    );
    const shown = [
      ...sb.slack.calls.filter((c) => c.method !== 'views.open').map((c) => c.args),
      ...sb.slack.views,
      ...answers,
    ];
    expect(sb.slack.callsTo('chat.update').length).toBeGreaterThan(0);
    expect(sb.slack.homeViews.filter((h) => h.user === APPROVER).length).toBeGreaterThan(8);
    for (const text of stringsIn(shown)) expectSafeMrkdwn(text, USERS, 'a Slack call or HTTP answer');
    // Hostile ids are logged (request created); each log line is still exactly one JSON object.
    expect(sb.logs.some((line) => line.includes('"msg":"request created"'))).toBe(true);
    for (const line of sb.logs) {
      expect(line.endsWith('\n') && line.indexOf('\n') === line.length - 1).toBe(true);
      expect(typeof JSON.parse(line)).toBe('object');
    }
  }, 25_000);
});
