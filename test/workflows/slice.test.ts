import { randomUUID } from 'node:crypto';

import { pollUntil } from '../../dev/poll';
import { type InboundEvent } from '../../src/domain/inbound';
import { ConversationsClient } from '../../src/temporal-client/conversations';
import { conversationWorkflow } from '../../src/workflows';
import { conversationStateQuery, inboundEventsSignal, searchAttributes } from '../../src/workflows/definitions';
import { recordingActivities } from '../helpers/recording-activities';
import { exampleRouting } from '../helpers/routing';
import { timeSkippingServer } from '../helpers/time-skipping';

const KEY = 'rbm:agent@rbm.goog:+14155550100';

function textEvent(messageId: string, text: string): InboundEvent {
  return {
    type: 'message',
    channel: 'rbm',
    conversationKey: KEY,
    dedupeKey: messageId,
    messageId,
    content: { kind: 'text', text },
    receivedAt: new Date().toISOString(),
  };
}

describe('conversation workflow on the time-skipping server', () => {
  const server = timeSkippingServer('file');

  test('stays open through 7 quiet simulated days, then goes dormant (continues as new, status closed), in seconds of wall time', async () => {
    const { activities, callsTo } = recordingActivities();
    const { worker, taskQueue } = await server.worker({ activities });
    const started = Date.now();
    await worker.runUntil(async () => {
      const handle = await server.env.client.workflow.signalWithStart(conversationWorkflow, {
        workflowId: `conv-${randomUUID()}`,
        taskQueue,
        args: [{ key: KEY, routing: exampleRouting(), settings: { idleTimeout: '7 days' } }],
        signal: inboundEventsSignal,
        signalArgs: [[textEvent('m1', 'what are your opening hours?')]],
      });
      const latest = server.env.client.workflow.getHandle(handle.workflowId);
      await pollUntil({
        what: 'the first exchange in the history',
        read: () => latest.query(conversationStateQuery),
        done: (s) => s.history.length >= 2,
        timeoutMs: 10_000,
      });
      await server.env.sleep('6 days');
      expect((await latest.describe()).runId).toBe(handle.signaledRunId);
      await server.env.sleep('1 day');
      const dormant = await pollUntil({
        what: 'the run to continue as new',
        read: () => latest.describe(),
        done: (d) => d.runId !== handle.signaledRunId,
        timeoutMs: 10_000,
      });
      expect(dormant.runId).not.toBe(handle.signaledRunId);
      expect(
        (await server.env.client.workflow.getHandle(handle.workflowId, handle.signaledRunId).describe()).status.name,
      ).toBe('CONTINUED_AS_NEW');
      const state = await pollUntil({
        what: 'the dormant run',
        read: () => latest.query(conversationStateQuery),
        done: (s) => s.dormant === true,
        timeoutMs: 10_000,
      });
      expect(state.status).toBe('closed');
      expect(state.history.map((h) => h.direction)).toEqual(['inbound', 'outbound']);
      expect(state.history[1]?.summary).toMatch(/open/i);
      await latest.terminate('test finished');
    });
    expect(callsTo('sendReadReceipt')).toEqual([expect.objectContaining({ messageId: 'm1' })]);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  test('three redeliveries of one message: one history entry, one READ receipt', async () => {
    const { activities, callsTo } = recordingActivities();
    const { worker, taskQueue } = await server.worker({ activities });
    await worker.runUntil(async () => {
      const handle = await server.env.client.workflow.start(conversationWorkflow, {
        workflowId: `conv-${randomUUID()}`,
        taskQueue,
        args: [{ key: KEY, routing: exampleRouting(), settings: { idleTimeout: '1 hour' } }],
      });
      for (let i = 0; i < 3; i++) await handle.signal(inboundEventsSignal, [textEvent('m-dup', 'do you deliver?')]);
      await handle.signal(inboundEventsSignal, [textEvent('m-next', 'thanks')]);
      const state = await pollUntil({
        what: 'the routing decision of m-next',
        read: () => handle.query(conversationStateQuery),
        done: (s) => s.routingDecisions.some((d) => d.messageId === 'm-next'),
        timeoutMs: 10_000,
      });
      expect(state.history.filter((h) => h.messageId === 'm-dup')).toHaveLength(1);
      expect(state.events).toHaveLength(2);
      await handle.terminate('test finished');
    });
    expect(callsTo('sendReadReceipt')).toEqual([
      expect.objectContaining({ messageId: 'm-dup' }),
      expect.objectContaining({ messageId: 'm-next' }),
    ]);
  });

  test("automation's answer and the question's READ receipt are one activity; a receipt that fails in it goes out on its own", async () => {
    let refused = false;
    const { activities, calls } = recordingActivities({
      channels: {
        sendReadReceipt: async (args) => {
          if (args.messageId === 'q2' && !refused) {
            refused = true;
            throw new Error('agentEvents answered 503');
          }
          calls.push({ activity: 'sendReadReceipt', args });
        },
      },
    });
    const { worker, taskQueue } = await server.worker({ activities });
    await worker.runUntil(async () => {
      const handle = await server.env.client.workflow.start(conversationWorkflow, {
        workflowId: `conv-${randomUUID()}`,
        taskQueue,
        args: [{ key: KEY, routing: exampleRouting(), settings: { idleTimeout: '1 hour' } }],
      });
      await handle.signal(inboundEventsSignal, [textEvent('q1', 'what are your opening hours?')]);
      await pollUntil({
        what: 'the read receipt and answer of q1',
        read: () => handle.query(conversationStateQuery),
        done: (s) => s.readReceiptsSent.includes('q1') && s.history.length >= 2,
        timeoutMs: 10_000,
      });
      await handle.signal(inboundEventsSignal, [textEvent('q2', 'what are your opening hours?')]);
      const state = await pollUntil({
        what: 'the read receipt and answer of q2',
        read: () => handle.query(conversationStateQuery),
        done: (s) => s.readReceiptsSent.includes('q2') && s.history.length >= 4,
        timeoutMs: 10_000,
      });
      expect(state.activityFailures).toEqual([]);
      const history = await handle.fetchHistory();
      const scheduled = (history.events ?? []).flatMap((e) =>
        e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType?.name] : [],
      );
      expect(scheduled).toEqual(['replyWithReadReceipt', 'replyWithReadReceipt', 'sendReadReceipt']);
      await handle.terminate('test finished');
    });
    // What reached the platform: each receipt once, q2's after its answer.
    expect(
      calls.map((c) =>
        c.activity === 'sendReadReceipt' ? `read ${(c.args as { messageId: string }).messageId}` : c.activity,
      ),
    ).toEqual(['read q1', 'sendMessage', 'sendMessage', 'read q2']);
  });

  test("a new conversation's locale comes with its start: routing decides the same, so the run upserts no locale", async () => {
    const { activities } = recordingActivities();
    const { worker, taskQueue } = await server.worker({ activities });
    const routing = exampleRouting();
    const gateway = new ConversationsClient({
      client: server.env.client,
      taskQueue,
      timeoutMs: 10_000,
      workflowIds: { revealPhoneNumbers: false, secret: 'slice' },
      startInput: { routing, settings: { idleTimeout: '1 hour' } },
      routing,
    });
    const frenchKey = 'rbm:agent@rbm.goog:+33612345678';
    const typing: InboundEvent = {
      type: 'typing',
      channel: 'rbm',
      conversationKey: frenchKey,
      dedupeKey: 't1',
      isTyping: true,
      receivedAt: new Date().toISOString(),
    };
    const options = gateway.deliveryOptions(frenchKey, [typing]);
    expect(options.typedSearchAttributes).toContainEqual({ key: searchAttributes.locale, value: 'fr' });
    await worker.runUntil(async () => {
      const handle = await server.env.client.workflow.signalWithStart(conversationWorkflow, options);
      await handle.signal(inboundEventsSignal, [
        { ...textEvent('fr-1', 'quels sont vos horaires ?'), conversationKey: frenchKey },
      ]);
      const state = await pollUntil({
        what: 'the greeting and the answer in the history',
        read: () => handle.query(conversationStateQuery),
        done: (s) => s.history.length >= 2,
        timeoutMs: 10_000,
      });
      expect(state.locale).toBe('fr');
      const history = await handle.fetchHistory();
      const upserted = (history.events ?? []).flatMap((e) =>
        Object.keys(e.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {}),
      );
      expect(upserted).not.toContain(searchAttributes.locale.name);
      expect((await handle.describe()).typedSearchAttributes.get(searchAttributes.locale)).toBe('fr');
      await handle.terminate('test finished');
    });
  });
});
