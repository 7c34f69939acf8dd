// The Store interface, implemented once for SQLite and PostgreSQL by sql-store.ts. Every state change is conditional on the
// current state and happens in one transaction with its audit event, so concurrent clicks or instances
// can never both win a transition.
import type {
  CustomerPreview,
  DeletionOutcome,
  DeletionRequest,
  EventKind,
  Pause,
  RequestEvent,
  RequestState,
} from '../requests/types';

export interface NewRequest {
  id: string;
  teamId: string;
  channelId: string;
  customerId: string;
  reason: string;
  requesterId: string;
  approvalsRequired: number;
  createdAt: number;
  expiresAt: number;
  dryRun: boolean;
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
}

export type CreateResult =
  | { ok: true; request: DeletionRequest }
  /** The customer already has an open request. */
  | { ok: false; kind: 'already_open'; existing: DeletionRequest };
/** The requester already has `max` open requests (counted in the same transaction as the insert). */
export type TooManyOpen = { ok: false; kind: 'too_many_open'; max: number };

export type ApprovalResult =
  | { kind: 'recorded'; request: DeletionRequest } // counted, more approvals needed
  | { kind: 'approved'; request: DeletionRequest } // this approval reached the quorum
  | { kind: 'duplicate'; request: DeletionRequest } // this person already approved
  | { kind: 'not_pending'; request: DeletionRequest | null }; // decided, expired, or unknown

export interface ExecutionClaim {
  /** The caller's time, kept as delete_started_at for the day's count (dayStart is on the same clock). */
  now: number;
  /** The lease runs until the database's now + leaseMs. */
  leaseMs: number;
  dayStart: number;
  maxPerDay: number;
  /** This instance's DRY_RUN: when true, the request is claimed (and marked) as a dry run. */
  dryRun?: boolean;
  /** This instance's quorum: the request needs max(stored, this) valid approvals. */
  approvalsRequired?: number;
  /** Approvers whose approval no longer counts (no longer approvers); dropped from the request. */
  notCounted?: readonly string[];
}

/** How addApproval judges the quorum: max(stored, approvalsRequired) approvals, not counting `notCounted`. */
export interface Quorum {
  approvalsRequired: number;
  /** Earlier approvers who are no longer approvers: their approvals are dropped, not counted. */
  notCounted: readonly string[];
}

/** Stricter settings of an instance that starts, applied to every pending or approved request. */
export interface PolicyFloor {
  dryRun: boolean;
  approvalsRequired: number;
  at: number;
}

export interface PauseChange {
  paused: boolean;
  by: string;
  reason: string | null;
  channelId: string | null;
  at: number;
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
  | { kind: 'reopened'; request: DeletionRequest } // its valid approvals fell below the quorum: pending again
  | { kind: 'not_due'; request: DeletionRequest | null }; // not approved (any more), or not yet due

export interface RequestFilter {
  channelId?: string;
  customerId?: string;
  states?: readonly RequestState[];
  limit: number;
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  /** Create or upgrade the schema; safe when several instances start at once. */
  migrate(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;

  /**
   * Insert a pending request, unless the customer already has an open one, or (given a limit) the requester
   * already has `maxOpenPerRequester` open ones: counted in the same transaction as the insert, one
   * requester at a time across every instance, so racing commands can't pass the limit.
   */
  createRequest(input: NewRequest, event: NewEvent): Promise<CreateResult>;
  createRequest(
    input: NewRequest,
    event: NewEvent,
    limit: { maxOpenPerRequester: number },
  ): Promise<CreateResult | TooManyOpen>;
  getRequest(id: string): Promise<DeletionRequest | null>;
  listRequests(filter: RequestFilter): Promise<DeletionRequest[]>;
  countOpenByRequester(requesterId: string): Promise<number>;
  /** Requests whose DELETE was started (or simulated) since `since`, for the daily cap. */
  countDeletionsSince(since: number): Promise<number>;

  /**
   * Record an approval while the request is pending and unexpired at `at`; when the count reaches
   * the request's quorum, move it to approved with executeAt = the database's now + executionDelayMs.
   */
  addApproval(
    id: string,
    userId: string,
    at: number,
    executionDelayMs: number,
    quorum?: Quorum,
  ): Promise<ApprovalResult>;

  /** Move from one of `from` to `to` with the patch and the event, or do nothing and return null. */
  transition(
    id: string,
    from: readonly RequestState[],
    to: RequestState,
    patch: TransitionPatch,
    event: NewEvent | null,
  ): Promise<DeletionRequest | null>;
  /**
   * approved → executing, if due by the database's clock: counts the start for the day and takes the lease.
   * Unless the request is a dry run, refuses when `maxPerDay` deletions already started since `dayStart`.
   * Count and claim are one step for every instance sharing the store, so the daily limit can't be overrun.
   * The claimed request's deleteStarts is the holder's fencing token (renewLease, finishExecution).
   * While DELETEs are paused it claims nothing ('paused'). When the claim carries approvalsRequired or
   * notCounted and fewer than max(stored, claim.approvalsRequired) approvals count (claim.notCounted
   * dropped), it moves the request back to pending ('reopened').
   */
  claimExecution(id: string, claim: ExecutionClaim): Promise<ClaimResult>;
  /** A stricter DRY_RUN or APPROVALS_REQUIRED reaches every pending and approved request; returns those changed. */
  applyPolicyFloor(floor: PolicyFloor): Promise<string[]>;
  /** The pause of every DELETE, or null. */
  getPause(): Promise<Pause | null>;
  /** Pause or resume every DELETE (one step with the claims); an event on each open request. */
  setPause(change: PauseChange): Promise<PauseResult>;
  /**
   * Take over an executing request whose lease ran out by the database's clock, only if its deleteStarts is
   * still `seenDeleteStarts` (nobody took it over meanwhile): counts a new start (a new token, which fences
   * the old holder off) and takes the lease.
   */
  takeOverExecution(
    id: string,
    takeOver: { now: number; leaseMs: number; seenDeleteStarts: number },
  ): Promise<DeletionRequest | null>;
  /**
   * Extend the lease of an executing request to the database's now + leaseMs (a retried DELETE can outlast
   * the first lease), only for the holder of the current token: false once someone took it over or it ended.
   */
  renewLease(id: string, token: number, leaseMs: number): Promise<boolean>;
  /**
   * executing → `to` with the patch and event, only for the holder of the current token (deleteStarts):
   * null when the request was taken over (the stale holder's outcome is refused) or is no longer executing.
   */
  finishExecution(
    id: string,
    token: number,
    to: RequestState,
    patch: TransitionPatch,
    event: NewEvent | null,
  ): Promise<DeletionRequest | null>;
  setPreview(id: string, preview: CustomerPreview): Promise<void>;

  // Keeping Slack in step with the store.
  setMessageTs(id: string, ts: string): Promise<void>;
  /** Take the right to sync this request's message for a while; false when another holder has it. */
  claimSync(id: string, until: number, now: number): Promise<boolean>;
  releaseSync(id: string): Promise<void>;
  /**
   * A sync failed and may succeed later: count the failure and leave the request to the sweeper until
   * `retryAt(failures)` (failures counted with this one). Resolves with that count.
   */
  deferSync(id: string, retryAt: (failures: number) => number): Promise<number>;
  /** Slack refused this request's sync for good: record why and never sync it again. True if newly recorded. */
  endSync(id: string, error: string): Promise<boolean>;
  /** A sync went through: forget the failures counted by deferSync. */
  syncSucceeded(id: string): Promise<void>;
  /**
   * The end of a sync, in one write: release the claim (releaseSync) and, when `succeeded`, forget the
   * failures (syncSucceeded).
   */
  finishSync(id: string, succeeded: boolean): Promise<void>;
  /**
   * The approval message was posted at `ts` showing `version`, in one write: setMessageTs and
   * markMessageVersion (each with its own rule: the first ts stays, the version never goes back); with
   * `finish`, also finishSync(id, true).
   */
  messagePosted(id: string, ts: string, version: number, finish: boolean): Promise<void>;
  /** Why the sync of this request was ended (endSync), or null. */
  syncError(id: string): Promise<string | null>;
  markMessageVersion(id: string, version: number): Promise<void>;
  listEvents(requestId: string): Promise<RequestEvent[]>;
  markEventPosted(eventId: number, at: number): Promise<void>;

  // What the sweeper looks for.
  listExpirable(now: number, limit: number): Promise<DeletionRequest[]>;
  /** Approved requests whose executeAt has come by the database's clock. */
  listDueForExecution(limit: number): Promise<DeletionRequest[]>;
  /** Executing requests whose lease ran out by the database's clock: their DELETE's answer was never recorded. */
  listStaleExecutions(limit: number): Promise<DeletionRequest[]>;
  /** Uncertain requests due for another settle check (fewer than `maxChecks` so far), oldest first. */
  listUncertain(maxChecks: number, limit: number): Promise<DeletionRequest[]>;
  /**
   * Take the next settle check of an uncertain request, if it is due and fewer than `maxChecks` were made:
   * counts it and puts the one after at the database's now + `nextInMs`. False when it is not due (another
   * instance took it first), no longer uncertain, or out of checks.
   */
  claimSettleCheck(id: string, maxChecks: number, nextInMs: number): Promise<boolean>;
  /**
   * Requests whose Slack message or thread is behind the store and whose sync is due at `now` (default: any
   * time), soonest due first; never those whose sync was ended (endSync). Reads only such requests.
   */
  listOutOfSync(limit: number, now?: number): Promise<DeletionRequest[]>;

  /**
   * One page of the audit export: requests created in [since, until) after the cursor, oldest first
   * (by created_at, then id byte by byte), each with all its events in the order they happened.
   */
  listAuditPage(page: AuditPageQuery): Promise<AuditedRequest[]>;
}

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
