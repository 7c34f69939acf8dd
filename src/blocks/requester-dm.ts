// The direct message that tells a requester what became of their request: the request's one description,
// in the plain sentences of the top-level text, with a link to its approval message. Never the customer's
// name or email (the description has none).
import type { DeletionRequest } from '../requests/types';
import { describeRequest } from './describe';
import { statusSentences } from './fallback-text';
import { code, fitMrkdwn, TEXT_LIMIT } from './text';

export function renderRequesterDm(request: DeletionRequest, permalink: string | null, now: number): string {
  const d = describeRequest(request, now);
  const dry = request.dryRun ? 'DRY RUN: ' : '';
  const where = permalink
    ? `Its approval message and thread: <${permalink}|open in Slack>.`
    : `Its approval message is (or was to be) in <#${request.channelId}>.`;
  // The link goes first: the status may be cut to fit, the way to the whole story must not.
  return fitMrkdwn(
    `${d.tone} ${dry}Your request \`${request.id}\` to delete BotPenguin customer ${code(request.customerId)}. ${where}\n${statusSentences(d)}`,
    TEXT_LIMIT,
  );
}
