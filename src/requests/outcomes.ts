// What a DELETE's answer means for the request: its outcome, the state it ends in, and the event that says so.
import type { NewEvent } from '../store/types';
import type { DeleteResult } from './ports';
import type { DeletionOutcome, DeletionRequest, Pause, RequestState } from './types';

/**
 * "Still listed" proves a DELETE failed only this long after its outcome was recorded uncertain: a gateway may
 * answer 5xx (or we time out) while BotPenguin's backend is still deleting, and that takes a while to finish.
 */
export const SETTLE_WINDOW_MS = 10 * 60_000;

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
  // After an unknown attempt only proof settles it: a refusal of this call, or of a re-send after a take-over,
  // says nothing of what an earlier attempt did (a not found does: see below).
  if (result.answerUnknown || (resend && result.kind !== 'not_found')) {
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

/** Why the executor held a DELETE before an attempt. */
export type Hold =
  | { kind: 'paused'; pause: Pause }
  | { kind: 'dry_run' }
  /** Whether DELETEs are paused could not be read. */
  | { kind: 'unchecked' }
  /** Taken over by another holder: nothing of it is ours to record. */
  | { kind: 'not_ours' };

const HELD_BECAUSE: Record<Exclude<Hold['kind'], 'not_ours'>, string> = {
  paused: 'DELETEs were paused',
  dry_run: 'This instance runs with DRY_RUN',
  unchecked: 'The bot could not check whether DELETEs are paused',
};

/** The trail entry of a DELETE held before anything of it was sent: the request is approved and due again. */
export function heldEvent(hold: Extract<Hold, { kind: 'paused' | 'unchecked' }>, at: number): NewEvent {
  return {
    kind: 'paused',
    actorId: hold.kind === 'paused' ? hold.pause.by : null,
    detail:
      hold.kind === 'paused'
        ? 'The DELETE was held before it was sent; it waits until DELETEs are resumed.'
        : 'The DELETE was held before it was sent: the bot could not check whether DELETEs are paused. It will be tried again.',
    at,
  };
}

/**
 * A DELETE held before its next attempt (after `attempts` of this call) when one sent before may have reached
 * BotPenguin: an attempt of this call whose answer is unknown (`unknown`) or a start before a take-over.
 * Uncertain, so the settle checks decide; a dry run that never sent anything stays a dry run.
 */
export function heldOutcome(
  kind: Exclude<Hold['kind'], 'not_ours'>,
  request: DeletionRequest,
  attempts: number,
  unknown = false,
): DeletionOutcome {
  if (!unknown && request.deleteStarts <= 1 && kind === 'dry_run')
    return { ok: true, kind: 'dry_run', said: 'bot', message: 'DRY RUN: no DELETE was sent.', attempts };
  const earlier = unknown
    ? 'an earlier attempt got no clear answer'
    : 'a DELETE was started before a restart and its answer was never recorded';
  return {
    ok: false,
    kind: 'uncertain',
    said: 'bot',
    message: `${HELD_BECAUSE[kind]}, so no further DELETE was sent; but ${earlier}, and it may have deleted the customer.`,
    attempts,
  };
}

/** A take-over that sends nothing more: every start so far may have reached BotPenguin. */
export const tooManyStartsOutcome = (starts: number): DeletionOutcome => ({
  ok: false,
  kind: 'uncertain',
  said: 'bot',
  message: `The DELETE was started ${starts} times and no answer was ever recorded (the bot stopped while waiting), so it was not sent again.`,
});
