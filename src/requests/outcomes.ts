// What a DELETE's answer means for the request: its outcome, the state it ends in, and the event that says so.
import type { DeleteResult } from './ports';
import type { DeletionOutcome, RequestState } from './types';

/** The state an outcome leaves the request in. */
export function stateFor(outcome: DeletionOutcome): RequestState {
  if (outcome.ok) return 'succeeded';
  return outcome.kind === 'uncertain' ? 'uncertain' : 'failed';
}

export const eventFor = (state: RequestState) =>
  state === 'succeeded' ? 'deleted' : state === 'uncertain' ? 'uncertain' : 'failed';

/**
 * A BotPenguin answer as the request's outcome; a "not found" on a re-send means our first DELETE worked, and
 * a call that gave up while an attempt may have reached BotPenguin is uncertain, never "not deleted".
 */
export function toOutcome(result: DeleteResult, resend: boolean): DeletionOutcome {
  const said = result.fromBotPenguin ? ('botpenguin' as const) : ('bot' as const);
  if (result.ok)
    return {
      ok: true,
      kind: 'deleted',
      message: result.message,
      said,
      httpStatus: result.status,
      attempts: result.attempts,
    };
  if (result.answerUnknown) {
    return {
      ok: false,
      kind: 'uncertain',
      message: result.message,
      said,
      httpStatus: result.status,
      attempts: result.attempts,
    };
  }
  // A "not found" after a re-send (a crash lost the first answer), or after an earlier attempt of this
  // call went unanswered, means our own DELETE got there first.
  if (result.kind === 'not_found' && (resend || result.earlierAttemptUncertain)) {
    return {
      ok: true,
      kind: 'already_gone',
      message: result.message,
      said,
      httpStatus: result.status,
      attempts: result.attempts,
    };
  }
  return {
    ok: false,
    kind: result.kind,
    message: result.message,
    said,
    httpStatus: result.status,
    attempts: result.attempts,
  };
}
