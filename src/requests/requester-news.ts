// What the requester is told by direct message: how their request ended, or that its outcome is unknown,
// once per state. The message sync sends it; this says whether one is owed.
import { type DeletionRequest, NEWS_STATES, type RequestState } from './types';

/** The request reached a state the requester's message has not been settled for (sent, refused or not owed). */
export function requesterNewsPending(request: DeletionRequest): boolean {
  return NEWS_STATES.includes(request.state) && request.requesterTold !== request.state;
}

/**
 * The state the requester is owed a direct message about, or null: none for what they did themselves
 * (their own cancel or abort), none for a state already told.
 */
export function requesterNews(request: DeletionRequest): RequestState | null {
  if (!requesterNewsPending(request)) return null;
  if (request.closedBy === request.requesterId && (request.state === 'cancelled' || request.state === 'aborted'))
    return null;
  return request.state;
}
