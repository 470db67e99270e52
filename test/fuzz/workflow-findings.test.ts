/**
 * Defects the workflow fuzzer found after issue 11's fixes (test/fuzz/findings/), each as a named
 * scenario on the time-skipping server that failed before its fix (patch
 * `in-flight-before-continue-as-new`, src/workflows/patches.ts). Activities are the recording
 * ones, with a gate where a test needs one to stay in flight.
 */
import { randomUUID } from 'node:crypto';

import { type WorkflowHandle, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';

import { pollUntil } from '../../dev/poll';
import { conversationWorkflow } from '../../src/workflows';
import {
  agentTypingUpdate,
  assignUpdate,
  type ConversationInput,
  conversationStateQuery,
  type ConversationView,
  inboundEventsSignal,
} from '../../src/workflows/definitions';
import { gate } from '../helpers/gate';
import { recordingActivities } from '../helpers/recording-activities';
import { timeSkippingServer } from '../helpers/time-skipping';
import { BM_KEY, liveAgentRequest } from '../workflows/conversation-fixtures';

type Handle = WorkflowHandle<typeof conversationWorkflow>;
type Started = WorkflowHandleWithFirstExecutionRunId<typeof conversationWorkflow>;
type Recording = ReturnType<typeof recordingActivities>;
type HistoryEvents = NonNullable<Awaited<ReturnType<Handle['fetchHistory']>>['events']>;

/** Typing events of the user: each is one signal in history, so they push a run over its continue-as-new threshold. */
function typingEvents(n: number) {
  return Array.from({ length: n }, () => ({
    type: 'typing' as const,
    channel: 'bm' as const,
    conversationKey: BM_KEY,
    dedupeKey: `typ-${randomUUID()}`,
    isTyping: false,
    receivedAt: new Date().toISOString(),
  }));
}

/** Activities a run scheduled that have no completion, failure, timeout or cancellation in its history. */
function openActivities(events: HistoryEvents): string[] {
  const open = new Map<string, string>();
  for (const e of events) {
    if (e.activityTaskScheduledEventAttributes)
      open.set(String(e.eventId), e.activityTaskScheduledEventAttributes.activityType?.name ?? '?');
    const done =
      e.activityTaskCompletedEventAttributes ??
      e.activityTaskFailedEventAttributes ??
      e.activityTaskTimedOutEventAttributes ??
      e.activityTaskCanceledEventAttributes;
    if (done) open.delete(String(done.scheduledEventId));
  }
  return [...open.values()];
}

describe('workflow fuzzer findings', () => {
  // A server per test (a run closed with an activity in flight stops its clock for good).
  const server = timeSkippingServer('test');

  async function conversation(
    rec: Recording,
    input: ConversationInput,
    body: (handle: Started, state: () => Promise<ConversationView>) => Promise<void>,
  ): Promise<void> {
    const workflowId = `conv-findings-${randomUUID()}`;
    const { worker, taskQueue } = await server.worker({ taskQueuePrefix: 'findings', activities: rec.activities });
    await worker.runUntil(async () => {
      const handle = await server.env.client.workflow.start(conversationWorkflow, {
        workflowId,
        taskQueue,
        args: [input],
      });
      const latest = () => server.env.client.workflow.getHandle(workflowId) as Handle;
      try {
        await body(handle, () => latest().query(conversationStateQuery));
      } finally {
        for (let attempt = 0; attempt < 20; attempt++) {
          const d = await latest()
            .describe()
            .catch(() => undefined);
          if (d?.status.name !== 'RUNNING') break;
          await latest()
            .terminate('test finished')
            .catch(() => undefined);
        }
      }
    });
  }

  /** The first run's history once it has continued as new. */
  async function firstRunClosed(handle: Started): Promise<HistoryEvents> {
    const first = server.env.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId);
    await pollUntil({
      what: 'the first run to continue as new',
      read: async () => (await first.describe()).status.name,
      done: (s) => s !== 'RUNNING',
      timeoutMs: 20_000,
    });
    return (await first.fetchHistory()).events ?? [];
  }

  // findings/can-in-flight-crash.json: one in a few replays stopped the test server's clock.
  test('continue-as-new waits for a typing indicator in flight, and the keep-alive goes on in the next run', async () => {
    const typingGate = gate();
    const rec = recordingActivities({
      channels: {
        sendTyping: async (args) => void (rec.calls.push({ activity: 'sendTyping', args }), await typingGate.pass()),
      },
    });
    await conversation(
      rec,
      { key: BM_KEY, settings: { continueAsNewAfterEvents: 20, typingKeepAlive: '15 seconds', idleTimeout: '1 day' } },
      async (handle) => {
        await handle.executeUpdate(agentTypingUpdate, { args: [{ agentId: 'alice', typing: true }] });
        await pollUntil({
          what: 'the first IS_TYPING to be in flight',
          read: async () => typingGate.entered,
          done: (n) => n >= 1,
          timeoutMs: 20_000,
        });
        await handle.signal(inboundEventsSignal, typingEvents(25));
        await pollUntil({
          what: 'the history to pass the threshold',
          read: async () => (await handle.describe()).historyLength,
          done: (n) => n > 20,
          timeoutMs: 20_000,
        });
        expect((await handle.describe()).status.name).toBe('RUNNING');
        typingGate.open();
        const events = await firstRunClosed(handle);
        expect(events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes).toBeTruthy();
        expect(openActivities(events)).toEqual([]);
        // The desk never said typing=false: the next run keeps the indicator alive.
        const before = rec.callsTo('sendTyping').length;
        await server.env.sleep('40 seconds');
        expect(rec.callsTo('sendTyping').length).toBeGreaterThan(before);
      },
    );
  });

  test("an expired SLA's holding message and desk escalation finish before continue-as-new", async () => {
    const sendGate = gate();
    const rec = recordingActivities({
      channels: {
        sendMessage: async (args) => (
          rec.calls.push({ activity: 'sendMessage', args }),
          await sendGate.pass(),
          { sentAt: new Date().toISOString() }
        ),
      },
    });
    await conversation(
      rec,
      { key: BM_KEY, settings: { continueAsNewAfterEvents: 30, handoffSla: '2 minutes', idleTimeout: '1 day' } },
      async (handle, state) => {
        await handle.signal(inboundEventsSignal, [liveAgentRequest(BM_KEY)]);
        await pollUntil({
          what: 'the handoff',
          read: state,
          done: (s) => s.status === 'waiting_for_agent',
          timeoutMs: 20_000,
        });
        await server.env.sleep('121 seconds');
        await pollUntil({
          what: 'the holding message to be in flight',
          read: async () => sendGate.entered,
          done: (n) => n >= 1,
          timeoutMs: 20_000,
        });
        await handle.signal(inboundEventsSignal, typingEvents(35));
        await pollUntil({
          what: 'the history to pass the threshold',
          read: async () => (await handle.describe()).historyLength,
          done: (n) => n > 30,
          timeoutMs: 20_000,
        });
        sendGate.open();
        const events = await firstRunClosed(handle);
        expect(openActivities(events)).toEqual([]);
        const reasons = (rec.callsTo('notifyHandoff') as { reason: string }[]).map((c) => c.reason);
        expect(reasons).toEqual(['user_request', 'sla_expired']);
        expect(sendGate.entered).toBe(1);
        // A human joining later cancels nothing that is still running.
        await handle.executeUpdate(assignUpdate, { args: [{ to: 'human', agentId: 'alice', displayName: 'Alice' }] });
      },
    );
  });
});
