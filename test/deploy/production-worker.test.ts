/**
 * The production build of the worker (`npm run build` → node dist/worker.js) against the shared
 * dev server: graceful shutdown with an activity in flight, the health endpoint, the runtime's
 * Prometheus exporter next to the API's own /metrics, and JSON logs.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import path from 'node:path';

import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { Client, Connection } from '@temporalio/client';

import { pollUntil } from '../../dev/poll';
import { createApp } from '../../src/api/app';
import { loadConfig } from '../../src/config';
import { silentLogger } from '../../src/logger';
import { createApiMetrics } from '../../src/observability/http-metrics';
import { startTracing } from '../../src/observability/tracing';
import { ConversationsClient } from '../../src/temporal-client/conversations';
import { type OutboundSendInput } from '../../src/workflows/outbound/types';
import { freePort } from '../helpers/ports';
import { signedRbmRequest } from '../helpers/signing';
import { devServerAddress, uniqueTaskQueue } from '../helpers/temporal';
import {
  buildProduction,
  ProcessUnderTest,
  scratchDir,
  startCollector,
  startHeldGoogle,
  waitForHttp,
  writeServiceAccountKey,
} from './processes';

const AGENT = 'deploy@rbm.goog';
const WEBHOOK_TOKEN = 'deploy-test-client-token';

let buildDir: string;
let google: Awaited<ReturnType<typeof startHeldGoogle>>;
let keyFile: string;
let connection: Connection;
const started: ProcessUnderTest[] = [];

beforeAll(async () => {
  buildDir = scratchDir('deploy');
  buildProduction(buildDir);
  google = await startHeldGoogle();
  keyFile = writeServiceAccountKey(buildDir, `${google.url}/token`);
  connection = await Connection.connect({ address: devServerAddress() });
}, 540_000);

afterAll(async () => {
  for (const p of started) await p.stop();
  await connection?.close();
  await google?.close();
  if (buildDir) rmSync(buildDir, { recursive: true, force: true });
});

interface WorkerUnderTest {
  proc: ProcessUnderTest;
  healthUrl: string;
  metricsUrl: string;
}

/** Starts `node <build>/worker.js` on `taskQueue` and waits until its /readyz says it is RUNNING and connected. */
async function startWorker(taskQueue: string, env: Record<string, string> = {}): Promise<WorkerUnderTest> {
  const healthPort = await freePort();
  const metricsPort = await freePort();
  const proc = new ProcessUnderTest(path.join(buildDir, 'worker.js'), {
    TEMPORAL_ADDRESS: devServerAddress(),
    TEMPORAL_NAMESPACE: 'default',
    TEMPORAL_TASK_QUEUE: taskQueue,
    RBM_AGENT_ID: AGENT,
    RBM_API_BASE_URL: google.url,
    GOOGLE_APPLICATION_CREDENTIALS: keyFile,
    WORKER_HEALTH_PORT: String(healthPort),
    WORKER_METRICS_ADDRESS: `127.0.0.1:${metricsPort}`,
    LOG_LEVEL: 'info',
    // Production mode without keys must be told that payloads go in clear (test/e2e/privacy.test.ts runs with keys).
    PAYLOAD_ENCRYPTION: 'off',
    // The fake Google is plain http on loopback, which production refuses (requireProductionConfig); the built
    // worker's start-up and shutdown are the same in both modes.
    SWITCHBOARD_MODE: 'development',
    ...env,
  });
  started.push(proc);
  const healthUrl = `http://127.0.0.1:${healthPort}`;
  await waitForHttp(`${healthUrl}/readyz`, (status) => status === 200, 60_000).catch((err: Error) => {
    throw new Error(`${err.message}\nworker output:\n${proc.describe()}`);
  });
  return { proc, healthUrl, metricsUrl: `http://127.0.0.1:${metricsPort}/metrics` };
}

function gatewayFor(
  taskQueue: string,
  client: Client = new Client({ connection, namespace: 'default' }),
): ConversationsClient {
  return new ConversationsClient({
    client,
    taskQueue,
    timeoutMs: 5000,
    updateTimeoutMs: 120_000,
    workflowIds: { revealPhoneNumbers: false, secret: randomUUID() },
  });
}

function randomPhone(): string {
  return `+1415${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;
}

/** Sends one operator message and lets the held Google call answer at once: the message ends SENT. */
async function sendAndRelease(gateway: ConversationsClient, key: string): Promise<void> {
  const calls = google.calls.length;
  const sending = gateway.sendMessage(key, textMessage(key), `send-${randomUUID()}`);
  sending.catch(() => undefined); // awaited below; keeps an early failure from being unhandled
  (await google.nthCall(calls + 1)).release();
  expect(await sending).toMatchObject({ status: 'SENT' });
}

function textMessage(key: string): OutboundSendInput {
  return {
    conversationKey: key,
    content: { text: 'Your table is ready' },
    representative: { type: 'BOT' },
    policy: {},
    origin: 'operator',
  };
}

const stateIs = (state: string) => (line: { msg?: string; state?: unknown }) =>
  line.msg === 'Worker state changed' && line.state === state;

describe('production worker (dist/worker.js + dist/workflow-bundle.js)', () => {
  test('the production build holds the product only: no simulator, dev stack or dev server (they live in dev/)', () => {
    const files = readdirSync(buildDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.js'));
    expect(files).toEqual(expect.arrayContaining(['worker.js', 'server.js', 'workflow-bundle.js']));
    expect(files.filter((f) => /(^|\/)(simulator|devstack)\/|(^|\/)(dev|dev-server|binaries)\.js$/.test(f))).toEqual(
      [],
    );
  });

  test('SIGTERM during an activity: polling stops, the activity finishes within the grace time, the worker exits 0, and nothing is lost', async () => {
    const taskQueue = uniqueTaskQueue('deploy-drain');
    const graceMs = 30_000;
    const first = await startWorker(taskQueue, {
      WORKER_SHUTDOWN_GRACE_MS: String(graceMs),
      OUTBOUND_HTTP_TIMEOUT_MS: '60000',
    });
    expect(first.proc.lines.find((l) => l.msg === 'worker starting')).toMatchObject({
      workflowBundle: path.join(buildDir, 'workflow-bundle.js'),
      taskQueue,
    });

    const gateway = gatewayFor(taskQueue);
    const key = `rbm:${AGENT}:${randomPhone()}`;
    const calls = google.calls.length;
    const sending = gateway.sendMessage(key, textMessage(key), `send-${randomUUID()}`);
    sending.catch(() => undefined); // awaited below; keeps an early failure from being unhandled

    // The sendMessage activity is now waiting on Google's answer.
    const held = await google.nthCall(calls + 1);
    expect(held.path).toMatch(/\/agentMessages$/);
    const busy = await waitForHttp(
      `${first.healthUrl}/healthz`,
      (_s, body) =>
        (JSON.parse(body) as { status: { numInFlightActivities: number } }).status.numInFlightActivities === 1,
    );
    expect(JSON.parse(busy.body)).toMatchObject({ state: 'RUNNING' });

    const signalledAt = Date.now();
    first.proc.kill('SIGTERM');
    await first.proc.waitForLine(stateIs('DRAINING'), 10_000, 'DRAINING state');
    // Draining: alive for the orchestrator, but no longer ready for work.
    const draining = await fetch(`${first.healthUrl}/readyz`);
    expect(draining.status).toBe(503);
    expect(await draining.json()).toMatchObject({ ready: false, status: { numInFlightActivities: 1 } });

    held.release();
    const exit = await first.proc.exited;
    expect(exit).toMatchObject({ code: 0, signal: null });
    expect(exit.at - signalledAt).toBeLessThan(graceMs);
    expect(first.proc.lines.some(stateIs('STOPPED'))).toBe(true);
    expect(first.proc.lines.find((l) => l.msg === 'worker stopped')).toBeDefined();
    // Every line was JSON, and no phone number appears unmasked.
    expect(first.proc.unstructured).toEqual([]);
    // Nothing went wrong on the way (a bundle with the tracing interceptors and no sink would log an error per span).
    expect(first.proc.lines.filter((l) => l.level === 'error' || /sink/i.test(String(l.msg)))).toEqual([]);
    expect(first.proc.describe()).not.toContain(key.split(':')[2]);

    // The rest of the workflow (the task after the activity's completion) runs on the next worker.
    const second = await startWorker(taskQueue);
    const result = await sending;
    expect(result).toMatchObject({ status: 'SENT', duplicate: false });
    // The completed attempt counted: Google was called once, nothing was retried or re-sent.
    expect(google.calls.length).toBe(calls + 1);
    const view = await gateway.getOutboundMessages(key);
    expect(view?.messages).toEqual([expect.objectContaining({ messageId: result.messageId, status: 'SENT' })]);

    second.proc.kill('SIGTERM');
    expect(await second.proc.exited).toMatchObject({ code: 0 });
  });

  test('SIGTERM with an activity that outlives the grace time: it is cancelled, retried on another worker with the same message id, and the worker still exits 0', async () => {
    const taskQueue = uniqueTaskQueue('deploy-retry');
    // The attempt on the first worker ends when its HTTP call times out, after the grace time.
    const first = await startWorker(taskQueue, { WORKER_SHUTDOWN_GRACE_MS: '500', OUTBOUND_HTTP_TIMEOUT_MS: '3000' });
    const gateway = gatewayFor(taskQueue);
    const key = `rbm:${AGENT}:${randomPhone()}`;
    const calls = google.calls.length;
    const sending = gateway.sendMessage(key, textMessage(key), `send-${randomUUID()}`);
    sending.catch(() => undefined);

    const firstAttempt = await google.nthCall(calls + 1);
    first.proc.kill('SIGTERM');
    const exit = await first.proc.exited;
    expect(exit).toMatchObject({ code: 0, signal: null });
    firstAttempt.release(); // too late: that attempt already failed

    const second = await startWorker(taskQueue);
    const retry = await google.nthCall(calls + 2, 60_000);
    expect(retry.path).toBe(firstAttempt.path);
    // The same deterministic message id: Google dedupes, the user gets one message.
    expect(retry.query.get('messageId')).toBe(firstAttempt.query.get('messageId'));
    retry.release();
    const result = await sending;
    expect(result).toMatchObject({ status: 'SENT' });
    expect(google.calls.length).toBe(calls + 2);

    second.proc.kill('SIGINT');
    expect(await second.proc.exited).toMatchObject({ code: 0 });
  });

  test('metrics: the worker runtime exports temporal_* and workflow receipt metrics; the API exports HTTP and webhook metrics after traffic', async () => {
    const taskQueue = uniqueTaskQueue('deploy-metrics');
    const worker = await startWorker(taskQueue);
    const gateway = gatewayFor(taskQueue);
    const key = `rbm:${AGENT}:${randomPhone()}`;
    await sendAndRelease(gateway, key);

    // API traffic: one accepted webhook, one with a bad signature, one scrape of the docs-less 404.
    const config = loadConfig({
      TEMPORAL_ADDRESS: devServerAddress(),
      TEMPORAL_TASK_QUEUE: taskQueue,
      RBM_CLIENT_TOKEN: WEBHOOK_TOKEN,
    });
    const metrics = createApiMetrics();
    const app = createApp({ config, conversations: gateway, logger: silentLogger, metrics });
    const phone = randomPhone();
    const signed = signedRbmRequest(WEBHOOK_TOKEN, {
      senderPhoneNumber: phone,
      agentId: AGENT,
      messageId: `m-${randomUUID()}`,
      text: 'hi',
      sendTime: new Date().toISOString(),
    });
    expect(
      (await app.request('/webhooks/rbm', { method: 'POST', body: signed.body, headers: signed.headers })).status,
    ).toBe(200);
    expect(
      (
        await app.request('/webhooks/rbm', {
          method: 'POST',
          body: signed.body,
          headers: { ...signed.headers, 'x-goog-signature': 'AAAA' },
        })
      ).status,
    ).toBe(401);
    expect((await app.request('/no/such/route')).status).toBe(404);

    const apiMetrics = await app.request('/metrics');
    expect(apiMetrics.status).toBe(200);
    expect(apiMetrics.headers.get('content-type')).toContain('text/plain');
    const api = await apiMetrics.text();
    expect(api).toMatch(
      /^switchboard_http_request_duration_seconds_bucket\{.*route="\/webhooks\/rbm".*status="200".*\} 1$/m,
    );
    expect(api).toMatch(/^switchboard_http_requests_total\{method="POST",route="\/webhooks\/rbm",status="401"\} 1$/m);
    expect(api).toMatch(/^switchboard_http_requests_total\{method="GET",route="unmatched",status="404"\} 1$/m);
    expect(api).toMatch(/^switchboard_webhook_requests_total\{channel="rbm",outcome="accepted",status="200"\} 1$/m);
    expect(api).toMatch(
      /^switchboard_webhook_requests_total\{channel="rbm",outcome="unauthenticated",status="401"\} 1$/m,
    );
    expect(api).toMatch(/^switchboard_api_process_cpu_user_seconds_total /m);
    expect(api).not.toContain(phone);

    // The worker's exporter: core's series for this task queue, and the receipt metric the workflow emitted.
    const scraped = await pollUntil({
      what: "the worker's metrics to show a send on this task queue",
      read: async () => (await fetch(worker.metricsUrl)).text(),
      done: (text) => /switchboard_outbound_sent\{/.test(text) && text.includes(`task_queue="${taskQueue}"`),
      timeoutMs: 15_000,
    });
    expect(scraped).toMatch(
      new RegExp(`^temporal_workflow_task_execution_latency_count\\{[^}]*task_queue="${taskQueue}"[^}]*\\} [1-9]`, 'm'),
    );
    expect(scraped).toMatch(
      new RegExp(`^temporal_activity_execution_latency_count\\{[^}]*activity_type="sendMessage"[^}]*\\} 1$`, 'm'),
    );
    expect(scraped).toMatch(/^switchboard_outbound_sent\{[^}]*channel="rbm"[^}]*\} 1$/m);

    worker.proc.kill('SIGTERM');
    expect(await worker.proc.exited).toMatchObject({ code: 0 });
  });

  test('tracing (OTEL_ENABLED): the API client span, the workflow and the activity spans of one send share a trace; off by default', async () => {
    expect(loadConfig({}).env.OTEL_ENABLED).toBe(false);
    const collector = await startCollector();
    const clientSpans = new InMemorySpanExporter();
    const tracing = startTracing({ serviceName: 'deploy-test-api', exporter: clientSpans });
    try {
      const taskQueue = uniqueTaskQueue('deploy-tracing');
      const worker = await startWorker(taskQueue, {
        OTEL_ENABLED: 'true',
        OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
        OTEL_SERVICE_NAME: 'deploy-test-worker',
      });
      // Tracing picks the build's second bundle, the one with the OpenTelemetry workflow interceptors.
      expect(worker.proc.lines.find((l) => l.msg === 'worker starting')).toMatchObject({
        workflowBundle: path.join(buildDir, 'workflow-bundle-tracing.js'),
      });
      const gateway = gatewayFor(
        taskQueue,
        new Client({ connection, namespace: 'default', plugins: [tracing.plugin] }),
      );
      const key = `rbm:${AGENT}:${randomPhone()}`;
      await sendAndRelease(gateway, key);
      // Shutdown flushes the worker's batch span processor.
      worker.proc.kill('SIGTERM');
      expect(await worker.proc.exited).toMatchObject({ code: 0 });

      await tracing.spanProcessor.forceFlush();
      const root = clientSpans.getFinishedSpans().find((s) => s.name === 'UpdateWithStartWorkflow:sendMessage');

      expect(root).toBeDefined();
      const traceId = root?.spanContext().traceId;
      const workerSpans = collector.spans().filter((s) => s.traceId === traceId);
      const names = workerSpans.map((s) => s.name);
      expect(names).toEqual(
        expect.arrayContaining(['HandleUpdate:sendMessage', 'StartActivity:sendMessage', 'RunActivity:sendMessage']),
      );
      expect(new Set(workerSpans.map((s) => s.serviceName))).toEqual(new Set(['deploy-test-worker']));
    } finally {
      await tracing.shutdown();
      await collector.close();
    }
  });
});
