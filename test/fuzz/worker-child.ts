/**
 * The fuzzer's worker, in a process of its own so that a worker crash (e.g. "async hook stack has
 * become corrupted", issue 11 item 1) is a finding, not a dead test runner. Started by
 * worker-host.ts with the server address, task queue and workflow bundle as arguments; takes
 * outcome scripts from the parent and reports every activity attempt back over IPC.
 */
import { Client, Connection } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { DefaultLogger, makeTelemetryFilterString, NativeConnection, Runtime, Worker } from '@temporalio/worker';

import { type ChildToParent, type ParentToChild } from './protocol';
import { ScriptedPlatform } from './scripted-platform';

function send(message: ChildToParent): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  const [address, taskQueue, bundlePath] = process.argv.slice(2);
  if (!address || !taskQueue || !bundlePath) throw new Error('usage: worker-child <address> <taskQueue> <bundlePath>');
  Runtime.install({
    logger: new DefaultLogger('WARN'),
    telemetryOptions: {
      logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'ERROR', other: 'ERROR' }) },
    },
  });
  const connection = await NativeConnection.connect({ address });
  const client = new Client({ connection: await Connection.connect({ address }) });
  const platform = new ScriptedPlatform({
    report: (call) => send({ t: 'call', call }),
    previousRun: async (workflowId) => {
      // The real loader asks visibility for the newest completed run; the test server answers the older list API.
      const res = await client.workflowService.listClosedWorkflowExecutions({
        namespace: 'default',
        maximumPageSize: 100,
        executionFilter: { workflowId },
      });
      const completed = res.executions
        .filter((e) => e.status === temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED)
        .sort(
          (a, b) =>
            Number(b.closeTime?.seconds ?? 0) - Number(a.closeTime?.seconds ?? 0) ||
            Number(b.closeTime?.nanos ?? 0) - Number(a.closeTime?.nanos ?? 0),
        );
      const newest = completed[0]?.execution?.runId;
      return newest ? client.workflow.getHandle(workflowId, newest).result() : undefined;
    },
  });
  process.on('message', (message: ParentToChild) => {
    if (message.t === 'script') platform.script(message.conversationKey, message.activity, message.outcomes);
    else if (message.t === 'register') platform.register(message.workflowId, message.conversationKey);
    else platform.forget(message.conversationKey);
    send({ t: 'ack', reqId: message.reqId });
  });
  const worker = await Worker.create({
    connection,
    taskQueue,
    workflowBundle: { codePath: bundlePath },
    activities: platform.activities(),
    maxCachedWorkflows: 200,
  });
  process.once('disconnect', () => worker.shutdown());
  send({ t: 'ready' });
  await worker.run();
  await connection.close();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    send({ t: 'fatal', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 200);
  },
);
