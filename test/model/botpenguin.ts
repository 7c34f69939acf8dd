// BotPenguin, faked for the model: which customers it has, and how it answers the next DELETEs.
import type { DeleteResult } from '../../src/requests/ports';
import { KNOWN } from './constants';

/**
 * ok: the truth (deleted, or 404 when it has no such customer); reject: a 4xx, nothing deleted;
 * lost_then_404: the first attempt deleted but its answer was lost, the retry got 404;
 * timeout_kept / timeout_applied: no answer to the last attempt, which did not / did delete;
 * busy_kept / busy_applied: a 503 (retried by the client) from a gateway whose backend did not / did delete.
 */
export type Answer =
  | 'ok'
  | 'reject'
  | 'lost_then_404'
  | 'timeout_kept'
  | 'timeout_applied'
  | 'busy_kept'
  | 'busy_applied';
export const ANSWERS: Answer[] = [
  'ok',
  'reject',
  'lost_then_404',
  'timeout_kept',
  'timeout_applied',
  'busy_kept',
  'busy_applied',
];

const DELETED: DeleteResult = { ok: true, status: 200, attempts: 1, message: 'Customer deleted successfully' };
const NOT_FOUND = { ok: false, kind: 'not_found', status: 404, attempts: 1, message: 'Not found' } as const;
const REJECTED: DeleteResult = { ok: false, kind: 'rejected', status: 400, attempts: 1, message: 'Bad request' };
const BUSY: DeleteResult = {
  ok: false,
  kind: 'server_error',
  status: 503,
  attempts: 1,
  message: 'Service Unavailable',
  answerUnknown: true,
};
const TIMEOUT: DeleteResult = {
  ok: false,
  kind: 'timeout',
  attempts: 5,
  message: 'BotPenguin did not answer',
  answerUnknown: true,
};

export class FakeBotPenguin {
  readonly present = new Set(KNOWN);
  /** Which request's DELETE removed each customer. */
  readonly removedBy = new Map<string, string | null>();
  /** How the next DELETEs are answered (then 'ok'). */
  answers: Answer[] = [];

  remove(customerId: string, requestId: string | null): void {
    if (this.present.delete(customerId)) this.removedBy.set(customerId, requestId);
  }

  answer(customerId: string, requestId: string | null): DeleteResult {
    const answer = this.answers.shift() ?? 'ok';
    switch (answer) {
      case 'ok': {
        const had = this.present.has(customerId);
        this.remove(customerId, requestId);
        return had ? DELETED : NOT_FOUND;
      }
      case 'reject': // BotPenguin answers 404 for a customer it no longer has, whatever else is wrong
        return this.present.has(customerId) ? REJECTED : NOT_FOUND;
      case 'lost_then_404':
        this.remove(customerId, requestId);
        return { ...NOT_FOUND, attempts: 2, earlierAttemptUncertain: true };
      case 'timeout_kept':
        return TIMEOUT;
      case 'timeout_applied':
        this.remove(customerId, requestId);
        return TIMEOUT;
      case 'busy_kept':
        return BUSY;
      case 'busy_applied':
        this.remove(customerId, requestId);
        return BUSY;
    }
  }
}

/** One DELETE that reached the fake BotPenguin. */
export interface DeleteCall {
  requestId: string | null;
  customerId: string;
  engine: number;
  at: number;
  /** Its engine died waiting for the answer: only then may the request's DELETE be sent again (§5). */
  lost: boolean;
}
