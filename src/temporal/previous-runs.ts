import { type Client } from '@temporalio/client';

import { type PreviousRunLoader } from '../activities';

/**
 * Finds the newest completed run of a workflow ID through visibility and returns its result. Only
 * runs started before issue 11 look it up (newer conversations go dormant instead of completing);
 * the workflow records a failed lookup and carries on.
 */
export function createPreviousRunLoader(client: Client): PreviousRunLoader {
  return {
    async previousRun(workflowId: string): Promise<unknown> {
      const escaped = workflowId.replace(/\\/g, '\\\\').replace(/'/g, "\\'");
      let newest: { runId: string; closeTime?: Date } | undefined;
      for await (const execution of client.workflow.list({
        query: `WorkflowId = '${escaped}' AND ExecutionStatus = 'Completed'`,
      })) {
        if (!newest || (execution.closeTime && newest.closeTime && execution.closeTime > newest.closeTime))
          newest = { runId: execution.runId, closeTime: execution.closeTime };
      }
      if (!newest) return undefined;
      return client.workflow.getHandle(workflowId, newest.runId, { followRuns: false }).result();
    },
  };
}
