/**
 * Erasure on request (DELETE /v1/conversations/{key}): ends the conversation's open run and deletes
 * every run of its workflow ID from Temporal (history, mutable state, visibility). The open run is
 * deleted while running: Temporal then terminates it and deletes it at once (a run that is closed
 * first is deleted by a later server task, ~30 s on the dev server).
 *
 * Which runs: those visibility lists for the workflow ID, plus the latest run (describe: strongly
 * consistent) and every run of its continue-as-new chain (each run's first history event names the
 * run it continued), so a run that visibility has not indexed yet is found anyway. Deletion in
 * Temporal is asynchronous: the answer comes once every deletion was accepted.
 *
 * Racing starts: a webhook's signal-with-start may start a new run while the erasure runs. After
 * each pass the runs are looked up again; the loop ends only after a pass that finds no run it has
 * not already deleted. A run started after that last look is a new conversation (the person wrote
 * again after the erasure). If new runs keep appearing for `maxPasses` passes, ErasureIncompleteError.
 */
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { temporal } from '@temporalio/proto';

/** What an erasure did. */
export interface ErasureResult {
  workflowId: string;
  /** Every run whose deletion was accepted (a second erasure finds none, or repeats accepted ones). */
  deletedRunIds: string[];
  /** Runs that were still open: Temporal terminated them as part of their deletion. */
  terminatedRunIds: string[];
  /** Lookups made; the last one found nothing new. */
  passes: number;
}

export interface ErasureOptions {
  /** Lookups before giving up on runs that keep starting (default 5). */
  maxPasses?: number;
  /** Called after each pass's deletions (tests start a racing run here). */
  afterPass?: (pass: number) => Promise<void>;
}

/** New runs kept starting while the erasure ran; those found were deleted. */
export class ErasureIncompleteError extends Error {
  constructor(
    readonly workflowId: string,
    readonly deletedRunIds: string[],
  ) {
    super(
      `new runs of ${workflowId} kept starting during the erasure (${deletedRunIds.length} deleted so far); retry once the conversation is quiet`,
    );
    this.name = 'ErasureIncompleteError';
  }
}

/** One run of a workflow ID, and whether it is open. */
export interface RunRef {
  runId: string;
  running: boolean;
}

/** gRPC NOT_FOUND (5), as raw service calls report it. */
function isNotFound(err: unknown): boolean {
  return (
    err instanceof WorkflowNotFoundError ||
    (typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 5)
  );
}

const RUNNING = temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING;

/**
 * The runs of `workflowId` that exist now (see the module header). `visibility: false` skips the
 * visibility list (tests show the chain walk alone finds the current chain). Raw service calls
 * only: nothing here decodes a payload, so a conversation is erasable even if the key that
 * encrypted its memo is gone.
 */
export async function findRuns(
  client: Client,
  workflowId: string,
  options: { visibility?: boolean } = {},
): Promise<RunRef[]> {
  const namespace = client.options.namespace;
  const service = client.workflowService;
  const runs = new Map<string, RunRef>();
  const escaped = workflowId.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
  if (options.visibility !== false) {
    let nextPageToken: Uint8Array | undefined;
    do {
      const page = await service.listWorkflowExecutions({
        namespace,
        query: `WorkflowId = '${escaped}'`,
        pageSize: 1000,
        ...(nextPageToken ? { nextPageToken } : {}),
      });
      for (const e of page.executions ?? []) {
        const runId = e.execution?.runId;
        if (runId) runs.set(runId, { runId, running: e.status === RUNNING });
      }
      nextPageToken = page.nextPageToken && page.nextPageToken.length > 0 ? page.nextPageToken : undefined;
    } while (nextPageToken);
  }
  let latest: RunRef | undefined;
  try {
    const description = await service.describeWorkflowExecution({ namespace, execution: { workflowId } });
    const runId = description.workflowExecutionInfo?.execution?.runId;
    if (runId) latest = { runId, running: description.workflowExecutionInfo?.status === RUNNING };
  } catch (err) {
    if (!isNotFound(err)) throw err;
  }
  if (latest) runs.set(latest.runId, latest);
  // Back along the continue-as-new chain from the latest run: history, not visibility.
  for (let runId = latest?.runId, steps = 0; runId && steps < 10_000; steps++) {
    let previous: string | undefined;
    try {
      const page = await service.getWorkflowExecutionHistory({
        namespace,
        execution: { workflowId, runId },
        maximumPageSize: 1,
      });
      previous =
        page.history?.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    if (previous && !runs.has(previous)) runs.set(previous, { runId: previous, running: false });
    runId = previous;
  }
  return [...runs.values()];
}

/** Ends the open run and deletes every run of `workflowId`; resolves once Temporal accepted every deletion. */
export async function eraseWorkflowRuns(
  client: Client,
  workflowId: string,
  options: ErasureOptions = {},
): Promise<ErasureResult> {
  const namespace = client.options.namespace;
  const maxPasses = options.maxPasses ?? 5;
  const deleted: string[] = [];
  const terminated: string[] = [];
  for (let pass = 1; pass <= maxPasses; pass++) {
    const fresh = (await findRuns(client, workflowId)).filter((r) => !deleted.includes(r.runId));
    if (fresh.length === 0) return { workflowId, deletedRunIds: deleted, terminatedRunIds: terminated, passes: pass };
    // The open run first, so it cannot continue as new while its predecessors are deleted.
    for (const run of [...fresh].sort((a, b) => Number(b.running) - Number(a.running))) {
      try {
        await client.workflowService.deleteWorkflowExecution({
          namespace,
          workflowExecution: { workflowId, runId: run.runId },
        });
        if (run.running) terminated.push(run.runId);
      } catch (err) {
        // Already gone (an earlier erasure, or its deletion completed): that is what we want.
        if (!isNotFound(err)) throw err;
      }
      deleted.push(run.runId);
    }
    await options.afterPass?.(pass);
  }
  throw new ErasureIncompleteError(workflowId, deleted);
}
