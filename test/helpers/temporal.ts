/**
 * Test harness: real Temporal servers only. Workflow logic runs on the time-skipping test server
 * (one per test file), end-to-end tests on the dev server that global-setup starts. The workflow
 * code is bundled once per run (global-setup); each test gets its own task queue.
 */
import { randomUUID } from 'node:crypto';

import { type DataConverter } from '@temporalio/common';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, makeTelemetryFilterString, Runtime } from '@temporalio/worker';

import { readTemporalBinaries } from '../../dev/binaries';
import { ensureSearchAttributes } from '../../src/temporal/search-attributes';

let runtimeInstalled = false;

/** Keeps core's and webpack's INFO lines out of test output. Call before any connection is made. */
export function installTestRuntime(): void {
  if (runtimeInstalled) return;
  try {
    Runtime.install({
      logger: new DefaultLogger('WARN'),
      telemetryOptions: {
        logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'ERROR', other: 'ERROR' }) },
      },
    });
  } catch {
    // Already installed by an earlier file in this Jest worker.
  }
  runtimeInstalled = true;
}

/**
 * The workflow bundle built once per run by global-setup (webpack does not run inside Jest's
 * sandbox). Pass it as `workflowBundle` to Worker.create.
 */
export function workflowBundle(): { codePath: string } {
  const codePath = process.env.SWITCHBOARD_TEST_WORKFLOW_BUNDLE;
  if (!codePath)
    throw new Error(
      'SWITCHBOARD_TEST_WORKFLOW_BUNDLE is not set: run the tests through jest (global-setup bundles the workflows)',
    );
  return { codePath };
}

/** Options of the environments: `dataConverter` for env.client (test/helpers/data-converter.ts; workers then need it too). */
export interface TestEnvOptions {
  dataConverter?: DataConverter;
}

/** The time-skipping test server from the pinned binary, with Switchboard's search attributes registered. */
export async function createTimeSkippingEnv(options: TestEnvOptions = {}): Promise<TestWorkflowEnvironment> {
  installTestRuntime();
  const env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: readTemporalBinaries().testServer } },
    ...(options.dataConverter ? { client: { dataConverter: options.dataConverter } } : {}),
  });
  await ensureSearchAttributes(env.connection, env.namespace ?? 'default');
  return env;
}

/** The address of the shared dev server started by global-setup. */
export function devServerAddress(): string {
  const address = process.env.SWITCHBOARD_TEST_TEMPORAL_ADDRESS;
  if (!address)
    throw new Error(
      'SWITCHBOARD_TEST_TEMPORAL_ADDRESS is not set: run the tests through jest (global-setup starts the dev server)',
    );
  return address;
}

/** An environment on the shared dev server (no time skipping). */
export async function createDevServerEnv(options: TestEnvOptions = {}): Promise<TestWorkflowEnvironment> {
  installTestRuntime();
  return TestWorkflowEnvironment.createFromExistingServer({
    address: devServerAddress(),
    namespace: 'default',
    ...(options.dataConverter ? { client: { dataConverter: options.dataConverter } } : {}),
  });
}

/** A task queue no other test uses. */
export function uniqueTaskQueue(prefix = 'test'): string {
  return `${prefix}-${randomUUID()}`;
}
