// The reason and ticket policy (REASON_REQUIRED, TICKET_PATTERN): whether a reason will do, and which ticket it names.
import type { Policy } from '../config';
import { type Result, refuse } from './refusals';

/** Ticket ids are short; a longer match (of a loose pattern) is no ticket, and would not fit a card's field. */
const MAX_TICKET = 100;

export interface Ticket {
  ticket: string | null;
  ticketUrl: string | null;
}

/** The ticket a reason names (the pattern's first match, linked by the template), or why the reason won't do. */
export function ticketOf(reason: string, policy: Pick<Policy, 'reasonRequired' | 'ticket'>): Result<Ticket> {
  const { ticket } = policy;
  if (reason.trim() === '' && (policy.reasonRequired || ticket)) {
    return ticket ? refuse(ticketRequired(ticket)) : refuse({ kind: 'reason_required' });
  }
  if (!ticket) return { ok: true, value: { ticket: null, ticketUrl: null } };
  const found = ticket.pattern.exec(reason)?.[0];
  if (!found || found.length > MAX_TICKET) return refuse(ticketRequired(ticket));
  return {
    ok: true,
    value: {
      ticket: found,
      // Encoded: the ticket is the person's text, and becomes part of a link.
      ticketUrl: ticket.urlTemplate?.replaceAll('{ticket}', encodeURIComponent(found)) ?? null,
    },
  };
}

const ticketRequired = (ticket: NonNullable<Policy['ticket']>) =>
  ({ kind: 'ticket_required', pattern: ticket.pattern.source, example: ticket.example }) as const;
