import { randomUUID } from 'node:crypto';

import { Client } from '@temporalio/client';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';

import { pollUntil } from '../../dev/poll';
import { createApp } from '../../src/api/app';
import { loadConfig } from '../../src/config';
import { silentLogger } from '../../src/logger';
import { ConversationsClient } from '../../src/temporal-client/conversations';
import { recordingActivities } from '../helpers/recording-activities';
import { exampleRouting } from '../helpers/routing';
import { signedRbmRequest } from '../helpers/signing';
import { createDevServerEnv, devServerAddress, uniqueTaskQueue, workflowBundle } from '../helpers/temporal';

const TOKEN = 'e2e-client-token';

describe('end to end on the dev server: HTTP → signalWithStart → workflow → activity → query', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await createDevServerEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  test('a signed RBM text message is accepted, marked READ and visible in the state query', async () => {
    const taskQueue = uniqueTaskQueue('e2e');
    const config = loadConfig({
      TEMPORAL_ADDRESS: devServerAddress(),
      TEMPORAL_TASK_QUEUE: taskQueue,
      RBM_CLIENT_TOKEN: TOKEN,
    });
    const conversations = new ConversationsClient({
      client: new Client({ connection: env.connection, namespace: 'default' }),
      taskQueue,
      timeoutMs: 5000,
      workflowIds: { revealPhoneNumbers: false, secret: randomUUID() },
      startInput: { routing: exampleRouting() },
    });
    const app = createApp({ config, conversations, logger: silentLogger });
    const read: string[] = [];
    let markedRead!: () => void;
    const firstReceipt = new Promise<void>((resolve) => (markedRead = resolve));
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: workflowBundle(),
      activities: recordingActivities({
        channels: {
          sendReadReceipt: async ({ messageId }) => {
            read.push(messageId);
            markedRead();
          },
        },
      }).activities,
    });

    const msisdn = '+14155550123';
    const messageId = `msg-${randomUUID()}`;
    const { body, headers } = signedRbmRequest(TOKEN, {
      senderPhoneNumber: msisdn,
      agentId: 'e2e@rbm.goog',
      messageId,
      text: 'When are you open?',
      sendTime: new Date().toISOString(),
    });

    await worker.runUntil(async () => {
      const res = await app.request('/webhooks/rbm', { method: 'POST', body, headers });
      expect(res.status).toBe(200);
      const key = `rbm:e2e@rbm.goog:${msisdn}`;
      expect(conversations.workflowId(key)).not.toContain(msisdn);
      await firstReceipt;
      // The receipt counts as sent once its activity (with the answer, since issue 14) completed.
      const state = await pollUntil({
        what: 'the answer and the read receipt',
        read: () => conversations.getState(key),
        done: (st) => (st?.history.length ?? 0) >= 2 && (st?.readReceiptsSent.length ?? 0) >= 1,
        timeoutMs: 10_000,
      });
      expect(state?.history).toEqual([
        expect.objectContaining({ direction: 'inbound', messageId, kind: 'text', summary: 'When are you open?' }),
        expect.objectContaining({ direction: 'outbound' }),
      ]);
      expect(state?.readReceiptsSent).toEqual([messageId]);
    });
    expect(read).toEqual([messageId]);
  });
});
