// The Store interface, implemented once for SQLite and PostgreSQL by sql-store.ts. Every state change is conditional on the
// current state and happens in one transaction with its audit event, so concurrent clicks or instances
// can never both win a transition.
import type {
  CustomerPreview,
  DeletionOutcome,
  DeletionRequest,
  EventKind,
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
}

export type CreateResult = { created: true; request: DeletionRequest } | { created: false; existing: DeletionRequest };

export type ApprovalResult =
  | { result: 'recorded'; request: DeletionRequest } // counted, more approvals needed
  | { result: 'approved'; request: DeletionRequest } // this approval reached the quorum
  | { result: 'duplicate'; request: DeletionRequest } // this person already approved
  | { result: 'not_pending'; request: DeletionRequest | null }; // decided, expired, or unknown

export interface ExecutionClaim {
  now: number;
  leaseUntil: number;
  dayStart: number;
  maxPerDay: number;
}

export type ClaimResult =
  | { result: 'claimed'; request: DeletionRequest }
  | { result: 'daily_limit'; request: DeletionRequest }
  | { result: 'not_due'; request: DeletionRequest | null }; // not approved (any more), or not yet due

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

  /** Insert a pending request, unless the customer already has an open one. */
  createRequest(input: NewRequest, event: NewEvent): Promise<CreateResult>;
  getRequest(id: string): Promise<DeletionRequest | null>;
  listRequests(filter: RequestFilter): Promise<DeletionRequest[]>;
  countOpenByRequester(requesterId: string): Promise<number>;
  /** Requests whose DELETE was started (or simulated) since `since`, for the daily cap. */
  countDeletionsSince(since: number): Promise<number>;

  /**
   * Record an approval while the request is pending and unexpired at `at`; when the count reaches
   * the request's quorum, move it to approved with executeAt = at + executionDelayMs.
   */
  addApproval(id: string, userId: string, at: number, executionDelayMs: number): Promise<ApprovalResult>;

  /** Move from one of `from` to `to` with the patch and the event, or do nothing and return null. */
  transition(
    id: string,
    from: readonly RequestState[],
    to: RequestState,
    patch: TransitionPatch,
    event: NewEvent | null,
  ): Promise<DeletionRequest | null>;
  /**
   * approved → executing, if due at `now`: counts the start for the day and takes the lease. Unless the
   * request is a dry run, refuses when `maxPerDay` deletions already started since `dayStart`. Count and
   * claim are one step for every instance sharing the store, so the daily limit can't be overrun.
   */
  claimExecution(id: string, claim: ExecutionClaim): Promise<ClaimResult>;
  /**
   * Take over an executing request whose lease ran out at `now`, only if its deleteStarts is still
   * `seenDeleteStarts` (nobody took it over meanwhile): counts a new start and takes the lease.
   */
  takeOverExecution(
    id: string,
    takeOver: { now: number; leaseUntil: number; seenDeleteStarts: number },
  ): Promise<DeletionRequest | null>;
  /** Extend the lease of an executing request (a retried DELETE can outlast the first lease). */
  renewLease(id: string, leaseUntil: number): Promise<boolean>;
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
  /** Why the sync of this request was ended (endSync), or null. */
  syncError(id: string): Promise<string | null>;
  markMessageVersion(id: string, version: number): Promise<void>;
  listEvents(requestId: string): Promise<RequestEvent[]>;
  markEventPosted(eventId: number, at: number): Promise<void>;

  // What the sweeper looks for.
  listExpirable(now: number, limit: number): Promise<DeletionRequest[]>;
  listDueForExecution(now: number, limit: number): Promise<DeletionRequest[]>;
  /** Executing requests whose lease ran out: their DELETE's answer was never recorded. */
  listStaleExecutions(now: number, limit: number): Promise<DeletionRequest[]>;
  /**
   * Requests whose Slack message or thread is behind the store and whose sync is due at `now` (default: any
   * time), soonest due first; never those whose sync was ended (endSync). Reads only such requests.
   */
  listOutOfSync(limit: number, now?: number): Promise<DeletionRequest[]>;
}
