/**
 * Which Temporal failures the API answers 503 (with Retry-After) instead of 500. The production chaos
 * run found webhooks answered 500 while PostgreSQL was down: the Temporal server (1.29) answers
 * NamespaceNotFound when it cannot read the namespace from its database, the SDK turns that into a
 * NamespaceNotFoundError without the gRPC status, and neither the conversations nor the store of
 * unrecognized payloads counted it as an outage. Here a client that fails every call that way
 * stands in for that server.
 */
import { randomUUID } from 'node:crypto';
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { NamespaceNotFoundError } from '@temporalio/common';
import { createApp } from '../../src/api/app';
import { ConversationGateway } from '../../src/api/conversation-gateway';
import { isTemporalUnavailable } from '../../src/api/errors';
import { UnrecognizedPayloadStore } from '../../src/api/unrecognized-payload-store';
import { computeSignature } from '../../src/channels/signature';
import { loadConfig } from '../../src/config';
import { silentLogger } from '../../src/logger';
import { signedRbmRequest } from '../helpers/signing';

const TOKEN = 'unavailable-test-token';
const AGENT = 'unavailable@rbm.goog';

/** A client whose every workflow call fails as the 1.29 server does with its database down. */
function namespaceNotServedClient(): Client {
  const fail = () => Promise.reject(new NamespaceNotFoundError('default'));
  const workflow = new Proxy({}, { get: () => fail });
  return { workflow, withDeadline: <R>(_deadline: number, fn: () => Promise<R>) => fn() } as unknown as Client;
}

function app() {
  const config = loadConfig({ TEMPORAL_TASK_QUEUE: 'unavailable', RBM_CLIENT_TOKEN: TOKEN });
  const client = namespaceNotServedClient();
  const conversations = new ConversationGateway({ client, taskQueue: 'unavailable', timeoutMs: 1000, workflowIds: { revealPhoneNumbers: false, secret: 's' } });
  const unrecognizedPayloads = new UnrecognizedPayloadStore({ client, taskQueue: 'unavailable', timeoutMs: 1000 });
  return createApp({ config, conversations, logger: silentLogger, unrecognizedPayloads });
}

describe('Temporal failures that mean "retry later"', () => {
  test('NamespaceNotFoundError (a database outage on server 1.29), gRPC UNAVAILABLE / DEADLINE_EXCEEDED / RESOURCE_EXHAUSTED, anywhere in the cause chain', () => {
    expect(isTemporalUnavailable(new NamespaceNotFoundError('default'))).toBe(true);
    expect(isTemporalUnavailable(new Error('Failed to signalWithStart Workflow', { cause: new NamespaceNotFoundError('default') }))).toBe(true);
    for (const code of [14, 4, 8]) expect(isTemporalUnavailable(new Error('wrapped', { cause: Object.assign(new Error(`${code} grpc`), { code }) }))).toBe(true);
  });

  test('other failures are not an outage', () => {
    expect(isTemporalUnavailable(new WorkflowNotFoundError('gone', 'wf', undefined))).toBe(false);
    expect(isTemporalUnavailable(Object.assign(new Error('3 INVALID_ARGUMENT: too large'), { code: 3 }))).toBe(false);
    expect(isTemporalUnavailable(new Error('boom'))).toBe(false);
    expect(isTemporalUnavailable('not an error')).toBe(false);
  });

  test('a webhook with events, and one of an unknown kind, are answered 503 with Retry-After, not 500', async () => {
    const api = app();
    const events = signedRbmRequest(TOKEN, { senderPhoneNumber: '+14155550123', agentId: AGENT, messageId: randomUUID(), text: 'hello?' });
    const data = Buffer.from(JSON.stringify({ eventId: randomUUID(), agentId: AGENT, senderPhoneNumber: '+14155550123', eventType: 'SOMETHING_NEW' }));
    const unknownKind = { body: JSON.stringify({ message: { data: data.toString('base64'), messageId: 'ps-1' } }), headers: { 'x-goog-signature': computeSignature(TOKEN, data) } };
    for (const request of [events, unknownKind]) {
      const res = await api.request('/webhooks/rbm', { method: 'POST', ...request });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(await res.json()).toMatchObject({ error: { code: 'temporal_unavailable', message: expect.stringContaining("does not serve namespace 'default'") } });
    }
  });
});
