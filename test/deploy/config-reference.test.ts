/**
 * The README's configuration table, .env.example and src/config.ts must name the same variables,
 * and the table's defaults must be the ones config.ts applies: adding a variable to one of them
 * and not the others fails here.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { CONFIG_VARIABLES, envSchema, loadConfig } from '../../src/config';
import { projectRoot } from '../../src/temporal/binaries';

const readme = readFileSync(path.join(projectRoot, 'README.md'), 'utf8');

/** The rows of the table in the README's "## Configuration" section: name → default cell. */
function readmeTable(): Map<string, string> {
  const start = readme.indexOf('\n## Configuration\n');
  if (start < 0) throw new Error('README.md has no "## Configuration" section');
  const next = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, next < 0 ? undefined : next);
  const rows = new Map<string, string>();
  for (const line of section.split('\n')) {
    const row = /^\| `([A-Z][A-Z0-9_]*)` \| ([^|]*) \|/.exec(line);
    if (!row) continue;
    const name = row[1] as string;
    if (rows.has(name)) throw new Error(`README configuration table lists ${name} twice`);
    rows.set(name, (row[2] as string).trim());
  }
  return rows;
}

/** Names in .env.example, set or commented out (`# NAME=value`). */
function envExampleNames(): string[] {
  const text = readFileSync(path.join(projectRoot, '.env.example'), 'utf8');
  return [...text.matchAll(/^#? ?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1] as string);
}

/** What config.ts applies when the variable is unset, as the README writes it: `value` or —. */
function documentedDefault(name: string): string {
  const schema = (envSchema.shape as Record<string, { parse(v: unknown): unknown }>)[name];
  let value: unknown;
  if (schema) value = schema.parse(undefined);
  else if (name === 'TEMPORAL_ADDRESS') value = loadConfig({}).temporal.connection.address;
  else if (name === 'TEMPORAL_NAMESPACE') value = loadConfig({}).temporal.namespace;
  return value === undefined ? '—' : `\`${String(value)}\``;
}

describe('configuration reference', () => {
  test('the README table lists exactly the variables src/config.ts reads', () => {
    const documented = [...readmeTable().keys()];
    expect({ missingFromReadme: CONFIG_VARIABLES.filter((v) => !documented.includes(v)), notInConfig: documented.filter((v) => !CONFIG_VARIABLES.includes(v)) }).toEqual({
      missingFromReadme: [],
      notInConfig: [],
    });
  });

  test("the README's defaults are the ones config.ts applies", () => {
    const table = readmeTable();
    const wrong = CONFIG_VARIABLES.filter((v) => table.has(v) && table.get(v) !== documentedDefault(v)).map((v) => ({ variable: v, readme: table.get(v), config: documentedDefault(v) }));
    expect(wrong).toEqual([]);
  });

  test('.env.example lists every variable once, and nothing else', () => {
    const names = envExampleNames();
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
    expect([...names].sort()).toEqual([...CONFIG_VARIABLES].sort());
  });

  test('the routing file is part of the reference', () => {
    expect(readmeTable().get('ROUTING_FILE')).toBe('—');
    expect(readme).toMatch(/\| `ROUTING_FILE` \|[^\n]*docs\/routing\.md/);
  });
});
