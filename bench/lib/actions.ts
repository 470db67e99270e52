/**
 * Temporal actions, counted from workflow histories: what Temporal Cloud bills for. The rules
 * follow Temporal Cloud's published list (docs.temporal.io/cloud/actions), applied to the events a
 * history shows:
 *
 * | history event | actions |
 * |---|---|
 * | WorkflowExecutionStarted followed by the start's WorkflowExecutionSignaled (signal-with-start) | 1 for both |
 * | WorkflowExecutionStarted otherwise (client start, update-with-start's start, continue-as-new) | 1 |
 * | WorkflowExecutionSignaled | 1 |
 * | WorkflowExecutionUpdateAccepted | 1 |
 * | TimerStarted (also the implicit timer of `condition(fn, timeout)` and `sleep`) | 1 |
 * | ActivityTaskStarted | its `attempt` (every attempt is billed; the history keeps only the last) |
 * | MarkerRecorded `core_local_activity` | 1 per workflow task that recorded any (Cloud bills a task's markers once) |
 * | UpsertWorkflowSearchAttributes | 1 (several attributes in one upsert are one action) |
 * | StartChildWorkflowExecutionInitiated | 2; SignalExternalWorkflowExecutionInitiated 1; WorkflowExecutionOptionsUpdated 1 |
 * | other markers (side effects) | 1 |
 *
 * Not counted (listed under `free`): workflow tasks, memo upserts (WorkflowPropertiesModified),
 * patch markers, completions. Billable but absent from histories, hence not counted: queries
 * (the benchmark's own polling would inflate them), rejected updates, activity heartbeats.
 */
import { type Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

const T = temporal.api.enums.v1.EventType;
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Billable actions of one or more histories, by kind. */
export interface ActionCount {
  /** Sum of `byKind`. */
  total: number;
  byKind: Record<string, number>;
  /** History events that cost nothing (for the record: workflow tasks are the server's real work). */
  free: Record<string, number>;
  /** Every history event. */
  events: number;
  /** Workflow tasks completed (each one a round trip worker ↔ server). */
  workflowTasks: number;
}

/** An empty count to add histories into. */
export function emptyCount(): ActionCount {
  return { total: 0, byKind: {}, free: {}, events: 0, workflowTasks: 0 };
}

const add = (into: Record<string, number>, kind: string, n = 1) => {
  into[kind] = (into[kind] ?? 0) + n;
};

/** Counts the billable actions in one history (see the module header for the rules). */
export function countHistory(events: readonly HistoryEvent[], into: ActionCount = emptyCount()): ActionCount {
  const activityTypes = new Map<string, string>();
  const localActivityTasks = new Set<string>();
  let swsSignalIndex = -1;
  events.forEach((event, index) => {
    into.events++;
    const type = event.eventType ?? T.EVENT_TYPE_UNSPECIFIED;
    switch (type) {
      case T.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED: {
        // Signal-with-start writes the start and its signal back to back, before the first task.
        if (events[index + 1]?.eventType === T.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED) {
          swsSignalIndex = index + 1;
          add(into.byKind, 'signal-with-start');
        } else if (event.workflowExecutionStartedEventAttributes?.continuedExecutionRunId)
          add(into.byKind, 'workflow start (continue-as-new)');
        else add(into.byKind, 'workflow start');
        break;
      }
      case T.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        if (index !== swsSignalIndex) add(into.byKind, 'signal');
        break;
      case T.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        add(into.byKind, 'update');
        break;
      case T.EVENT_TYPE_TIMER_STARTED:
        add(into.byKind, 'timer');
        break;
      case T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        activityTypes.set(
          String(event.eventId),
          event.activityTaskScheduledEventAttributes?.activityType?.name ?? 'unknown',
        );
        break;
      case T.EVENT_TYPE_ACTIVITY_TASK_STARTED: {
        const attrs = event.activityTaskStartedEventAttributes;
        const name = activityTypes.get(String(attrs?.scheduledEventId)) ?? 'unknown';
        add(into.byKind, `activity ${name}`, Math.max(1, attrs?.attempt ?? 1));
        break;
      }
      case T.EVENT_TYPE_MARKER_RECORDED: {
        const attrs = event.markerRecordedEventAttributes;
        const name = attrs?.markerName ?? 'unknown';
        if (name === 'core_local_activity') {
          const task = String(attrs?.workflowTaskCompletedEventId);
          if (!localActivityTasks.has(task)) {
            localActivityTasks.add(task);
            add(into.byKind, 'local activities (per workflow task)');
          }
        } else if (name === 'core_patch') add(into.free, 'patch marker');
        else add(into.byKind, `marker ${name}`);
        break;
      }
      case T.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES: {
        const fields = Object.keys(
          event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {},
        );
        if (fields.length === 1 && fields[0] === 'TemporalChangeVersion') add(into.free, 'change-version upsert');
        else add(into.byKind, 'search attribute upsert');
        break;
      }
      case T.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
        add(into.byKind, 'child workflow', 2);
        break;
      case T.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
        add(into.byKind, 'signal sent by the workflow');
        break;
      case T.EVENT_TYPE_WORKFLOW_EXECUTION_OPTIONS_UPDATED:
        add(into.byKind, 'workflow options update');
        break;
      case T.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED:
        add(into.free, 'memo upsert');
        break;
      case T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
        into.workflowTasks++;
        break;
      default:
        break;
    }
  });
  into.total = Object.values(into.byKind).reduce((a, b) => a + b, 0);
  return into;
}

/** Adds `b` into `a`. */
export function addCounts(a: ActionCount, b: ActionCount): ActionCount {
  for (const [k, v] of Object.entries(b.byKind)) add(a.byKind, k, v);
  for (const [k, v] of Object.entries(b.free)) add(a.free, k, v);
  a.events += b.events;
  a.workflowTasks += b.workflowTasks;
  a.total = Object.values(a.byKind).reduce((x, y) => x + y, 0);
  return a;
}

/** `a` − `b`, kind by kind: the actions a later step added to the same histories. */
export function subtractCounts(a: ActionCount, b: ActionCount): ActionCount {
  const out = emptyCount();
  for (const [k, v] of Object.entries(a.byKind)) {
    const d = v - (b.byKind[k] ?? 0);
    if (d !== 0) out.byKind[k] = d;
  }
  for (const [k, v] of Object.entries(a.free)) {
    const d = v - (b.free[k] ?? 0);
    if (d !== 0) out.free[k] = d;
  }
  out.events = a.events - b.events;
  out.workflowTasks = a.workflowTasks - b.workflowTasks;
  out.total = Object.values(out.byKind).reduce((x, y) => x + y, 0);
  return out;
}

/** Counts the actions of the latest run of each workflow (fetchHistory), `concurrency` at a time. */
export async function countWorkflows(
  client: Client,
  workflowIds: readonly string[],
  concurrency = 8,
): Promise<{ count: ActionCount; histories: Map<string, HistoryEvent[]> }> {
  const count = emptyCount();
  const histories = new Map<string, HistoryEvent[]>();
  let next = 0;
  const worker = async () => {
    while (next < workflowIds.length) {
      const id = workflowIds[next++] as string;
      const history = await client.workflow.getHandle(id).fetchHistory();
      const events = history.events ?? [];
      histories.set(id, events);
      addCounts(count, countHistory(events));
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, workflowIds.length) }, worker));
  return { count, histories };
}

/** `count` divided by `n`, kind by kind (actions per event, per message). */
export function perUnit(count: ActionCount, n: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(count.byKind).sort((x, y) => y[1] - x[1]))
    out[k] = Math.round((v / n) * 1000) / 1000;
  return out;
}

/**
 * The dedupe keys carried by each `inboundEvents` signal of a history (signal-with-start's too),
 * decoded from the json/plain payloads: how often each inbound event reached the workflow.
 */
export function signalledDedupeKeys(events: readonly HistoryEvent[]): string[] {
  const keys: string[] = [];
  for (const event of events) {
    if (event.eventType !== T.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED) continue;
    const attrs = event.workflowExecutionSignaledEventAttributes;
    if (attrs?.signalName !== 'inboundEvents') continue;
    for (const payload of attrs.input?.payloads ?? []) {
      if (!payload.data) continue;
      const batch = JSON.parse(Buffer.from(payload.data).toString('utf8')) as { dedupeKey?: string }[];
      for (const e of batch) if (typeof e.dedupeKey === 'string') keys.push(e.dedupeKey);
    }
  }
  return keys;
}
