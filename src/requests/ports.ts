// What the rules call outside themselves, typed here so that the rules import nothing from BotPenguin or
// Slack: the BotPenguin client and the Slack layer implement these, app.ts plugs them in.

/** Why a DELETE attempt that was sent did not delete. */
export type AnsweredFailureKind =
  | 'not_found'
  | 'unauthorized'
  | 'rejected'
  | 'rate_limited'
  | 'server_error'
  | 'timeout'
  | 'network'
  | 'bad_response';

/** Why a DELETE did not delete; `held`: the gate held the next attempt (`attempts` says how many were sent). */
export type DeleteFailureKind = AnsweredFailureKind | 'held';

export type DeleteResult =
  | { ok: true; status: number; attempts: number; message: string; fromBotPenguin?: boolean }
  | {
      ok: false;
      kind: DeleteFailureKind;
      status?: number;
      attempts: number;
      message: string;
      /** `message` is BotPenguin's own text (otherwise the client's words). */
      fromBotPenguin?: boolean;
      /**
       * Set when an earlier attempt of this call may have reached BotPenguin and been acted on (a timeout, a
       * reset after sending, a 5xx) and nothing later proved what it did: the call gave up, was held, or got a
       * definite refusal (which says nothing of the earlier attempt). Whether the customer was deleted is unknown.
       */
      answerUnknown?: true;
      /**
       * Set on a not_found when an earlier attempt of this same call may have reached BotPenguin
       * (it timed out, lost its connection or got a 5xx): that attempt may be what deleted the customer.
       */
      earlierAttemptUncertain?: true;
    };

/**
 * Asked before every attempt of one DELETE call, retries included: true sends it; false holds it, and the call
 * sends nothing more (it answers `held`). Must resolve (never reject).
 */
export type AttemptGate = (attempt: number) => Promise<boolean>;

/** Deletes a customer in BotPenguin. Must resolve (never reject), with retries of its own, each let through by `mayAttempt`. */
export interface Deleter {
  deleteCustomer(customerId: string, mayAttempt: AttemptGate): Promise<DeleteResult>;
}

export interface CustomerSummary {
  id: string;
  name: string | null;
  email: string | null;
  status: string | null;
}

export type ListResult = { ok: true; customers: CustomerSummary[] } | { ok: false; message: string };

/** One page of BotPenguin's customer list, for the preview. */
export interface CustomerLister {
  /** Must resolve (never reject), within its own timeout. */
  listCustomers(page: number): Promise<ListResult>;
}

/** Slack user group membership, asked of Slack (and cached) by the Slack layer. */
export interface Directory {
  /** Members of one user group. Rejects when Slack cannot be asked. */
  usergroupMembers(groupId: string): Promise<ReadonlySet<string>>;
}

/**
 * Told after every change the channel should see; must not throw. `created`: a new request, whose approval
 * message goes out ahead of other Slack work.
 */
export type ChangeNotifier = (requestId: string, change?: 'created') => void;

/** DELETEs were paused or resumed: the Slack layer says so in the channel where it was typed. Must not throw. */
export type PauseNotifier = (change: {
  paused: boolean;
  by: string;
  reason: string | null;
  channelId: string | null;
}) => void;
