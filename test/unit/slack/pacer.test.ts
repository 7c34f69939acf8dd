import { bucketOf, SlackPacer } from '../../../src/slack/pacer';

/** A pacer on a clock the test moves; its timers run when the clock passes them. */
function pacer() {
  jest.useFakeTimers({ now: 1_000_000 });
  const turns: string[] = [];
  const p = new SlackPacer(() => Date.now());
  const wait = (key: string, priority: 'first' | 'rest', name: string) =>
    void p.take(key, priority).then(() => turns.push(name));
  const advance = async (ms: number) => {
    await jest.advanceTimersByTimeAsync(ms);
  };
  return { p, turns, wait, advance };
}
afterEach(() => jest.useRealTimers());

const C1 = bucketOf('chat.postMessage', 'C1');
const C2 = bucketOf('chat.postMessage', 'C2');

describe('chat.postMessage: about one a second per channel, after a burst of 3', () => {
  it('lets 3 go at once, then one per interval; another channel has its own bucket', async () => {
    const { p, turns, wait, advance } = pacer();
    expect([p.tryTake(C1), p.tryTake(C1), p.tryTake(C1), p.tryTake(C1)]).toEqual([true, true, true, false]);
    expect(p.tryTake(C2)).toBe(true);
    wait(C1, 'first', 'a');
    wait(C1, 'first', 'b');
    await advance(999);
    expect(turns).toEqual([]);
    await advance(100);
    expect(turns).toEqual(['a']);
    await advance(1_050);
    expect(turns).toEqual(['a', 'b']);
  });

  it('approval messages go before replies that waited longer; replies keep their order', async () => {
    const { p, turns, wait, advance } = pacer();
    for (let i = 0; i < 3; i++) p.tryTake(C1);
    wait(C1, 'rest', 'reply-1');
    wait(C1, 'rest', 'reply-2');
    wait(C1, 'first', 'message-1');
    wait(C1, 'first', 'message-2');
    // Nobody overtakes a waiter by asking without waiting.
    await advance(1_100);
    expect(p.tryTake(C1)).toBe(false);
    await advance(5_000);
    expect(turns).toEqual(['message-1', 'message-2', 'reply-1', 'reply-2']);
  });
});

describe('a 429 closes the whole bucket until its Retry-After', () => {
  it('holds every call of the bucket, not only the one that got it; other buckets go on', async () => {
    const { p, turns, wait, advance } = pacer();
    p.rateLimited('chat.update', 30_000);
    expect(p.tryTake('chat.update')).toBe(false);
    expect(p.tryTake(C1)).toBe(true);
    wait('chat.update', 'rest', 'u1');
    wait('chat.update', 'rest', 'u2');
    await advance(29_999);
    expect(turns).toEqual([]);
    await advance(1);
    // chat.update is not paced by rate: once reopened, everything waiting goes.
    expect(turns).toEqual(['u1', 'u2']);
  });

  it('a channel held back starts again from an empty bucket once it reopens', async () => {
    const { p, turns, wait, advance } = pacer();
    p.rateLimited(C1, 5_000);
    wait(C1, 'first', 'a');
    await advance(5_000);
    expect(turns).toEqual([]);
    await advance(1_050);
    expect(turns).toEqual(['a']);
  });

  it('a turn given back goes to the next waiter', async () => {
    const { p, turns, wait, advance } = pacer();
    for (let i = 0; i < 3; i++) p.tryTake(C1);
    wait(C1, 'first', 'a');
    p.giveBack(C1);
    await advance(0);
    expect(turns).toEqual(['a']);
  });
});
