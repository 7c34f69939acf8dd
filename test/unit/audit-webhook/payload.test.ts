// What each trail event is called outside, and what its payload carries (docs/AUDIT.md).
import { classifyEvent, type EventClass } from '../../../src/audit-webhook/event-type';
import { type AuditedRequest, type TrailEvent, toPayload } from '../../../src/audit-webhook/payload';
import type { DeletionOutcome, EventKind } from '../../../src/requests/types';

const DELETED: DeletionOutcome = {
  ok: true,
  kind: 'deleted',
  message: 'Customer deleted',
  said: 'botpenguin',
  httpStatus: 200,
  attempts: 1,
};
const REQUEST: AuditedRequest = {
  id: 'R0000001',
  teamId: 'T0TEAM',
  channelId: 'C0OPS',
  customerId: '0123456789abcdef01234567',
  requesterId: 'U0ASKER',
  dryRun: false,
  outcome: DELETED,
  ticket: 'DSR-42',
};
const event = (kind: EventKind, actorId: string | null, detail: string | null = null): TrailEvent => ({
  id: 7,
  requestId: REQUEST.id,
  kind,
  actorId,
  detail,
  at: Date.UTC(2026, 11, 4, 12, 0, 0),
});
const keep = (text: string) => text;

// One line per kind the store records: a new kind fails to compile here until it has an outside name.
const BY_THE_BOT: Record<EventKind, EventClass['type']> = {
  requested: 'requested',
  approved: 'approved',
  delete_sent: 'delete_sent',
  deleted: 'deleted',
  failed: 'failed',
  uncertain: 'uncertain',
  denied: 'denied',
  cancelled: 'withdrawn',
  expired: 'expired',
  aborted: 'aborted',
  reopened: 'reopened',
  policy: 'policy',
  paused: 'paused',
  resumed: 'resumed',
  reminded: 'reminded',
};

describe('every kind of trail event has its outside name', () => {
  it.each(Object.entries(BY_THE_BOT))('%s without an actor is %s', (kind, type) => {
    expect(classifyEvent(event(kind as EventKind, null), REQUEST).type).toBe(type);
  });

  it('a cancel by a person is cancelled; one by the bot (the message could not be posted) is withdrawn', () => {
    expect(classifyEvent(event('cancelled', 'U0ASKER'), REQUEST).type).toBe('cancelled');
    expect(classifyEvent(event('cancelled', null), REQUEST).type).toBe('withdrawn');
  });

  it('an approver closing an uncertain request is closed, with the verdict', () => {
    expect(classifyEvent(event('deleted', 'U0APPROVER'), REQUEST)).toEqual({ type: 'closed', verdict: 'deleted' });
    expect(classifyEvent(event('failed', 'U0APPROVER'), REQUEST)).toEqual({ type: 'closed', verdict: 'kept' });
  });

  it('a dry run that finished is dry_run, never deleted', () => {
    const dry = { ...REQUEST, dryRun: true, outcome: { ...DELETED, kind: 'dry_run', said: 'bot' as const } };
    expect(classifyEvent(event('deleted', null), dry).type).toBe('dry_run');
  });
});

describe('the payload', () => {
  it("carries ids, the actor, the time, the ticket and BotPenguin's answer on a deletion", () => {
    expect(toPayload(event('deleted', null, 'Customer deleted'), REQUEST, keep)).toEqual({
      type: 'deleted',
      timestamp: '2026-12-04T12:00:00.000Z',
      data: {
        eventId: 7,
        requestId: 'R0000001',
        customerId: REQUEST.customerId,
        teamId: 'T0TEAM',
        channelId: 'C0OPS',
        requesterId: 'U0ASKER',
        actorId: null,
        ticket: 'DSR-42',
        dryRun: false,
        verdict: null,
        detail: 'Customer deleted',
        outcome: {
          ok: true,
          kind: 'deleted',
          message: 'Customer deleted',
          said: 'botpenguin',
          httpStatus: 200,
          attempts: 1,
        },
      },
    });
  });

  it.each<[EventKind, string | null]>([
    ['requested', 'U0ASKER'],
    ['denied', 'U0APPROVER'],
    ['cancelled', 'U0ASKER'],
    ['aborted', 'U0APPROVER'],
    ['deleted', 'U0APPROVER'],
    ['paused', 'U0APPROVER'],
  ])('text a person typed is left out (%s)', (kind, actor) => {
    const payload = toPayload(event(kind, actor, 'for Jane Doe, see her email'), REQUEST, keep);
    expect(JSON.stringify(payload)).not.toContain('Jane');
    expect(payload.data.detail).toBeNull();
  });

  it('an event that does not end the request carries no outcome', () => {
    expect(toPayload(event('approved', 'U0APPROVER'), REQUEST, keep).data.outcome).toBeNull();
    expect(toPayload(event('uncertain', null, 'No answer'), REQUEST, keep).data).toMatchObject({
      outcome: null,
      detail: 'No answer',
    });
  });

  it('secrets are redacted from text that goes out', () => {
    const clean = (text: string) => text.replaceAll('tok-123', '[redacted]');
    const payload = toPayload(
      event('failed', null, 'Bearer tok-123 refused'),
      { ...REQUEST, outcome: { ...DELETED, ok: false, message: 'tok-123' } },
      clean,
    );
    expect(JSON.stringify(payload)).not.toContain('tok-123');
  });

  it('an event of no request still goes out, with the ids it has', () => {
    const payload = toPayload({ ...event('paused', 'U0APPROVER'), requestId: null }, null, keep);
    expect(payload.data).toMatchObject({ requestId: null, customerId: null, actorId: 'U0APPROVER', ticket: null });
  });
});
