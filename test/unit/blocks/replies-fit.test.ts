// Ephemeral answers keep to the 4,000 characters Slack advises for a message's text, cutting whole
// entries and saying how many were left out, never half an entity, link, mention or date token.
import { renderList, renderStatus } from '../../../src/blocks/replies';
import type { EventKind, RequestEvent } from '../../../src/requests/types';
import { aRequest } from '../../helpers/fixtures';

const NOW = Date.UTC(2025, 0, 15, 12, 0, 0);
const LIMIT = 4000;

function expectWellFormed(mrkdwn: string): void {
  const rest = mrkdwn.replace(/<[^<>]*>/g, '');
  expect(rest.replace(/&(?:amp|lt|gt);/g, '')).not.toContain('&');
  // A bare `>` only opens a quote line; anywhere else it is a stray, flattened quote.
  expect(rest.replace(/^>/gm, '')).not.toMatch(/[<>]/);
}

describe('list', () => {
  const requests = (n: number, customerId = (i: number) => `64b7f0c2e4b0a1b2c3d4e5${String(i).padStart(2, '0')}`) =>
    Array.from({ length: n }, (_, i) =>
      aRequest(NOW - i * 1000, { id: `R7K2M9QX${String(i).padStart(2, '0')}`, customerId: customerId(i) }),
    );
  const permalinks = (rs: { id: string }[]) =>
    new Map(rs.map((r) => [r.id, `https://example.slack.com/archives/C0OPS0001/p17000000${r.id.slice(-2)}000100`]));

  it('20 open requests with permalinks fit in 4,000 characters, whole entries, ending with “…and N more”', () => {
    const rs = requests(20);
    const text = renderList(rs, permalinks(rs));
    expect(text.length).toBeLessThanOrEqual(LIMIT);
    expectWellFormed(text);
    const match = /\n…and (\d+) more$/.exec(text);
    expect(match).not.toBeNull();
    const shown = rs.filter((r) => text.includes(r.id));
    expect(shown.length + Number(match?.[1])).toBe(20);
    expect(text).toContain('(20)');
    for (const line of text.split('\n').slice(1, -1)) expect(line).toMatch(/^• <https:.*UTC>$/);
  });

  it('the worst case (80-character ids of `&`) stays within the limit too', () => {
    const rs = requests(20, () => '&'.repeat(80));
    const text = renderList(rs, permalinks(rs));
    expect(text.length).toBeLessThanOrEqual(LIMIT);
    expectWellFormed(text);
    expect(text).toMatch(/…and \d+ more$/);
  });

  it('a short list is whole, with no note', () => {
    const rs = requests(3);
    const text = renderList(rs, new Map());
    expect(text).not.toMatch(/more$/);
    for (const r of rs) expect(text).toContain(r.id);
  });
});

describe('status', () => {
  const r = aRequest(NOW - 60_000, { state: 'denied', closedBy: 'U0APPROVER1', closeReason: 'x', finishedAt: NOW });
  const event = (id: number, kind: EventKind, detail: string | null): RequestEvent => ({
    id,
    requestId: r.id,
    kind,
    actorId: 'U0APPROVER1',
    detail,
    at: NOW - 1000 * (100 - id),
    postedAt: null,
  });

  it('a long history stays within 4,000 characters, whole events only, and says how many were left out', () => {
    const detail = 'Tom & Jerry <legal>\nsecond line of the reason & more\n'.repeat(20);
    const events = [
      event(1, 'requested', detail),
      ...Array.from({ length: 10 }, (_, i) => event(i + 2, 'denied', detail)),
    ];
    const text = renderStatus(r, events, 'https://example.slack.com/archives/C0OPS0001/p1700000000000100');
    expect(text.length).toBeLessThanOrEqual(LIMIT);
    expectWellFormed(text);
    expect(text).toMatch(/…and \d+ more events: the request's thread has them all\.$/);
  });

  it('a reason in the history stays a block quote under its event, not stray `>` in the line', () => {
    const text = renderStatus(r, [event(1, 'denied', 'first line & more\nsecond <line>')], null);
    expectWellFormed(text);
    expect(text).toContain('\n>first line &amp; more\n>second &lt;line&gt;');
  });
});
