/**
 * The worker process (src/worker.ts is only its entry point): installs the Temporal Runtime (JSON
 * logs, Prometheus exporter), optional tracing, connects, picks the workflow bundle (the one
 * with the OpenTelemetry interceptors only when tracing is on), builds the
 * Worker with the configured tuning, serves the health endpoint, and runs until SIGTERM/SIGINT.
 *
 * Shutdown: the Runtime turns SIGTERM/SIGINT into worker.shutdown(): polling stops at once,
 * in-flight workflow tasks and activities get WORKER_SHUTDOWN_GRACE_MS to finish, then activities
 * still running are cancelled (their attempt fails and Temporal retries it on another worker).
 * worker.run() resolves once the worker is STOPPED; the caller then exits 0.
 */
import { createActivities } from '../activities';
import { buildActivityDeps } from '../activities/deps';
import { type Config, requirePayloadEncryption, requireProductionConfig } from '../config';
import { createLogger, type Logger } from '../logger';
import { tracingFromConfig } from '../observability/tracing';
import { connectWorker, createLazyClient } from './connections';
import { describePayloadEncryption, payloadDataConverter } from './payload-codec';
import { createPreviousRunLoader } from './previous-runs';
import { RoutingStore } from './routing-store';
import { installWorkerRuntime, metricsBindAddress } from './runtime';
import { buildWorker, workerTuningFromEnv } from './worker-factory';
import { startWorkerHealthServer, type WorkerHealthServer } from './worker-health';
import { chooseWorkflowBundle } from './workflow-bundle';

/** Runs a worker until it is shut down; rejects if it could not start or failed. */
export async function runWorkerProcess(
  config: Config,
  logger: Logger = createLogger(config.env.LOG_LEVEL, { service: 'worker' }, { format: config.env.LOG_FORMAT }),
): Promise<void> {
  const env = config.env;
  requirePayloadEncryption(config);
  requireProductionConfig(config, 'worker');
  const metricsAddress = metricsBindAddress(env.WORKER_METRICS_ADDRESS);
  installWorkerRuntime({ logger, logLevel: env.LOG_LEVEL, metricsAddress });
  const tracing = tracingFromConfig(env, 'switchboard-worker');
  let health: WorkerHealthServer | undefined;
  const connection = await connectWorker(config.temporal);
  // Reads the previous run of a reopened conversation (visibility + result): a client of its own.
  const client = createLazyClient(config.temporal);
  try {
    // Conversations carry a routing version; the worker holds the files (ROUTING_FILE, re-read when an unknown version is asked for).
    const routing = new RoutingStore(env.ROUTING_FILE, config.routing, (message) => logger.error(message));
    const bundle = chooseWorkflowBundle(env.WORKFLOW_BUNDLE_PATH, tracing !== undefined);
    if (bundle.kind === 'prebuilt' && bundle.warning)
      logger.warn(bundle.warning, { WORKFLOW_BUNDLE_PATH: env.WORKFLOW_BUNDLE_PATH });
    const tuning = workerTuningFromEnv(env);
    const worker = await buildWorker({
      connection,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      activities: createActivities({
        ...buildActivityDeps(config, logger),
        previousRuns: createPreviousRunLoader(client),
        routing,
      }),
      ...(bundle.kind === 'prebuilt' ? { workflowBundle: bundle.bundle } : {}),
      tuning,
      ...(tracing ? { plugins: [tracing.plugin] } : {}),
      dataConverter: payloadDataConverter(config.temporal.payloadEncryption),
      ...(config.temporal.workerDeployment ? { deployment: config.temporal.workerDeployment } : {}),
    });
    if (env.WORKER_HEALTH_PORT !== undefined) {
      health = await startWorkerHealthServer({
        worker,
        connection,
        host: env.WORKER_HEALTH_HOST,
        port: env.WORKER_HEALTH_PORT,
      });
    }
    logger.info('worker starting', {
      address: config.temporal.connection.address,
      namespace: config.temporal.namespace,
      taskQueue: config.temporal.taskQueue,
      workerDeployment: config.temporal.workerDeployment
        ? `${config.temporal.workerDeployment.deploymentName}:${config.temporal.workerDeployment.buildId} (AUTO_UPGRADE)`
        : 'unversioned',
      workflowBundle:
        bundle.kind === 'prebuilt' ? bundle.bundle.codePath : `bundled at start from ${bundle.workflowsPath}`,
      tuning,
      metrics: metricsAddress ? `http://${metricsAddress}/metrics` : 'off',
      health: health ? health.url : 'off',
      tracing: tracing ? env.OTEL_EXPORTER_OTLP_ENDPOINT : 'off',
      routingVersion: routing.currentVersion ?? 'none',
      payloadEncryption: describePayloadEncryption(config.temporal.payloadEncryption),
    });
    if (!config.temporal.payloadEncryption.encrypt)
      logger.warn('payload encryption is off: message texts and phone numbers reach Temporal in clear', {
        mode: config.mode,
        PAYLOAD_ENCRYPTION: env.PAYLOAD_ENCRYPTION,
      });
    await worker.run();
    logger.info('worker stopped', { taskQueue: config.temporal.taskQueue });
  } finally {
    await health?.close();
    await connection.close();
    await client.connection.close();
    await tracing?.shutdown();
  }
}
