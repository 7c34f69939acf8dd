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
