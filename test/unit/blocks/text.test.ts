// The one helper that cuts mrkdwn (fitMrkdwn, fitLines) and the decoding of text Slack sends us.
import fc from 'fast-check';
import { asSlackSends } from '../../../sandbox/slack-sender';
import { CUT_NOTE, decodeSlackText, fitLines, fitMrkdwn, safeMrkdwn } from '../../../src/blocks/text';

/** Positions where mrkdwn must not be cut: inside `<…>`, inside an entity, between surrogate halves. */
function forbiddenCuts(text: string): Set<number> {
  const inside = new Set<number>();
  for (const m of text.matchAll(/<[^<>]*>|&(?:amp|lt|gt);/g)) {
    for (let i = m.index + 1; i < m.index + m[0].length; i++) inside.add(i);
  }
  for (let i = 1; i < text.length; i++) {
    const high = text.charCodeAt(i - 1);
    const low = text.charCodeAt(i);
    if (high >= 0xd800 && high <= 0xdbff && low >= 0xdc00 && low <= 0xdfff) inside.add(i);
  }
  return inside;
}

/** No half entity, and every `<` closed by a `>` before the next `<`; a bare `>` only opens a quote line. */
function expectWellFormed(mrkdwn: string): void {
  const rest = mrkdwn.replace(/<[^<>]*>/g, '');
  expect(rest.replace(/&(?:amp|lt|gt);/g, '')).not.toContain('&');
  expect(rest.replace(/^>/gm, '')).not.toMatch(/[<>]/);
}

// Pieces of mrkdwn as our renderers produce it: words (never a raw & < >), entities, links, mentions,
// channel and user-group links, date tokens, quote lines, emoji beyond the BMP.
const url = fc.webUrl().map((u) => u.replace(/&/g, '&amp;'));
const word = fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }).map((s) => s.replace(/[&<>]/g, 'x'));
const piece = fc.oneof(
  word,
  fc.constantFrom('&amp;', '&lt;', '&gt;', ' ', '\n', '\n>', '😀', '*', '_', '`'),
  fc.tuple(url, word).map(([url, label]) => `<${url}|${label.replace(/\|/g, '')}>`),
  url.map((u) => `<${u}>`),
  fc.stringMatching(/^U[A-Z0-9]{8,10}$/).map((u) => `<@${u}>`),
  fc.stringMatching(/^C[A-Z0-9]{8}$/).map((c) => `<#${c}|general>`),
  fc.stringMatching(/^S[A-Z0-9]{8}$/).map((s) => `<!subteam^${s}|@ops>`),
  fc
    .integer({ min: 0, max: 2_000_000_000 })
    .map((t) => `<!date^${t}^{date_short_pretty} at {time}|2025-01-01 00:00 UTC>`),
  fc.constantFrom('<!here>', '<!channel>'),
);
const mrkdwn = fc.array(piece, { maxLength: 60 }).map((parts) => parts.join(''));

describe('fitMrkdwn: the one place that decides how mrkdwn is cut', () => {
  it('keeps within the limit, never breaks an entity or a <…> sequence, and is a prefix at a token boundary plus the note', () => {
    fc.assert(
      fc.property(mrkdwn, fc.integer({ min: 0, max: 400 }), (text, max) => {
        const out = fitMrkdwn(text, max);
        expect(out.length).toBeLessThanOrEqual(max);
        expectWellFormed(out);
        if (text.length <= max) {
          expect(out).toBe(text);
          return;
        }
        const ending = [CUT_NOTE, '…', ''].find(
          (e) => out.endsWith(e) && text.startsWith(out.slice(0, out.length - e.length)),
        );
        expect(ending).toBeDefined();
        const kept = out.slice(0, out.length - (ending ?? '').length);
        expect(forbiddenCuts(text).has(kept.length)).toBe(false);
        // The cut says so whenever the note fits.
        if (max >= CUT_NOTE.length) expect(out.endsWith(CUT_NOTE)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('keeps as much as fits: the next token after the cut (past any spaces) would not have fitted', () => {
    const tokenEnd = (text: string, at: number): number => {
      const seq = /^<[^<>]*>|^&(?:amp|lt|gt);/.exec(text.slice(at));
      if (seq) return at + seq[0].length;
      return at + (String.fromCodePoint(text.codePointAt(at) ?? 0).length || 1);
    };
    fc.assert(
      fc.property(mrkdwn, fc.integer({ min: CUT_NOTE.length, max: 400 }), (text, max) => {
        const out = fitMrkdwn(text, max);
        if (text.length <= max) return;
        let next = out.length - CUT_NOTE.length;
        while (next < text.length && /\s/.test(text[next] ?? '')) next += 1;
        expect(tokenEnd(text, next)).toBeGreaterThan(max - CUT_NOTE.length);
      }),
      { numRuns: 500 },
    );
  });

  it('cuts before a link, a mention or a date token rather than inside it', () => {
    const link = '<https://example.slack.com/archives/C1/p1|the request>';
    expect(fitMrkdwn(`see ${link} now`, 20)).toBe(`see${CUT_NOTE}`);
    expect(fitMrkdwn('Tom &amp;&gt; Jerry', 13)).toBe(`Tom${CUT_NOTE}`);
    expect(fitMrkdwn('Tom &amp;&gt; Jerry', 19)).toBe('Tom &amp;&gt; Jerry');
    const date = '<!date^1700000000^{time_secs}|2023-11-14 22:13 UTC>';
    expect(fitMrkdwn(`at ${date} by <@U0APPROVER1>`, date.length + 11)).toBe(`at ${date}${CUT_NOTE}`);
  });

  it('safeMrkdwn escapes, then cuts with fitMrkdwn, naming the original length', () => {
    const out = safeMrkdwn('R&D <legal> '.repeat(50), 100);
    expect(out.length).toBeLessThanOrEqual(100);
    expect(out).toMatch(/^R&amp;D &lt;legal&gt; /);
    expect(out).toMatch(/… \(600 characters, cut\)$/);
    expectWellFormed(out);
  });

  it('a cut never leaves a bare @channel, @here or @everyone, even one a letter followed', () => {
    // Found by the security property test: `@channelZ` was left as it was, and a cut after `@channel` made it bare.
    for (const word of ['channel', 'here', 'everyone']) {
      const text = `*~@${word}Z<!${word}>`;
      for (let max = 0; max <= 40; max++) expect(safeMrkdwn(text, max)).not.toMatch(/@(?:channel|here|everyone)\b/i);
    }
  });
});

describe('fitLines: whole lines or entries, and how many were left out', () => {
  const more = (n: number) => `…and ${n} more`;

  it('returns everything when it fits', () => {
    expect(fitLines(['a', 'b', 'c'], 100, more)).toBe('a\nb\nc');
  });

  it('never cuts inside an entry, and counts the ones left out', () => {
    fc.assert(
      fc.property(
        fc.array(mrkdwn, { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 40, max: 2000 }),
        (entries, max) => {
          const out = fitLines(entries, max, more);
          expect(out.length).toBeLessThanOrEqual(max);
          expectWellFormed(out);
          const all = entries.join('\n');
          if (all.length <= max) {
            expect(out).toBe(all);
            return;
          }
          const match = /…and (\d+) more$/.exec(out);
          if (!match) {
            // Only the first entry, itself too long, was cut (and nothing else was left out).
            expect(entries).toHaveLength(1);
            expect(out.endsWith(CUT_NOTE)).toBe(true);
            return;
          }
          const left = Number(match[1]);
          const shown = out.slice(0, out.length - match[0].length).replace(/\n$/, '');
          const kept = entries.length - left;
          if (kept >= 1 && shown === entries.slice(0, kept).join('\n')) return;
          // The first entry alone did not fit: it is cut with fitMrkdwn, the rest counted.
          expect(left).toBe(entries.length - 1);
          expect(shown.endsWith(CUT_NOTE) || shown === '' || shown.endsWith('…')).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('decodeSlackText: command text as the person typed it', () => {
  // Slack escapes &, < and > in the text it sends us ("Formatting text for app surfaces" → "Escaping
  // text"): "Slack uses &, <, and > as control characters for special parsing in text objects, so they must
  // be converted to HTML entities"; its legacy formatting page: "All text in Slack uses the same system of
  // escaping: chat messages, direct messages, file comments, etc." — and its example: a user types
  // `Hello & <world>`, the text carries `Hello &amp; &lt;world&gt;`.
  it('decodes the three entities once', () => {
    expect(decodeSlackText('R&amp;D &lt;legal&gt; review')).toBe('R&D <legal> review');
    expect(decodeSlackText('Hello &amp; &lt;world&gt; 🌊')).toBe('Hello & <world> 🌊');
    expect(decodeSlackText('typed &amp;lt; literally')).toBe('typed &lt; literally');
    expect(decodeSlackText('&quot; and &#60; are not Slack’s')).toBe('&quot; and &#60; are not Slack’s');
  });

  it('undoes exactly what Slack does to any text a person types', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (typed) => {
        expect(decodeSlackText(asSlackSends(typed))).toBe(typed);
      }),
      { numRuns: 500 },
    );
  });

  it('with escaping turned on for the command (should_escape: true), mentions, channels and links read as typed', () => {
    // With "Escape channels, users, and links sent to your app" on, Slack rewrites what was typed into
    // these sequences (the manifest's `should_escape`: "whether or not channels, users, and links typed
    // with the slash command should be escaped"); our manifest has it off, so normally none arrive.
    expect(decodeSlackText('ask <@U0123ABCD|alice> in <#C0123ABCD|ops>')).toBe('ask @alice in #ops');
    expect(decodeSlackText('see <https://example.com/a?b=1&amp;c=2|example.com/a?b=1&amp;c=2>')).toBe(
      'see example.com/a?b=1&c=2',
    );
    expect(decodeSlackText('see <https://example.com>')).toBe('see https://example.com');
    expect(decodeSlackText('<!here> and <!subteam^S0123|@ops>')).toBe('@here and @ops');
    expect(decodeSlackText('<@U0123ABCD>')).toBe('@U0123ABCD');
  });
});
