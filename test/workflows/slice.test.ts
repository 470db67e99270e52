import { randomUUID } from 'node:crypto';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { type InboundEvent } from '../../src/domain/inbound';
import { conversationWorkflow } from '../../src/workflows';
import { conversationStateQuery, inboundEventsSignal } from '../../src/workflows/definitions';
import { recordingActivities } from '../helpers/recording-activities';
import { exampleRouting } from '../helpers/routing';
import { createTimeSkippingEnv, uniqueTaskQueue, workflowBundle } from '../helpers/temporal';

const KEY = 'rbm:agent@rbm.goog:+14155550100';

function textEvent(messageId: string, text: string): InboundEvent {
  return { type: 'message', channel: 'rbm', conversationKey: KEY, dedupeKey: messageId, messageId, content: { kind: 'text', text }, receivedAt: new Date().toISOString() };
}

describe('conversation workflow on the time-skipping server', () => {
  let env: TestWorkflowEnvironment;

  beforeAll(async () => {
    env = await createTimeSkippingEnv();
  });
  afterAll(async () => {
    await env?.teardown();
  });

  test('stays open through 7 quiet simulated days, then closes, in seconds of wall time', async () => {
    const taskQueue = uniqueTaskQueue();
    const { activities, callsTo } = recordingActivities();
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: workflowBundle(), activities });
    const started = Date.now();
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.signalWithStart(conversationWorkflow, {
        workflowId: `conv-${randomUUID()}`,
        taskQueue,
        args: [{ key: KEY, routing: exampleRouting(), settings: { idleTimeout: '7 days' } }],
        signal: inboundEventsSignal,
        signalArgs: [[textEvent('m1', 'what are your opening hours?')]],
      });
      const serverStart = await env.currentTimeMs();
      await handle.result();
      const simulated = (await env.currentTimeMs()) - serverStart;
      expect(simulated).toBeGreaterThanOrEqual(7 * 24 * 3600 * 1000);
      const state = await handle.query(conversationStateQuery);
      expect(state.status).toBe('closed');
      expect(state.history.map((h) => h.direction)).toEqual(['inbound', 'outbound']);
      expect(state.history[1]?.summary).toMatch(/open/i);
    });
    expect(callsTo('sendReadReceipt')).toEqual([expect.objectContaining({ messageId: 'm1' })]);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  test('three redeliveries of one message: one history entry, one READ receipt', async () => {
    const taskQueue = uniqueTaskQueue();
    const { activities, callsTo } = recordingActivities();
    const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: workflowBundle(), activities });
    await worker.runUntil(async () => {
      const handle = await env.client.workflow.start(conversationWorkflow, { workflowId: `conv-${randomUUID()}`, taskQueue, args: [{ key: KEY, routing: exampleRouting(), settings: { idleTimeout: '1 hour' } }] });
      for (let i = 0; i < 3; i++) await handle.signal(inboundEventsSignal, [textEvent('m-dup', 'do you deliver?')]);
      await handle.result();
      const state = await handle.query(conversationStateQuery);
      expect(state.history.filter((h) => h.direction === 'inbound')).toHaveLength(1);
      expect(state.events).toHaveLength(1);
    });
    expect(callsTo('sendReadReceipt')).toEqual([expect.objectContaining({ messageId: 'm-dup' })]);
  });
});
