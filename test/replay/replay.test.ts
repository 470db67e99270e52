/**
 * Replays every committed history (test/replay/histories, recorded by record.ts from the issue's
 * scenarios) against the current workflow code. A change that would break running conversations
 * (a new, removed or reordered activity, timer or other command without `patched()`) fails here
 * with a DeterminismViolationError; any other replay failure (ReplayError) fails too.
 */
import { type History } from '@temporalio/common/lib/proto-utils';
import { type ReplayResult, Worker } from '@temporalio/worker';

import { testDataConverter } from '../helpers/data-converter';
import { installTestRuntime, workflowBundle } from '../helpers/temporal';
import { loadHistories, SCENARIOS, type StoredHistory } from './histories';
import { historyFromJsonObject } from './history-json';

/** One history per scenario, plus at least three runs of the continue-as-new chain. */
const MIN_HISTORIES = SCENARIOS.length + 2;

const stored = loadHistories();

/** Replays `histories` with one replay worker on the bundle global-setup built from src/workflows, through the recorder's data converter. */
async function replay(histories: { workflowId: string; history: History }[]): Promise<ReplayResult[]> {
  installTestRuntime();
  const results: ReplayResult[] = [];
  for await (const result of Worker.runReplayHistories(
    { workflowBundle: workflowBundle(), replayName: 'switchboard-replay', dataConverter: testDataConverter() },
    histories,
  ))
    results.push(result);
  return results;
}

function describeError(error: ReplayResult['error']): string {
  return error ? `${error.name}: ${error.message}` : 'none';
}

describe('replaying committed histories against the current workflow code', () => {
  let results: ReplayResult[] = [];

  beforeAll(async () => {
    results = await replay(
      stored.map((h) => ({ workflowId: h.workflowId, history: historyFromJsonObject(h.history) })),
    );
  });

  test(`the committed histories are there: at least ${MIN_HISTORIES}, every scenario, a continue-as-new chain`, () => {
    expect(stored.length).toBeGreaterThanOrEqual(MIN_HISTORIES);
    const scenarios = new Set(stored.map((h) => h.scenario));
    for (const scenario of SCENARIOS) expect(scenarios).toContain(scenario);
    expect(stored.filter((h) => h.scenario === 'continue-as-new').length).toBeGreaterThanOrEqual(3);
    expect(results).toHaveLength(stored.length);
  });

  for (const [index, h] of stored.entries()) {
    test(`${h.file} (${h.history.events.length} events) replays without a determinism violation or replay error`, () => {
      const result = results[index];
      expect(result).toBeDefined();
      expect({ file: h.file, workflowId: result?.workflowId, error: describeError(result?.error) }).toEqual({
        file: h.file,
        workflowId: h.workflowId,
        error: 'none',
      });
    });
  }

  test('the check can fail: a history whose commands no longer match the code is a DeterminismViolationError', async () => {
    const original = stored.find((h) => h.scenario === 'faq-answer');
    expect(original).toBeDefined();
    const tampered = tamperFirstActivityType(original as StoredHistory);
    const [result] = await replay([
      { workflowId: tampered.workflowId, history: historyFromJsonObject(tampered.history) },
    ]);
    expect(result?.error?.name).toBe('DeterminismViolationError');
  });
});

/** A copy of `h` whose first scheduled activity has a different type than the code schedules. */
function tamperFirstActivityType(h: StoredHistory): StoredHistory {
  const history = structuredClone(h.history) as {
    events: { activityTaskScheduledEventAttributes?: { activityType?: { name?: string } } }[];
  };
  const scheduled = history.events.find((e) => e.activityTaskScheduledEventAttributes?.activityType);
  if (!scheduled?.activityTaskScheduledEventAttributes?.activityType)
    throw new Error(`${h.file} schedules no activity`);
  scheduled.activityTaskScheduledEventAttributes.activityType.name = 'notAnActivityTheCodeSchedules';
  return { ...h, history: history as StoredHistory['history'] };
}
