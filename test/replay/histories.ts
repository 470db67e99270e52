/**
 * The committed workflow histories under test/replay/histories: written by record.ts, replayed by
 * replay.test.ts. Each file is one run's history in Temporal's JSON history format (the format of
 * `historyToJSON` and of `temporal workflow show --output json`), so a history exported from a
 * real deployment can be dropped in as well.
 *
 * File names carry the workflow id: `<scenario>.json` for a single run, `<scenario>.run-<n>.json`
 * for the runs of a continue-as-new chain; the workflow id is `replay-<scenario>` either way.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

export const HISTORIES_DIR = path.join(__dirname, 'histories');

/** Scenarios record.ts records; the replay test insists that each has at least one history. */
export const SCENARIOS = [
  'faq-answer',
  'handoff-agent-release',
  'redelivery',
  'outbound-ttl-revoke-sms',
  'continue-as-new',
  'reopen-after-idle',
  'sla-typing-keepalive',
  'automation-failures-desk-down',
  'bm-locale-receipts',
  'outbound-fallbacks',
  'open-pending-timers',
  'routing-version-start',
  'dormant-reopen',
  'issue-11-failures-and-rules',
  'bm-sign-in-legacy',
  'bm-sign-in-codes',
  'typing-fade-by-reader',
  'read-receipt-in-reply',
] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

export interface StoredHistory {
  file: string;
  scenario: string;
  workflowId: string;
  /** The parsed JSON history (event ids as strings); Worker.runReplayHistories converts it itself. */
  history: { events: { eventId: string; eventType?: string }[] };
}

export function workflowIdFor(scenario: string): string {
  return `replay-${scenario}`;
}

/** `<scenario>.json` or `<scenario>.run-<n>.json`. */
export function historyFileName(scenario: string, run?: number): string {
  return run === undefined ? `${scenario}.json` : `${scenario}.run-${run}.json`;
}

const FILE_PATTERN = /^(?<scenario>[a-z0-9-]+?)(?:\.run-(?<run>\d+))?\.json$/;

/** Every committed history, in a stable order (scenario, then run number). */
export function loadHistories(dir = HISTORIES_DIR): StoredHistory[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const stored = names
    .filter((name) => name.endsWith('.json'))
    .map((file) => {
      const match = FILE_PATTERN.exec(file);
      if (!match?.groups?.scenario)
        throw new Error(`${path.join(dir, file)}: expected <scenario>.json or <scenario>.run-<n>.json`);
      const history = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as StoredHistory['history'];
      if (!Array.isArray(history.events) || history.events.length === 0)
        throw new Error(`${path.join(dir, file)}: not a workflow history (no events)`);
      return {
        file,
        scenario: match.groups.scenario,
        run: Number(match.groups.run ?? 0),
        workflowId: workflowIdFor(match.groups.scenario),
        history,
      };
    });
  stored.sort((a, b) => a.scenario.localeCompare(b.scenario) || a.run - b.run);
  return stored.map(({ file, scenario, workflowId, history }) => ({ file, scenario, workflowId, history }));
}
