// The settings are listed in three places (the config schema, the settings table, .env.example): they must agree.
import fs from 'node:fs';
import path from 'node:path';
import { SETTING_VARIABLES } from '../../src/config';

const ROOT = path.join(__dirname, '..', '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');
const sorted = (names: Iterable<string>) => [...names].sort();

/** Where the settings table lives: move it, and change this line with it. */
const SETTINGS_TABLE = { file: 'docs/SETTINGS.md', heading: '## Every setting' } as const;

/**
 * The variables named in the first column of the table under `heading` (a cell may name several), in
 * order and with repeats, so that a setting listed twice shows up; null when there is no such heading.
 */
function tableVariables(markdown: string, heading: string): string[] | null {
  const start = markdown.indexOf(`\n${heading}\n`);
  if (start === -1) return null;
  const level = heading.split(' ')[0] ?? '##';
  const section = markdown.slice(start + 1 + heading.length).split(new RegExp(`\\n#{1,${level.length}} `))[0] ?? '';
  const names: string[] = [];
  for (const line of section.split('\n')) {
    const firstCell = /^\|([^|]*)\|/.exec(line)?.[1] ?? '';
    for (const match of firstCell.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) names.push(match[1] as string);
  }
  return names;
}

/** The variables of .env.example: `NAME=` lines and commented-out `# NAME=` lines. */
function envExampleVariables(): string[] {
  const names: string[] = [];
  for (const line of read('.env.example').split('\n')) {
    const match = /^(?:#\s*)?([A-Z][A-Z0-9_]*)=/.exec(line.trim());
    if (match) names.push(match[1] as string);
  }
  return names;
}

describe('every setting is documented once in the settings table and .env.example, and nothing else is', () => {
  const schema = sorted(SETTING_VARIABLES);

  it('the schema reads the variables it should (a sanity check of the exported list)', () => {
    expect(schema).toEqual(
      expect.arrayContaining(['SLACK_BOT_TOKEN', 'DATABASE_POOL_MAX', 'PGSSL_REJECT_UNAUTHORIZED']),
    );
    expect(schema.length).toBeGreaterThan(20);
  });

  it(`the settings table (${SETTINGS_TABLE.file}, "${SETTINGS_TABLE.heading}") lists exactly the schema's variables, each once`, () => {
    const listed = tableVariables(read(SETTINGS_TABLE.file), SETTINGS_TABLE.heading);
    expect(listed).not.toBeNull();
    expect(sorted(listed ?? [])).toEqual(schema);
  });

  it('the checker itself flags a setting missing from the table, a setting listed twice, and a missing heading', () => {
    const markdown = read(SETTINGS_TABLE.file);
    const row = markdown.split('\n').find((line) => line.startsWith('| `DRY_RUN` |'));
    expect(row).toBeDefined();
    const without = markdown.replace(`${row}\n`, '');
    expect(sorted(tableVariables(without, SETTINGS_TABLE.heading) ?? [])).not.toEqual(schema);
    const twice = markdown.replace(`${row}\n`, `${row}\n${row}\n`);
    expect(sorted(tableVariables(twice, SETTINGS_TABLE.heading) ?? [])).not.toEqual(schema);
    expect(tableVariables(markdown, '## No such heading')).toBeNull();
  });

  it(".env.example lists exactly the schema's variables, each once", () => {
    expect(sorted(envExampleVariables())).toEqual(schema);
  });
});
