// The delay timers of approved requests: each runs its request's DELETE at executeAt. Owned by the
// executor; the sweeper is the backstop if this process dies before a timer fires.
import type { Logger } from '../logger';
import type { DeletionRequest } from './types';

export class Scheduler {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly deps: {
      run: (requestId: string) => Promise<void>;
      now: () => number;
      logger: Logger;
    },
  ) {}

  /** Run now, or at executeAt (the sweeper is the backstop if this process dies first). */
  schedule(request: DeletionRequest): void {
    const delay = (request.executeAt ?? 0) - this.deps.now();
    const run = () => {
      this.timers.delete(request.id);
      this.deps.run(request.id).catch((error: unknown) => {
        this.deps.logger.error('execution failed unexpectedly', { requestId: request.id, error: String(error) });
      });
    };
    if (delay <= 0) {
      run();
      return;
    }
    this.unschedule(request.id);
    const timer = setTimeout(run, delay);
    timer.unref();
    this.timers.set(request.id, timer);
  }

  unschedule(requestId: string): void {
    const timer = this.timers.get(requestId);
    if (timer) clearTimeout(timer);
    this.timers.delete(requestId);
  }

  stop(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}
