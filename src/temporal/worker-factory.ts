import { type NativeConnection, Worker, type WorkflowBundleOption } from '@temporalio/worker';
import { type Activities } from '../activities';

export interface BuildWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: Activities;
  /** A prebuilt bundle (production, tests); without it the worker bundles src/workflows at start. */
  workflowBundle?: WorkflowBundleOption;
}

/** The one place the Worker is configured, shared by worker.ts, dev runs and tests. */
export async function buildWorker(options: BuildWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: options.activities,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
    shutdownGraceTime: '10 seconds',
  });
}
