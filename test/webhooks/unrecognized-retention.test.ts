/**
 * Kept payloads over weeks, on the time-skipping test server: Google redelivers what it was not
 * sure we got for 7 days, and one payload stays one entry all that time (pending or closed); an
 * entry expires after UNRECOGNIZED_PAYLOAD_RETENTION_DAYS (default 30). The API is wired as
 * server.ts wires it (createApp; the store built from the configuration), so the retention comes
 * from the variable.
 */
import { randomUUID } from 'node:crypto';

import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { type Hono } from 'hono';

import { createApp } from '../../src/api/app';
import { computeSignature } from '../../src/channels/signature';
import { ConfigError, loadConfig } from '../../src/config';
import { silentLogger } from '../../src/logger';
import { ConversationsClient } from '../../src/temporal-client/conversations';
import { type UnrecognizedPayloadView } from '../../src/workflows/definitions';
import { recordingActivities } from '../helpers/recording-activities';
import { createTimeSkippingEnv, uniqueTaskQueue, workflowBundle } from '../helpers/temporal';
import { randomPhone } from './fixtures';

const TOKEN = 'retention-test-token';
const API_TOKEN = 'retention-test-operator-token';
const AGENT = 'retention@rbm.goog';
const DAY_MS = 86_400_000;

let env: TestWorkflowEnvironment;
let worker: Worker;
let running: Promise<void>;
const taskQueue = uniqueTaskQueue('retention');

beforeAll(async () => {
  env = await createTimeSkippingEnv();
  worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: workflowBundle(),
    activities: recordingActivities().activities,
  });
  running = worker.run();
});
afterAll(async () => {
  worker?.shutdown();
  await running;
  await env?.teardown();
});

/** The API as server.ts builds it, with UNRECOGNIZED_PAYLOAD_RETENTION_DAYS as given (default when undefined). */
function api(retentionDays?: number): Hono {
  const config = loadConfig({
    TEMPORAL_ADDRESS: env.connection.options.address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    RBM_CLIENT_TOKEN: TOKEN,
    API_TOKEN,
    ...(retentionDays !== undefined ? { UNRECOGNIZED_PAYLOAD_RETENTION_DAYS: String(retentionDays) } : {}),
  });
  const conversations = new ConversationsClient({
    client: env.client,
    taskQueue,
    timeoutMs: 10_000,
    workflowIds: { revealPhoneNumbers: false, secret: 's' },
  });
  return createApp({ config, conversations, logger: silentLogger });
}

/** A payload of a kind this build does not know, as Google would deliver it: each call a new unsigned Pub/Sub id. */
function unknownKind() {
  const data = Buffer.from(
    JSON.stringify({
      senderPhoneNumber: randomPhone(),
      agentId: AGENT,
      eventType: 'SOMETHING_NEW',
      eventId: `ev-${randomUUID()}`,
    }),
  );
  const signature = computeSignature(TOKEN, data);
  return () => ({
    method: 'POST',
    body: JSON.stringify({
      message: {
        data: data.toString('base64'),
        messageId: `ps-${randomUUID()}`,
        publishTime: new Date().toISOString(),
      },
      subscription: 'projects/p/subscriptions/s',
    }),
    headers: { 'content-type': 'application/json', 'x-goog-signature': signature },
  });
}

async function deliver(app: Hono, request: RequestInit): Promise<string> {
  const res = await app.request('/webhooks/rbm', request);
  expect(res.status).toBe(200);
  const json = (await res.json()) as { status: string; id: string };
  expect(json.status).toBe('stored');
  return json.id;
}

async function view(app: Hono, id: string): Promise<UnrecognizedPayloadView> {
  const res = await app.request(`/v1/unrecognized-payloads/${id}`, {
    headers: { authorization: `Bearer ${API_TOKEN}` },
  });
  expect(res.status).toBe(200);
  return (await res.json()) as UnrecognizedPayloadView;
}

const latestRuns = (ids: string[]) =>
  Promise.all(
    ids.map(async (id) => (await env.client.workflow.getHandle(`unrecognized-payload-${id}`).describe()).runId),
  );

test('redelivered for 7 days, one payload stays one entry (pending or dismissed); entries expire after the configured days, 30 by default', async () => {
  const configured = api(10);
  const byDefault = api();
  const redelivered = unknownKind();
  const dismissed = unknownKind();
  const defaultRetention = unknownKind();

  const id = await deliver(configured, redelivered());
  const dismissedId = await deliver(configured, dismissed());
  const defaultId = await deliver(byDefault, defaultRetention());
  const firstRuns = await latestRuns([id, dismissedId]);
  expect(
    (
      await configured.request(`/v1/unrecognized-payloads/${dismissedId}/dismiss`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_TOKEN}` },
      })
    ).status,
  ).toBe(200);

  // Google's redeliveries over its 7-day window: day 1, 3 and 6.9, each under a new Pub/Sub id.
  let elapsedMs = 0;
  for (const day of [1, 3, 6.9]) {
    await env.sleep(day * DAY_MS - elapsedMs);
    elapsedMs = day * DAY_MS;
    expect(await deliver(configured, redelivered())).toBe(id);
    expect(await deliver(configured, dismissed())).toBe(dismissedId);
  }
  expect(await view(configured, id)).toMatchObject({ id, status: 'pending', deliveries: { count: 4 } });
  expect(await view(configured, dismissedId)).toMatchObject({ id: dismissedId, status: 'dismissed' });
  // Never a second run: the latest run of each id is still the one the first delivery started.
  expect(await latestRuns([id, dismissedId])).toEqual(firstRuns);

  // UNRECOGNIZED_PAYLOAD_RETENTION_DAYS=10: expired after 10 days, while a default entry (30 days) still waits.
  await env.sleep(10 * DAY_MS + 60_000 - elapsedMs);
  elapsedMs = 10 * DAY_MS + 60_000;
  expect((await view(configured, id)).status).toBe('expired');
  expect((await view(byDefault, defaultId)).status).toBe('pending');
  expect(
    (
      await configured.request(`/v1/unrecognized-payloads/${id}/replay`, {
        method: 'POST',
        headers: { authorization: `Bearer ${API_TOKEN}` },
      })
    ).status,
  ).toBe(409);

  await env.sleep(30 * DAY_MS + 60_000 - elapsedMs);
  expect((await view(byDefault, defaultId)).status).toBe('expired');
}, 120_000);

test('UNRECOGNIZED_PAYLOAD_RETENTION_DAYS under 7 (Google redelivers for 7 days) is refused, naming the variable', () => {
  expect(() => loadConfig({ UNRECOGNIZED_PAYLOAD_RETENTION_DAYS: '6' })).toThrow(ConfigError);
  expect(() => loadConfig({ UNRECOGNIZED_PAYLOAD_RETENTION_DAYS: '6' })).toThrow(/UNRECOGNIZED_PAYLOAD_RETENTION_DAYS/);
});
