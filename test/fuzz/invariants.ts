/**
 * The invariants checked after every sequence (issue 11, "A randomized interleaving test"). Each
 * returns human-readable violations; profile.ts decides which ones run.
 */
import { temporal } from '@temporalio/proto';

import { type Observation, REDELIVERY_PERIOD_MS } from './execute';
import { type CheckName } from './profile';

export interface Violation {
  check: CheckName;
  message: string;
}

const BAD_ENDINGS = new Set([
  'WorkflowExecutionFailed',
  'WorkflowExecutionTerminated',
  'WorkflowExecutionTimedOut',
  'WorkflowExecutionCanceled',
]);
const AUTOMATION_ACTIONS = new Set(['automation_reply', 'retry_prompt', 'confirm_place', 'no_reply', 'auth_retry']);
const MAX_VIEW_BYTES = 256 * 1024;
const CAUSES = temporal.api.enums.v1.WorkflowTaskFailedCause;
/**
 * The server refusing a completion because a signal or update arrived meanwhile (or a sticky
 * queue reset) is how Temporal keeps those events: the worker simply runs the task again. How
 * many a run sees depends on how fast events arrive against how long a task takes (a loaded
 * machine: more), so only a streak with no task completed in between is a loop: the run no
 * longer moving. (A refused task's commands are dropped, so only outside events can cause the
 * next refusal; a sequence's events are few.)
 */
const BENIGN_TASK_FAILURES = new Set(
  [
    CAUSES.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND,
    CAUSES.WORKFLOW_TASK_FAILED_CAUSE_RESET_STICKY_TASK_QUEUE,
    CAUSES.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_UPDATE,
  ].map(String),
);
const MAX_REFUSALS_IN_A_ROW = 8;

function causeName(cause: string | undefined): string {
  return (CAUSES[Number(cause)] as string | undefined)?.replace('WORKFLOW_TASK_FAILED_CAUSE_', '') ?? String(cause);
}

type Check = (obs: Observation, options: { continueAsNewAfterEvents: number; channel: 'rbm' | 'bm' }) => string[];

const CHECKS: Record<CheckName, Check> = {
  runsHealthy: (obs) =>
    obs.runs.filter((r) => BAD_ENDINGS.has(r.status)).map((r) => `run ${r.runId} ended ${r.status}`),

  noWorkflowTaskFailures: (obs) => [
    ...(obs.stuckWorkflowTask ? [obs.stuckWorkflowTask] : []),
    ...obs.runs.flatMap((r) => {
      const real = r.workflowTaskFailures.filter((f) => !BENIGN_TASK_FAILURES.has(f.cause));
      const streak = Math.max(0, ...r.workflowTaskFailures.map((f) => f.sinceCompleted));
      return [
        ...(real.length > 0
          ? [
              `run ${r.runId}: ${real.length} workflow task failure(s), first: ${causeName(real[0]?.cause)} ${real[0]?.message.slice(0, 300)}`,
            ]
          : []),
        ...(streak > MAX_REFUSALS_IN_A_ROW
          ? [`run ${r.runId}: ${streak} workflow task completions refused in a row, none completed in between (a loop)`]
          : []),
        ...(r.workflowTaskTimeouts > 2 ? [`run ${r.runId}: ${r.workflowTaskTimeouts} workflow task timeouts`] : []),
      ];
    }),
  ],

  settledBeforeContinueAsNew: (obs) =>
    obs.runs
      .filter(
        (r) =>
          (r.status === 'WorkflowExecutionContinuedAsNew' || r.status === 'WorkflowExecutionCompleted') &&
          r.openActivities.length > 0,
      )
      .map(
        (r) =>
          `run ${r.runId} ended ${r.status.replace('WorkflowExecution', '')} with ${r.openActivities.join(', ')} still outstanding`,
      ),

  workerAlive: (obs) => (obs.workerDied ? [`worker process died: ${obs.workerExit ?? 'unknown'}`] : []),

  routedExactlyOnce: (obs) => {
    const out: string[] = [];
    const count = new Map<string, number>();
    for (const d of obs.decisions) count.set(d.messageId, (count.get(d.messageId) ?? 0) + 1);
    for (const [id, m] of obs.messages) {
      const n = count.get(id) ?? 0;
      const mayRepeat = m.lastAtMs - m.firstAtMs > REDELIVERY_PERIOD_MS;
      if (n === 0 && !obs.decisionsTruncated)
        out.push(`message ${id} accepted (${m.deliveries} deliveries) but never routed`);
      if (n > 1 && !mayRepeat)
        out.push(
          `message ${id} routed ${n} times (${m.deliveries} deliveries, last ${Math.round((m.lastAtMs - m.firstAtMs) / 60_000)} min after the first)`,
        );
    }
    return out;
  },

  updatesComplete: (obs) =>
    obs.updates
      .filter((u) => u.outcome === 'pending' || u.outcome === 'not_accepted')
      .map(
        (u) =>
          `update ${u.name} of step ${u.step} ${u.outcome === 'pending' ? 'never completed' : 'was never accepted'}${u.detail ? `: ${u.detail}` : ''}`,
      ),

  outboundAtMostOnce: (obs) => {
    const sent = new Set(obs.calls.filter((c) => c.activity === 'sendMessage' && c.effect).map((c) => c.messageId));
    const byKey = new Map<string, Set<string>>();
    const add = (key: string | undefined, messageId: string | undefined) => {
      if (!key || !messageId || !sent.has(messageId)) return;
      byKey.set(key, (byKey.get(key) ?? new Set()).add(messageId));
    };
    for (const u of obs.updates) add(u.idem, u.messageId);
    for (const m of obs.outbound?.messages ?? []) add(m.idempotencyKey, m.messageId);
    for (const r of obs.runs) for (const m of r.result?.outbound?.messages ?? []) add(m.idempotencyKey, m.messageId);
    return [...byKey]
      .filter(([, ids]) => ids.size > 1)
      .map(
        ([key, ids]) => `Idempotency-Key ${key} reached the channel as ${ids.size} messages: ${[...ids].join(', ')}`,
      );
  },

  smsAtMostOnce: (obs) => {
    const per = new Map<string, number>();
    for (const c of obs.calls)
      if (c.activity === 'sendSms' && c.effect && c.idempotencyKey)
        per.set(c.idempotencyKey, (per.get(c.idempotencyKey) ?? 0) + 1);
    return [...per].filter(([, n]) => n > 1).map(([k, n]) => `${n} SMS reached the provider for ${k}`);
  },

  readAtMostOnce: (obs) => {
    const per = new Map<string, Set<string>>();
    for (const c of obs.calls)
      if (c.activity === 'sendReadReceipt' && c.effect && c.messageId)
        per.set(c.messageId, (per.get(c.messageId) ?? new Set()).add(c.eventId ?? ''));
    const out = [...per]
      .filter(([, ids]) => ids.size > 1)
      .map(([id, ids]) => `${ids.size} distinct READ receipts for ${id}`);
    for (const id of per.keys())
      if (!obs.messages.has(id)) out.push(`READ receipt for ${id}, which the user never sent`);
    return out;
  },

  automationReadSent: (obs, { channel }) => {
    const out: string[] = [];
    const read = new Set(obs.calls.filter((c) => c.activity === 'sendReadReceipt' && c.effect).map((c) => c.messageId));
    const failedForGood = new Set(
      obs.calls.filter((c) => c.activity === 'sendReadReceipt' && c.outcome === 'nonRetryable').map((c) => c.messageId),
    );
    for (const d of obs.decisions) {
      if (!AUTOMATION_ACTIONS.has(d.action)) continue;
      const m = obs.messages.get(d.messageId);
      if (!m || (channel === 'bm' && (m.kind === 'suggestion' || m.kind === 'auth'))) continue;
      if (!read.has(d.messageId) && !failedForGood.has(d.messageId))
        out.push(`message ${d.messageId} handled by automation (${d.action}) but never marked READ`);
    }
    return out;
  },

  boundedState: (obs, { continueAsNewAfterEvents }) => {
    const out: string[] = [];
    const size = JSON.stringify(obs.view ?? {}).length + JSON.stringify(obs.outbound ?? {}).length;
    if (size > MAX_VIEW_BYTES) out.push(`state + outbound view is ${size} bytes`);
    const bound = continueAsNewAfterEvents * 2 + 150;
    for (const r of obs.runs)
      if (r.historyLength > bound)
        out.push(`run ${r.runId} has ${r.historyLength} history events (threshold ${continueAsNewAfterEvents})`);
    return out;
  },

  searchAttributesMatch: (obs) => {
    const out: string[] = [];
    const sa = obs.searchAttributes;
    const view = obs.view;
    if (!sa) return out;
    if (view) {
      if (sa.status !== view.status) out.push(`SwitchboardStatus is ${sa.status}, state says ${view.status}`);
      const queue =
        view.assignment.kind === 'queue'
          ? view.assignment.queue
          : view.assignment.kind === 'human'
            ? view.assignment.queue
            : undefined;
      if (queue !== undefined && sa.queue !== queue)
        out.push(`SwitchboardQueue is ${sa.queue}, assignment queue is ${queue}`);
      if (sa.channel !== view.channel) out.push(`SwitchboardChannel is ${sa.channel}, state says ${view.channel}`);
    } else if (obs.describeStatus === 'COMPLETED' && sa.status !== 'closed') {
      out.push(`completed conversation has SwitchboardStatus ${sa.status}`);
    }
    return out;
  },
};

/** Every violation of the enabled checks. */
export function checkInvariants(
  obs: Observation,
  enabled: Record<CheckName, boolean>,
  options: { continueAsNewAfterEvents: number; channel: 'rbm' | 'bm' },
): Violation[] {
  const out: Violation[] = [];
  for (const [name, check] of Object.entries(CHECKS) as [CheckName, Check][]) {
    if (!enabled[name]) continue;
    for (const message of check(obs, options)) out.push({ check: name, message });
  }
  if (enabled.runsHealthy && obs.runs.length === 0 && obs.messages.size > 0)
    out.push({ check: 'runsHealthy', message: `no run found for ${obs.workflowId}: ${obs.errors.join('; ')}` });
  return out;
}
