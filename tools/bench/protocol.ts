// What the bench driver asks of the fakes process over the IPC channel, and what it answers.

export type FakesRequest =
  | { op: 'addCustomers'; ids: string[]; first?: boolean; name?: string }
  | { op: 'fillerCustomers'; count: number }
  /** Wait until `expect` top-level messages are in the channel and nothing reached the fakes for `quietMs`. */
  | { op: 'settle'; channel: string | null; expect: number; quietMs: number; timeoutMs: number }
  /** How many of these customers have exactly one top-level message in the channel. */
  | { op: 'verifyPosted'; channel: string; customers: string[] }
  /** Wait for a customer's approval message to be posted and brought up to date (preview, first reply). */
  | { op: 'approvalMessage'; channel: string; customer: string; timeoutMs: number }
  /** Wait for a customer's DELETE and the chat.update whose text matches `finalText`. */
  | { op: 'flowResult'; channel: string; customer: string; finalText: string; timeoutMs: number }
  | { op: 'counts' };

export interface ApprovalMessage {
  ts: string;
  requestId: string;
}

export interface FlowResult {
  /** Fractional epoch ms at which the DELETE reached the fake BotPenguin, and its answer status. */
  deleteAt: number;
  deleteStatus: number | null;
  /** Fractional epoch ms at which the final chat.update reached the fake Slack. */
  finalUpdateAt: number;
}

export interface Settled {
  /** Fractional epoch ms at which the expected-th top-level message reached the channel (null: none expected). */
  lastPostedAt: number | null;
}

export interface VerifyResult {
  expected: number;
  posted: number;
  duplicated: number;
  missing: string[];
}

export interface Counts {
  slackCalls: Record<string, number>;
  botpenguinCalls: Record<string, number>;
}

export type FakesMessage =
  | { type: 'ready'; slackApiUrl: string; botpenguinUrl: string }
  | { type: 'reply'; id: number; ok: true; result: unknown }
  | { type: 'reply'; id: number; ok: false; error: string };
