/** Units of the operations code: log masking, the Runtime logger adapter, bundle choice, worker health, ops config. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { loadConfig } from '../../src/config';
import { maskPhoneNumbersIn } from '../../src/domain/redact';
import { createLogger } from '../../src/logger';
import { JsonRuntimeLogger } from '../../src/temporal/runtime';
import { workerTuningFromEnv } from '../../src/temporal/worker-factory';
import { startWorkerHealthServer } from '../../src/temporal/worker-health';
import { chooseWorkflowBundle, WORKFLOWS_PATH } from '../../src/temporal/workflow-bundle';

describe('log masking', () => {
  test('masks E.164 numbers, also percent-encoded, and leaves timestamps and short numbers alone', () => {
    expect(maskPhoneNumbersIn('POST /v1/phones/+14155550123/agentMessages')).toBe(
      'POST /v1/phones/+14•••••••23/agentMessages',
    );
    expect(maskPhoneNumbersIn('/v1/conversations/rbm%3Aa%40rbm.goog%3A%2B447700900123')).toBe(
      '/v1/conversations/rbm%3Aa%40rbm.goog%3A+44••••••••23',
    );
    expect(maskPhoneNumbersIn('2026-01-01T00:00:00+00:00 status +200 id 4155550123')).toBe(
      '2026-01-01T00:00:00+00:00 status +200 id 4155550123',
    );
  });

  test('every logger line goes through it', () => {
    const lines: string[] = [];
    createLogger('info', {}, (l) => lines.push(l)).info('activity failed', {
      error: 'POST https://rbm/v1/phones/+14155550123/agentMessages: 503',
    });
    expect(lines.join('\n')).not.toContain('+14155550123');
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      level: 'info',
      msg: 'activity failed',
      error: 'POST https://rbm/v1/phones/+14•••••••23/agentMessages: 503',
    });
  });
});

describe('logger formats', () => {
  test('pretty (npm start) is one readable line per entry, masked too; json is one object per line', () => {
    const pretty: string[] = [];
    createLogger('info', { service: 'api' }, { write: (l) => pretty.push(l), format: 'pretty' }).warn('send failed', {
      to: '+14155550123',
      status: 503,
    });
    expect(pretty).toHaveLength(1);
    expect(pretty[0]).toMatch(/WARN.*send failed/);
    expect(pretty[0]).toContain('+14•••••••23');
    expect(pretty[0]).not.toContain('+14155550123');
    expect(() => JSON.parse(pretty[0] as string)).toThrow();
    const json: string[] = [];
    createLogger('debug', { service: 'api' }, { write: (l) => json.push(l) }).debug('ready', { port: 8080 });
    expect(JSON.parse(json[0] as string)).toMatchObject({
      level: 'debug',
      msg: 'ready',
      service: 'api',
      port: 8080,
      time: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
    });
  });
});

describe('JsonRuntimeLogger', () => {
  test("writes the SDK's lines as JSON with their metadata, Errors made readable, levels mapped", () => {
    const lines: string[] = [];
    const logger = new JsonRuntimeLogger(createLogger('debug', { service: 'worker' }, (l) => lines.push(l)));
    logger.warn('Activity failed', {
      workflowId: 'conv-1',
      runId: 'r1',
      activityId: '3',
      error: new Error('boom', { cause: new Error('socket hang up') }),
    });
    logger.trace('noise', {});
    const [warn, trace] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(warn).toMatchObject({
      level: 'warn',
      msg: 'Activity failed',
      service: 'worker',
      workflowId: 'conv-1',
      runId: 'r1',
      activityId: '3',
      error: { name: 'Error', message: 'boom', cause: 'socket hang up' },
    });
    expect(trace).toMatchObject({ level: 'debug', msg: 'noise' });
  });

  test('respects LOG_LEVEL', () => {
    const lines: string[] = [];
    const logger = new JsonRuntimeLogger(createLogger('warn', {}, (l) => lines.push(l)));
    logger.info('Worker state changed', { state: 'RUNNING' });
    logger.error('Worker failed', {});
    expect(lines.map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['Worker failed']);
  });
});

describe('workflow bundle choice', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'sb-bundle-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('WORKFLOW_BUNDLE_PATH must exist; the default bundle of the tracing setting is used when a build put it there; else bundle at start', () => {
    const defaults = {
      plain: path.join(dir, 'workflow-bundle.js'),
      tracing: path.join(dir, 'workflow-bundle-tracing.js'),
    };
    expect(() => chooseWorkflowBundle(defaults.plain, false, defaults)).toThrow(/WORKFLOW_BUNDLE_PATH=.*no such file/);
    expect(chooseWorkflowBundle(undefined, false, defaults)).toEqual({
      kind: 'bundle-at-start',
      workflowsPath: WORKFLOWS_PATH,
    });
    writeFileSync(defaults.plain, '// bundle');
    expect(chooseWorkflowBundle(undefined, false, defaults)).toEqual({
      kind: 'prebuilt',
      bundle: { codePath: defaults.plain },
      tracing: false,
    });
    // Tracing on does not take the plain bundle: without the tracing one it bundles at start (the plugin adds its interceptors).
    expect(chooseWorkflowBundle(undefined, true, defaults)).toEqual({
      kind: 'bundle-at-start',
      workflowsPath: WORKFLOWS_PATH,
    });
    writeFileSync(
      defaults.tracing,
      '// bundle\nrequire("@temporalio/interceptors-opentelemetry/lib/workflow-interceptors")',
    );
    expect(chooseWorkflowBundle(undefined, true, defaults)).toEqual({
      kind: 'prebuilt',
      bundle: { codePath: defaults.tracing },
      tracing: true,
    });
    expect(
      chooseWorkflowBundle(defaults.plain, false, {
        plain: path.join(dir, 'elsewhere.js'),
        tracing: path.join(dir, 'elsewhere.js'),
      }),
    ).toEqual({ kind: 'prebuilt', bundle: { codePath: defaults.plain }, tracing: false });
  });

  test('a configured bundle must match the tracing setting: without the interceptors under OTEL_ENABLED it is refused, with them and tracing off it warns', () => {
    const plain = path.join(dir, 'plain.js');
    const traced = path.join(dir, 'traced.js');
    writeFileSync(plain, '// bundle');
    writeFileSync(traced, '// bundle\nrequire("@temporalio/interceptors-opentelemetry/lib/workflow-interceptors")');
    expect(() => chooseWorkflowBundle(plain, true)).toThrow(
      /WORKFLOW_BUNDLE_PATH=.*OTEL_ENABLED=true needs the bundle with the OpenTelemetry workflow interceptors/,
    );
    expect(chooseWorkflowBundle(traced, true)).toEqual({
      kind: 'prebuilt',
      bundle: { codePath: traced },
      tracing: true,
    });
    expect(chooseWorkflowBundle(traced, false)).toMatchObject({
      kind: 'prebuilt',
      tracing: true,
      warning: expect.stringMatching(/tracing is off/),
    });
    expect(chooseWorkflowBundle(plain, false)).not.toHaveProperty('warning');
  });
});

describe('worker configuration', () => {
  test('tuning defaults are documented values, and bad values fail naming the variable', () => {
    expect(workerTuningFromEnv(loadConfig({}).env)).toEqual({
      maxConcurrentActivityTaskExecutions: 100,
      maxConcurrentWorkflowTaskExecutions: 40,
      maxCachedWorkflows: 1000,
      shutdownGraceTimeMs: 20_000,
    });
    expect(
      workerTuningFromEnv(loadConfig({ WORKER_MAX_CACHED_WORKFLOWS: '0', WORKER_SHUTDOWN_GRACE_MS: '5000' }).env),
    ).toMatchObject({ maxCachedWorkflows: 0, shutdownGraceTimeMs: 5000 });
    expect(() => loadConfig({ WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '1' })).toThrow(
      /WORKER_MAX_CONCURRENT_WORKFLOW_TASKS/,
    );
    expect(() => loadConfig({ WORKER_METRICS_ADDRESS: 'localhost' })).toThrow(/WORKER_METRICS_ADDRESS/);
    expect(() => loadConfig({ OTEL_ENABLED: 'maybe' })).toThrow(/OTEL_ENABLED/);
    expect(loadConfig({ WORKER_METRICS_ADDRESS: 'off' }).env.WORKER_METRICS_ADDRESS).toBe('off');
  });
});

describe('worker health endpoint', () => {
  test('liveness fails only for a FAILED worker; readiness needs RUNNING and a serving Temporal', async () => {
    let state = 'RUNNING';
    let serving = 1;
    const status = { numInFlightActivities: 0 };
    const health = await startWorkerHealthServer({
      worker: { getState: () => state as never, getStatus: () => status as never },
      connection: {
        withDeadline: (_d: number, fn: () => Promise<unknown>) => fn(),
        healthService: { check: async () => ({ status: serving }) },
      } as never,
      host: '127.0.0.1',
      port: 0,
    });
    try {
      const get = async (p: string) => {
        const res = await fetch(`${health.url}${p}`);
        return { status: res.status, body: (await res.json()) as Record<string, unknown> };
      };
      expect(await get('/readyz')).toEqual({ status: 200, body: { ready: true, state: 'RUNNING', status } });
      serving = 2; // NOT_SERVING
      expect(await get('/readyz')).toMatchObject({
        status: 503,
        body: { ready: false, reason: 'Temporal did not answer its health check' },
      });
      state = 'DRAINING';
      expect(await get('/healthz')).toMatchObject({ status: 200, body: { state: 'DRAINING' } });
      expect(await get('/readyz')).toMatchObject({ status: 503, body: { reason: 'worker is DRAINING' } });
      state = 'FAILED';
      expect((await get('/healthz')).status).toBe(503);
      expect((await get('/nope')).status).toBe(404);
    } finally {
      await health.close();
    }
  });
});
