// The Store interface, implemented once for SQLite and PostgreSQL by sql-store.ts. The store stores: the rules
// (src/requests/) judge, and hand it what to write, events included. Every state change is conditional on the
// current state and happens in one transaction with its event, so concurrent clicks or instances can never
// both win a transition; counts that limit a write (the daily limit, open requests, the quorum) are taken
// under the same lock as the write.

import type { AuditOutbox } from '../audit-webhook/worker';
import type {
  ControlEvent,
  CustomerPreview,
  DeletionOutcome,
  DeletionRequest,
  EventKind,
  Pause,
  RequestEvent,
  RequestState,
} from '../requests/types';
import type { DatabaseKind } from './dialect';

export interface NewRequest {
  id: string;
  teamId: string;
  channelId: string;
  customerId: string;
  reason: string;
  /** Unset: none (no TICKET_PATTERN). */
  ticket?: string | null;
  ticketUrl?: string | null;
  requesterId: string;
  approvalsRequired: number;
  createdAt: number;
  expiresAt: number;
  dryRun: boolean;
  /** When the approvers are first reminded (REMIND_AFTER); null or absent: never. */
  nextRemindAt?: number | null;
}

export interface NewEvent {
  kind: EventKind;
  actorId: string | null;
  detail: string | null;
  at: number;
}

/** Fields a transition may set alongside the state. */
export interface TransitionPatch {
  executeAt?: number | null;
  closedBy?: string | null;
  closeReason?: string | null;
  outcome?: DeletionOutcome | null;
  leaseUntil?: number | null;
  finishedAt?: number | null;
  closedFrom?: string | null;
  /** Never lowers the stored quorum (a stricter instance may have raised it meanwhile). */
  approvalsRequired?: number;
  /** Approvals removed in the same step (the rules judged they no longer count). */
  dropApprovals?: ApprovalDrop | null;
  /**
   * A reminder to the approvers: only while `sent - 1` were sent (another instance that posted this one
   * first makes the write do nothing); records `sent` and when the next one is due (null: none).
   */
  reminder?: { sent: number; nextAt: number | null };
  /** A first start undone before its DELETE was sent: no start counted, none for the day's count. */
  unclaimed?: true;
}

/**
 * Approvals the rules judged no longer count, and the event that says so. Only those still stored are
 * removed; the event is written (given them) only when there were any.
 */
export interface ApprovalDrop {
  userIds: readonly string[];
  event: (dropped: readonly string[]) => NewEvent;
}

/** The holder's fencing token: the request's deleteStarts when it was claimed or taken over. */
export type FencingToken = number;

export type CreateResult =
  | { ok: true; request: DeletionRequest }
  /** The customer already has an open request. */
  | { ok: false; kind: 'already_open'; existing: DeletionRequest }
  /** The requester already has `max` open requests (counted in the same transaction as the insert). */
  | { ok: false; kind: 'too_many_open'; max: number };

export interface NewApproval {
  userId: string;
  at: number;
  /** The request is approved once this many approvals count (never fewer than its stored quorum). */
  approvalsRequired: number;
  executionDelayMs: number;
  drop: ApprovalDrop | null;
  /** This approval's event, given how many approvals count now and how many are needed. */
  event: (count: number, required: number) => NewEvent;
}

export type ApprovalResult =
  | { kind: 'recorded'; request: DeletionRequest } // counted, more approvals needed
  | { kind: 'approved'; request: DeletionRequest } // this approval reached the quorum
  | { kind: 'duplicate'; request: DeletionRequest } // this person already approved
  | { kind: 'being_denied'; request: DeletionRequest } // an approver's Deny holds it (DeletionRequest.denyHold)
  | { kind: 'not_pending'; request: DeletionRequest | null }; // decided, expired, or unknown

export interface ExecutionClaim {
  /** The caller's time, kept as delete_started_at for the day's count (dayStart is on the same clock). */
  now: number;
  /** The lease runs until the database's now + leaseMs. */
  leaseMs: number;
  dayStart: number;
  maxPerDay: number;
  /** This instance's DRY_RUN: when true, the request is claimed (and marked) as a dry run. */
  dryRun: boolean;
  /** Approvals that no longer count, though enough others still do: removed as it is claimed. */
  drop: ApprovalDrop | null;
  /** The trail's delete_sent event, written with the claim unless it is claimed as a dry run. */
  sent: NewEvent;
}

/** Stricter settings of an instance that starts, applied to every pending or approved request. */
export interface PolicyFloor {
  dryRun: boolean;
  approvalsRequired: number;
  /** The event of a request that had weaker settings (as they were). */
  event: (before: { dryRun: boolean; approvalsRequired: number }) => NewEvent;
}

export interface PauseChange {
  paused: boolean;
  by: string;
  reason: string | null;
  channelId: string | null;
  at: number;
  /** Written on every pending or approved request, whose message then says so. */
  event: NewEvent;
  /** On resume: approved requests that expired before `before` end expired, with this event. */
  expire: { before: number; event: NewEvent } | null;
}

export interface PauseResult {
  /** False when it already was paused (or running): nothing changed. */
  changed: boolean;
  pause: Pause | null;
  /** Open requests whose message and thread now say so. */
  affected: string[];
}

export type ClaimResult =
  | { kind: 'claimed'; request: DeletionRequest }
  | { kind: 'daily_limit'; request: DeletionRequest }
  | { kind: 'paused'; request: DeletionRequest } // DELETEs are paused: it stays approved and due
  | { kind: 'not_due'; request: DeletionRequest | null }; // not approved (any more), or not yet due

export interface RequestFilter {
  channelId?: string;
  customerId?: string;
  requesterId?: string;
  states?: readonly RequestState[];
  limit: number;
}

/** What the sweeper looks for; due and stale times are the database's clock. */
export type SweepQuery =
  /** Pending requests whose time ran out at `now`, oldest expiry first. */
  | { kind: 'expirable'; now: number; limit: number }
  /** Approved requests whose executeAt has come. */
  | { kind: 'due'; limit: number }
  /** Executing requests whose lease ran out: their DELETE's answer was never recorded. */
  | { kind: 'stale'; limit: number }
  /** Uncertain requests due for another settle check (fewer than `maxChecks` so far), oldest first. */
  | { kind: 'uncertain'; maxChecks: number; limit: number }
  /** Pending, unexpired requests whose next reminder is due at `now`, while DELETEs are not paused. */
  | { kind: 'remindable'; now: number; limit: number };

/** How a claimed sync of a request's message ended. */
export type SyncEnd =
  /**
   * Message and thread show the stored request: release the claim and forget the failures. With `version`
   * (the version the sync read and brought Slack to), only if the request is still at it with every thread
   * reply posted; otherwise nothing changes, the claim stays and `released` is false (read it again).
   */
  | { kind: 'in-step'; version?: number }
  /** Released with work left (or after a failure): the failures counted so far stay. */
  | { kind: 'behind' }
  /**
   * Failed, may succeed later: count the failure and leave the request to the sweeper until
   * `retryAt(failures)` (failures counted with this one). The claim is kept.
   */
  | { kind: 'retry'; retryAt: (failures: number) => number }
  /** Slack refused it for good: record why and never sync it again. */
  | { kind: 'ended'; error: string };

export interface SyncEnded {
  failures: number;
  ended: boolean;
  released: boolean;
}

/** What a sync showed in Slack, recorded in one write; each field keeps its own rule. */
export interface MessageShown {
  /** The message's ts: the first one stays. */
  ts?: string;
  /** The request version the message shows: never goes back. */
  version?: number;
  /** Events whose thread replies were posted (at `at`): posted once. */
  postedEvents?: { ids: readonly number[]; at: number };
  /** The requester's direct message about this state is settled: sent, refused by Slack, or not owed. */
  requesterTold?: RequestState;
}

export interface Store {
  readonly kind: DatabaseKind;
  /** Create or upgrade the schema; safe when several instances start at once. */
  migrate(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;

  /**
   * Insert a pending request, unless the customer already has an open one, or the requester already has
   * `maxOpenPerRequester` open ones: counted in the same transaction as the insert, one requester at a time
   * across every instance, so racing commands can't pass the limit.
   */
  createRequest(input: NewRequest, event: NewEvent, limit: { maxOpenPerRequester: number }): Promise<CreateResult>;
  getRequest(id: string): Promise<DeletionRequest | null>;
  listRequests(filter: RequestFilter): Promise<DeletionRequest[]>;
  listEvents(requestId: string): Promise<RequestEvent[]>;
  /** Requests whose DELETE was started (not simulated) since `since`, for the daily cap. */
  countDeletionsSince(since: number): Promise<number>;
  /**
   * Store a preview while the request is in one of `states` (a late lookup must not bring back what a final
   * state erased); false when it is not. A preview without name and email also clears the files' old copies.
   */
  setPreview(id: string, preview: CustomerPreview, states: readonly RequestState[]): Promise<boolean>;

  /**
   * Record an approval while the request is pending and unexpired at `approval.at`, dropping `approval.drop`
   * in the same step; when the approvals then stored reach the quorum, move it to approved with executeAt =
   * the database's now + executionDelayMs. Concurrent approvals take turns: exactly one reaches the quorum.
   */
  addApproval(id: string, approval: NewApproval): Promise<ApprovalResult>;
  /**
   * Move from one of `from` to `to` with the patch and the event, or do nothing and return null. With a
   * `token`, only while the request is executing under that token: a holder that was taken over is refused.
   */
  transition(
    id: string,
    from: readonly RequestState[],
    to: RequestState,
    patch: TransitionPatch,
    event: NewEvent | null,
    token?: FencingToken,
  ): Promise<DeletionRequest | null>;
  /** A stricter DRY_RUN or APPROVALS_REQUIRED reaches every pending and approved request; returns those changed. */
  applyPolicyFloor(floor: PolicyFloor): Promise<string[]>;

  /**
   * approved → executing, if due by the database's clock: counts the start for the day and takes the lease.
   * Unless the request is (or is claimed as) a dry run, refuses when `maxPerDay` deletions already started
   * since `dayStart`. Count and claim are one step for every instance sharing the store, so the daily limit
   * can't be overrun. The claimed request's deleteStarts is the holder's fencing token. While DELETEs are
   * paused it claims nothing ('paused').
   */
  claimExecution(id: string, claim: ExecutionClaim): Promise<ClaimResult>;
  /**
   * Take over an executing request whose lease ran out by the database's clock, only if its token is still
   * `seenToken` (nobody took it over meanwhile): counts a new start (a new token, which fences the old holder
   * off) and takes the lease, writing `sent` (the trail's delete_sent; null when this start sends nothing).
   */
  takeOverExecution(
    id: string,
    takeOver: { now: number; leaseMs: number; seenToken: FencingToken; sent: NewEvent | null },
  ): Promise<DeletionRequest | null>;
  /**
   * Extend the lease of an executing request to the database's now + leaseMs (a retried DELETE can outlast
   * the first lease), only for the holder of the current token: false once someone took it over or it ended.
   */
  renewLease(id: string, token: FencingToken, leaseMs: number): Promise<boolean>;
  /**
   * Take the next settle check of an uncertain request, if it is due and fewer than `maxChecks` were made:
   * counts it and puts the one after at the database's now + `nextInMs`. False when it is not due (another
   * instance took it first), no longer uncertain, or out of checks.
   */
  claimSettleCheck(id: string, maxChecks: number, nextInMs: number): Promise<boolean>;
  /** The pause of every DELETE, or null. */
  getPause(): Promise<Pause | null>;
  /** Pause or resume every DELETE (one step with the claims), writing the change's events. */
  setPause(change: PauseChange): Promise<PauseResult>;

  // Keeping Slack in step with the store.
  /** Take the right to sync this request's message for a while; false when another holder has it (or it ended). */
  claimSync(id: string, until: number, now: number): Promise<boolean>;
  /**
   * See SyncEnd. `failures`: counted so far ('retry'); `ended`: newly ended by this call ('ended'); `released`:
   * the claim was let go ('in-step' with a version that no longer holds keeps it).
   */
  endSync(id: string, end: SyncEnd): Promise<SyncEnded>;
  recordMessage(id: string, shown: MessageShown): Promise<void>;
  /**
   * Requests whose Slack message or thread is behind the store, or whose requester's direct message is still
   * to be settled (a state of NEWS_STATES other than requesterTold), and whose sync is due at `now` (default:
   * any time), soonest due first; never those whose sync was ended. Reads only such requests.
   */
  listOutOfSync(limit: number, now?: number): Promise<DeletionRequest[]>;

  listForSweep(query: SweepQuery): Promise<DeletionRequest[]>;
  /**
   * One page of the audit export: requests created in [since, until) after the cursor, oldest first
   * (by created_at, then id byte by byte), each with all its events in the order they happened.
   */
  listAuditPage(page: AuditPageQuery): Promise<AuditedRequest[]>;
}

/**
 * Deny holds and the trail of pauses: implemented by the same SQL store, kept out of Store to keep it small.
 */
export interface HoldsAndTrail {
  /**
   * Hold a pending request for `by`'s Deny until `until`: refused ('held') while another approver's hold is in
   * force at `now`; `by`'s own hold is renewed. Bumps the version, so its message says so.
   */
  holdForDeny(
    id: string,
    hold: { by: string; now: number; until: number },
  ): Promise<
    | { kind: 'held' | 'not_pending'; request: DeletionRequest | null }
    | { kind: 'held_by_other'; request: DeletionRequest }
  >;
  /** Release `by`'s hold (the modal was closed); false when `by` held none. */
  releaseDenyHold(id: string, by: string): Promise<boolean>;
  /** Pauses and resumes in [since, until), oldest first. */
  listControlEvents(since: number, until: number): Promise<ControlEvent[]>;
}

/** What the bot's store does: the Store, and the few capabilities kept out of it. */
export type BotStore = Store & HoldsAndTrail;

export interface AuditPageQuery {
  /** Created at or after (ms since the epoch). */
  since: number;
  /** Created before (ms since the epoch). */
  until: number;
  /** The last request of the previous page; null for the first page. */
  after: { createdAt: number; id: string } | null;
  limit: number;
}

export interface AuditedRequest {
  request: DeletionRequest;
  events: RequestEvent[];
}

/** An event as it was committed: what the instruments (metrics, the audit webhook) are told. */
export interface CommittedEvent {
  id: number;
  requestId: string;
  kind: EventKind;
  actorId: string | null;
  /** The request's outcome kind when the event was written (tells a dry run from a real deletion). */
  outcomeKind: DeletionOutcome['kind'] | null;
}

/**
 * What the operators' instruments read from the store, beside the Store the rules use (implemented by the
 * same class): the open requests the metrics report, the audit webhook's outbox, and every event as it commits.
 */
export interface StoreInstruments {
  countOpenByState(): Promise<Partial<Record<RequestState, number>>>;
  readonly auditOutbox: AuditOutbox;
  /**
   * `listener` is called after each transaction that wrote events commits, with those events in order.
   * Returns what stops it.
   */
  onEventsCommitted(listener: (events: readonly CommittedEvent[]) => void): () => void;
}

/** The store as createStore opens it: what the rules use and what the instruments read. */
export type InstrumentedStore = BotStore & StoreInstruments;
