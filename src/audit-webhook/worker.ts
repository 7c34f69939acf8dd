// Delivers the audit trail to the webhook in the background: at least once, in order per request, one
// instance at a time per event (a lease), retried with growing waits. It never runs in a command's,
// click's or DELETE's path: those only record their event; the outbox carries it from there.
import { randomUUID } from 'node:crypto';
import { errorFields, type Logger } from '../logger';
import { type AuditedRequest, type TrailEvent, toPayload, webhookId } from './payload';
import type { Deliver } from './sender';

export interface OutboxEntry {
  event: TrailEvent;
  request: AuditedRequest | null;
  /** Failed deliveries of this event so far. */
  attempts: number;
}

/**
 * The trail events not yet acknowledged by the receiver. Times are the store's clock (so instances agree),
 * which is why the caller gives durations, not instants.
 */
export interface AuditOutbox {
  /**
   * Lease to `owner`, for `leaseMs`, up to `limit` events: for each request only its oldest unacknowledged
   * event, and only if it is due and not leased to a live owner. So a request's next event can't go out
   * before this one is acknowledged, by any instance.
   */
  claim(owner: string, leaseMs: number, limit: number): Promise<OutboxEntry[]>;
  /** Delivered: remove it (only while `owner` holds its lease). */
  ack(owner: string, eventId: number): Promise<void>;
  /** Not delivered: count the attempt, release the lease, and make it due again in `delayMs`. */
  retryLater(owner: string, eventId: number, delayMs: number): Promise<void>;
  /** How many events wait for delivery. */
  backlog(): Promise<number>;
}

/** Longer than a round can take: every POST of a round is bounded by the sender's timeout. */
const LEASE_MS = 60_000;
/** Events leased per round; one per request, delivered side by side. */
const BATCH = 20;
/** How often an idle worker looks for new events, when nobody tells it of one. */
const IDLE_POLL_MS = 2_000;
const FIRST_RETRY_MS = 1_000;
/** A receiver back after an outage gets everything within this long. */
const MAX_RETRY_MS = 5 * 60_000;

/** The wait after the n-th failed attempt: doubling, capped, with jitter so instances don't retry in step. */
export function retryDelay(attempts: number, random: () => number = Math.random): number {
  const base = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.min(attempts, 20));
  return Math.round(base * (0.5 + random() / 2));
}

export interface AuditWebhookWorkerDeps {
  outbox: AuditOutbox;
  deliver: Deliver;
  logger: Logger;
  /** Redacts the bot's secrets from text that goes out. */
  clean: (text: string) => string;
  metrics: { auditWebhookFailure(): void; storeError(operation: string): void };
  /** How long a round's events stay leased to this instance (default 60 s); the process tests shorten it. */
  leaseMs?: number;
}

export class AuditWebhookWorker {
  private readonly owner = `audit-${randomUUID()}`;
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  constructor(private readonly deps: AuditWebhookWorkerDeps) {}

  /**
   * One round: lease what is due, deliver it, acknowledge or reschedule each. Resolves to how many events
   * were attempted. Never throws: a store that fails is logged and the leases simply run out.
   */
  async runOnce(): Promise<number> {
    const { outbox, logger } = this.deps;
    let entries: OutboxEntry[];
    try {
      entries = await outbox.claim(this.owner, this.deps.leaseMs ?? LEASE_MS, BATCH);
    } catch (error) {
      this.deps.metrics.storeError('auditOutboxClaim');
      logger.warn('audit webhook: could not read the outbox', errorFields(error));
      return 0;
    }
    await Promise.all(entries.map((entry) => this.deliverOne(entry)));
    return entries.length;
  }

  private async deliverOne({ event, request, attempts }: OutboxEntry): Promise<void> {
    const { outbox, deliver, logger, clean, metrics } = this.deps;
    const body = JSON.stringify(toPayload(event, request, clean));
    const result = await deliver(webhookId(event.id), body);
    try {
      if (result.ok) return await outbox.ack(this.owner, event.id);
      metrics.auditWebhookFailure();
      const delayMs = retryDelay(attempts);
      logger.warn('audit webhook: delivery failed; will retry', {
        eventId: event.id,
        requestId: event.requestId,
        status: result.status,
        error: result.error,
        attempts: attempts + 1,
        retryInMs: delayMs,
      });
      await outbox.retryLater(this.owner, event.id, delayMs);
    } catch (error) {
      metrics.storeError(result.ok ? 'auditOutboxAck' : 'auditOutboxRetryLater');
      // The lease runs out and the event is delivered again: at least once.
      logger.warn('audit webhook: could not record a delivery', { eventId: event.id, ...errorFields(error) });
    }
  }

  /** Deliver until stopped: round after round while there is work, then a look every IDLE_POLL_MS. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const attempted = await this.runOnce();
        if (attempted > 0 || !this.running) continue;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, IDLE_POLL_MS);
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.wake = null;
      }
    })();
  }

  /** A new event was recorded: look now rather than at the next poll. */
  poke(): void {
    this.wake?.();
  }

  /** Stop after the round under way (its deliveries are bounded by the sender's timeout). */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
    this.loop = null;
  }
}
