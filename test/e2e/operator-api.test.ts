import { randomUUID } from 'node:crypto';

import { Client } from '@temporalio/client';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';

import { pollUntil } from '../../dev/poll';
import { createApp } from '../../src/api/app';
import { loadConfig } from '../../src/config';
import { silentLogger } from '../../src/logger';
import { createPreviousRunLoader } from '../../src/temporal/previous-runs';
import { ConversationsClient } from '../../src/temporal-client/conversations';
import { type ConversationView } from '../../src/workflows/definitions';
import { recordingActivities } from '../helpers/recording-activities';
import { exampleRouting } from '../helpers/routing';
import { signedRbmRequest } from '../helpers/signing';
import { createDevServerEnv, devServerAddress, uniqueTaskQueue, workflowBundle } from '../helpers/temporal';

const RBM_TOKEN = 'operator-e2e-client-token';
const API_TOKEN = 'operator-e2e-api-token-0123456789';
const AGENT = 'operator-e2e@rbm.goog';

describe('operator API and conversation lifecycle on the dev server', () => {
  let env: TestWorkflowEnvironment;
  let client: Client;
  beforeAll(async () => {
    env = await createDevServerEnv();
    client = new Client({ connection: env.connection, namespace: 'default' });
  });
  afterAll(async () => {
    await env?.teardown();
  });

  function stack(settings: { idleTimeout?: string } = {}) {
    const taskQueue = uniqueTaskQueue('operator');
    const config = loadConfig({
      TEMPORAL_ADDRESS: devServerAddress(),
      TEMPORAL_TASK_QUEUE: taskQueue,
      RBM_CLIENT_TOKEN: RBM_TOKEN,
      API_TOKEN,
    });
    const conversations = new ConversationsClient({
      client,
      taskQueue,
      timeoutMs: 5000,
      workflowIds: { revealPhoneNumbers: false, secret: randomUUID() },
      startInput: { routing: exampleRouting(), settings },
    });
    const app = createApp({ config, conversations, logger: silentLogger });
    const rec = recordingActivities();
    const activities = {
      ...rec.activities,
      loadPreviousRun: (workflowId: string) => createPreviousRunLoader(client).previousRun(workflowId),
    };
    const workerReady = Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: workflowBundle(),
      activities,
    });
    const auth = { authorization: `Bearer ${API_TOKEN}` };
    const api = (path: string, init: RequestInit = {}) =>
      app.request(path, {
        ...init,
        headers: { ...auth, 'content-type': 'application/json', ...(init.headers as Record<string, string>) },
      });
    const userSays = (msisdn: string, payload: Record<string, unknown>) => {
      const { body, headers } = signedRbmRequest(RBM_TOKEN, {
        senderPhoneNumber: msisdn,
        agentId: AGENT,
        sendTime: new Date().toISOString(),
        ...payload,
      });
      return app.request('/webhooks/rbm', { method: 'POST', body, headers });
    };
    return { conversations, api, userSays, rec, workerReady, app };
  }

  test('state, list by search attribute, assign, typing and exactly one READ per message', async () => {
    const { api, userSays, rec, workerReady, app, conversations } = stack();
    const worker = await workerReady;
    const msisdn = `+1415555${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;
    const key = encodeURIComponent(`rbm:${AGENT}:${msisdn}`);
    const messageId = `img-${randomUUID()}`;
    await worker.runUntil(async () => {
      const res = await userSays(msisdn, {
        messageId,
        userFile: {
          payload: {
            mimeType: 'image/jpeg',
            fileSizeBytes: 1024,
            fileName: 'receipt.jpg',
            fileUri: 'https://example.test/f.jpg',
          },
        },
      });
      expect(res.status).toBe(200);

      const waiting = await pollUntil({
        what: 'the conversation waiting for an agent',
        read: async () => (await (await api(`/v1/conversations/${key}`)).json()) as ConversationView,
        done: (st) => st.status === 'waiting_for_agent',
        timeoutMs: 10_000,
      });
      expect(waiting.unreadByAgent).toEqual([messageId]);
      const queue = waiting.assignment.kind === 'queue' ? waiting.assignment.queue : undefined;
      expect(queue).toBeDefined();

      // Visibility: the conversation is found by its search attributes, as the Temporal UI filter does.
      const listed = await pollUntil({
        what: "the conversation in the queue's list",
        read: async () =>
          (await (await api(`/v1/conversations?queue=${queue}&channel=rbm&status=waiting_for_agent`)).json()) as {
            conversations: { workflowId: string }[];
          },
        done: (body) => body.conversations.length > 0,
        timeoutMs: 10_000,
      });
      expect(listed.conversations.map((c) => c.workflowId)).toContain(
        conversations.workflowId(`rbm:${AGENT}:${msisdn}`),
      );
      expect(JSON.stringify(listed)).not.toContain(msisdn);

      const assigned = await api(`/v1/conversations/${key}/assign`, {
        method: 'POST',
        body: JSON.stringify({ to: 'human', agentId: 'dana', displayName: 'Dana' }),
      });
      expect(assigned.status).toBe(200);
      expect(await assigned.json()).toEqual({
        assignedTo: expect.objectContaining({ kind: 'human', agentId: 'dana' }),
      });

      expect(
        (
          await api(`/v1/conversations/${key}/typing`, {
            method: 'POST',
            body: JSON.stringify({ agentId: 'dana', typing: true }),
          })
        ).status,
      ).toBe(200);
      expect(
        (
          await api(`/v1/conversations/${key}/typing`, {
            method: 'POST',
            body: JSON.stringify({ agentId: 'dana', typing: false }),
          })
        ).status,
      ).toBe(200);

      const firstRead = await api(`/v1/conversations/${key}/read`, {
        method: 'POST',
        body: JSON.stringify({ agentId: 'dana' }),
      });
      expect(await firstRead.json()).toEqual({ marked: [messageId] });
      const secondRead = await api(`/v1/conversations/${key}/read`, {
        method: 'POST',
        body: JSON.stringify({ agentId: 'dana', messageIds: [messageId] }),
      });
      expect(await secondRead.json()).toEqual({ marked: [] });

      const unknownMessage = await api(`/v1/conversations/${key}/read`, {
        method: 'POST',
        body: JSON.stringify({ agentId: 'dana', messageIds: ['nope'] }),
      });
      expect(unknownMessage.status).toBe(422);
      expect(
        (await api(`/v1/conversations/${key}/assign`, { method: 'POST', body: JSON.stringify({ to: 'robot' }) }))
          .status,
      ).toBe(400);
      expect((await app.request(`/v1/conversations/${key}`)).status).toBe(401);
      expect((await api(`/v1/conversations/${encodeURIComponent('rbm:x@rbm.goog:+19995550000')}`)).status).toBe(404);
      expect((await api(`/v1/conversations/not-a-key`)).status).toBe(400);
    });
    expect(rec.callsTo('sendReadReceipt')).toEqual([expect.objectContaining({ messageId })]);
  });

  // The idle timer itself is tested on the time-skipping server (slice.test.ts); here a 1 s idle
  // period only lets the first run go dormant (continue as new, carrying its memory).
  test('an idle conversation goes dormant; a new message reopens it with its memory, and an old redelivery stays out', async () => {
    const { conversations, userSays, workerReady } = stack({ idleTimeout: '1 second' });
    const worker = await workerReady;
    const msisdn = `+1415556${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;
    const key = `rbm:${AGENT}:${msisdn}`;
    await worker.runUntil(async () => {
      expect((await userSays(msisdn, { messageId: 'first-visit', text: 'When are you open?' })).status).toBe(200);
      const firstRun = client.workflow.getHandle(conversations.workflowId(key));
      const { runId } = await firstRun.describe();
      await pollUntil({
        what: 'the run to continue as new',
        read: () => client.workflow.getHandle(conversations.workflowId(key), runId).describe(),
        done: (d) => d.status.name === 'CONTINUED_AS_NEW',
        timeoutMs: 20_000,
      });

      expect((await userSays(msisdn, { messageId: 'second-visit', text: 'Do you deliver?' })).status).toBe(200);
      const reopened = await pollUntil({
        what: 'two answers in the reopened conversation',
        read: () => conversations.getState(key),
        done: (st) => (st?.history.filter((h) => h.direction === 'outbound').length ?? 0) >= 2,
        timeoutMs: 10_000,
      });
      expect(reopened?.generation).toBe(1);
      expect(reopened?.history.filter((h) => h.direction === 'inbound').map((h) => h.messageId)).toEqual([
        'first-visit',
        'second-visit',
      ]);

      expect((await userSays(msisdn, { messageId: 'first-visit', text: 'When are you open?' })).status).toBe(200);
      const after = await conversations.getState(key);
      expect(after?.history.filter((h) => h.messageId === 'first-visit')).toHaveLength(1);
      const { runId: currentRun } = await client.workflow.getHandle(conversations.workflowId(key)).describe();
      expect(currentRun).not.toBe(runId);

      // The full transcript spans both runs, read back from Temporal's histories.
      const transcript = await conversations.transcript(key);
      expect(transcript.filter((e) => e.direction === 'inbound').map((e) => e.messageId)).toEqual([
        'first-visit',
        'second-visit',
      ]);
      expect(transcript.filter((e) => e.direction === 'outbound')).toHaveLength(2);
      expect(new Set(transcript.map((e) => e.runId)).size).toBe(2);
    });
  });
});
