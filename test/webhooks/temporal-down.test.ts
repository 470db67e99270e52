/**
 * Temporal unreachable: the webhook answers 503 within TEMPORAL_SIGNAL_TIMEOUT_MS (so Google
 * retries), and the same delivery succeeds once Temporal is back. Uses the production client
 * (createLazyClient) against a dev server of its own that the test stops and restarts.
 */
import { randomUUID } from 'node:crypto';

import { type Client } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';

import { readTemporalBinaries } from '../../dev/binaries';
import { DevServer } from '../../dev/dev-server';
import { pollUntil } from '../../dev/poll';
import { createApp } from '../../src/api/app';
import { TemporalUnavailableError } from '../../src/api/errors';
import { type WebhookAppDeps } from '../../src/api/webhooks';
import { computeSignature } from '../../src/channels/signature';
import { loadConfig } from '../../src/config';
import { rbmConversationKey } from '../../src/domain/conversation-key';
import { silentLogger } from '../../src/logger';
import { createLazyClient } from '../../src/temporal/connections';
import { ConversationsClient } from '../../src/temporal-client/conversations';
import { UnrecognizedPayloadStore } from '../../src/temporal-client/unrecognized-payload-store';
import { freePort } from '../helpers/ports';
import { recordingActivities } from '../helpers/recording-activities';
import { signedRbmRequest } from '../helpers/signing';
import { installTestRuntime, uniqueTaskQueue, workflowBundle } from '../helpers/temporal';
import { randomPhone } from './fixtures';
import { trackTemporalCalls } from './harness';

const BOUND_MS = 1500;
/**
 * Scheduling slack on a loaded two-core machine (500 ms was overrun by 7 ms under a load of 18).
 * What the test tells apart is bounded against unbounded: without the bound the call waits for the
 * client's own connection timeout, far beyond BOUND_MS + SLACK_MS.
 */
const SLACK_MS = 2500;
const TOKEN = 'down-test-token';
const AGENT = 'down@rbm.goog';

function apiOn(address: string) {
  const taskQueue = uniqueTaskQueue('down');
  const config = loadConfig({
    TEMPORAL_ADDRESS: address,
    TEMPORAL_TASK_QUEUE: taskQueue,
    TEMPORAL_SIGNAL_TIMEOUT_MS: String(BOUND_MS),
    RBM_CLIENT_TOKEN: TOKEN,
  });
  const client = createLazyClient(config.temporal);
  const conversations = new ConversationsClient({
    client,
    taskQueue,
    timeoutMs: BOUND_MS,
    workflowIds: { revealPhoneNumbers: false, secret: 's' },
  });
  const store = new UnrecognizedPayloadStore({ client, taskQueue, timeoutMs: BOUND_MS });
  calls.push(trackTemporalCalls(conversations, store));
  const deps: WebhookAppDeps = { config, conversations, logger: silentLogger, unrecognizedPayloads: store };
  return { app: createApp(deps), client, conversations, taskQueue };
}

async function timed(fn: () => Promise<Response>): Promise<{ res: Response; ms: number }> {
  const started = performance.now();
  const res = await fn();
  return { res, ms: performance.now() - started };
}

function unknownKindEvent() {
  const data = Buffer.from(
    JSON.stringify({
      eventId: randomUUID(),
      agentId: AGENT,
      senderPhoneNumber: randomPhone(),
      eventType: 'SOMETHING_NEW',
    }),
  );
  const body = JSON.stringify({ message: { data: data.toString('base64'), messageId: 'ps-1' } });
  return { body, headers: { 'x-goog-signature': computeSignature(TOKEN, data) } };
}

const clients: Client[] = [];
const calls: { settled(): Promise<void> }[] = [];
afterAll(async () => {
  // Calls that outlived their 503 end by their own deadline; only then may the connections close.
  await Promise.all(calls.map((c) => c.settled()));
  await Promise.all(clients.map((c) => c.connection.close().catch(() => undefined)));
});

test('Temporal at a closed port: 503 within the bound for a delivery and for an unknown kind', async () => {
  const api = apiOn(`127.0.0.1:${await freePort()}`);
  clients.push(api.client);
  const phone = randomPhone();
  const { body, headers } = signedRbmRequest(TOKEN, {
    senderPhoneNumber: phone,
    agentId: AGENT,
    messageId: randomUUID(),
    text: 'hello?',
  });

  for (const request of [{ body, headers }, unknownKindEvent()]) {
    const { res, ms } = await timed(async () => api.app.request('/webhooks/rbm', { method: 'POST', ...request }));
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(await res.json()).toMatchObject({
      error: { code: 'temporal_unavailable', message: expect.stringContaining(`${BOUND_MS} ms`) },
    });
    expect(ms).toBeLessThan(BOUND_MS + SLACK_MS);
  }
});

test('dev server stopped: 503 within the bound; restarted on the same port: the retried delivery is accepted and reaches its conversation', async () => {
  installTestRuntime();
  const cliPath = readTemporalBinaries().cli;
  const port = await freePort();
  let server = await DevServer.start({ cliPath, port });
  const api = apiOn(server.address);
  clients.push(api.client);
  let worker: Worker | undefined;
  let running: Promise<void> | undefined;
  let connection: NativeConnection | undefined;
  try {
    const phone = randomPhone();
    const warmUp = signedRbmRequest(TOKEN, {
      senderPhoneNumber: phone,
      agentId: AGENT,
      messageId: randomUUID(),
      text: 'first',
    });
    expect((await api.app.request('/webhooks/rbm', { method: 'POST', ...warmUp })).status).toBe(200);

    await server.stop();
    const messageId = `while-down-${randomUUID()}`;
    const delivery = signedRbmRequest(TOKEN, {
      senderPhoneNumber: phone,
      agentId: AGENT,
      messageId,
      text: 'sent while Temporal was down',
    });
    const down = await timed(async () => api.app.request('/webhooks/rbm', { method: 'POST', ...delivery }));
    expect(down.res.status).toBe(503);
    expect(down.ms).toBeLessThan(BOUND_MS + SLACK_MS);

    server = await DevServer.start({ cliPath, port });
    // Google retries the same delivery until it gets a 200; so does this loop, against the observable answer.
    const retried = await pollUntil({
      what: 'a 200 after the restart',
      read: async () => (await api.app.request('/webhooks/rbm', { method: 'POST', ...delivery })).status,
      done: (status) => status === 200,
      timeoutMs: 60_000,
      intervalMs: 100,
    });
    expect(retried).toBe(200);

    connection = await NativeConnection.connect({ address: server.address });
    worker = await Worker.create({
      connection,
      taskQueue: api.taskQueue,
      workflowBundle: workflowBundle(),
      activities: recordingActivities().activities,
    });
    running = worker.run();
    const key = rbmConversationKey(AGENT, phone);
    // The first query after a restart waits for the fresh worker's first workflow task; under load that can pass the API's
    // 1.5 s bound (a 503 to an operator), which is not what this test is about: poll through it.
    const state = () =>
      api.conversations
        .getState(key)
        .catch((err: unknown) => (err instanceof TemporalUnavailableError ? undefined : Promise.reject(err)));
    await pollUntil({
      what: 'the retried message in the conversation',
      read: state,
      done: (s) => s?.events.some((e) => e.dedupeKey === messageId) ?? false,
      timeoutMs: 60_000,
      intervalMs: 100,
    });
  } finally {
    worker?.shutdown();
    await running;
    await connection?.close();
    await server.stop();
  }
}, 120_000);
