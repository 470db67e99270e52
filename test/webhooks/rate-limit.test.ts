/**
 * Temporal rate limiting (RESOURCE_EXHAUSTED) is a real condition here: a dev server of this file's
 * own with the dynamic config frontend.namespaceRPS=1, so a burst of webhooks overruns the
 * namespace's rate limit. Such a webhook answers 503 with Retry-After (Google retries), never 500,
 * and is not parked as unrecognized: it is not Google's fault.
 *
 * Two shapes of the same condition: the production client (createLazyClient) retries
 * RESOURCE_EXHAUSTED inside the bound (the SDK's gRPC retry interceptor, 1 s back-off), so what
 * surfaces at the bound is DEADLINE_EXCEEDED; a client whose retries are spent (here: a
 * connection without the retry interceptor) sees RESOURCE_EXHAUSTED itself, which the gateway
 * and the store map to the same 503.
 */
import { randomUUID } from 'node:crypto';

import { Client, Connection } from '@temporalio/client';

import { readTemporalBinaries } from '../../dev/binaries';
import { DevServer } from '../../dev/dev-server';
import { createApp } from '../../src/api/app';
import { TemporalUnavailableError } from '../../src/api/errors';
import { computeSignature } from '../../src/channels/signature';
import { loadConfig } from '../../src/config';
import { rbmConversationKey } from '../../src/domain/conversation-key';
import { type InboundEvent } from '../../src/domain/inbound';
import { silentLogger } from '../../src/logger';
import { createLazyClient } from '../../src/temporal/connections';
import { ConversationsClient } from '../../src/temporal-client/conversations';
import { UnrecognizedPayloadStore } from '../../src/temporal-client/unrecognized-payload-store';
import { freePort } from '../helpers/ports';
import { signedRbmRequest } from '../helpers/signing';
import { uniqueTaskQueue } from '../helpers/temporal';
import { randomPhone } from './fixtures';
import { trackTemporalCalls } from './harness';

const BOUND_MS = 1500;
const TOKEN = 'rate-limit-test-token';
const AGENT = 'rate-limit@rbm.goog';

let server: DevServer;
const closers: (() => Promise<void>)[] = [];

// No native connection or worker here: installing the SDK's Runtime would keep Jest from exiting.
beforeAll(async () => {
  server = await DevServer.start({
    cliPath: readTemporalBinaries().cli,
    port: await freePort(),
    extraArgs: [
      '--dynamic-config-value',
      'frontend.namespaceRPS=1',
      '--dynamic-config-value',
      'frontend.namespaceBurstRatio=1',
    ],
  });
}, 90_000);
afterAll(async () => {
  for (const close of closers.reverse()) await close();
  await server?.stop();
});

/** Chain of causes, outermost first. */
function causes(err: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let e: unknown = err; e !== undefined && chain.length < 10; e = (e as { cause?: unknown }).cause) chain.push(e);
  return chain;
}

function unknownKind() {
  const data = Buffer.from(
    JSON.stringify({
      eventId: randomUUID(),
      agentId: AGENT,
      senderPhoneNumber: randomPhone(),
      eventType: 'SOMETHING_NEW',
    }),
  );
  return {
    body: JSON.stringify({ message: { data: data.toString('base64'), messageId: 'ps-1' } }),
    headers: { 'x-goog-signature': computeSignature(TOKEN, data) },
  };
}

test('a burst over the namespace rate limit: every webhook 200 or 503 with Retry-After, never 500, and the limited ones are not parked', async () => {
  const taskQueue = uniqueTaskQueue('rate');
  const config = loadConfig({
    TEMPORAL_ADDRESS: server.address,
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
  const calls = trackTemporalCalls(conversations, store);
  closers.push(async () => {
    await calls.settled();
    await client.connection.close().catch(() => undefined);
  });
  const app = createApp({ config, conversations, logger: silentLogger, unrecognizedPayloads: store });

  const requests = [
    ...Array.from({ length: 5 }, () =>
      signedRbmRequest(TOKEN, {
        senderPhoneNumber: randomPhone(),
        agentId: AGENT,
        messageId: randomUUID(),
        text: 'in a burst',
      }),
    ),
    unknownKind(),
    unknownKind(),
  ];
  const responses = await Promise.all(requests.map((r) => app.request('/webhooks/rbm', { method: 'POST', ...r })));
  const answers = await Promise.all(
    responses.map(async (res) => ({
      status: res.status,
      retryAfter: res.headers.get('retry-after'),
      body: (await res.json()) as { status?: string; error?: { code: string } },
    })),
  );

  for (const answer of answers) {
    if (answer.status === 200) expect(['accepted', 'stored']).toContain(answer.body.status);
    else
      expect(answer).toEqual({
        status: 503,
        retryAfter: '5',
        body: { error: expect.objectContaining({ code: 'temporal_unavailable' }) },
      });
  }
  expect(answers.filter((a) => a.status === 503).length).toBeGreaterThan(0);
  // A rate-limited delivery is Temporal's condition, not a payload to park: no user message was kept as unrecognized.
  expect(answers.slice(0, 5).filter((a) => a.body.status === 'stored')).toEqual([]);
}, 60_000);

test('RESOURCE_EXHAUSTED itself (no client retries left): the gateway and the store raise TemporalUnavailableError (the 503 of the webhooks), not an error to park or answer 500', async () => {
  const connection = await Connection.connect({ address: server.address, interceptors: [] });
  closers.push(() => connection.close());
  const client = new Client({ connection, namespace: 'default' });
  const taskQueue = uniqueTaskQueue('rate-raw');
  const conversations = new ConversationsClient({
    client,
    taskQueue,
    timeoutMs: BOUND_MS,
    workflowIds: { revealPhoneNumbers: false, secret: 's' },
  });
  const store = new UnrecognizedPayloadStore({ client, taskQueue, timeoutMs: BOUND_MS });

  const event = (phone: string): InboundEvent => ({
    type: 'message',
    channel: 'rbm',
    conversationKey: rbmConversationKey(AGENT, phone),
    messageId: randomUUID(),
    dedupeKey: randomUUID(),
    receivedAt: new Date().toISOString(),
    content: { kind: 'text', text: 'x' },
  });
  const attempts = [
    ...Array.from({ length: 4 }, () => {
      const phone = randomPhone();
      return conversations.deliver(rbmConversationKey(AGENT, phone), [event(phone)]);
    }),
    ...Array.from({ length: 4 }, () =>
      store.keep(
        {
          id: randomUUID().replace(/-/g, ''),
          channel: 'rbm',
          kind: 'rbm.unknown',
          reason: 'test',
          receivedAt: new Date().toISOString(),
          bodyBase64: '',
          headers: {},
        },
        { at: new Date().toISOString() },
      ),
    ),
  ];
  const results = await Promise.allSettled(attempts);
  const refused = results
    .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    .map((r) => r.reason as unknown);
  expect(refused.length).toBeGreaterThan(0);
  for (const err of refused) {
    expect(err).toBeInstanceOf(TemporalUnavailableError);
    // The condition is the rate limit (gRPC 8), seen before the bound ran out.
    expect(causes(err).some((e) => (e as { code?: unknown }).code === 8)).toBe(true);
  }
  // Both doors are covered: at least one refusal each from the gateway and the store.
  expect(results.slice(0, 4).some((r) => r.status === 'rejected')).toBe(true);
  expect(results.slice(4).some((r) => r.status === 'rejected')).toBe(true);
}, 60_000);
