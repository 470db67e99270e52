/**
 * Which Temporal failures the API answers 503 (with Retry-After) instead of 500. The production chaos
 * run found webhooks answered 500 while PostgreSQL was down: the Temporal server (1.29) answers
 * NamespaceNotFound when it cannot read the namespace from its database, the SDK turns that into a
 * NamespaceNotFoundError without the gRPC status, and neither the conversations nor the store of
 * unrecognized payloads counted it as an outage. The full-size run then found events kept as
 * "refused" that the server had answered INTERNAL while its database failed under it. Here clients
 * that fail every call that way stand in for that server.
 */
import { randomUUID } from 'node:crypto';

import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { NamespaceNotFoundError } from '@temporalio/common';

import { createApp } from '../../src/api/app';
import { isTemporalUnavailable } from '../../src/api/errors';
import { computeSignature } from '../../src/channels/signature';
import { loadConfig } from '../../src/config';
import { createLogger, silentLogger } from '../../src/logger';
import { ConversationsClient } from '../../src/temporal-client/conversations';
import { UnrecognizedPayloadStore } from '../../src/temporal-client/unrecognized-payload-store';
import { signedRbmRequest } from '../helpers/signing';

const TOKEN = 'unavailable-test-token';
const AGENT = 'unavailable@rbm.goog';

/** A client whose every workflow call fails with `error` (and records the calls). */
function failingClient(error: () => Error, calls: string[] = []): Client {
  const workflow = new Proxy({}, { get: (_target, name) => () => (calls.push(String(name)), Promise.reject(error())) });
  return { workflow, withDeadline: <R>(_deadline: number, fn: () => Promise<R>) => fn() } as unknown as Client;
}

/** A client that accepts every call (the store of unrecognized payloads, to see whether anything was parked). */
function acceptingClient(calls: string[]): Client {
  const workflow = new Proxy(
    {},
    { get: (_target, name) => () => (calls.push(String(name)), Promise.resolve(undefined)) },
  );
  return { workflow, withDeadline: <R>(_deadline: number, fn: () => Promise<R>) => fn() } as unknown as Client;
}

/** The 1.29 server with its database down: NamespaceNotFound, without the gRPC status. */
const namespaceNotServed = () => new NamespaceNotFoundError('default');

function app(
  conversationsClient: Client = failingClient(namespaceNotServed),
  storeClient: Client = conversationsClient,
  logger = silentLogger,
) {
  const config = loadConfig({ TEMPORAL_TASK_QUEUE: 'unavailable', RBM_CLIENT_TOKEN: TOKEN });
  const conversations = new ConversationsClient({
    client: conversationsClient,
    taskQueue: 'unavailable',
    timeoutMs: 1000,
    workflowIds: { revealPhoneNumbers: false, secret: 's' },
  });
  const unrecognizedPayloads = new UnrecognizedPayloadStore({
    client: storeClient,
    taskQueue: 'unavailable',
    timeoutMs: 1000,
  });
  return createApp({ config, conversations, logger, unrecognizedPayloads });
}

describe('Temporal failures that mean "retry later"', () => {
  test('NamespaceNotFoundError (a database outage on server 1.29), gRPC UNAVAILABLE / DEADLINE_EXCEEDED / RESOURCE_EXHAUSTED, anywhere in the cause chain', () => {
    expect(isTemporalUnavailable(new NamespaceNotFoundError('default'))).toBe(true);
    expect(
      isTemporalUnavailable(
        new Error('Failed to signalWithStart Workflow', { cause: new NamespaceNotFoundError('default') }),
      ),
    ).toBe(true);
    for (const code of [14, 4, 8])
      expect(
        isTemporalUnavailable(new Error('wrapped', { cause: Object.assign(new Error(`${code} grpc`), { code }) })),
      ).toBe(true);
  });

  test('INTERNAL, CANCELLED, UNKNOWN, ABORTED, DATA_LOSS: what an overloaded or restarting database makes the server answer', () => {
    // Seen in the full-size production chaos run: "13 INTERNAL: ... no usable database connection found" while PostgreSQL restarted.
    for (const code of [13, 1, 2, 10, 15])
      expect(
        isTemporalUnavailable(
          new Error('Failed to signalWithStart Workflow', {
            cause: Object.assign(new Error(`${code} status`), { code }),
          }),
        ),
      ).toBe(true);
  });

  test('other failures are not an outage', () => {
    expect(isTemporalUnavailable(new WorkflowNotFoundError('gone', 'wf', undefined))).toBe(false);
    for (const code of [3, 5, 6, 7, 9, 11, 12, 16])
      expect(isTemporalUnavailable(Object.assign(new Error(`${code} a refusal`), { code }))).toBe(false);
    expect(isTemporalUnavailable(new Error('boom'))).toBe(false);
    expect(isTemporalUnavailable('not an error')).toBe(false);
  });

  test('a webhook with events, and one of an unknown kind, are answered 503 with Retry-After, not 500', async () => {
    const api = app();
    const events = signedRbmRequest(TOKEN, {
      senderPhoneNumber: '+14155550123',
      agentId: AGENT,
      messageId: randomUUID(),
      text: 'hello?',
    });
    const data = Buffer.from(
      JSON.stringify({
        eventId: randomUUID(),
        agentId: AGENT,
        senderPhoneNumber: '+14155550123',
        eventType: 'SOMETHING_NEW',
      }),
    );
    const unknownKind = {
      body: JSON.stringify({ message: { data: data.toString('base64'), messageId: 'ps-1' } }),
      headers: { 'x-goog-signature': computeSignature(TOKEN, data) },
    };
    for (const request of [events, unknownKind]) {
      const res = await api.request('/webhooks/rbm', { method: 'POST', ...request });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(await res.json()).toMatchObject({
        error: { code: 'temporal_unavailable', message: expect.stringContaining("does not serve namespace 'default'") },
      });
    }
  });

  test('events Temporal answers INTERNAL (its database failing under it) get 503, and are not kept as refused', async () => {
    const parked: string[] = [];
    const internal = () =>
      new Error('Failed to signalWithStart Workflow', {
        cause: Object.assign(
          new Error('13 INTERNAL: GetWorkflowExecution: failed. Error: no usable database connection found'),
          { code: 13 },
        ),
      });
    const api = app(failingClient(internal), acceptingClient(parked));
    const res = await api.request('/webhooks/rbm', {
      method: 'POST',
      ...signedRbmRequest(TOKEN, {
        senderPhoneNumber: '+14155550124',
        agentId: AGENT,
        messageId: randomUUID(),
        text: 'hello?',
      }),
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(await res.json()).toMatchObject({
      error: { code: 'temporal_unavailable', message: expect.stringContaining('13 INTERNAL') },
    });
    expect(parked).toEqual([]);
  });

  test('events Temporal refuses (INVALID_ARGUMENT) are kept, with the status in the reason', async () => {
    const parked: string[] = [];
    const tooLarge = () =>
      new Error('Failed to signalWithStart Workflow', {
        cause: Object.assign(new Error('3 INVALID_ARGUMENT: BlobSizeLimitError'), { code: 3 }),
      });
    const api = app(failingClient(tooLarge), acceptingClient(parked));
    const res = await api.request('/webhooks/rbm', {
      method: 'POST',
      ...signedRbmRequest(TOKEN, {
        senderPhoneNumber: '+14155550125',
        agentId: AGENT,
        messageId: randomUUID(),
        text: 'hello?',
      }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'stored',
      reason:
        'Temporal refused the events: Failed to signalWithStart Workflow (3 INVALID_ARGUMENT: BlobSizeLimitError)',
    });
    expect(parked).toContain('signalWithStart');
  });

  test('a delivery Temporal will neither take as events nor keep (PERMISSION_DENIED) gets 503 not_accepted with Retry-After, never 500, and the cause is logged as an error', async () => {
    const lines: string[] = [];
    const denied = () =>
      new Error('Failed to signalWithStart Workflow', {
        cause: Object.assign(new Error('7 PERMISSION_DENIED: Request unauthorized.'), { code: 7 }),
      });
    const api = app(
      failingClient(denied),
      failingClient(denied),
      createLogger('info', {}, (line) => lines.push(line)),
    );
    const res = await api.request('/webhooks/rbm', {
      method: 'POST',
      ...signedRbmRequest(TOKEN, {
        senderPhoneNumber: '+14155550126',
        agentId: AGENT,
        messageId: randomUUID(),
        text: 'hello?',
      }),
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(await res.json()).toMatchObject({ error: { code: 'not_accepted' } });
    const logged = lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((line) => line.msg === 'webhook not accepted');
    expect(logged).toMatchObject({
      level: 'error',
      status: 503,
      outcome: 'not_accepted',
      cause: expect.stringContaining('7 PERMISSION_DENIED'),
    });
    expect(lines.join('\n')).not.toContain('+14155550126');
  });
});
