// Publishes each person's Home tab (views.publish): when they open it, after their click on it, and when a
// request it shows changes. Who opened it lately is remembered by this instance only, and only so many.
import { renderHomeView } from '../blocks/home-view';
import type { WebClient } from '../bolt';
import { errorFields, type Logger } from '../logger';
import type { HomeQueues } from '../requests/home';
import type { DeletionRequest } from '../requests/types';
import { slackErrorCode } from './slack-errors';

/** A tab opened longer ago than this is not republished on a change (it is again when opened). */
const RECENT_MS = 30 * 60_000;
/** People whose tabs this instance keeps fresh; the one who opened it longest ago makes room. */
const RECENT_MAX = 200;

interface Viewer {
  teamId: string | undefined;
  at: number;
  /** The requests their tab shows now, and whether it lists requests waiting for approvers. */
  shown: ReadonlySet<string>;
  approver: boolean;
}

export interface HomeTabDeps {
  client: WebClient;
  queues: HomeQueues;
  find: (requestId: string) => Promise<DeletionRequest | null>;
  now: () => number;
  logger: Logger;
}

export class HomeTab {
  private readonly viewers = new Map<string, Viewer>();
  /** One publish per person at a time; a change meanwhile asks for one more after it. */
  private readonly running = new Map<string, Promise<void>>();
  private readonly again = new Set<string>();
  /** The answer to a person's last click on their tab, shown by the next publish. */
  private readonly notices = new Map<string, string>();
  /** Changes whose tabs are being worked out. */
  private readonly changes = new Set<Promise<void>>();

  /** Slack said the app has no Home tab (home_tab_enabled off): publish nothing more until restarted. */
  private disabled = false;

  constructor(private readonly deps: HomeTabDeps) {}

  /** They opened their Home tab. */
  opened(userId: string, teamId: string | undefined): Promise<void> {
    this.remember(userId, { teamId, at: this.deps.now(), shown: new Set(), approver: false });
    return this.refresh(userId);
  }

  /** Answer a click made on their Home tab there (it has no channel and no response_url). */
  tell(userId: string, text: string): Promise<void> {
    this.notices.set(userId, text);
    return this.refresh(userId);
  }

  /**
   * A request changed: the tabs this instance published lately that show it or may now list it (its
   * requester's, or an approver's while it is pending). A tab nobody opened lately is left as it is: it is
   * published afresh when opened, and publishing it would ask Slack who the approvers are for nobody.
   */
  changed(requestId: string): Promise<void> {
    // Nobody's tab to keep fresh: the request isn't even read (the common case, and on every change).
    if (this.viewers.size === 0 || this.disabled) return Promise.resolve();
    const work = this.republish(requestId).finally(() => this.changes.delete(work));
    this.changes.add(work);
    return work;
  }

  private async republish(requestId: string): Promise<void> {
    try {
      const request = await this.deps.find(requestId);
      if (!request) return;
      const since = this.deps.now() - RECENT_MS;
      const users = new Set<string>();
      for (const [userId, viewer] of this.viewers) {
        if (viewer.at < since) this.viewers.delete(userId);
        else if (
          viewer.shown.has(requestId) ||
          userId === request.requesterId ||
          (viewer.approver && request.state === 'pending')
        ) {
          users.add(userId);
        }
      }
      await Promise.all([...users].map((userId) => this.refresh(userId)));
    } catch (error) {
      this.deps.logger.warn('could not refresh Home tabs after a change', { requestId, ...errorFields(error) });
    }
  }

  /** Deletions paused or resumed: every recent tab says so. */
  async everyone(): Promise<void> {
    await Promise.all([...this.viewers.keys()].map((userId) => this.refresh(userId)));
  }

  /** Resolves once no publish is under way (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.running.size > 0 || this.changes.size > 0) {
      await Promise.all([...this.running.values(), ...this.changes]);
    }
  }

  private refresh(userId: string): Promise<void> {
    const running = this.running.get(userId);
    if (running) {
      this.again.add(userId);
      return running;
    }
    const run = (async () => {
      do {
        this.again.delete(userId);
        await this.publish(userId);
      } while (this.again.has(userId));
    })().finally(() => this.running.delete(userId));
    this.running.set(userId, run);
    return run;
  }

  private async publish(userId: string): Promise<void> {
    if (this.disabled) return;
    const viewer = this.viewers.get(userId);
    const notice = this.notices.get(userId) ?? null;
    this.notices.delete(userId);
    try {
      const queue = await this.deps.queues.queueOf(userId, viewer?.teamId);
      const view = renderHomeView(queue, this.deps.now(), notice);
      await this.deps.client.views.publish({ user_id: userId, view });
      const current = this.viewers.get(userId);
      if (current) {
        const shown = new Set([...queue.waiting, ...queue.mine].map((r) => r.id));
        // Set on a key already there keeps its place: the order stays that of opening.
        this.viewers.set(userId, { ...current, shown, approver: queue.approver === 'member' });
      }
    } catch (error) {
      if (slackErrorCode(error) === 'not_enabled') {
        this.disabled = true;
        this.deps.logger.info('the app has no Home tab (home_tab_enabled is off): not publishing one');
        return;
      }
      this.deps.logger.warn('could not publish a Home tab', { userId, ...errorFields(error) });
    }
  }

  private remember(userId: string, viewer: Viewer): void {
    this.viewers.delete(userId);
    this.viewers.set(userId, viewer);
    if (this.viewers.size > RECENT_MAX) {
      const oldest = this.viewers.keys().next().value;
      if (oldest !== undefined) this.viewers.delete(oldest);
    }
  }
}
