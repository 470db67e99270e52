/**
 * The configuration table of docs/configuration.md, .env.example and src/config.ts must name the
 * same variables, and the table's defaults must be the ones config.ts applies: adding a variable
 * to one of them and not the others fails here.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { projectRoot } from '../../dev/binaries';
import { CONFIG_VARIABLES, envSchema, loadConfig } from '../../src/config';

const reference = readFileSync(path.join(projectRoot, 'docs', 'configuration.md'), 'utf8');

/** The rows of the table in docs/configuration.md's "## Configuration" section: name → default cell. */
function referenceTable(): Map<string, string> {
  const start = reference.indexOf('\n## Configuration\n');
  if (start < 0) throw new Error('docs/configuration.md has no "## Configuration" section');
  const next = reference.indexOf('\n## ', start + 1);
  const section = reference.slice(start, next < 0 ? undefined : next);
  const rows = new Map<string, string>();
  for (const line of section.split('\n')) {
    const row = /^\| `([A-Z][A-Z0-9_]*)` \| ([^|]*) \|/.exec(line);
    if (!row) continue;
    const name = row[1] as string;
    if (rows.has(name)) throw new Error(`the configuration table of docs/configuration.md lists ${name} twice`);
    rows.set(name, (row[2] as string).trim());
  }
  return rows;
}

/** Names in .env.example, set or commented out (`# NAME=value`). */
function envExampleNames(): string[] {
  const text = readFileSync(path.join(projectRoot, '.env.example'), 'utf8');
  return [...text.matchAll(/^#? ?([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1] as string);
}

/** What config.ts applies when the variable is unset, as docs/configuration.md writes it: `value` or —. */
function documentedDefault(name: string): string {
  const schema = (envSchema.shape as Record<string, { parse(v: unknown): unknown }>)[name];
  let value: unknown;
  if (schema) value = schema.parse(undefined);
  else if (name === 'TEMPORAL_ADDRESS') value = loadConfig({}).temporal.connection.address;
  else if (name === 'TEMPORAL_NAMESPACE') value = loadConfig({}).temporal.namespace;
  return value === undefined ? '—' : `\`${String(value)}\``;
}

describe('configuration reference', () => {
  test('the docs/configuration.md table lists exactly the variables src/config.ts reads', () => {
    const documented = [...referenceTable().keys()];
    expect({
      missingFromReference: CONFIG_VARIABLES.filter((v) => !documented.includes(v)),
      notInConfig: documented.filter((v) => !CONFIG_VARIABLES.includes(v)),
    }).toEqual({
      missingFromReference: [],
      notInConfig: [],
    });
  });

  test("docs/configuration.md's defaults are the ones config.ts applies", () => {
    const table = referenceTable();
    const wrong = CONFIG_VARIABLES.filter((v) => table.has(v) && table.get(v) !== documentedDefault(v)).map((v) => ({
      variable: v,
      documented: table.get(v),
      config: documentedDefault(v),
    }));
    expect(wrong).toEqual([]);
  });

  test('.env.example lists every variable once, and nothing else', () => {
    const names = envExampleNames();
    expect(names.filter((n, i) => names.indexOf(n) !== i)).toEqual([]);
    expect([...names].sort()).toEqual([...CONFIG_VARIABLES].sort());
  });

  test('the routing file is part of the reference', () => {
    expect(referenceTable().get('ROUTING_FILE')).toBe('—');
    expect(reference).toMatch(/\| `ROUTING_FILE` \|[^\n]*docs\/routing\.md/);
  });
});
