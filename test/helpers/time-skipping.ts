/**
 * The set-up the time-skipping workflow tests share: a test server registered with Jest's hooks
 * and a worker of the bundled workflows per test, on a task queue of its own so that no test
 * picks up another's tasks.
 */
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkerOptions } from '@temporalio/worker';

import { createTimeSkippingEnv, uniqueTaskQueue, workflowBundle } from './temporal';

/** A worker's options without what the server provides (connection, bundle). */
interface TestWorkerOptions extends Omit<
  WorkerOptions,
  'connection' | 'taskQueue' | 'workflowBundle' | 'workflowsPath'
> {
  /** An existing task queue (a second worker on the same queue); by default a new one. */
  taskQueue?: string;
  /** Prefix of the new task queue, which names the suite in the server's task queues. */
  taskQueuePrefix?: string;
}

/** The time-skipping server of a test file. */
interface TimeSkippingServer {
  /** The current environment; only valid inside hooks and tests (it is created in one). */
  readonly env: TestWorkflowEnvironment;
  /** A worker of the bundled workflows on `env`, and its task queue. */
  worker(options: TestWorkerOptions): Promise<{ worker: Worker; taskQueue: string }>;
}

/**
 * Registers a time-skipping server for the enclosing `describe`: one for the whole file
 * (`'file'`), or a fresh one for each test (`'test'`) where a test can leave work in flight that
 * holds the server's time-skipping lock, after which the next test's env.sleep would pass in wall
 * time (sdk-java #1138, #3088). Call it at describe level, not inside a test.
 */
export function timeSkippingServer(per: 'file' | 'test'): TimeSkippingServer {
  let current: TestWorkflowEnvironment | undefined;
  const [setUp, tearDown] = per === 'file' ? [beforeAll, afterAll] : [beforeEach, afterEach];
  setUp(async () => {
    current = await createTimeSkippingEnv();
  });
  tearDown(async () => {
    await current?.teardown();
    current = undefined;
  });
  const env = (): TestWorkflowEnvironment => {
    if (!current) throw new Error('the time-skipping server exists only inside hooks and tests');
    return current;
  };
  return {
    get env() {
      return env();
    },
    async worker({ taskQueue, taskQueuePrefix, ...options }) {
      const queue = taskQueue ?? uniqueTaskQueue(taskQueuePrefix);
      const worker = await Worker.create({
        ...options,
        connection: env().nativeConnection,
        taskQueue: queue,
        workflowBundle: workflowBundle(),
      });
      return { worker, taskQueue: queue };
    },
  };
}
