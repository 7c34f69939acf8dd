import { Limiter } from '../../src/limiter';

const tick = () => new Promise((r) => setImmediate(r));

describe('Limiter: at most N pieces of background work at once', () => {
  it('never runs more than N at once, and runs the waiting ones in the order they came', async () => {
    const limiter = new Limiter(2);
    let running = 0;
    let most = 0;
    const started: number[] = [];
    const gates: (() => void)[] = [];
    const all = Array.from({ length: 6 }, (_, i) =>
      limiter.run(async () => {
        started.push(i);
        running++;
        most = Math.max(most, running);
        await new Promise<void>((resolve) => gates.push(resolve));
        running--;
        return i;
      }),
    );
    await tick();
    expect(started).toEqual([0, 1]);
    while (gates.length > 0) {
      gates.shift()?.();
      await tick();
      await tick();
    }
    expect(await Promise.all(all)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(started).toEqual([0, 1, 2, 3, 4, 5]);
    expect(most).toBe(2);
  });

  it('a freed slot goes to the first lane before the rest, each lane in the order it came', async () => {
    const limiter = new Limiter(1);
    const started: string[] = [];
    let open = () => {};
    const holding = limiter.run(async () => {
      started.push('holding');
      await new Promise<void>((resolve) => {
        open = resolve;
      });
    });
    const all = [
      limiter.run(async () => started.push('rest 1')),
      limiter.run(async () => started.push('first 1'), 'first'),
      limiter.run(async () => started.push('rest 2'), 'rest'),
      limiter.run(async () => started.push('first 2'), 'first'),
    ];
    await tick();
    expect(started).toEqual(['holding']);
    open();
    await Promise.all([holding, ...all]);
    expect(started).toEqual(['holding', 'first 1', 'first 2', 'rest 1', 'rest 2']);
  });

  it('makeWay hands the slot to work waiting in the first lane and waits behind it, else keeps the slot', async () => {
    const limiter = new Limiter(1);
    const order: string[] = [];
    const alone = limiter.run(async () => {
      await limiter.makeWay();
      order.push('kept its slot');
    });
    await alone;
    let firstQueued = () => {};
    const making = limiter.run(async () => {
      order.push('message posted');
      await new Promise<void>((resolve) => {
        firstQueued = resolve;
      });
      await limiter.makeWay();
      order.push('replies');
    });
    await tick();
    const others = [
      limiter.run(async () => order.push('rest waiting'), 'rest'),
      limiter.run(async () => order.push('next message'), 'first'),
    ];
    firstQueued();
    await Promise.all([making, ...others]);
    // The first lane's work goes before it; the rest lane's, which came earlier, before it too.
    expect(order).toEqual(['kept its slot', 'message posted', 'next message', 'rest waiting', 'replies']);
  });

  it('a piece of work that fails frees its slot for the next', async () => {
    const limiter = new Limiter(1);
    const failing = limiter.run(async () => {
      throw new Error('boom');
    });
    const next = limiter.run(async () => 'ran');
    await expect(failing).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ran');
  });
});
