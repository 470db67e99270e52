import { randomUUID } from 'node:crypto';

import { ApplicationFailure } from '@temporalio/common';
import { type TestWorkflowEnvironment } from '@temporalio/testing';

import { pollUntil } from '../../dev/poll';
import { FailureType } from '../../src/domain/errors';
import { conversationWorkflow } from '../../src/workflows';
import {
  agentTypingUpdate,
  assignUpdate,
  type ConversationInput,
  conversationStateQuery,
  inboundEventsSignal,
  sendMessageUpdate,
} from '../../src/workflows/definitions';
import { recordingActivities } from '../helpers/recording-activities';
import { timeSkippingServer } from '../helpers/time-skipping';
import { BM_KEY, liveAgentRequest, RBM_KEY, userMessage } from './conversation-fixtures';

describe('conversation workflow: history, handoff, typing, continue-as-new', () => {
  const server = timeSkippingServer('file');

  async function run(
    activities: ReturnType<typeof recordingActivities>['activities'],
    input: ConversationInput,
    body: (handle: Awaited<ReturnType<TestWorkflowEnvironment['client']['workflow']['start']>>) => Promise<void>,
  ) {
    const { worker, taskQueue } = await server.worker({ activities });
    await worker.runUntil(async () => {
      const handle = await server.env.client.workflow.start(conversationWorkflow, {
        workflowId: `conv-${randomUUID()}`,
        taskQueue,
        args: [input],
      });
      try {
        await body(handle);
      } finally {
        // Time is global on the test server: a leftover run with a pending activity would stop it skipping for the next test.
        await server.env.client.workflow
          .getHandle(handle.workflowId)
          .terminate('test finished')
          .catch(() => undefined);
      }
    });
  }

  test('the SLA timer sends the holding message once when no agent joins, then notifies the desk again (sla_expired)', async () => {
    const rec = recordingActivities();
    await run(
      rec.activities,
      { key: BM_KEY, settings: { handoffSla: '2 minutes', idleTimeout: '1 day' } },
      async (handle) => {
        await handle.signal(inboundEventsSignal, [liveAgentRequest(BM_KEY)]);
        await server.env.sleep('10 minutes');
        const state = await handle.query(conversationStateQuery);
        expect(state.status).toBe('waiting_for_agent');
      },
    );
    const notified = rec.callsTo('notifyHandoff') as { handoffId: string; reason: string }[];
    expect(notified).toHaveLength(2);
    expect(notified[1]).toMatchObject({ reason: 'sla_expired' });
    expect(notified[1]?.handoffId).not.toBe(notified[0]?.handoffId);
    expect(rec.callsTo('sendMessage')).toEqual([
      expect.objectContaining({ content: expect.objectContaining({ text: expect.stringMatching(/wait/i) }) }),
    ]);
  });

  test('an agent desk that refuses the handoff does not end the conversation', async () => {
    const rec = recordingActivities({
      handoff: {
        notify: async () =>
          Promise.reject(ApplicationFailure.nonRetryable('no HANDOFF_URL', FailureType.NotConfigured)),
      },
    });
    await run(rec.activities, { key: BM_KEY, settings: { idleTimeout: '1 day' } }, async (handle) => {
      await handle.signal(inboundEventsSignal, [liveAgentRequest(BM_KEY)]);
      await handle.signal(inboundEventsSignal, [userMessage(BM_KEY, 'still there?')]);
      const state = await pollUntil({
        what: 'two routing decisions',
        read: () => handle.query(conversationStateQuery),
        done: (st) => st.routingDecisions.length >= 2,
        timeoutMs: 10_000,
      });
      expect(state.status).toBe('waiting_for_agent');
      expect(state.routingDecisions.map((d) => d.action)).toContain('handoff_notification_failed');
      const description = await handle.describe();
      expect(description.status.name).toBe('RUNNING');
    });
  });

  test('an agent joining before the SLA cancels the holding message', async () => {
    const rec = recordingActivities();
    await run(
      rec.activities,
      { key: BM_KEY, settings: { handoffSla: '2 minutes', idleTimeout: '1 day' } },
      async (handle) => {
        await handle.signal(inboundEventsSignal, [liveAgentRequest(BM_KEY)]);
        await server.env.sleep('1 minute');
        await handle.executeUpdate(assignUpdate, { args: [{ to: 'human', agentId: 'alice', displayName: 'Alice' }] });
        await server.env.sleep('10 minutes');
        const state = await handle.query(conversationStateQuery);
        expect(state.status).toBe('with_agent');
        expect(state.participants.humans).toEqual([{ agentId: 'alice', displayName: 'Alice' }]);
      },
    );
    expect(rec.callsTo('sendMessage')).toHaveLength(0);
    expect(rec.callsTo('sendRepresentativeEvent')).toEqual([expect.objectContaining({ event: 'joined' })]);
  });

  test('typing keep-alive: over 2 simulated minutes of composing no gap reaches 20 s, and it stops on send', async () => {
    const sentAt: number[] = [];
    const rec = recordingActivities({
      channels: {
        sendTyping: async (args) => void (args.typing === 'start' && sentAt.push(await server.env.currentTimeMs())),
      },
    });
    await run(
      rec.activities,
      { key: RBM_KEY, settings: { typingKeepAlive: '15 seconds', idleTimeout: '1 day' } },
      async (handle) => {
        await handle.executeUpdate(assignUpdate, { args: [{ to: 'human', agentId: 'bob' }] });
        const startedAt = await server.env.currentTimeMs();
        await handle.executeUpdate(agentTypingUpdate, { args: [{ agentId: 'bob', typing: true }] });
        await server.env.sleep('2 minutes');
        const sentMessageAt = await server.env.currentTimeMs();
        await handle.executeUpdate(sendMessageUpdate, {
          args: [
            { conversationKey: RBM_KEY, content: { text: 'Here is your answer' }, representative: { type: 'HUMAN' } },
          ],
        });
        const countAtSend = sentAt.length;
        await server.env.sleep('2 minutes');
        expect(sentAt.length).toBe(countAtSend);
        const marks = [startedAt, ...sentAt, sentMessageAt];
        const gaps = marks.slice(1).map((t, i) => t - (marks[i] as number));
        expect(Math.max(...gaps)).toBeLessThan(20_000);
        expect(sentAt.length).toBeGreaterThanOrEqual(8);
        expect(rec.callsTo('sendMessage')).toHaveLength(1);
      },
    );
  });

  test('an agent who stops typing stops the indicator (Business Messages: TYPING_STOPPED)', async () => {
    const rec = recordingActivities();
    await run(
      rec.activities,
      { key: BM_KEY, settings: { typingKeepAlive: '15 seconds', idleTimeout: '1 day' } },
      async (handle) => {
        await handle.executeUpdate(agentTypingUpdate, { args: [{ agentId: 'bob', typing: true }] });
        await server.env.sleep('40 seconds');
        await handle.executeUpdate(agentTypingUpdate, { args: [{ agentId: 'bob', typing: false }] });
        const calls = rec.callsTo('sendTyping') as { typing: string }[];
        expect(calls.filter((c) => c.typing === 'start').length).toBeGreaterThanOrEqual(3);
        expect(calls.at(-1)?.typing).toBe('stop');
        await server.env.sleep('1 minute');
        expect(rec.callsTo('sendTyping')).toHaveLength(calls.length);
      },
    );
  });

  test('forced continue-as-new keeps the history window, the dedupe window and the live agent', async () => {
    const rec = recordingActivities();
    await run(
      rec.activities,
      { key: BM_KEY, settings: { continueAsNewAfterEvents: 15, idleTimeout: '1 day' } },
      async (handle) => {
        await handle.executeUpdate(assignUpdate, { args: [{ to: 'human', agentId: 'carol' }] });
        const first = userMessage(BM_KEY, 'first question', { messageId: 'keep-me' });
        await handle.signal(inboundEventsSignal, [first]);
        for (let i = 0; i < 12; i++) await handle.signal(inboundEventsSignal, [userMessage(BM_KEY, `message ${i}`)]);
        const latest = server.env.client.workflow.getHandle(handle.workflowId);
        // The Java test server can lose a query that races a continue-as-new: query only once the
        // chain has settled (same run, same history length on two reads).
        const settled = async () => {
          for (;;) {
            const a = await latest.describe();
            await new Promise((r) => setTimeout(r, 250));
            const b = await latest.describe();
            if (a.runId === b.runId && a.historyLength === b.historyLength) return;
          }
        };
        await settled();
        const before = await latest.query(conversationStateQuery);
        expect(before.generation).toBeGreaterThan(0);
        await latest.signal(inboundEventsSignal, [first]);
        await settled();
        const after = await latest.query(conversationStateQuery);
        expect(after.history.filter((h) => h.messageId === 'keep-me')).toHaveLength(1);
        expect(after.history).toHaveLength(13);
        expect(after.assignment).toEqual(expect.objectContaining({ kind: 'human', agentId: 'carol' }));
        const description = await latest.describe();
        expect(description.runId).not.toBe(handle.firstExecutionRunId);
      },
    );
  });
});
