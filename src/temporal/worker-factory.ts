import { type DataConverter } from '@temporalio/common';
import { type OpenTelemetrySinks } from '@temporalio/interceptors-opentelemetry';
import {
  type InjectedSinks,
  type NativeConnection,
  Worker,
  type WorkerPlugin,
  type WorkflowBundleOption,
} from '@temporalio/worker';

import { type Activities } from '../activities';
import { type Env } from '../config';

/** The Worker.create knobs Switchboard exposes as configuration (WORKER_* variables). */
export interface WorkerTuning {
  maxConcurrentActivityTaskExecutions: number;
  maxConcurrentWorkflowTaskExecutions: number;
  /** Unset: the SDK's default, derived from the heap size (the configuration always sets it). */
  maxCachedWorkflows?: number;
  /** After shutdown was requested, in-flight tasks get this long before activities are cancelled. */
  shutdownGraceTimeMs: number;
}

/** The tuning the configuration asks for. */
export function workerTuningFromEnv(
  env: Pick<
    Env,
    | 'WORKER_MAX_CONCURRENT_ACTIVITIES'
    | 'WORKER_MAX_CONCURRENT_WORKFLOW_TASKS'
    | 'WORKER_MAX_CACHED_WORKFLOWS'
    | 'WORKER_SHUTDOWN_GRACE_MS'
  >,
): WorkerTuning {
  return {
    maxConcurrentActivityTaskExecutions: env.WORKER_MAX_CONCURRENT_ACTIVITIES,
    maxConcurrentWorkflowTaskExecutions: env.WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
    maxCachedWorkflows: env.WORKER_MAX_CACHED_WORKFLOWS,
    shutdownGraceTimeMs: env.WORKER_SHUTDOWN_GRACE_MS,
  };
}

/** What buildWorker needs; tuning and plugins are optional so tests can keep the SDK defaults. */
export interface BuildWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  activities: Activities;
  /** A prebuilt bundle (production, tests); without it the worker bundles src/workflows at start. */
  workflowBundle?: WorkflowBundleOption;
  /** Without it: the SDK's defaults, and a 10 s shutdown grace. */
  tuning?: WorkerTuning;
  /** E.g. the OpenTelemetry plugin (src/observability/tracing.ts). */
  plugins?: WorkerPlugin[];
  /** The payload codec (payloadDataConverter); without it payloads are read and written as they are. */
  dataConverter?: DataConverter;
  /**
   * Worker Versioning: poll as this deployment version. Conversations default to AUTO_UPGRADE:
   * they live for weeks, so they move to the deployment's current version at their next workflow
   * task (patched() keeps the move deterministic) instead of pinning old workers for ever.
   */
  deployment?: { deploymentName: string; buildId: string };
}

/**
 * A bundle with the OpenTelemetry workflow interceptors run while tracing is off (a configured
 * WORKFLOW_BUNDLE_PATH, see workflow-bundle.ts) makes spans that need a sink dropping them (an
 * unregistered sink is logged as an error on every call). With tracing on, the plugin replaces
 * this sink with its exporter; a bundle without the interceptors never calls it.
 */
const droppedWorkflowSpans: InjectedSinks<OpenTelemetrySinks> = {
  exporter: { export: { fn: () => undefined, callDuringReplay: false } },
};

/** The one place the Worker is configured, shared by the worker process, dev runs and tests. */
export async function buildWorker(options: BuildWorkerOptions): Promise<Worker> {
  const tuning = options.tuning;
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: options.activities,
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: require.resolve('../workflows') }),
    sinks: droppedWorkflowSpans,
    ...(options.dataConverter ? { dataConverter: options.dataConverter } : {}),
    ...(options.plugins ? { plugins: options.plugins } : {}),
    ...(options.deployment
      ? {
          workerDeploymentOptions: {
            version: options.deployment,
            useWorkerVersioning: true,
            defaultVersioningBehavior: 'AUTO_UPGRADE' as const,
          },
        }
      : {}),
    shutdownGraceTime: tuning ? tuning.shutdownGraceTimeMs : '10 seconds',
    ...(tuning
      ? {
          maxConcurrentActivityTaskExecutions: tuning.maxConcurrentActivityTaskExecutions,
          maxConcurrentWorkflowTaskExecutions: tuning.maxConcurrentWorkflowTaskExecutions,
          ...(tuning.maxCachedWorkflows !== undefined ? { maxCachedWorkflows: tuning.maxCachedWorkflows } : {}),
        }
      : {}),
  });
}
