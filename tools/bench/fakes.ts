// The bench's fake Slack Web API and fake BotPenguin, in a process of their own (forked by run.ts) so
// their work never shares an event loop with the load generator. Answers the driver over IPC.
import { type BotPenguinCall, FakeBotPenguin } from '../../sandbox/fake-botpenguin';
import { FakeSlack, type SlackMessage } from '../../sandbox/fake-slack';
import type { ApprovalMessage, Counts, FakesMessage, FakesRequest, FlowResult, VerifyResult } from './protocol';

const slack = new FakeSlack();
const botpenguin = new FakeBotPenguin();
const CUSTOMER_ID = /\b[0-9a-f]{24}\b/;
/**
 * Each command goes to a channel of its own (`C0BENCHBOTX00017`), since Slack takes about one message a second
 * per channel and the bot keeps to that; results are gathered by the channel's family (`C0BENCHBOT`).
 */
const family = (channel: string) => channel.replace(/X\d{5}$/, '');

/** Top-level messages by channel and customer id (the id is in every approval message's text). */
const byCustomer = new Map<string, SlackMessage[]>();
/** chat.update arrival times and texts by channel/ts, and DELETEs by path: what a flow waits for. */
const updates = new Map<string, { hrAt: number; text: string }[]>();
const deletes = new Map<string, BotPenguinCall>();
/** Arrival times of each channel's top-level messages, in order. */
const postedAt = new Map<string, number[]>();
/** Probes re-run after every call the fakes see (see `whenever`). */
const probes = new Set<() => void>();
let lastCallAt = performance.now();

slack.observe((call) => {
  lastCallAt = performance.now();
  const channel = String(call.args.channel ?? '');
  const group = family(channel);
  if (call.method === 'chat.update') {
    const key = `${channel}/${String(call.args.ts)}`;
    const list = updates.get(key) ?? [];
    list.push({ hrAt: call.hrAt, text: String(call.args.text ?? '') });
    updates.set(key, list);
  } else if (call.method === 'chat.postMessage' && typeof call.args.thread_ts !== 'string') {
    const times = postedAt.get(group) ?? [];
    times.push(call.hrAt);
    postedAt.set(group, times);
    const customer = CUSTOMER_ID.exec(String(call.args.text ?? ''))?.[0];
    const message = slack.messages.at(-1);
    if (customer && message && message.channel === channel && message.text === String(call.args.text ?? '')) {
      const key = `${group}/${customer}`;
      const list = byCustomer.get(key) ?? [];
      list.push(message);
      byCustomer.set(key, list);
    }
  }
  for (const probe of probes) probe();
});
botpenguin.observe((call) => {
  lastCallAt = performance.now();
  if (call.method === 'DELETE') deletes.set(call.path, call);
  for (const probe of probes) probe();
});

const send = (message: FakesMessage) => process.send?.(message);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolve with the probe's first defined value, checked now and after every call the fakes see. */
function whenever<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const now = probe();
  if (now !== undefined) return Promise.resolve(now);
  return new Promise((resolve, reject) => {
    const check = () => {
      const value = probe();
      if (value === undefined) return;
      probes.delete(check);
      clearTimeout(timer);
      resolve(value);
    };
    const timer = setTimeout(() => {
      probes.delete(check);
      reject(new Error(`timed out waiting for ${what}`));
    }, timeoutMs);
    probes.add(check);
  });
}

async function until<T>(
  probe: () => T | undefined,
  timeoutMs: number,
  what: () => string,
  everyMs: number,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await sleep(everyMs);
  }
}

function buttonValue(message: SlackMessage, actionId: string): string | undefined {
  for (const block of message.blocks as { type?: string; elements?: { action_id?: string; value?: string }[] }[]) {
    const button = block.type === 'actions' ? block.elements?.find((e) => e.action_id === actionId) : undefined;
    if (button?.value) return button.value;
  }
  return undefined;
}

/** The bot's message is up to date once the preview is shown (no longer "Looking the customer up"). */
const previewShown = (message: SlackMessage) => !JSON.stringify(message.blocks).includes('Looking the customer up');

async function handle(request: FakesRequest): Promise<unknown> {
  switch (request.op) {
    case 'addCustomers':
      for (const id of request.ids)
        botpenguin.addCustomer(id, request.name, undefined, 'active', { first: request.first });
      return null;
    case 'fillerCustomers':
      for (let i = 0; i < request.count; i++) botpenguin.addCustomer(`f${i.toString(16).padStart(23, '0')}`);
      return null;
    case 'settle': {
      const { channel, expect, quietMs, timeoutMs } = request;
      await until(
        () => {
          const posted = channel === null ? expect : (postedAt.get(channel)?.length ?? 0);
          return posted >= expect && performance.now() - lastCallAt >= quietMs ? true : undefined;
        },
        timeoutMs,
        () =>
          `${expect} messages in ${channel} and ${quietMs} ms of quiet (${channel === null ? '-' : (postedAt.get(channel)?.length ?? 0)} there, last call ${Math.round(performance.now() - lastCallAt)} ms ago)`,
        5,
      );
      // When the expect-th message arrived: how long posting a burst's messages took.
      return { lastPostedAt: channel === null || expect === 0 ? null : (postedAt.get(channel)?.[expect - 1] ?? null) };
    }
    case 'verifyPosted': {
      const result: VerifyResult = { expected: request.customers.length, posted: 0, duplicated: 0, missing: [] };
      for (const customer of request.customers) {
        const n = byCustomer.get(`${request.channel}/${customer}`)?.length ?? 0;
        if (n === 1) result.posted++;
        if (n > 1) result.duplicated++;
        if (n === 0 && result.missing.length < 10) result.missing.push(customer);
      }
      return result;
    }
    case 'approvalMessage': {
      const key = `${request.channel}/${request.customer}`;
      return whenever<ApprovalMessage>(
        () => {
          const message = byCustomer.get(key)?.[0];
          if (!message || !previewShown(message) || slack.thread(message.channel, message.ts).length === 0) return;
          const requestId = buttonValue(message, 'bp_delete_approve');
          return requestId ? { ts: message.ts, requestId } : undefined;
        },
        request.timeoutMs,
        `the approval message for ${request.customer}`,
      );
    }
    case 'flowResult': {
      const key = `${request.channel}/${request.customer}`;
      const final = new RegExp(request.finalText);
      const path = `/customer/${request.customer}`;
      return whenever<FlowResult>(
        () => {
          const del = deletes.get(path);
          const message = byCustomer.get(key)?.[0];
          if (!del || !message) return;
          const update = updates.get(`${message.channel}/${message.ts}`)?.find((u) => final.test(u.text));
          return update
            ? { deleteAt: del.hrAt, deleteStatus: del.status ?? null, finalUpdateAt: update.hrAt }
            : undefined;
        },
        request.timeoutMs,
        `the DELETE and final update for ${request.customer}`,
      );
    }
    case 'counts': {
      const count = (methods: string[]) =>
        methods.reduce<Record<string, number>>((acc, m) => {
          acc[m] = (acc[m] ?? 0) + 1;
          return acc;
        }, {});
      const counts: Counts = {
        slackCalls: count(slack.calls.map((c) => c.method)),
        botpenguinCalls: count(
          botpenguin.calls.map((c) => `${c.method} ${c.path.split('?')[0]?.replace(/[0-9a-f]{24}$/, ':id')}`),
        ),
      };
      return counts;
    }
  }
}

async function main(): Promise<void> {
  await slack.start();
  await botpenguin.start();
  // Many bots and many messages: answer on kept-alive connections as long as the bots keep them.
  process.on('message', (raw: { id: number; request: FakesRequest }) => {
    handle(raw.request).then(
      (result) => send({ type: 'reply', id: raw.id, ok: true, result }),
      (error: unknown) => send({ type: 'reply', id: raw.id, ok: false, error: String(error) }),
    );
  });
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', slackApiUrl: slack.apiUrl, botpenguinUrl: botpenguin.url });
}

void main();
