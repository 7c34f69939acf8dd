// The settings are listed in three places (the config schema, README's table, .env.example): they must agree.
import fs from 'node:fs';
import path from 'node:path';
import { SETTING_VARIABLES } from '../../src/config';

const ROOT = path.join(__dirname, '..', '..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');
const sorted = (names: Iterable<string>) => [...new Set(names)].sort();

/** The variables named in the first column of README's "## Settings" table (a cell may name several). */
function readmeVariables(): string[] {
  const readme = read('README.md');
  const start = readme.indexOf('\n## Settings\n');
  expect(start).toBeGreaterThan(-1);
  const section = readme.slice(start + 1).split(/\n## /)[0] ?? '';
  const names: string[] = [];
  for (const line of section.split('\n')) {
    const firstCell = /^\|([^|]*)\|/.exec(line)?.[1] ?? '';
    for (const match of firstCell.matchAll(/`([A-Z][A-Z0-9_]*)`/g)) names.push(match[1] as string);
  }
  return sorted(names);
}

/** The variables of .env.example: `NAME=` lines and commented-out `# NAME=` lines. */
function envExampleVariables(): string[] {
  const names: string[] = [];
  for (const line of read('.env.example').split('\n')) {
    const match = /^(?:#\s*)?([A-Z][A-Z0-9_]*)=/.exec(line.trim());
    if (match) names.push(match[1] as string);
  }
  return sorted(names);
}

describe('every setting is documented once in README and .env.example, and nothing else is', () => {
  const schema = sorted(SETTING_VARIABLES);

  it('the schema reads the variables it should (a sanity check of the exported list)', () => {
    expect(schema).toEqual(
      expect.arrayContaining(['SLACK_BOT_TOKEN', 'DATABASE_POOL_MAX', 'PGSSL_REJECT_UNAUTHORIZED']),
    );
    expect(schema.length).toBeGreaterThan(20);
  });

  it("README's settings table lists exactly the schema's variables", () => {
    expect(readmeVariables()).toEqual(schema);
  });

  it(".env.example lists exactly the schema's variables", () => {
    expect(envExampleVariables()).toEqual(schema);
  });
});
