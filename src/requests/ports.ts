// What the rules call outside themselves, typed here so that the rules import nothing from BotPenguin or
// Slack: the BotPenguin client and the Slack layer implement these, app.ts plugs them in.

/** Why a DELETE did not delete. */
export type DeleteFailureKind =
  | 'not_found'
  | 'unauthorized'
  | 'rejected'
  | 'rate_limited'
  | 'server_error'
  | 'timeout'
  | 'network'
  | 'bad_response';

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
       * Set when the call gave up (attempts spent) while an attempt may have reached BotPenguin and been
       * acted on (a timeout, a reset after sending, a 5xx): whether the customer was deleted is unknown.
       */
      answerUnknown?: true;
      /**
       * Set on a not_found when an earlier attempt of this same call may have reached BotPenguin
       * (it timed out, lost its connection or got a 5xx): that attempt may be what deleted the customer.
       */
      earlierAttemptUncertain?: true;
    };

/** Deletes a customer in BotPenguin. Must resolve (never reject), with retries of its own. */
export interface Deleter {
  deleteCustomer(customerId: string): Promise<DeleteResult>;
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
