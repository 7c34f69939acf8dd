// The ticket a reason must name (TICKET_PATTERN, REASON_REQUIRED), and the comparison that outlives the erasure
// of a customer's name and email (a DELETE re-sent after a crash still notices a changed customer).
import { ticketLink } from '../../../src/blocks/text';
import { customerChanged, erasedBeforeDelete } from '../../../src/requests/preview';
import { ticketOf } from '../../../src/requests/ticket';
import type { CustomerPreview } from '../../../src/requests/types';

const TICKET = { pattern: /\bDSR-\d+\b/, example: 'DSR-1234', urlTemplate: 'https://t.example/b/{ticket}?x=1' };

describe('what a reason must hold', () => {
  it('without a policy, any reason (or none) will do, and there is no ticket', () => {
    for (const reason of ['', 'asked by email']) {
      expect(ticketOf(reason, { reasonRequired: false, ticket: null })).toEqual({
        ok: true,
        value: { ticket: null, ticketUrl: null },
      });
    }
  });

  it('REASON_REQUIRED refuses an empty or blank reason', () => {
    for (const reason of ['', '   ']) {
      expect(ticketOf(reason, { reasonRequired: true, ticket: null })).toEqual({
        ok: false,
        refusal: { kind: 'reason_required' },
      });
    }
    expect(ticketOf('asked by email', { reasonRequired: true, ticket: null }).ok).toBe(true);
  });

  it('TICKET_PATTERN refuses a reason without a match, saying the pattern and the example', () => {
    const refusal = { kind: 'ticket_required', pattern: '\\bDSR-\\d+\\b', example: 'DSR-1234' };
    for (const reason of ['', 'asked by email', 'see DSR-x', 'XDSR-12', `DSR-${'9'.repeat(100)}`]) {
      expect(ticketOf(reason, { reasonRequired: false, ticket: TICKET })).toEqual({ ok: false, refusal });
    }
  });

  it('the first match is the ticket, put into the link template URL-encoded', () => {
    expect(ticketOf('per DSR-42 and DSR-43', { reasonRequired: false, ticket: TICKET })).toEqual({
      ok: true,
      value: { ticket: 'DSR-42', ticketUrl: 'https://t.example/b/DSR-42?x=1' },
    });
    const loose = { pattern: /T:\S+/, example: null, urlTemplate: 'https://t.example/{ticket}' };
    expect(ticketOf('see T:a/b?c&d', { reasonRequired: false, ticket: loose })).toMatchObject({
      value: { ticket: 'T:a/b?c&d', ticketUrl: 'https://t.example/T%3Aa%2Fb%3Fc%26d' },
    });
  });
});

describe('a ticket in mrkdwn', () => {
  it('is a link whose URL has its & as an entity and whose label is escaped', () => {
    expect(ticketLink({ ticket: 'DSR-42', ticketUrl: 'https://t.example/b/DSR-42?x=1&y=2' })).toBe(
      '<https://t.example/b/DSR-42?x=1&amp;y=2|DSR-42>',
    );
    expect(ticketLink({ ticket: '<!here>|x', ticketUrl: 'https://t.example/%3C' })).toBe(
      '<https://t.example/%3C|&lt;!here&gt;¦x>',
    );
  });

  it('is inline code without a link template, and nothing without a ticket', () => {
    expect(ticketLink({ ticket: 'DSR-42', ticketUrl: null })).toBe('`DSR-42`');
    expect(ticketLink({ ticket: null, ticketUrl: null })).toBeNull();
  });
});

describe('the customer check before a DELETE, after the erasure', () => {
  const shown: CustomerPreview = { status: 'found', name: 'Ada', email: 'ada@example.org', checkedAt: 1 };
  const again = (over: Partial<CustomerPreview>): CustomerPreview => ({ ...shown, checkedAt: 2, ...over });

  it('the erased preview keeps no name or email, only a fingerprint', () => {
    const erased = erasedBeforeDelete('R1', shown);
    expect(erased).toEqual({ status: 'erased', fingerprint: expect.any(String) });
    expect(JSON.stringify(erased)).not.toMatch(/Ada|ada@/);
    expect(erasedBeforeDelete('R1', { status: 'not_found', checkedAt: 1 })).toBeNull();
    expect(erasedBeforeDelete('R1', null)).toBeNull();
  });

  it('a changed name or email is noticed against the fingerprint as against the preview itself', () => {
    const erased = erasedBeforeDelete('R1', shown);
    for (const before of [shown, erased]) {
      expect(customerChanged('R1', before, again({}))).toBe(false);
      expect(customerChanged('R1', before, again({ name: 'Bob' }))).toBe(true);
      expect(customerChanged('R1', before, again({ email: 'bob@example.org' }))).toBe(true);
      // Not found, or BotPenguin not answering, proves nothing changed (as before the erasure).
      expect(customerChanged('R1', before, { status: 'not_found', checkedAt: 2 })).toBe(false);
    }
    // Another request's fingerprint of the same customer differs: nothing links two erased requests.
    expect(erasedBeforeDelete('R2', shown)?.fingerprint).not.toBe(erased?.fingerprint);
  });
});
