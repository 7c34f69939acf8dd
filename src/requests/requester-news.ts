// What the requester is told by direct message: how their request ended, or that its outcome is unknown,
// once per state. The message sync sends it; this says whether one is owed.
import type { DeletionRequest, RequestState } from './types';

/** States the requester hears of, unless they brought it about themselves (their own cancel or abort). */
const NEWS: ReadonlySet<RequestState> = new Set([
  'succeeded',
  'failed',
  'uncertain',
  'denied',
  'cancelled',
  'aborted',
  'expired',
]);

/** The state the requester is owed a direct message about, or null. */
export function requesterNews(request: DeletionRequest): RequestState | null {
  if (!NEWS.has(request.state) || request.requesterTold === request.state) return null;
  if (request.closedBy === request.requesterId && (request.state === 'cancelled' || request.state === 'aborted'))
    return null;
  return request.state;
}
