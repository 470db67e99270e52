/**
 * Reading and validating the routing file (ROUTING_FILE). Node only (file system, yaml): imported by
 * configuration, API and worker code, never by the pure routing modules or workflows.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { type Document, isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import { type z } from 'zod';

import { routingConfigSchema } from './schema';
import { type RoutingConfig } from './types';

/** One problem in a routing file, located when possible. */
export interface RoutingConfigProblem {
  /** 1-based line in the file. */
  line?: number;
  /** Field path such as `queues[1].locales`, or `(root)`; absent for syntax errors. */
  path?: string;
  message: string;
}

/** The routing file is unreadable or invalid; the message has one `file:line: path: problem` line per problem. */
export class RoutingConfigError extends Error {
  readonly problems: RoutingConfigProblem[];

  constructor(sourceName: string, problems: RoutingConfigProblem[]) {
    super(
      problems
        .map(
          (problem) =>
            `${sourceName}${problem.line !== undefined ? `:${problem.line}` : ''}: ${problem.path !== undefined ? `${problem.path}: ` : ''}${problem.message}`,
        )
        .join('\n'),
    );
    this.name = 'RoutingConfigError';
    this.problems = problems;
  }
}

type PathSegment = PropertyKey;

/** `queues[1].locales`, `templates["fr-CA"].greeting`. */
function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string' && /^[A-Za-z_$][\w$]*$/.test(segment))
      out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out === '' ? '(root)' : out;
}

/**
 * The line of the deepest node along `path` that exists in the document: the key's line for a map
 * entry (where a reader looks for `locales:`), the item's line in a sequence. A missing field
 * points at the object that lacks it.
 */
function lineOf(doc: Document, lines: LineCounter, path: readonly PathSegment[]): number | undefined {
  let node: unknown = doc.contents;
  let offset = doc.contents?.range?.[0];
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => (isScalar(item.key) ? String(item.key.value) : String(item.key)) === String(segment),
      );
      if (pair === undefined) break;
      offset = (isScalar(pair.key) ? pair.key.range?.[0] : undefined) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item: unknown = node.items[segment];
      if (item === undefined) break;
      offset = (isScalar(item) || isMap(item) || isSeq(item) ? item.range?.[0] : undefined) ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset !== undefined ? lines.linePos(offset).line : undefined;
}

function looksLikeJson(text: string, sourceName: string): boolean {
  if (/\.json$/i.test(sourceName)) return true;
  if (/\.ya?ml$/i.test(sourceName)) return false;
  return /^\s*[{[]/.test(text);
}

/** Line of a JSON.parse error: Node 20 reports "position N", newer Nodes "(line L column C)". */
function jsonErrorLine(text: string, message: string): number | undefined {
  const line = /line (\d+) column \d+/.exec(message);
  if (line?.[1] !== undefined) return Number(line[1]);
  const position = /position (\d+)/.exec(message);
  if (position?.[1] === undefined) return undefined;
  return text.slice(0, Number(position[1])).split('\n').length;
}

function zodProblems(error: z.ZodError, doc: Document, lines: LineCounter): RoutingConfigProblem[] {
  return error.issues.map((issue) => {
    // For a misspelt field, point at the field itself rather than its parent object.
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    const located = keys.length > 0 ? [...issue.path, keys[0] as string] : issue.path;
    const message = issue.message.replace(/^Invalid input: /, '');
    return {
      line: lineOf(doc, lines, located),
      path: formatPath(issue.path),
      message: message.charAt(0).toLowerCase() + message.slice(1),
    };
  });
}

/**
 * Parses and validates a routing file's text: JSON (`.json` name, or text starting with `{` when
 * the name has neither extension) or YAML. Both go through yaml's parser, which keeps source
 * positions, so every problem names its line:
 * `routing.yaml:14: queues[1].locales: expected array, received string`.
 *
 * @param sourceName the file name shown in errors; its extension picks the format.
 * @throws RoutingConfigError listing every problem found.
 */
export function parseRoutingConfig(text: string, sourceName = 'routing'): RoutingConfig {
  const lines = new LineCounter();
  let data: unknown;
  let doc: Document;
  if (looksLikeJson(text, sourceName)) {
    // JSON.parse is the judge of JSON syntax (yaml would accept YAML-only forms); yaml's document
    // is only used to locate fields.
    try {
      data = JSON.parse(text);
    } catch (err) {
      const message = (err as Error).message;
      // Node 20's message may carry no position; yaml's parser usually trips on the same spot.
      const fallback = parseDocument(text, { lineCounter: lines, prettyErrors: false }).errors[0];
      const line =
        jsonErrorLine(text, message) ?? (fallback !== undefined ? lines.linePos(fallback.pos[0]).line : undefined);
      throw new RoutingConfigError(sourceName, [{ line, message: `invalid JSON: ${message}` }]);
    }
    doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  } else {
    doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    if (doc.errors.length > 0) {
      throw new RoutingConfigError(
        sourceName,
        doc.errors.map((error) => ({
          line: lines.linePos(error.pos[0]).line,
          message: `invalid YAML: ${error.message.split('\n')[0] ?? error.code}`,
        })),
      );
    }
    data = doc.toJS({ maxAliasCount: 100 });
  }

  const parsed = routingConfigSchema.safeParse(data);
  if (!parsed.success) {
    const problems = zodProblems(parsed.error, doc, lines).sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
    throw new RoutingConfigError(sourceName, problems);
  }
  return parsed.data;
}

/**
 * Reads and validates the routing file at `path` (ROUTING_FILE). Call once at start-up and hand the
 * result to workflows as input, so a bad file stops the process instead of a conversation.
 *
 * @throws RoutingConfigError naming the file, line and field of each problem.
 */
export function loadRoutingConfig(path: string): RoutingConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new RoutingConfigError(path, [{ message: `cannot read routing file: ${(err as Error).message}` }]);
  }
  return parseRoutingConfig(text, path);
}

/**
 * The version of a validated routing file: a digest of its content, the same in every process that
 * loaded the same file. Conversations start with it (and events carry it) instead of the whole
 * file; workers hold the files and hand a workflow the one of its version (src/temporal/routing-store.ts).
 */
export function routingVersionOf(config: RoutingConfig): string {
  return createHash('sha256').update(JSON.stringify(config)).digest('hex').slice(0, 16);
}
