import { Limiter, WorkQueue } from '../../src/limiter';

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

describe('WorkQueue: background work named by an id, in two lanes', () => {
  /** A queue whose work waits for the test to let each run finish; records what ran, in order. */
  function gated(concurrency: number, maxWaiting = 100) {
    const ran: string[] = [];
    const gates = new Map<string, () => void>();
    let deferred: (() => void) | null = null;
    const queue = new WorkQueue({
      concurrency,
      maxWaiting,
      work: async (id, lane) => {
        ran.push(`${id}:${lane}`);
        await new Promise<void>((resolve) => gates.set(id, resolve));
        gates.delete(id);
      },
      // Started only when the test says so (stands in for "after the current answer is sent").
      defer: (start) => {
        deferred = start;
      },
    });
    const start = () => {
      const run = deferred;
      deferred = null;
      run?.();
    };
    const finish = async (id: string) => {
      gates.get(id)?.();
      await tick();
    };
    return { queue, ran, start, finish, gates };
  }

  it('starts nothing until the deferred start, then the first lane before the rest', async () => {
    const { queue, ran, start, finish } = gated(1);
    void queue.add('u1', 'rest');
    void queue.add('u2', 'rest');
    void queue.add('p1', 'first');
    await tick();
    expect(ran).toEqual([]);
    start();
    expect(ran).toEqual(['p1:first']);
    await finish('p1');
    expect(ran).toEqual(['p1:first', 'u1:rest']);
    await finish('u1');
    await finish('u2');
    expect(ran).toEqual(['p1:first', 'u1:rest', 'u2:rest']);
    await queue.idle();
    expect(queue.size).toBe(0);
  });

  it('an id asked for again while it waits is one run; promoted to the first lane when asked so', async () => {
    const { queue, ran, start, finish } = gated(1);
    void queue.add('a', 'rest');
    void queue.add('b', 'rest');
    void queue.add('b', 'rest');
    void queue.add('b', 'first');
    start();
    expect(ran).toEqual(['b:first']);
    await finish('b');
    await finish('a');
    await tick();
    expect(ran).toEqual(['b:first', 'a:rest']);
    expect(queue.size).toBe(0);
  });

  it('an id asked for while it runs runs once more afterwards, in the rest lane, and its promise waits for that', async () => {
    const { queue, ran, start, finish } = gated(2);
    let settled = false;
    void queue.add('a', 'first')?.then(() => {
      settled = true;
    });
    start();
    expect(ran).toEqual(['a:first']);
    void queue.add('a', 'first');
    void queue.add('a', 'rest');
    await finish('a');
    start();
    expect(ran).toEqual(['a:first', 'a:rest']);
    expect(settled).toBe(false);
    await finish('a');
    expect(settled).toBe(true);
    expect(ran).toEqual(['a:first', 'a:rest']);
  });

  it('never runs more than N at once', async () => {
    const { queue, ran, start, finish, gates } = gated(2);
    for (const id of ['a', 'b', 'c', 'd']) void queue.add(id);
    start();
    expect(ran).toEqual(['a:rest', 'b:rest']);
    expect(gates.size).toBe(2);
    await finish('a');
    expect(ran).toEqual(['a:rest', 'b:rest', 'c:rest']);
    expect(gates.size).toBe(2);
    await finish('b');
    await finish('c');
    await finish('d');
    expect(ran).toEqual(['a:rest', 'b:rest', 'c:rest', 'd:rest']);
  });

  it('refuses new ids past maxWaiting (null), but still coalesces ids that wait', async () => {
    const { queue, ran, start, finish } = gated(1, 2);
    expect(queue.add('a')).not.toBeNull();
    expect(queue.add('b')).not.toBeNull();
    expect(queue.add('c')).toBeNull();
    expect(queue.add('a', 'first')).not.toBeNull();
    start();
    await finish('a');
    await finish('b');
    expect(ran).toEqual(['a:first', 'b:rest']);
  });

  it('work that throws frees its slot and settles its promise', async () => {
    let deferred: (() => void) | null = null;
    const ran: string[] = [];
    const queue = new WorkQueue({
      concurrency: 1,
      maxWaiting: 10,
      work: async (id) => {
        ran.push(id);
        if (id === 'bad') throw new Error('boom');
      },
      defer: (start) => {
        deferred = start;
      },
    });
    const bad = queue.add('bad');
    const good = queue.add('good');
    (deferred as (() => void) | null)?.();
    await expect(bad).resolves.toBeUndefined();
    await expect(good).resolves.toBeUndefined();
    expect(ran).toEqual(['bad', 'good']);
  });
});
