/**
 * The fuzzer's task-failure check: refused completions (a signal or update arrived during the
 * task) are how Temporal keeps new events, and a loaded machine sees more of them; only a streak
 * with no completed task in between is a loop. The CI run of 2026-12-03 counted 6 refusals spread
 * over one run as a loop under load, though the same sequence passed alone.
 */
import { temporal } from '@temporalio/proto';

import { type Observation, type RunObservation } from './execute';
import { checkInvariants } from './invariants';
import { CHECK_NAMES, type CheckName } from './profile';

const CAUSES = temporal.api.enums.v1.WorkflowTaskFailedCause;
const REFUSED = String(CAUSES.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND);
const NONDETERMINISM = String(CAUSES.WORKFLOW_TASK_FAILED_CAUSE_NON_DETERMINISTIC_ERROR);
const ONLY_TASK_FAILURES = Object.fromEntries(
  CHECK_NAMES.map((name) => [name, name === 'noWorkflowTaskFailures']),
) as Record<CheckName, boolean>;

function observe(failures: RunObservation['workflowTaskFailures']): Observation {
  const run: RunObservation = {
    runId: 'run-1',
    status: 'RUNNING',
    historyLength: 100,
    workflowTaskFailures: failures,
    workflowTaskTimeouts: 0,
    openActivities: [],
  };
  return {
    conversationKey: 'bm:x',
    workflowId: 'conv-bm-x',
    trace: [],
    messages: new Map(),
    runs: [run],
    decisions: [],
    decisionsTruncated: false,
    updates: [],
    calls: [],
    workerDied: false,
    errors: [],
    realMs: 0,
    startServerMs: 0,
  };
}
const check = (obs: Observation) =>
  checkInvariants(obs, ONLY_TASK_FAILURES, { continueAsNewAfterEvents: 40, channel: 'bm' }).map((v) => v.message);
const refusals = (streaks: number[]) =>
  streaks.map((sinceCompleted) => ({ cause: REFUSED, message: 'UnhandledCommand', sinceCompleted }));

test('refusals with completed tasks in between are not a loop, however many', () => {
  expect(check(observe(refusals([1, 2, 1, 1, 2, 3, 1, 1, 2, 1, 1, 1])))).toEqual([]);
});

test('nine refusals in a row, none completed in between, are a loop', () => {
  expect(check(observe(refusals([1, 2, 3, 4, 5, 6, 7, 8, 9])))).toEqual([
    'run run-1: 9 workflow task completions refused in a row, none completed in between (a loop)',
  ]);
});

test('any other workflow task failure is one, even alone', () => {
  expect(check(observe([{ cause: NONDETERMINISM, message: 'nondeterminism', sinceCompleted: 1 }]))[0]).toContain(
    '1 workflow task failure(s), first: NON_DETERMINISTIC_ERROR',
  );
});
