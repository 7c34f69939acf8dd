// manifest.yml and the README must say the same thing: the manifest is the Socket Mode quick start's, the
// README's HTTP-mode changes to it are complete, and both name the same scopes and subcommands.
import fs from 'node:fs';
import path from 'node:path';
import { parseCommand } from '../../src/requests/command-text';

const ROOT = path.join(__dirname, '..', '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');
const manifest = read('manifest.yml');
const readme = read('README.md');

/** Manifest lines without their comments (the comments may mention `url:` to say what HTTP mode adds). */
const manifestLines = manifest
  .split('\n')
  .map((line) => line.replace(/\s+#.*$/, '').replace(/^\s*#.*$/, ''))
  .filter((line) => line.trim() !== '');

/** The items of the YAML list under `oauth_config.scopes.bot`. */
function manifestBotScopes(): string[] {
  const start = manifestLines.findIndex((line) => /^\s+bot:\s*$/.test(line));
  expect(start).toBeGreaterThan(-1);
  const scopes: string[] = [];
  for (const line of manifestLines.slice(start + 1)) {
    const item = /^\s+-\s+(\S+)\s*$/.exec(line);
    if (!item) break;
    scopes.push(item[1] as string);
  }
  return scopes.sort();
}

/** The README's paragraph that starts with `marker`, up to the next blank line. */
function readmeParagraph(marker: string): string {
  const start = readme.indexOf(marker);
  expect(start).toBeGreaterThan(-1);
  return readme.slice(start).split('\n\n')[0] ?? '';
}

/** The README section under `## heading`, up to the next `## `. */
function readmeSection(heading: string): string {
  const start = readme.indexOf(`\n## ${heading}\n`);
  expect(start).toBeGreaterThan(-1);
  return readme.slice(start + 1).split(/\n## /)[0] ?? '';
}

describe('manifest.yml is the Socket Mode app the README sets up first', () => {
  it('has Socket Mode on and no request URLs (Socket Mode needs none)', () => {
    expect(manifestLines).toContain('  socket_mode_enabled: true');
    expect(manifestLines.filter((line) => /^\s*(url|request_url):/.test(line))).toEqual([]);
    expect(manifestLines).toContain('    is_enabled: true');
  });

  it('the README says the quick start is Socket Mode, before any other set-up path', () => {
    const quickStart = readme.indexOf('\n## Quick start: Socket Mode, dry run');
    expect(quickStart).toBeGreaterThan(-1);
    expect(quickStart).toBeLessThan(readme.indexOf('\n## HTTP mode'));
    expect(readmeParagraph('**1. Create the Slack app.**')).toContain('Socket Mode on');
  });

  it("the README's HTTP-mode changes turn Socket Mode off and add both request URLs, at /slack/events", () => {
    const snippet = /```yaml\n([\s\S]*?)```/.exec(readmeSection('HTTP mode and Heroku'))?.[1] ?? '';
    expect(snippet).toMatch(/^\s+url: https:\/\/\S+\/slack\/events\b/m);
    expect(snippet).toMatch(/^\s+request_url: https:\/\/\S+\/slack\/events\b/m);
    expect(snippet).toMatch(/^\s+socket_mode_enabled: false\b/m);
  });

  it('the README names exactly the bot scopes the manifest asks for', () => {
    const named = [...readmeParagraph('**1. Create the Slack app.**').matchAll(/`([a-z_]+(?::[a-z_.]+)?)`/g)].map(
      (m) => m[1] as string,
    );
    expect(manifestBotScopes()).toEqual(expect.arrayContaining(['commands', 'chat:write']));
    expect(named.sort()).toEqual(manifestBotScopes());
  });

  it("the slash command's usage hint and the README's command table name the same subcommands, all real", () => {
    expect(manifest).toMatch(/^\s+- command: \/bp-delete$/m);
    const hint = /^\s+usage_hint: "(.*)"$/m.exec(manifest)?.[1] ?? '';
    // Alternatives are separated by " | "; `deleted|kept` inside one of them is a choice of words.
    const hinted = hint
      .split(' | ')
      .map((part) => part.trim().split(/\s+/)[0] ?? '')
      .filter((word) => /^[a-z]+$/.test(word));
    const documented = [...readmeSection('Using it').matchAll(/`\/bp-delete ([a-z]+)\b/g)]
      .map((m) => m[1] as string)
      .filter((word) => parseCommand(word).kind !== 'request');
    expect(hinted.length).toBeGreaterThan(5);
    for (const word of hinted) expect(parseCommand(word).kind).not.toBe('request');
    expect([...new Set(documented)].sort()).toEqual([...new Set(hinted)].sort());
  });
});
