/**
 * Issue 11: the conversation workflow's correctness in interleavings the scenario tests never
 * reached. One `describe` per item of the issue, on the time-skipping server; each was seen to fail
 * on the code before the fix. Activities are the recording ones, with gates where a test needs an
 * activity to stay in flight while something else happens.
 */
import { randomUUID } from 'node:crypto';

import { type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

import { pollUntil } from '../../dev/poll';
import { FailureType } from '../../src/domain/errors';
import { type InboundEvent } from '../../src/domain/inbound';
import { conversationWorkflow } from '../../src/workflows';
import {
  agentTypingUpdate,
  assignUpdate,
  type ConversationInput,
  conversationStateQuery,
  type ConversationView,
  inboundEventsSignal,
  markReadUpdate,
  outboundMessagesQuery,
  searchAttributes,
  sendMessageUpdate,
  sendMessageUpdateId,
  userTypingAsOf,
} from '../../src/workflows/definitions';
import { type OutboundSendInput } from '../../src/workflows/outbound/types';
import { gate } from '../helpers/gate';
import { recordingActivities } from '../helpers/recording-activities';
import { exampleRouting } from '../helpers/routing';
import { timeSkippingServer } from '../helpers/time-skipping';
import { BM_KEY, liveAgentRequest, RBM_KEY, userMessage } from './conversation-fixtures';
import { receipt } from './outbound-helpers';

type Handle = WorkflowHandle<typeof conversationWorkflow>;
type Recording = ReturnType<typeof recordingActivities>;

/** Gates of the running test: opened when it ends, so a failed test never leaves a worker waiting on an activity. */
const openGates: (() => void)[] = [];

function typingEvent(key: string, isTyping: boolean, dedupeKey = `typ-${randomUUID()}`): InboundEvent {
  return {
    type: 'typing',
    channel: key.startsWith('bm:') ? 'bm' : 'rbm',
    conversationKey: key,
    dedupeKey,
    isTyping,
    receivedAt: new Date().toISOString(),
  };
}

describe('issue 11: conversation workflow correctness', () => {
  // A server per test: these tests terminate runs with work in flight, and under load a shared
  // server's lock timed out the tests that skip days.
  const server = timeSkippingServer('test');

  interface Ctx {
    handle: Handle;
    firstRunId: string;
    workflowId: string;
    /** The current run of the conversation (follows continue-as-new). */
    latest: () => Handle;
    state: () => Promise<ConversationView>;
    /** Waits until the chain has settled (same run, same history length on two reads): queries can race a continue-as-new. */
    settled: () => Promise<void>;
    signalWithStart: (events: InboundEvent[]) => Promise<void>;
  }

  /** One conversation on its own worker and task queue; terminated afterwards so time keeps skipping for the next test. */
  async function conversation(
    rec: Recording,
    input: ConversationInput,
    body: (ctx: Ctx) => Promise<void>,
    start: 'start' | InboundEvent[] = 'start',
  ): Promise<void> {
    const workflowId = `conv-issue11-${randomUUID()}`;
    const { worker, taskQueue } = await server.worker({ taskQueuePrefix: 'issue11', activities: rec.activities });
    await worker.runUntil(async () => {
      const handle =
        start === 'start'
          ? await server.env.client.workflow.start(conversationWorkflow, { workflowId, taskQueue, args: [input] })
          : await server.env.client.workflow.signalWithStart(conversationWorkflow, {
              workflowId,
              taskQueue,
              args: [input],
              signal: inboundEventsSignal,
              signalArgs: [start],
            });
      const latest = () => server.env.client.workflow.getHandle(workflowId) as Handle;
      const ctx: Ctx = {
        handle,
        firstRunId: 'firstExecutionRunId' in handle ? handle.firstExecutionRunId : handle.signaledRunId,
        workflowId,
        latest,
        state: () => latest().query(conversationStateQuery),
        settled: async () => {
          for (;;) {
            const a = await latest().describe();
            await new Promise((r) => setTimeout(r, 300));
            const b = await latest().describe();
            if (a.runId === b.runId && a.historyLength === b.historyLength) return;
          }
        },
        signalWithStart: async (events) => {
          await server.env.client.workflow.signalWithStart(conversationWorkflow, {
            workflowId,
            taskQueue,
            args: [input],
            signal: inboundEventsSignal,
            signalArgs: [events],
          });
        },
      };
      try {
        await body(ctx);
      } finally {
        for (const open of openGates.splice(0)) open();
        // A run left open (e.g. one the chain continued into while we terminated its predecessor)
        // would hold a workflow task nobody polls any more, and the test server stops skipping time.
        for (let attempt = 0; attempt < 20; attempt++) {
          const description = await latest()
            .describe()
            .catch(() => undefined);
          if (description?.status.name !== 'RUNNING') break;
          await latest()
            .terminate('test finished')
            .catch(() => undefined);
        }
      }
    });
  }

  /** Every run of the chain (followed through continue-as-new): none FAILED, none with a failed workflow task. */
  async function runStatus(workflowId: string, runId: string): Promise<string> {
    return (await server.env.client.workflow.getHandle(workflowId, runId).describe()).status.name;
  }
  async function runEvents(
    workflowId: string,
    runId: string,
  ): Promise<NonNullable<Awaited<ReturnType<Handle['fetchHistory']>>['events']>> {
    return (await server.env.client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
  }
  async function expectHealthy(ctx: Ctx): Promise<void> {
    const problems: string[] = [];
    let runId: string | undefined = ctx.firstRunId;
    for (let runs = 0; runId !== undefined && runs < 100; runs++) {
      const status = await runStatus(ctx.workflowId, runId);
      if (status === 'FAILED' || status === 'TIMED_OUT') problems.push(`${runId}: ${status}`);
      const events = await runEvents(ctx.workflowId, runId);
      for (const event of events) {
        const failed = event.workflowTaskFailedEventAttributes;
        // UNHANDLED_COMMAND is Temporal refusing a completion because new events arrived meanwhile: by design, the task is retried with them.
        if (
          failed &&
          failed.cause !== temporal.api.enums.v1.WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND
        )
          problems.push(
            `${runId}: workflow task failed (cause ${String(failed.cause)}): ${failed.failure?.message ?? ''}`,
          );
      }
      runId = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    }
    expect(problems).toEqual([]);
  }

  function send(handle: Handle, input: Omit<OutboundSendInput, 'conversationKey'> & { conversationKey?: string }) {
    const full: OutboundSendInput = { conversationKey: RBM_KEY, ...input };
    return handle.executeUpdate(sendMessageUpdate, {
      args: [full],
      updateId: full.idempotencyKey !== undefined ? sendMessageUpdateId(full.idempotencyKey) : randomUUID(),
    });
  }

  describe('issue 11 #1: continue-as-new while an outbound send is in flight', () => {
    test('the run waits for the send without spinning, then continues as new; the send happens once', async () => {
      const sendGate = gate(openGates);
      const rec = recordingActivities({
        channels: { sendMessage: async () => (await sendGate.pass(), { sentAt: new Date().toISOString() }) },
      });
      await conversation(
        rec,
        { key: BM_KEY, settings: { continueAsNewAfterEvents: 15, idleTimeout: '1 day' } },
        async (ctx) => {
          const sent = send(ctx.handle, {
            conversationKey: BM_KEY,
            content: { text: 'slow send' },
            idempotencyKey: 'slow-1',
          });
          await pollUntil({
            what: 'the send to be in flight',
            read: async () => sendGate.entered,
            done: (n) => n >= 1,
          });
          for (let i = 0; i < 10; i++)
            await ctx.handle.signal(inboundEventsSignal, [userMessage(BM_KEY, `message ${i}`)]);
          // The history is over the threshold now, with the send still in flight for a while.
          await pollUntil({
            what: 'the history to pass the threshold',
            read: async () => (await ctx.handle.describe()).historyLength,
            done: (n) => n > 15,
          });
          await new Promise((r) => setTimeout(r, 1000));
          sendGate.open();
          expect((await sent).status).toBe('SENT');
          await pollUntil({
            what: 'continue-as-new',
            read: async () => (await ctx.latest().describe()).runId,
            done: (runId) => runId !== ctx.firstRunId,
          });
          await ctx.settled();
          const state = await ctx.state();
          expect(state.history.filter((h) => h.direction === 'inbound')).toHaveLength(10);
          expect(sendGate.entered).toBe(1);
          await expectHealthy(ctx);
        },
      );
    });
  });

  describe('issue 11 #2: an activity failure never fails the conversation', () => {
    test('a READ receipt refused for good (RBM 404) is recorded; the conversation answers and stays open', async () => {
      const rec = recordingActivities({
        channels: {
          sendReadReceipt: async () => {
            throw ApplicationFailure.nonRetryable('not RCS reachable', FailureType.NotRcsReachable);
          },
        },
      });
      await conversation(
        rec,
        { key: RBM_KEY, routing: exampleRouting(), settings: { idleTimeout: '1 day' } },
        async (ctx) => {
          await ctx.handle.signal(inboundEventsSignal, [
            userMessage(RBM_KEY, 'what are your opening hours?', { messageId: 'r404' }),
          ]);
          const state = (await pollUntil({
            what: 'the failure to be recorded',
            read: ctx.state,
            done: (s) => ((s as { activityFailures?: unknown[] }).activityFailures?.length ?? 0) >= 1,
          })) as ConversationView & { activityFailures: { kind: string }[] };
          expect(state.activityFailures[0]).toEqual(expect.objectContaining({ kind: 'read_receipt' }));
          expect(state.readReceiptsSent).not.toContain('r404');
          expect((await ctx.handle.describe()).status.name).toBe('RUNNING');
          expect(rec.callsTo('sendMessage')).toHaveLength(1);
          await expectHealthy(ctx);
        },
      );
    });

    test('the automation reply does not wait behind a READ receipt that is still retrying', async () => {
      const receiptGate = gate(openGates);
      const rec = recordingActivities({ channels: { sendReadReceipt: async () => receiptGate.pass() } });
      await conversation(
        rec,
        { key: RBM_KEY, routing: exampleRouting(), settings: { idleTimeout: '1 day' } },
        async (ctx) => {
          await ctx.handle.signal(inboundEventsSignal, [
            userMessage(RBM_KEY, 'what are your opening hours?', { messageId: 'slow-read' }),
          ]);
          await pollUntil({
            what: 'the receipt to be in flight',
            read: async () => receiptGate.entered,
            done: (n) => n >= 1,
          });
          await pollUntil({
            what: 'the reply while the receipt is in flight',
            read: async () => rec.callsTo('sendMessage').length,
            done: (n) => n >= 1,
          });
          receiptGate.open();
          await pollUntil({
            what: 'the receipt to be recorded',
            read: ctx.state,
            done: (s) => s.readReceiptsSent.includes('slow-read'),
          });
        },
      );
    });
  });

  describe('issue 11 #3: correctness never depends on visibility', () => {
    test('a fresh conversation does not fail when the previous-run lookup fails', async () => {
      const rec = recordingActivities({
        previousRuns: {
          previousRun: async () => {
            throw ApplicationFailure.nonRetryable('visibility rate-limited', 'ResourceExhausted');
          },
        },
      });
      await conversation(
        rec,
        { key: RBM_KEY, routing: exampleRouting(), settings: { idleTimeout: '1 day' } },
        async (ctx) => {
          await pollUntil({
            what: 'the answer',
            read: async () => rec.callsTo('sendMessage').length,
            done: (n) => n >= 1,
            timeoutMs: 30_000,
          });
          expect((await ctx.handle.describe()).status.name).toBe('RUNNING');
          await expectHealthy(ctx);
        },
        [userMessage(RBM_KEY, 'what are your opening hours?')],
      );
    });

    test('after an idle period, a redelivery, a retried POST and a new message find the memory even when visibility lags', async () => {
      // A lagging visibility store: the previous run is not found.
      const rec = recordingActivities({ previousRuns: { previousRun: async () => undefined } });
      const first = userMessage(RBM_KEY, 'what are your opening hours?', { messageId: 'idle-m1' });
      await conversation(
        rec,
        { key: RBM_KEY, routing: exampleRouting(), settings: { idleTimeout: '1 hour' } },
        async (ctx) => {
          await pollUntil({
            what: 'the first answer',
            read: async () => rec.callsTo('sendMessage').length,
            done: (n) => n >= 1,
          });
          await send(ctx.latest(), { content: { text: 'operator note' }, idempotencyKey: 'idle-post-1' });
          await server.env.sleep('2 hours');
          await ctx.signalWithStart([first]);
          await send(ctx.latest(), { content: { text: 'operator note' }, idempotencyKey: 'idle-post-1' });
          await ctx.signalWithStart([userMessage(RBM_KEY, 'do you deliver?', { messageId: 'idle-m2' })]);
          await pollUntil({
            what: 'the second answer',
            read: async () => rec.callsTo('sendMessage').length,
            done: (n) => n >= 3,
          });
          await ctx.settled();
          const state = await ctx.state();
          expect(state.history.filter((h) => h.messageId === 'idle-m1')).toHaveLength(1);
          expect(rec.callsTo('sendReadReceipt').map((a) => (a as { messageId: string }).messageId)).toEqual([
            'idle-m1',
            'idle-m2',
          ]);
          expect(
            rec
              .callsTo('sendMessage')
              .filter((a) => (a as { content: { text?: string } }).content.text === 'operator note'),
          ).toHaveLength(1);
          expect(rec.callsTo('sendMessage')).toHaveLength(3);
          await expectHealthy(ctx);
        },
        [first],
      );
    });
  });

  describe('issue 11 #4: assign during SLA send', () => {
    test('a human joining while the holding message is being sent: the assign answers, the message is sent once, no task fails', async () => {
      const sendGate = gate(openGates);
      const rec = recordingActivities({
        channels: { sendMessage: async () => (await sendGate.pass(), { sentAt: new Date().toISOString() }) },
      });
      await conversation(
        rec,
        { key: BM_KEY, settings: { handoffSla: '2 minutes', idleTimeout: '1 day' } },
        async (ctx) => {
          await ctx.handle.signal(inboundEventsSignal, [liveAgentRequest(BM_KEY)]);
          await pollUntil({ what: 'the handoff', read: ctx.state, done: (s) => s.status === 'waiting_for_agent' });
          // Just past the SLA: while the holding message's send is held, the test server's clock stands still.
          await server.env.sleep('121 seconds');
          await pollUntil({
            what: 'the holding message to be in flight',
            read: async () => sendGate.entered,
            done: (n) => n >= 1,
          });
          const assigned = ctx.handle.executeUpdate(assignUpdate, {
            args: [{ to: 'human', agentId: 'alice', displayName: 'Alice' }],
          });
          const answer = await Promise.race([assigned, new Promise((r) => setTimeout(() => r('no answer'), 10_000))]);
          expect(answer).toEqual({ assignedTo: expect.objectContaining({ kind: 'human', agentId: 'alice' }) });
          sendGate.open();
          const view = await pollUntil({
            what: 'the holding message to be sent',
            read: () => ctx.handle.query(outboundMessagesQuery),
            done: (v) => v.messages.length === 1 && v.messages[0]?.status === 'SENT',
          });
          expect(view.messages).toHaveLength(1);
          expect(sendGate.entered).toBe(1);
          await expectHealthy(ctx);
        },
      );
    });
  });

  describe('issue 11 #5: reopening keeps the assignment and the handoff', () => {
    test('a conversation queued for "general" is still queued after an idle period: desk notified again, SLA runs, queue attribute set', async () => {
      let firstRunId = '';
      let workflowId = '';
      const rec = recordingActivities({
        previousRuns: {
          previousRun: async () => server.env.client.workflow.getHandle(workflowId, firstRunId).result(),
        },
      });
      await conversation(
        rec,
        { key: RBM_KEY, routing: exampleRouting(), settings: { idleTimeout: '1 hour', handoffSla: '5 minutes' } },
        async (ctx) => {
          firstRunId = ctx.firstRunId;
          workflowId = ctx.workflowId;
          await pollUntil({ what: 'the handoff', read: ctx.state, done: (s) => s.status === 'waiting_for_agent' });
          await server.env.sleep('3 hours');
          await ctx.signalWithStart([userMessage(RBM_KEY, 'hello? anyone?', { messageId: 'reopen-2' })]);
          await pollUntil({
            what: 'the desk to hear of the reopened conversation',
            read: async () => rec.callsTo('notifyHandoff').length,
            done: (n) => n >= 2,
          });
          await ctx.settled();
          const state = await ctx.state();
          expect(state.assignment).toEqual({ kind: 'queue', queue: 'general' });
          expect(state.status).toBe('waiting_for_agent');
          expect(state.unreadByAgent).toContain('reopen-2');
          const description = await ctx.latest().describe();
          expect(description.typedSearchAttributes.get(searchAttributes.queue)).toBe('general');
          expect(description.typedSearchAttributes.get(searchAttributes.status)).toBe('waiting_for_agent');
          const holdingBefore = rec.callsTo('sendMessage').length;
          await server.env.sleep('6 minutes');
          await pollUntil({
            what: 'the SLA holding message after the reopen',
            read: async () => rec.callsTo('sendMessage').length,
            done: (n) => n > holdingBefore,
          });
        },
        [userMessage(RBM_KEY, 'I want to talk to a person', { messageId: 'reopen-1' })],
      );
    });
  });

  describe('issue 11 #6: nothing is lost while the workflow closes', () => {
    test('a message and a live-agent request arriving while the idle close waits for a handler are handled', async () => {
      const receiptGate = gate(openGates);
      const rec = recordingActivities({ channels: { sendReadReceipt: async () => receiptGate.pass() } });
      // While an activity is held the test server's clock runs in real time: short periods.
      await conversation(rec, { key: BM_KEY, settings: { idleTimeout: '3 seconds' } }, async (ctx) => {
        await ctx.handle.signal(inboundEventsSignal, [userMessage(BM_KEY, 'first', { messageId: 'close-m1' })]);
        await pollUntil({
          what: 'the first message',
          read: ctx.state,
          done: (s) => s.unreadByAgent.includes('close-m1'),
        });
        const marking = ctx.handle.executeUpdate(markReadUpdate, { args: [{ agentId: 'ann' }] });
        await pollUntil({
          what: 'the receipt to be in flight',
          read: async () => receiptGate.entered,
          done: (n) => n >= 1,
        });
        await server.env.sleep('5 seconds');
        await ctx.handle.signal(inboundEventsSignal, [userMessage(BM_KEY, 'still there?', { messageId: 'close-m2' })]);
        receiptGate.open();
        await marking.catch(() => undefined);
        await ctx.settled();
        await pollUntil({
          what: 'the message that arrived while closing to be routed',
          read: ctx.state,
          done: (s) => s.routingDecisions.some((d) => d.messageId === 'close-m2'),
        });
        await expectHealthy(ctx);
      });
    });

    test('a live-agent request arriving while the close waits is handled (desk notified)', async () => {
      const receiptGate = gate(openGates);
      const rec = recordingActivities({ channels: { sendReadReceipt: async () => receiptGate.pass() } });
      await conversation(
        rec,
        { key: BM_KEY, routing: exampleRouting(), settings: { idleTimeout: '3 seconds' } },
        async (ctx) => {
          await ctx.handle.executeUpdate(assignUpdate, { args: [{ to: 'human', agentId: 'ann' }] });
          await ctx.handle.signal(inboundEventsSignal, [userMessage(BM_KEY, 'hi', { messageId: 'close-l1' })]);
          await pollUntil({
            what: 'the message for the agent',
            read: ctx.state,
            done: (s) => s.unreadByAgent.includes('close-l1'),
          });
          await ctx.handle.executeUpdate(assignUpdate, { args: [{ to: 'automation' }] });
          const marking = ctx.handle.executeUpdate(markReadUpdate, {
            args: [{ agentId: 'ann', messageIds: ['close-l1'] }],
          });
          await pollUntil({
            what: 'the receipt to be in flight',
            read: async () => receiptGate.entered,
            done: (n) => n >= 1,
          });
          await server.env.sleep('5 seconds');
          await ctx.handle.signal(inboundEventsSignal, [liveAgentRequest(BM_KEY)]);
          receiptGate.open();
          await marking.catch(() => undefined);
          await pollUntil({
            what: 'the live-agent request to reach the desk',
            read: async () => rec.callsTo('notifyHandoff').length,
            done: (n) => n >= 1,
          });
          await expectHealthy(ctx);
        },
      );
    });

    test('an SMS in flight at continue-as-new is awaited, not sent again by the next run', async () => {
      const receiptGate = gate(openGates);
      const smsGate = gate(openGates);
      const rec = recordingActivities({
        channels: { sendReadReceipt: async () => receiptGate.pass() },
        sms: { sendSms: async () => (await smsGate.pass(), { providerMessageId: `SM-${smsGate.entered}` }) },
      });
      await conversation(
        rec,
        { key: RBM_KEY, settings: { continueAsNewAfterEvents: 30, idleTimeout: '1 day' } },
        async (ctx) => {
          const { messageId } = await send(ctx.handle, {
            content: { text: 'please confirm' },
            policy: { deliverWithinMs: 3_000, fallbackSms: { text: 'please confirm (SMS)' } },
          });
          await ctx.handle.signal(inboundEventsSignal, [userMessage(RBM_KEY, 'hello', { messageId: 'can-sms-1' })]);
          await pollUntil({
            what: 'the message for the agent',
            read: ctx.state,
            done: (s) => s.unreadByAgent.includes('can-sms-1'),
          });
          const marking = ctx.handle.executeUpdate(markReadUpdate, { args: [{ agentId: 'ann' }] });
          await pollUntil({
            what: 'the receipt to be in flight',
            read: async () => receiptGate.entered,
            done: (n) => n >= 1,
          });
          for (let i = 0; i < 8; i++) await ctx.handle.signal(inboundEventsSignal, [userMessage(RBM_KEY, `more ${i}`)]);
          await pollUntil({
            what: 'the history to pass the threshold',
            read: async () => (await ctx.handle.describe()).historyLength,
            done: (n) => n > 30,
          });
          // The receipt is held, so the clock runs in real time: the 3 s deadline passes in 4.
          await server.env.sleep('4 seconds');
          await pollUntil({
            what: 'the fallback SMS to be in flight',
            read: async () => smsGate.entered,
            done: (n) => n >= 1,
          });
          receiptGate.open();
          await marking.catch(() => undefined);
          await new Promise((r) => setTimeout(r, 1000));
          smsGate.open();
          await pollUntil({
            what: 'continue-as-new',
            read: async () => (await ctx.latest().describe()).runId,
            done: (runId) => runId !== ctx.firstRunId,
          });
          await ctx.settled();
          const view = await ctx.latest().query(outboundMessagesQuery);
          expect(view.messages.find((m) => m.messageId === messageId)?.sms?.state).toBe('sent');
          expect(smsGate.entered).toBe(1);
          await expectHealthy(ctx);
        },
      );
    });
  });

  describe('issue 11 #7: dedupe windows by kind', () => {
    test('a message redelivered after 2,100 typing events and 6 quiet days is recognised', async () => {
      const rec = recordingActivities();
      const first = userMessage(RBM_KEY, 'what are your opening hours?', { messageId: 'dedupe-m1' });
      await conversation(
        rec,
        { key: RBM_KEY, routing: exampleRouting(), settings: { idleTimeout: '1 day' } },
        async (ctx) => {
          await pollUntil({
            what: 'the answer',
            read: async () => rec.callsTo('sendMessage').length,
            done: (n) => n >= 1,
          });
          for (let batch = 0; batch < 21; batch++) {
            await ctx.handle.signal(
              inboundEventsSignal,
              Array.from({ length: 100 }, (_, i) => typingEvent(RBM_KEY, i % 2 === 0)),
            );
          }
          await ctx.handle.signal(inboundEventsSignal, [first]);
          await ctx.handle.signal(inboundEventsSignal, [userMessage(RBM_KEY, 'thanks', { messageId: 'dedupe-m2' })]);
          await pollUntil({
            what: 'the next message',
            read: ctx.state,
            done: (s) => s.routingDecisions.some((d) => d.messageId === 'dedupe-m2'),
          });
          await server.env.sleep('6 days');
          await ctx.signalWithStart([first]);
          await ctx.signalWithStart([userMessage(RBM_KEY, 'do you deliver?', { messageId: 'dedupe-m3' })]);
          await pollUntil({
            what: 'the third message',
            read: async () => rec.callsTo('sendReadReceipt').length,
            done: (n) => n >= 3,
          });
          await ctx.settled();
          const state = await ctx.state();
          expect(state.history.filter((h) => h.messageId === 'dedupe-m1')).toHaveLength(1);
          expect(rec.callsTo('sendReadReceipt').map((a) => (a as { messageId: string }).messageId)).toEqual([
            'dedupe-m1',
            'dedupe-m2',
            'dedupe-m3',
          ]);
        },
        [first],
      );
    });
  });

  describe('issue 11 #8: search attributes follow assign and release at once', () => {
    test('status and queue are current as soon as the update returns', async () => {
      const rec = recordingActivities();
      await conversation(rec, { key: BM_KEY, settings: { idleTimeout: '1 day' } }, async (ctx) => {
        await pollUntil({
          what: 'the first sync',
          read: async () => (await ctx.handle.describe()).typedSearchAttributes.get(searchAttributes.status),
          done: (s) => s === 'automation',
        });
        await ctx.handle.executeUpdate(assignUpdate, { args: [{ to: 'human', agentId: 'alice' }] });
        expect((await ctx.handle.describe()).typedSearchAttributes.get(searchAttributes.status)).toBe('with_agent');
        await ctx.handle.executeUpdate(assignUpdate, { args: [{ to: 'automation' }] });
        expect((await ctx.handle.describe()).typedSearchAttributes.get(searchAttributes.status)).toBe('automation');
      });
    });
  });

  describe('issue 11 #9: typing indicators end', () => {
    test('the keep-alive stops after its maximum when the desk never sends typing=false', async () => {
      const rec = recordingActivities();
      await conversation(
        rec,
        { key: RBM_KEY, settings: { typingKeepAlive: '15 seconds', idleTimeout: '1 day' } },
        async (ctx) => {
          await ctx.handle.executeUpdate(assignUpdate, { args: [{ to: 'human', agentId: 'bob' }] });
          await ctx.handle.executeUpdate(agentTypingUpdate, { args: [{ agentId: 'bob', typing: true }] });
          await server.env.sleep('10 minutes');
          const starts = (rec.callsTo('sendTyping') as { typing: string }[]).filter((c) => c.typing === 'start').length;
          expect(starts).toBeGreaterThanOrEqual(4);
          expect(starts).toBeLessThanOrEqual(9);
          await server.env.sleep('5 minutes');
          expect((rec.callsTo('sendTyping') as { typing: string }[]).filter((c) => c.typing === 'start')).toHaveLength(
            starts,
          );
        },
      );
    });

    test("a user's typing state clears about 20 s after the last typing event, with no timer", async () => {
      const rec = recordingActivities();
      await conversation(rec, { key: RBM_KEY, settings: { idleTimeout: '1 day' } }, async (ctx) => {
        await ctx.handle.signal(inboundEventsSignal, [typingEvent(RBM_KEY, true)]);
        await pollUntil({ what: 'the user to be typing', read: ctx.state, done: (s) => s.userTyping.isTyping });
        expect(userTypingAsOf((await ctx.state()).userTyping, await server.env.currentTimeMs()).isTyping).toBe(true);
        await server.env.sleep('30 seconds');
        // The reader's clock fades it (the API's getState does the same); the workflow armed no timer for it.
        expect(userTypingAsOf((await ctx.state()).userTyping, await server.env.currentTimeMs()).isTyping).toBe(false);
        // Typing again while typing: the fade counts from the newer event.
        await ctx.handle.signal(inboundEventsSignal, [typingEvent(RBM_KEY, true)]);
        await pollUntil({
          what: 'typing again after the fade',
          read: ctx.state,
          done: (s) => s.userTyping.changes >= 2,
        });
        await server.env.sleep('15 seconds');
        await ctx.handle.signal(inboundEventsSignal, [typingEvent(RBM_KEY, true)]);
        await server.env.sleep('15 seconds');
        expect(userTypingAsOf((await ctx.state()).userTyping, await server.env.currentTimeMs()).isTyping).toBe(true);
        await server.env.sleep('10 seconds');
        expect(userTypingAsOf((await ctx.state()).userTyping, await server.env.currentTimeMs()).isTyping).toBe(false);
        const history = await ctx.handle.fetchHistory();
        const timers = (history.events ?? [])
          .filter((e) => e.timerStartedEventAttributes)
          .map((e) => Number(e.timerStartedEventAttributes?.startToFireTimeout?.seconds ?? 0));
        expect(timers.filter((seconds) => seconds <= 20)).toEqual([]);
      });
    });
  });

  describe('issue 11 #10: receipts and assignments change state only after their activity succeeded', () => {
    test('a READ receipt that failed is not counted as sent, and the next mark-read sends it', async () => {
      let failNext = true;
      let attempts = 0;
      const rec = recordingActivities({
        channels: {
          sendReadReceipt: async () => {
            attempts++;
            if (failNext) {
              failNext = false;
              throw ApplicationFailure.nonRetryable('permission denied', FailureType.PermissionDenied);
            }
          },
        },
      });
      await conversation(rec, { key: BM_KEY, settings: { idleTimeout: '1 day' } }, async (ctx) => {
        await ctx.handle.signal(inboundEventsSignal, [userMessage(BM_KEY, 'hi', { messageId: 'rr-1' })]);
        await pollUntil({
          what: 'the message for the agent',
          read: ctx.state,
          done: (s) => s.unreadByAgent.includes('rr-1'),
        });
        await ctx.handle
          .executeUpdate(markReadUpdate, { args: [{ agentId: 'ann', messageIds: ['rr-1'] }] })
          .catch(() => undefined);
        expect((await ctx.state()).readReceiptsSent).not.toContain('rr-1');
        const second = await ctx.handle.executeUpdate(markReadUpdate, {
          args: [{ agentId: 'ann', messageIds: ['rr-1'] }],
        });
        expect(second.marked).toEqual(['rr-1']);
        expect((await ctx.state()).readReceiptsSent).toContain('rr-1');
        expect(attempts).toBe(2);
      });
    });

    test('an assignment whose join event fails is rolled back and the update says so', async () => {
      const rec = recordingActivities({
        channels: {
          sendRepresentativeEvent: async () => {
            throw ApplicationFailure.nonRetryable('conversation not found', FailureType.ConversationNotFound);
          },
        },
      });
      await conversation(rec, { key: BM_KEY, settings: { idleTimeout: '1 day' } }, async (ctx) => {
        await ctx.handle.signal(inboundEventsSignal, [liveAgentRequest(BM_KEY)]);
        await pollUntil({ what: 'the handoff', read: ctx.state, done: (s) => s.status === 'waiting_for_agent' });
        await expect(
          ctx.handle.executeUpdate(assignUpdate, { args: [{ to: 'human', agentId: 'alice' }] }),
        ).rejects.toThrow();
        const state = await ctx.state();
        expect(state.assignment).toEqual({ kind: 'queue', queue: 'default' });
        expect(state.participants.humans).toEqual([]);
        expect((await ctx.handle.describe()).status.name).toBe('RUNNING');
      });
    });
  });

  describe('issue 11 #11: readWithin holds only users who send READ receipts', () => {
    test('DELIVERED, never READ, from a user who has never sent READ: no SMS; once the user has sent READ: SMS', async () => {
      const rec = recordingActivities();
      await conversation(rec, { key: RBM_KEY, settings: { idleTimeout: '60 days' } }, async (ctx) => {
        const a = await send(ctx.handle, {
          content: { text: 'a' },
          policy: { readWithinMs: 20 * 60_000, fallbackSms: { text: 'a (SMS)' } },
        });
        await ctx.handle.signal(inboundEventsSignal, [receipt(RBM_KEY, a.messageId, 'DELIVERED')]);
        await server.env.sleep('30 minutes');
        const first = await pollUntil({
          what: 'the first message to finish',
          read: () => ctx.handle.query(outboundMessagesQuery),
          done: (v) => v.messages.find((m) => m.messageId === a.messageId)?.finished === true,
        });
        expect(first.messages.find((m) => m.messageId === a.messageId)?.sms).toBeUndefined();
        expect(rec.callsTo('sendSms')).toHaveLength(0);

        const b = await send(ctx.handle, { content: { text: 'b' } });
        await ctx.handle.signal(inboundEventsSignal, [
          receipt(RBM_KEY, b.messageId, 'DELIVERED'),
          receipt(RBM_KEY, b.messageId, 'READ'),
        ]);
        const c = await send(ctx.handle, {
          content: { text: 'c' },
          policy: { readWithinMs: 20 * 60_000, fallbackSms: { text: 'c (SMS)' } },
        });
        await ctx.handle.signal(inboundEventsSignal, [receipt(RBM_KEY, c.messageId, 'DELIVERED')]);
        await server.env.sleep('30 minutes');
        await pollUntil({
          what: 'the SMS for a user who sends READ',
          read: async () => rec.callsTo('sendSms').length,
          done: (n) => n >= 1,
        });
        expect(rec.callsTo('sendSms')).toEqual([expect.objectContaining({ body: 'c (SMS)' })]);
      });
    });
  });

  describe("issue 11 #12: Business Messages locale compares the device's language", () => {
    test('a Spanish device whose resolvedLocale is English is routed as Spanish', async () => {
      const rec = recordingActivities();
      await conversation(
        rec,
        { key: BM_KEY, routing: exampleRouting(), settings: { idleTimeout: '1 day' } },
        async (ctx) => {
          const state = await pollUntil({
            what: 'the routing decision and its handoff',
            read: ctx.state,
            done: (s) => s.routingDecisions.length >= 1 && s.assignment.kind !== 'automation',
          });
          expect(state.locale).toMatch(/^es\b/);
          expect(state.routingDecisions[0]).toEqual(expect.objectContaining({ action: 'handoff' }));
          expect(state.assignment).toEqual({ kind: 'queue', queue: 'general' });
        },
        [
          userMessage(BM_KEY, '¿cómo hago una devolución?', {
            context: { resolvedLocale: 'en', userDeviceLocale: 'es-MX' },
          }),
        ],
      );
    });
  });

  describe('issue 11 #13: operator messages speak as the assigned human', () => {
    test('no representative given while a human is assigned: HUMAN with their name', async () => {
      const rec = recordingActivities();
      await conversation(rec, { key: BM_KEY, settings: { idleTimeout: '1 day' } }, async (ctx) => {
        await ctx.handle.executeUpdate(assignUpdate, { args: [{ to: 'human', agentId: 'dana', displayName: 'Dana' }] });
        await send(ctx.handle, { conversationKey: BM_KEY, content: { text: 'Hi, Dana here' }, origin: 'operator' });
        expect(rec.callsTo('sendMessage')).toEqual([
          expect.objectContaining({ representative: { type: 'HUMAN', displayName: 'Dana' } }),
        ]);
      });
    });
  });
});
