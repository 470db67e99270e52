import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { parseDocument } from 'yaml';

import { renderTemplate } from '../../src/routing';
import { loadRoutingConfig, parseRoutingConfig, RoutingConfigError } from '../../src/routing/load';

const EXAMPLE_PATH = path.join(__dirname, '..', '..', 'config', 'routing.example.yaml');
const EXAMPLE = readFileSync(EXAMPLE_PATH, 'utf8');

/** The example with one line replaced, and that line's 1-based number. */
function exampleWith(original: string, replacement: string): { text: string; line: number } {
  const lines = EXAMPLE.split('\n');
  const index = lines.indexOf(original);
  if (index < 0) throw new Error(`example has no line ${JSON.stringify(original)}`);
  lines[index] = replacement;
  return { text: lines.join('\n'), line: index + 1 };
}

function errorOf(fn: () => unknown): RoutingConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof RoutingConfigError) return err;
    throw err;
  }
  throw new Error('expected a RoutingConfigError');
}

describe('routing file loader', () => {
  test('the shipped example loads: en, fr and es, three queues, one place, FAQ entries with default postbacks', () => {
    const config = loadRoutingConfig(EXAMPLE_PATH);
    expect(config.defaultLocale).toBe('en');
    expect(Object.keys(config.templates)).toEqual(['en', 'fr', 'es']);
    expect(config.queues.map((q) => [q.id, q.default])).toEqual([
      ['general', true],
      ['francais', false],
      ['paris-opera', false],
    ]);
    expect(Object.keys(config.places)).toEqual(['ChIJswitchboardParisOpera01']);
    expect(config.faq.find((entry) => entry.id === 'delivery')?.postbackData).toBe('faq:delivery');
    expect(config.automation.maxFailedAttempts).toBe(2);
    expect(config.countryLocales['+44']).toBe('en');
  });

  test("an invalid file's error names the file, the line and the field", () => {
    const { text, line } = exampleWith('    locales: [fr]', '    locales: fr');
    const error = errorOf(() => parseRoutingConfig(text, 'routing.yaml'));
    expect(error.message).toBe(`routing.yaml:${line}: queues[1].locales: expected array, received string`);
    expect(error.problems).toEqual([{ line, path: 'queues[1].locales', message: 'expected array, received string' }]);
  });

  test('a misspelt field points at its own line; a missing one at the object lacking it', () => {
    const misspelt = exampleWith('    locales: [fr]', '    lcoales: [fr]');
    expect(errorOf(() => parseRoutingConfig(misspelt.text, 'routing.yaml')).message).toContain(
      `routing.yaml:${misspelt.line}: queues[1]: unrecognized key: "lcoales"`,
    );
    expect(errorOf(() => parseRoutingConfig(misspelt.text, 'routing.yaml')).message).toContain(
      'queues[1].locales: expected array, received undefined',
    );

    const noGreeting = exampleWith('    greeting: "Bonjour[ {displayName}] !"', '');
    const frLine = EXAMPLE.split('\n').indexOf('  fr:') + 1;
    expect(errorOf(() => parseRoutingConfig(noGreeting.text, 'routing.yaml')).message).toBe(
      `routing.yaml:${frLine}: templates.fr.greeting: expected string, received undefined`,
    );
  });

  test('cross-reference errors name their line too: unknown place, second default queue, unknown placeholder, reserved postback', () => {
    const place = exampleWith('    placeIds: [ChIJswitchboardParisOpera01]', '    placeIds: [ChIJtypo]');
    expect(errorOf(() => parseRoutingConfig(place.text, 'r.yaml')).message).toBe(
      `r.yaml:${place.line}: queues[2].placeIds[0]: unknown place "ChIJtypo" (not under places)`,
    );

    const defaults = exampleWith('    locales: [fr]', '    locales: [fr]\n    default: true');
    expect(errorOf(() => parseRoutingConfig(defaults.text, 'r.yaml')).message).toBe(
      `r.yaml:${defaults.line + 1}: queues[1].default: only one default queue allowed (queues[0] is already)`,
    );

    const placeholder = exampleWith(
      '    confirmPlace: "Are you contacting us about {placeName}?"',
      '    confirmPlace: "Are you contacting us about {place}?"',
    );
    expect(errorOf(() => parseRoutingConfig(placeholder.text, 'r.yaml')).message).toBe(
      `r.yaml:${placeholder.line}: templates.en.confirmPlace: unknown placeholder {place}; use {displayName} or {placeName}`,
    );

    const reserved = exampleWith('  - id: delivery', '  - id: delivery\n    postbackData: "place:somewhere"');
    expect(errorOf(() => parseRoutingConfig(reserved.text, 'r.yaml')).message).toBe(
      `r.yaml:${reserved.line + 1}: faq[1].postbackData: postbackData may not start with "place:" (reserved for routing's own chips)`,
    );

    const noDefaultTemplates = exampleWith('defaultLocale: en', 'defaultLocale: de');
    expect(errorOf(() => parseRoutingConfig(noDefaultTemplates.text, 'r.yaml')).message).toBe(
      `r.yaml:${noDefaultTemplates.line}: defaultLocale: no templates for "de" (add templates.de)`,
    );
  });

  test('YAML syntax errors name their line', () => {
    const { text, line } = exampleWith('  - id: francais', '  - id: [francais');
    const error = errorOf(() => parseRoutingConfig(text, 'routing.yaml'));
    expect(error.problems[0]?.line).toBeGreaterThanOrEqual(line);
    expect(error.message).toMatch(/^routing\.yaml:\d+: invalid YAML: /);
  });

  test('JSON is accepted too (by extension or content), with lines in its errors', () => {
    const fromYaml = loadRoutingConfig(EXAMPLE_PATH);
    const json = JSON.stringify(parseDocument(EXAMPLE).toJS(), null, 2);
    expect(parseRoutingConfig(json, 'routing.json')).toEqual(fromYaml);
    expect(parseRoutingConfig(json, 'inline')).toEqual(fromYaml);

    const broken = json.replace('"locales": [\n        "fr"\n      ]', '"locales": "fr"');
    expect(broken).not.toBe(json);
    const line = broken.split('\n').findIndex((l) => l.includes('"locales": "fr"')) + 1;
    expect(errorOf(() => parseRoutingConfig(broken, 'routing.json')).message).toBe(
      `routing.json:${line}: queues[1].locales: expected array, received string`,
    );

    const syntax = '{\n  "defaultLocale": "en",\n  "queues": [,]\n}';
    expect(errorOf(() => parseRoutingConfig(syntax, 'routing.json')).message).toMatch(
      /^routing\.json:3: invalid JSON: /,
    );
  });

  test('locale tags are normalized and duplicates (fr / FR) rejected', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'routing-'));
    try {
      const file = path.join(dir, 'routing.yaml');
      writeFileSync(
        file,
        EXAMPLE.replace('defaultLocale: en', 'defaultLocale: EN').replace('    locales: [fr]', '    locales: [FR_ca]'),
      );
      const config = loadRoutingConfig(file);
      expect(config.defaultLocale).toBe('en');
      expect(config.queues[1]?.locales).toEqual(['fr-CA']);

      const { text, line } = exampleWith('  es:', '  FR:');
      expect(errorOf(() => parseRoutingConfig(text, 'r.yaml')).message).toBe(
        `r.yaml:${line}: templates.FR: same locale as "fr"`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a missing file is a RoutingConfigError naming the path', () => {
    expect(() => loadRoutingConfig('/nonexistent/routing.yaml')).toThrow(
      /^\/nonexistent\/routing\.yaml: cannot read routing file: ENOENT/,
    );
  });
});

describe('templates', () => {
  test('a bracketed segment with an unknown placeholder disappears; other brackets are text', () => {
    expect(renderTemplate('Hi[ {displayName}]!', { displayName: 'Ana' })).toBe('Hi Ana!');
    expect(renderTemplate('Hi[ {displayName}]!', {})).toBe('Hi!');
    expect(renderTemplate('Hi[ {displayName}]!', { displayName: '  ' })).toBe('Hi!');
    expect(renderTemplate('Press [1] for {placeName}', { placeName: 'Opéra' })).toBe('Press [1] for Opéra');
    expect(renderTemplate('Merci {displayName} !', {})).toBe('Merci !');
  });
});
