/**
 * Records the histories the replay test (replay.test.ts) runs against the current workflow code.
 *
 *   npm run record-histories                 # every scenario that has no committed history yet
 *   npm run record-histories -- redelivery --overwrite   # record a committed one again (rarely right)
 *
 * Each scenario drives one conversation workflow on the time-skipping test server (the pinned
 * binary, as the workflow tests use) with activities that only record their calls, lets it go
 * quiet until it completes by itself (short idleTimeout, time skipped), and writes every run's
 * history to test/replay/histories/. Payloads go through the production codec with the test key
 * (test/helpers/data-converter.ts), as replay.test.ts reads them. A plain tsx script, not a Jest
 * test: webpack (bundling the workflows) does not run inside Jest's module sandbox.
 *
 * Committed histories are never re-recorded to make a change pass: they are what conversations
 * running in production look like. New behaviour gets a new scenario beside them. The scenarios
 * from 'reopen-after-idle' on were recorded from main before the workflow-correctness changes
 * (issue 11), so every code path those changes touch has a history of the code before them.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import {
  type WorkflowHandle,
  type WorkflowHandleWithFirstExecutionRunId,
  type WorkflowHandleWithSignaledRunId,
} from '@temporalio/client';
import { ApplicationFailure, type Payload } from '@temporalio/common';
import { type History } from '@temporalio/common/lib/proto-utils';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

import { projectRoot } from '../../dev/binaries';
import { pollUntil } from '../../dev/poll';
import { FailureType } from '../../src/domain/errors';
import { type InboundEvent } from '../../src/domain/inbound';
import { type RoutingConfig } from '../../src/routing';
import { ConversationsClient } from '../../src/temporal-client/conversations';
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
  sendMessageUpdate,
  sendMessageUpdateId,
} from '../../src/workflows/definitions';
import { type OutboundSendInput } from '../../src/workflows/outbound/types';
import { testDataConverter } from '../helpers/data-converter';
import { recordingActivities } from '../helpers/recording-activities';
import { exampleRouting } from '../helpers/routing';
import { createTimeSkippingEnv, uniqueTaskQueue } from '../helpers/temporal';
import { HISTORIES_DIR, historyFileName, type ScenarioName, SCENARIOS, workflowIdFor } from './histories';
import { historyToJsonObject } from './history-json';

type Handle = WorkflowHandle<typeof conversationWorkflow>;

const MIN = 60_000;
const RBM_KEY = 'rbm:agent@rbm.goog:+14155550100';
const BM_KEY = 'bm:replay-conversation-1';

interface ScenarioContext {
  env: TestWorkflowEnvironment;
  /** Starts the scenario's workflow (fixed workflow id, own task queue). */
  start(input: ConversationInput): Promise<WorkflowHandleWithFirstExecutionRunId<typeof conversationWorkflow>>;
  /** Starts it through signal-with-start, the webhook's path. */
  signalWithStart(
    input: ConversationInput,
    events: InboundEvent[],
  ): Promise<WorkflowHandleWithSignaledRunId<typeof conversationWorkflow>>;
  /**
   * Delivers as the API does since issue 14 (ConversationsClient.deliveryOptions): the start carries
   * `routingVersion` (files from ROUTING_VERSIONS, held by the worker) and the first search
   * attributes; the events are stamped with the version.
   */
  deliver(
    routingVersion: string,
    events: InboundEvent[],
    settings?: ConversationInput['settings'],
  ): Promise<WorkflowHandleWithSignaledRunId<typeof conversationWorkflow>>;
  /** A handle on the latest run (follows continue-as-new). */
  latest: Handle;
  /** Run ids of earlier, separate runs the scenario went through (reopened after an idle close). */
  earlier: string[];
}

interface Scenario {
  name: ScenarioName;
  /** Drives the conversation; the recorder then waits for the (last) run to complete. Returns the first run's id. */
  drive(ctx: ScenarioContext): Promise<string>;
  /** For continue-as-new: the chain must have at least this many runs. */
  minRuns?: number;
  /**
   * Recorded while the conversation is still running (timers pending, an outbound message between
   * SENT and DELIVERED, a handoff waiting on its SLA): what a worker picks up after a deploy.
   */
  open?: boolean;
  /** Ids of earlier, separate runs of the same workflow id (a conversation reopened after an idle close), oldest first. */
  earlierRuns?: string[];
  /** Overrides of the recording activities (e.g. a desk or a send that fails for good). */
  activities?: Parameters<typeof recordingActivities>[0];
}

/** The routing files the recorder's worker holds, by version: the example file and an edit of it. */
const ROUTING_VERSIONS: Record<string, RoutingConfig> = (() => {
  const example = exampleRouting();
  const edited: RoutingConfig = {
    ...example,
    faq: example.faq.map((f) =>
      f.id === 'opening-hours' ? { ...f, answers: { ...f.answers, en: "We're open every day, 8am to 10pm." } } : f,
    ),
  };
  return { 'example-v1': example, 'example-v2': edited };
})();

// --- Events as the webhook normalizes them (fixed ids, so re-recorded files differ only in times) ---

function text(
  key: string,
  messageId: string,
  body: string,
  context?: Extract<InboundEvent, { type: 'message' }>['context'],
): InboundEvent {
  const channel = key.startsWith('bm:') ? 'bm' : 'rbm';
  return {
    type: 'message',
    channel,
    conversationKey: key,
    dedupeKey: messageId,
    messageId,
    content: { kind: 'text', text: body },
    ...(context ? { context } : {}),
    receivedAt: new Date().toISOString(),
  };
}

function liveAgentRequest(key: string, requestId: string): InboundEvent {
  return {
    type: 'live_agent_requested',
    channel: 'bm',
    conversationKey: key,
    dedupeKey: requestId,
    receivedAt: new Date().toISOString(),
  };
}

function receipt(key: string, messageId: string, kind: 'DELIVERED' | 'READ'): InboundEvent {
  return {
    type: 'receipt',
    channel: key.startsWith('bm:') ? 'bm' : 'rbm',
    conversationKey: key,
    dedupeKey: `${kind.toLowerCase()}-${messageId}`,
    messageId,
    receipt: kind,
    receivedAt: new Date().toISOString(),
  };
}

function ttlRevokeFailed(key: string, messageId: string): InboundEvent {
  return {
    type: 'ttl_expired',
    channel: 'rbm',
    conversationKey: key,
    dedupeKey: `ttl-${messageId}`,
    messageId,
    revoked: false,
    receivedAt: new Date().toISOString(),
  };
}

function typing(key: string, eventId: string, isTyping: boolean): InboundEvent {
  return {
    type: 'typing',
    channel: key.startsWith('bm:') ? 'bm' : 'rbm',
    conversationKey: key,
    dedupeKey: eventId,
    isTyping,
    receivedAt: new Date().toISOString(),
  };
}

function ttlRevoked(key: string, messageId: string): InboundEvent {
  return {
    type: 'ttl_expired',
    channel: 'rbm',
    conversationKey: key,
    dedupeKey: `ttl-ok-${messageId}`,
    messageId,
    revoked: true,
    receivedAt: new Date().toISOString(),
  };
}

/**
 * A Business Messages sign-in result. `content` is the auth content's rest: `{ code }` as the API
 * signalled it before issue 12 (the code in the signal), `{ codeOutcome }` as it does since.
 */
function signIn(key: string, requestId: string, content: Record<string, unknown>): InboundEvent {
  return {
    type: 'message',
    channel: 'bm',
    conversationKey: key,
    dedupeKey: requestId,
    messageId: requestId,
    content: { kind: 'auth', redirectUri: 'https://business.google.com/callback', ...content },
    receivedAt: new Date().toISOString(),
  } as unknown as InboundEvent;
}

function chip(key: string, requestId: string, postbackData: string): InboundEvent {
  return {
    type: 'message',
    channel: 'bm',
    conversationKey: key,
    dedupeKey: requestId,
    messageId: requestId,
    content: { kind: 'suggestion', postbackData, text: postbackData, suggestionType: 'REPLY' },
    receivedAt: new Date().toISOString(),
  };
}

/** Message ids of the conversation's outbound messages, oldest first. */
async function outboundIds(handle: Handle): Promise<string[]> {
  return (await handle.query(outboundMessagesQuery)).messages.map((m) => m.messageId);
}

function send(handle: Handle, input: OutboundSendInput & { idempotencyKey: string }) {
  return handle.executeUpdate(sendMessageUpdate, {
    args: [input],
    updateId: sendMessageUpdateId(input.idempotencyKey),
  });
}

/** Polls the latest run's state until `done` holds; query errors (e.g. mid continue-as-new) are retried. */
async function stateUntil(
  handle: Handle,
  done: (view: ConversationView) => boolean,
  what: string,
  timeoutMs = 15_000,
): Promise<ConversationView> {
  return pollUntil({ what, read: () => handle.query(conversationStateQuery), done, timeoutMs, retryErrors: true });
}

// --- The scenarios -----------------------------------------------------------------------------

const scenarios: Scenario[] = [
  {
    // New RBM conversation with a known question: automation marks it READ and answers from the FAQ.
    name: 'faq-answer',
    async drive({ signalWithStart }) {
      const handle = await signalWithStart(
        { key: RBM_KEY, routing: exampleRouting(), settings: { idleTimeout: '1 hour' } },
        [text(RBM_KEY, 'faq-m1', 'what are your opening hours?')],
      );
      await stateUntil(handle, (s) => s.history.some((h) => h.direction === 'outbound'), 'the FAQ answer');
      return handle.signaledRunId;
    },
  },
  {
    // Business Messages: user asks for a person → handoff (desk notified, SLA timer) → holding
    // message → agent joins → user writes, agent reads it → agent types → operator message with a
    // deliverWithin deadline → DELIVERED and READ → released back to automation → idle close.
    name: 'handoff-agent-release',
    async drive({ env, signalWithStart }) {
      const handle = await signalWithStart(
        {
          key: BM_KEY,
          routing: exampleRouting(),
          settings: { handoffSla: '2 minutes', typingKeepAlive: '15 seconds', idleTimeout: '1 hour' },
        },
        [
          text(BM_KEY, 'handoff-m1', 'my parcel never arrived', {
            displayName: 'Maria Gonzalez',
            resolvedLocale: 'en',
          }),
        ],
      );
      await stateUntil(handle, (s) => s.routingDecisions.length >= 1, 'the first message to be routed');
      await handle.signal(inboundEventsSignal, [liveAgentRequest(BM_KEY, 'handoff-req-1')]);
      await stateUntil(handle, (s) => s.status === 'waiting_for_agent', 'the handoff');
      const outboundBefore = (await handle.query(conversationStateQuery)).history.filter(
        (h) => h.direction === 'outbound',
      ).length;
      await env.sleep('3 minutes');
      await stateUntil(
        handle,
        (s) => s.history.filter((h) => h.direction === 'outbound').length > outboundBefore,
        'the SLA holding message',
      );
      await handle.executeUpdate(assignUpdate, { args: [{ to: 'human', agentId: 'alice', displayName: 'Alice' }] });
      await handle.signal(inboundEventsSignal, [text(BM_KEY, 'handoff-m2', 'hi Alice, it was order 1234')]);
      await stateUntil(handle, (s) => s.unreadByAgent.includes('handoff-m2'), 'the message for the agent');
      await handle.executeUpdate(markReadUpdate, { args: [{ agentId: 'alice' }] });
      await handle.executeUpdate(agentTypingUpdate, { args: [{ agentId: 'alice', typing: true }] });
      await env.sleep('20 seconds');
      const { messageId } = await send(handle, {
        conversationKey: BM_KEY,
        content: { text: 'Sorry about that: a replacement is on its way.' },
        representative: { type: 'HUMAN', displayName: 'Alice' },
        policy: { deliverWithinMs: 10 * MIN },
        idempotencyKey: 'handoff-reply-1',
        origin: 'operator',
      });
      await handle.signal(inboundEventsSignal, [receipt(BM_KEY, messageId, 'DELIVERED')]);
      await handle.signal(inboundEventsSignal, [receipt(BM_KEY, messageId, 'READ')]);
      await waitForOutbound(handle, messageId, 'READ');
      await handle.executeUpdate(assignUpdate, { args: [{ to: 'automation' }] });
      await stateUntil(handle, (s) => s.status === 'automation', 'the release to automation');
      return handle.signaledRunId;
    },
  },
  {
    // Google redelivers one RBM message three times: one history entry, one READ receipt.
    name: 'redelivery',
    async drive({ start }) {
      const handle = await start({ key: RBM_KEY, routing: exampleRouting(), settings: { idleTimeout: '1 hour' } });
      await handle.signal(inboundEventsSignal, [text(RBM_KEY, 'dup-m1', 'do you deliver?')]);
      await stateUntil(
        handle,
        (s) => s.readReceiptsSent.includes('dup-m1') && s.history.length >= 2,
        'the first delivery to be answered',
      );
      await handle.signal(inboundEventsSignal, [text(RBM_KEY, 'dup-m1', 'do you deliver?')]);
      await handle.signal(inboundEventsSignal, [text(RBM_KEY, 'dup-m1', 'do you deliver?')]);
      return handle.firstExecutionRunId;
    },
  },
  {
    // Outbound RBM message with a TTL: TTL_EXPIRATION_REVOKE_FAILED, then no DELIVERED within the
    // grace → explicit revoke → SMS fallback; then the conversation goes quiet and closes.
    name: 'outbound-ttl-revoke-sms',
    async drive({ env, start }) {
      const handle = await start({ key: RBM_KEY, settings: { idleTimeout: '1 hour' } });
      const { messageId } = await send(handle, {
        conversationKey: RBM_KEY,
        content: { text: 'Your table is ready' },
        policy: { ttl: '600s', revokeFailedGraceMs: 30 * MIN, fallbackSms: { text: 'Your table is ready (SMS)' } },
        idempotencyKey: 'ttl-1',
        origin: 'operator',
      });
      await env.sleep('10 minutes');
      await handle.signal(inboundEventsSignal, [ttlRevokeFailed(RBM_KEY, messageId)]);
      await waitForOutbound(handle, messageId, 'EXPIRED');
      return handle.firstExecutionRunId;
    },
  },
  {
    // continueAsNewAfterEvents forced low: a conversation with a live agent continues as new
    // several times; every run of the chain is recorded. No queries here: the Java test server
    // mishandles a query that races a continue-as-new (the worker's completion is rejected as
    // "workflow execution already completed" and the query never answers), so progress is read
    // from the histories instead.
    name: 'continue-as-new',
    minRuns: 3,
    async drive({ env, start, latest }) {
      const handle = await start({ key: BM_KEY, settings: { continueAsNewAfterEvents: 15, idleTimeout: '1 hour' } });
      await handle.executeUpdate(assignUpdate, { args: [{ to: 'human', agentId: 'carol', displayName: 'Carol' }] });
      for (let i = 1; i <= 6; i++) {
        const messageId = `can-m${i}`;
        await latest.signal(inboundEventsSignal, [text(BM_KEY, messageId, `message ${i}`)]);
        await signalHandled(env, handle.workflowId, handle.firstExecutionRunId, messageId);
      }
      return handle.firstExecutionRunId;
    },
  },
  // --- Recorded before the workflow-correctness and cost changes (issues 11 and 14), so the code
  // --- paths those changes touch have histories of what running conversations look like today.
  {
    // An idle RBM conversation completes; a new message reopens it: the fresh run loads the
    // previous run's result (loadPreviousRun local activity) and answers from its memory.
    name: 'reopen-after-idle',
    async drive(ctx) {
      const { env, signalWithStart } = ctx;
      const input: ConversationInput = { key: RBM_KEY, routing: exampleRouting(), settings: { idleTimeout: '1 hour' } };
      const first = await signalWithStart(input, [text(RBM_KEY, 'reopen-m1', 'when are you open?')]);
      await stateUntil(first, (s) => s.history.some((h) => h.direction === 'outbound'), 'the first answer');
      await withTimeout(first.result(), 60_000, 'the first run to close on idle');
      ctx.earlier.push(first.signaledRunId);
      await env.sleep('2 hours');
      const second = await signalWithStart(input, [text(RBM_KEY, 'reopen-m2', 'do you deliver?')]);
      await stateUntil(
        second,
        (s) => s.history.filter((h) => h.direction === 'outbound').length >= 2 && s.generation >= 1,
        'the reopened run to answer',
      );
      return second.signaledRunId;
    },
  },
  {
    // No routing file: every message goes to the default queue. The desk is notified, the SLA
    // sends the holding message, an agent joins and types (keep-alive re-sent), stops typing,
    // reads the user's next message, answers; a user message after release; idle close.
    name: 'sla-typing-keepalive',
    async drive({ env, signalWithStart }) {
      const handle = await signalWithStart(
        { key: RBM_KEY, settings: { handoffSla: '2 minutes', typingKeepAlive: '15 seconds', idleTimeout: '1 hour' } },
        [typing(RBM_KEY, 'sla-t1', true), text(RBM_KEY, 'sla-m1', 'my order is late')],
      );
      await stateUntil(handle, (s) => s.status === 'waiting_for_agent', 'the handoff to the default queue');
      await env.sleep('3 minutes');
      await stateUntil(handle, (s) => s.history.some((h) => h.direction === 'outbound'), 'the SLA holding message');
      await handle.executeUpdate(assignUpdate, { args: [{ to: 'human', agentId: 'bob', displayName: 'Bob' }] });
      await handle.executeUpdate(agentTypingUpdate, { args: [{ agentId: 'bob', typing: true }] });
      await env.sleep('50 seconds');
      await handle.executeUpdate(agentTypingUpdate, { args: [{ agentId: 'bob', typing: false }] });
      await handle.signal(inboundEventsSignal, [
        typing(RBM_KEY, 'sla-t2', true),
        typing(RBM_KEY, 'sla-t3', false),
        text(RBM_KEY, 'sla-m2', 'any news?'),
      ]);
      await stateUntil(handle, (s) => s.unreadByAgent.includes('sla-m2'), 'the message for the agent');
      await handle.executeUpdate(markReadUpdate, { args: [{ agentId: 'bob', messageIds: ['sla-m1', 'sla-m2'] }] });
      await send(handle, {
        conversationKey: RBM_KEY,
        content: { text: 'It ships today.' },
        representative: { type: 'HUMAN', displayName: 'Bob' },
        idempotencyKey: 'sla-reply-1',
        origin: 'operator',
      });
      await handle.executeUpdate(assignUpdate, { args: [{ to: 'automation' }] });
      await handle.signal(inboundEventsSignal, [text(RBM_KEY, 'sla-m3', 'thanks')]);
      await stateUntil(handle, (s) => s.routingDecisions.length >= 3, 'the message after release');
      return handle.signaledRunId;
    },
  },
  {
    // Automation cannot answer twice → handoff to the locale's queue; the desk refuses for good
    // (recorded, the conversation stays queued); the user then asks something automation knows.
    name: 'automation-failures-desk-down',
    activities: {
      handoff: {
        notify: async () => {
          throw ApplicationFailure.nonRetryable('desk refused', FailureType.PermanentApiError);
        },
      },
    },
    async drive({ signalWithStart }) {
      const handle = await signalWithStart(
        { key: RBM_KEY, routing: exampleRouting(), settings: { idleTimeout: '1 hour' } },
        [text(RBM_KEY, 'fail-m1', 'blorp')],
      );
      await stateUntil(handle, (s) => s.routingDecisions.length >= 1, 'the first unknown message');
      await handle.signal(inboundEventsSignal, [text(RBM_KEY, 'fail-m2', 'zzzt')]);
      await stateUntil(
        handle,
        (s) => s.routingDecisions.some((d) => d.action === 'handoff_notification_failed'),
        'the refused desk',
      );
      await handle.signal(inboundEventsSignal, [text(RBM_KEY, 'fail-m3', 'what are your opening hours?')]);
      await stateUntil(handle, (s) => s.routingDecisions.length >= 4, 'the third message');
      return handle.signaledRunId;
    },
  },
  {
    // Business Messages from a Spanish device whose resolvedLocale is English: today routed by
    // resolvedLocale (automation answers in English). User receipts for the answer.
    name: 'bm-locale-receipts',
    async drive({ signalWithStart }) {
      const handle = await signalWithStart(
        { key: BM_KEY, routing: exampleRouting(), settings: { idleTimeout: '1 hour' } },
        [
          text(BM_KEY, 'loc-m1', 'how do I return this?', {
            displayName: 'Ana Ruiz',
            resolvedLocale: 'en',
            userDeviceLocale: 'es-MX',
          }),
        ],
      );
      await stateUntil(handle, (s) => s.history.some((h) => h.direction === 'outbound'), 'the answer');
      const [answer] = await outboundIds(handle);
      if (answer === undefined) throw new Error('no outbound message');
      await handle.signal(inboundEventsSignal, [receipt(BM_KEY, answer, 'DELIVERED'), receipt(BM_KEY, answer, 'READ')]);
      await waitForOutbound(handle, answer, 'READ');
      await handle.signal(inboundEventsSignal, [receipt(BM_KEY, answer, 'READ')]);
      return handle.signaledRunId;
    },
  },
  {
    // Operator messages on RBM: one with deliverWithin and no receipt (revoke, then SMS); one
    // with readWithin that is DELIVERED but never READ (SMS); one Google refuses (404: SMS at
    // once); one time-sensitive (SMS alongside); one whose TTL Google revoked (SMS). Default
    // representative (BOT) while a human is assigned.
    name: 'outbound-fallbacks',
    activities: {
      channels: {
        sendMessage: async (args) => {
          if (args.content.text === 'unreachable')
            throw ApplicationFailure.nonRetryable('not RCS', FailureType.NotRcsReachable);
          return { sentAt: new Date().toISOString() };
        },
      },
    },
    async drive({ env, start }) {
      const handle = await start({ key: RBM_KEY, settings: { idleTimeout: '1 hour' } });
      await handle.executeUpdate(assignUpdate, { args: [{ to: 'human', agentId: 'dana', displayName: 'Dana' }] });
      const sms = (t: string) => ({ text: `${t} (SMS)` });
      const a = await send(handle, {
        conversationKey: RBM_KEY,
        content: { text: 'deliver within' },
        policy: { deliverWithinMs: 10 * MIN, fallbackSms: sms('a') },
        idempotencyKey: 'fb-a',
        origin: 'operator',
      });
      const b = await send(handle, {
        conversationKey: RBM_KEY,
        content: { text: 'read within' },
        policy: { readWithinMs: 20 * MIN, fallbackSms: sms('b') },
        idempotencyKey: 'fb-b',
        origin: 'operator',
      });
      await send(handle, {
        conversationKey: RBM_KEY,
        content: { text: 'unreachable' },
        policy: { fallbackSms: sms('c') },
        idempotencyKey: 'fb-c',
        origin: 'operator',
      });
      await send(handle, {
        conversationKey: RBM_KEY,
        content: { text: 'one-time code 123456' },
        policy: { timeSensitive: true, fallbackSms: sms('d') },
        idempotencyKey: 'fb-d',
        origin: 'operator',
      });
      const e = await send(handle, {
        conversationKey: RBM_KEY,
        content: { text: 'ttl' },
        policy: { ttl: '300s', fallbackSms: sms('e') },
        idempotencyKey: 'fb-e',
        origin: 'operator',
      });
      await handle.signal(inboundEventsSignal, [receipt(RBM_KEY, b.messageId, 'DELIVERED')]);
      await env.sleep('6 minutes');
      await handle.signal(inboundEventsSignal, [ttlRevoked(RBM_KEY, e.messageId)]);
      await env.sleep('30 minutes');
      await waitForOutbound(handle, a.messageId, 'FALLBACK_SENT');
      await waitForOutbound(handle, e.messageId, 'FALLBACK_SENT');
      // A retried POST with a used Idempotency-Key: no second message.
      await send(handle, {
        conversationKey: RBM_KEY,
        content: { text: 'deliver within' },
        policy: { deliverWithinMs: 10 * MIN, fallbackSms: sms('a') },
        idempotencyKey: 'fb-a',
        origin: 'operator',
      });
      return handle.firstExecutionRunId;
    },
  },
  {
    // Issue 14: started through the API's delivery with a routing version (the worker hands the
    // file over by local activity, beside loadPreviousRun), channel and status as initial search
    // attributes, RBM messages with the sender's country resolved by the API; an event with a new
    // version switches the rules; continue-as-new carries the version, not the file.
    name: 'routing-version-start',
    minRuns: 2,
    async drive({ deliver, latest, env }) {
      const settings = { idleTimeout: '1 hour', continueAsNewAfterEvents: 40 };
      const withCountry = (event: InboundEvent): InboundEvent =>
        event.type === 'message' ? { ...event, senderCountry: { callingCode: '+1', country: 'US' } } : event;
      const first = await deliver(
        'example-v1',
        [typing(RBM_KEY, 'rv-t1', true), withCountry(text(RBM_KEY, 'rv-m1', 'what are your opening hours?'))],
        settings,
      );
      await stateUntil(latest, (s) => s.history.some((h) => h.direction === 'outbound'), 'the first answer');
      // The edited file's version: answered by it, after which the history is long enough to continue as new
      // (queries can race a continue-as-new on the test server: the histories tell when a signal was handled).
      await deliver('example-v2', [withCountry(text(RBM_KEY, 'rv-m2', 'are you open on sunday?'))], settings);
      await signalHandled(env, first.workflowId, first.signaledRunId, 'rv-m2');
      await deliver('example-v2', [withCountry(text(RBM_KEY, 'rv-m3', 'when do you open?'))], settings);
      await signalHandled(env, first.workflowId, first.signaledRunId, 'rv-m3');
      return first.signaledRunId;
    },
  },
  {
    // Still running when recorded: an operator message between SENT and DELIVERED with a
    // deliverWithin timer, a handoff waiting on its SLA, user typing. What a new worker build
    // picks up from the histories of conversations open at deploy time.
    name: 'open-pending-timers',
    open: true,
    async drive({ env, signalWithStart }) {
      const handle = await signalWithStart(
        { key: RBM_KEY, settings: { handoffSla: '1 hour', idleTimeout: '7 days' } },
        [text(RBM_KEY, 'open-m1', 'I need help with my bill')],
      );
      await stateUntil(handle, (s) => s.status === 'waiting_for_agent', 'the handoff');
      await send(handle, {
        conversationKey: RBM_KEY,
        content: { text: 'We will call you back.' },
        policy: { deliverWithinMs: 2 * 60 * MIN, fallbackSms: { text: 'We will call you back (SMS).' } },
        idempotencyKey: 'open-1',
        origin: 'operator',
      });
      await handle.signal(inboundEventsSignal, [typing(RBM_KEY, 'open-t1', true)]);
      await env.sleep('10 minutes');
      await stateUntil(handle, (s) => s.userTyping.changes >= 1, 'the typing event');
      return handle.signaledRunId;
    },
  },
  // --- Recorded with the issue 11 changes (patch issue-11-workflow-correctness), so what runs
  // --- started on that code look like is replayed as well.
  {
    // A queued conversation goes idle: it continues as new into a dormant run (no completion, no
    // previous-run lookup); a user message reopens it, the desk hears of it again and the SLA runs.
    name: 'dormant-reopen',
    open: true,
    async drive({ env, signalWithStart, latest }) {
      const input: ConversationInput = {
        key: RBM_KEY,
        routing: exampleRouting(),
        settings: { idleTimeout: '1 hour', handoffSla: '5 minutes' },
      };
      const first = await signalWithStart(input, [text(RBM_KEY, 'dormant-m1', 'I want to talk to a person')]);
      await stateUntil(first, (s) => s.status === 'waiting_for_agent', 'the handoff');
      await env.sleep('2 hours');
      await stateUntil(latest, (s) => s.dormant === true, 'the dormant run');
      await signalWithStart(input, [
        text(RBM_KEY, 'dormant-m1', 'I want to talk to a person'),
        text(RBM_KEY, 'dormant-m2', 'hello? anyone?'),
      ]);
      await stateUntil(latest, (s) => s.unreadByAgent.includes('dormant-m2'), 'the reopened conversation');
      await env.sleep('6 minutes');
      await stateUntil(
        latest,
        (s) => s.history.filter((h) => h.direction === 'outbound').length >= 3,
        'the second holding message',
      );
      return first.signaledRunId;
    },
  },
  {
    // Failures the conversation carries on from and the other issue 11 rules: a READ receipt
    // refused for good (reply beside it), a join event refused (assignment unchanged), a join that
    // works, an operator message as the assigned human, readWithin for a user who never sent
    // READ, the agent's typing keep-alive ending by itself, a user's typing fading.
    name: 'issue-11-failures-and-rules',
    open: true,
    activities: {
      channels: {
        sendReadReceipt: async () => {
          throw ApplicationFailure.nonRetryable('not RCS reachable', FailureType.NotRcsReachable);
        },
        sendRepresentativeEvent: async (args) => {
          if (args.representative.displayName === 'Refused')
            throw ApplicationFailure.nonRetryable('permission denied', FailureType.PermissionDenied);
        },
      },
    },
    async drive({ env, start }) {
      const handle = await start({
        key: RBM_KEY,
        routing: exampleRouting(),
        settings: { idleTimeout: '1 day', typingKeepAlive: '15 seconds', typingMaxDuration: '1 minute' },
      });
      await handle.signal(inboundEventsSignal, [text(RBM_KEY, 'rules-m1', 'what are your opening hours?')]);
      await stateUntil(
        handle,
        (s) => (s.activityFailures?.length ?? 0) >= 1 && s.history.some((h) => h.direction === 'outbound'),
        'the answer beside the failed receipt',
      );
      await handle
        .executeUpdate(assignUpdate, { args: [{ to: 'human', agentId: 'x', displayName: 'Refused' }] })
        .catch(() => undefined);
      await handle.executeUpdate(assignUpdate, { args: [{ to: 'human', agentId: 'erin', displayName: 'Erin' }] });
      const { messageId } = await send(handle, {
        conversationKey: RBM_KEY,
        content: { text: 'Erin here' },
        policy: { readWithinMs: 10 * MIN, fallbackSms: { text: 'Erin here (SMS)' } },
        idempotencyKey: 'rules-1',
        origin: 'operator',
      });
      await handle.signal(inboundEventsSignal, [receipt(RBM_KEY, messageId, 'DELIVERED')]);
      await handle.executeUpdate(agentTypingUpdate, { args: [{ agentId: 'erin', typing: true }] });
      await handle.signal(inboundEventsSignal, [typing(RBM_KEY, 'rules-t1', true)]);
      await env.sleep('15 minutes');
      await stateUntil(handle, (s) => !s.userTyping.isTyping, 'the user typing to fade');
      return handle.firstExecutionRunId;
    },
  },
  {
    // Business Messages sign-ins as the API signalled them before issue 12, the authorization
    // code in the signal: a code (signed in), an error (try again), the try-again chip. Recorded
    // from main before the code was dropped at the API, so the old code path has a history.
    name: 'bm-sign-in-legacy',
    // Idle conversations go dormant and never complete (issue 11): recorded open.
    open: true,
    async drive({ signalWithStart }) {
      const handle = await signalWithStart(
        { key: BM_KEY, routing: exampleRouting(), settings: { idleTimeout: '1 hour' } },
        [signIn(BM_KEY, 'legacy-auth-1', { code: 'replay-legacy-authorization-code' })],
      );
      await stateUntil(
        handle,
        (s) => s.history.filter((h) => h.direction === 'outbound').length >= 1,
        'the signed-in answer',
      );
      await handle.signal(inboundEventsSignal, [
        signIn(BM_KEY, 'legacy-auth-2', { error: { error: 'ACCESS_DENIED', errorDescription: 'the user said no' } }),
      ]);
      await stateUntil(
        handle,
        (s) => s.history.filter((h) => h.direction === 'outbound').length >= 2,
        'the try-again answer',
      );
      await handle.signal(inboundEventsSignal, [chip(BM_KEY, 'legacy-auth-3', 'auth:retry')]);
      await stateUntil(
        handle,
        (s) => s.routingDecisions.some((d) => d.messageId === 'legacy-auth-3'),
        'the retry decision',
      );
      return handle.signaledRunId;
    },
  },
  {
    // Business Messages sign-ins since issue 12: the code handed over (signed in), not handed
    // over (try again), dropped for want of AUTH_CODE_URL (signed in), an error; and one signal of
    // an API still older than the change, with the code (the workflow keeps only its outcome).
    name: 'bm-sign-in-codes',
    // Idle conversations go dormant and never complete (issue 11): recorded open.
    open: true,
    async drive({ signalWithStart }) {
      const outbound = (n: number) => (s: ConversationView) =>
        s.history.filter((h) => h.direction === 'outbound').length >= n;
      const handle = await signalWithStart(
        { key: BM_KEY, routing: exampleRouting(), settings: { idleTimeout: '1 hour' } },
        [signIn(BM_KEY, 'auth-1', { codeOutcome: 'handed_over' })],
      );
      await stateUntil(handle, outbound(1), 'the signed-in answer');
      await handle.signal(inboundEventsSignal, [signIn(BM_KEY, 'auth-2', { codeOutcome: 'not_handed_over' })]);
      await stateUntil(handle, outbound(2), 'the try-again answer');
      await handle.signal(inboundEventsSignal, [signIn(BM_KEY, 'auth-3', { codeOutcome: 'dropped' })]);
      await stateUntil(handle, outbound(3), 'the answer to a dropped code');
      await handle.signal(inboundEventsSignal, [
        signIn(BM_KEY, 'auth-4', { codeOutcome: 'none', error: { error: 'ACCESS_DENIED' } }),
      ]);
      await stateUntil(handle, outbound(4), 'the answer to an error');
      await handle.signal(inboundEventsSignal, [signIn(BM_KEY, 'auth-5', { code: 'replay-code-from-an-older-api' })]);
      await stateUntil(handle, outbound(5), 'the answer to an older signal');
      // The history records an answer before its send runs: end on the send settled, not in flight.
      const last = (await outboundIds(handle)).at(-1);
      if (last === undefined) throw new Error('no outbound message');
      await waitForOutbound(handle, last, 'SENT');
      return handle.signaledRunId;
    },
  },
  {
    // Issue 14: a running RBM exchange as the benchmark sends it (the user types, asks, the phone
    // sends DELIVERED and READ), twice, with a typing burst that fades on its own in between. Since
    // COST_PATCHES.typingFadeByReader no typing event arms a timer.
    name: 'typing-fade-by-reader',
    open: true,
    async drive({ env, signalWithStart }) {
      const outbound = (n: number) => (s: ConversationView) =>
        s.history.filter((h) => h.direction === 'outbound').length >= n;
      const handle = await signalWithStart(
        { key: RBM_KEY, routing: exampleRouting(), settings: { idleTimeout: '1 hour' } },
        [typing(RBM_KEY, 'fade-t1', true)],
      );
      await stateUntil(handle, (s) => s.userTyping.changes >= 1, 'the typing event');
      await handle.signal(inboundEventsSignal, [text(RBM_KEY, 'fade-m1', 'what are your opening hours?')]);
      await stateUntil(handle, outbound(1), 'the FAQ answer');
      const [first] = await outboundIds(handle);
      if (first === undefined) throw new Error('no outbound message');
      await handle.signal(inboundEventsSignal, [receipt(RBM_KEY, first, 'DELIVERED')]);
      await handle.signal(inboundEventsSignal, [receipt(RBM_KEY, first, 'READ')]);
      await waitForOutbound(handle, first, 'READ');
      await handle.signal(inboundEventsSignal, [typing(RBM_KEY, 'fade-t2', true)]);
      await stateUntil(handle, (s) => s.userTyping.changes >= 2, 'the second typing event');
      await env.sleep('30 seconds');
      await handle.signal(inboundEventsSignal, [typing(RBM_KEY, 'fade-t3', true)]);
      await stateUntil(handle, (s) => s.userTyping.changes >= 3, 'typing again after the fade');
      await handle.signal(inboundEventsSignal, [text(RBM_KEY, 'fade-m2', 'what are your opening hours?')]);
      await stateUntil(handle, outbound(2), 'the second answer');
      const second = (await outboundIds(handle)).at(-1);
      if (second === undefined || second === first) throw new Error('no second outbound message');
      await handle.signal(inboundEventsSignal, [receipt(RBM_KEY, second, 'DELIVERED')]);
      await handle.signal(inboundEventsSignal, [receipt(RBM_KEY, second, 'READ')]);
      await waitForOutbound(handle, second, 'READ');
      return handle.signaledRunId;
    },
  },
  {
    // Issue 14: automation's answer carries its question's READ receipt (one activity). The
    // second question's receipt fails inside that activity, so it goes out again on its own.
    name: 'read-receipt-in-reply',
    open: true,
    activities: {
      channels: {
        sendReadReceipt: (() => {
          let refused = false;
          return async (args: { messageId: string }) => {
            if (args.messageId === 'rir-m2' && !refused) {
              refused = true;
              throw ApplicationFailure.nonRetryable('not RCS reachable', FailureType.NotRcsReachable);
            }
          };
        })(),
      },
    },
    async drive({ signalWithStart }) {
      const outbound = (n: number) => (s: ConversationView) =>
        s.history.filter((h) => h.direction === 'outbound').length >= n;
      const handle = await signalWithStart(
        { key: RBM_KEY, routing: exampleRouting(), settings: { idleTimeout: '1 hour' } },
        [text(RBM_KEY, 'rir-m1', 'what are your opening hours?')],
      );
      await stateUntil(
        handle,
        (s) => outbound(1)(s) && s.readReceiptsSent.includes('rir-m1'),
        'the answer with its READ receipt',
      );
      const [first] = await outboundIds(handle);
      if (first === undefined) throw new Error('no outbound message');
      await handle.signal(inboundEventsSignal, [receipt(RBM_KEY, first, 'DELIVERED')]);
      await handle.signal(inboundEventsSignal, [receipt(RBM_KEY, first, 'READ')]);
      await waitForOutbound(handle, first, 'READ');
      await handle.signal(inboundEventsSignal, [text(RBM_KEY, 'rir-m2', 'what are your opening hours?')]);
      await stateUntil(
        handle,
        (s) => outbound(2)(s) && s.readReceiptsSent.includes('rir-m2'),
        'the second answer, its READ receipt sent on its own',
      );
      return handle.signaledRunId;
    },
  },
];

/** The payloads as the workflow sees them: fetched histories hold them as the codec encoded them. */
async function decodedPayloads(env: TestWorkflowEnvironment, payloads: Payload[]): Promise<Payload[]> {
  let out = payloads;
  for (const codec of [...env.client.options.loadedDataConverter.payloadCodecs].reverse())
    out = await codec.decode(out);
  return out;
}

/** Waits until some run of the chain recorded a signal mentioning `marker` and completed a workflow task after it. */
async function signalHandled(
  env: TestWorkflowEnvironment,
  workflowId: string,
  firstRunId: string,
  marker: string,
  timeoutMs = 15_000,
): Promise<void> {
  await pollUntil({
    what: `the signal carrying ${marker} to be handled`,
    read: () => signalHandledInChain(env, workflowId, firstRunId, marker),
    done: (handled) => handled,
    timeoutMs,
  });
}

/** Whether a run of the chain from `firstRunId` holds the signal carrying `marker` and a completed task after it. */
async function signalHandledInChain(
  env: TestWorkflowEnvironment,
  workflowId: string,
  firstRunId: string,
  marker: string,
): Promise<boolean> {
  let runId: string | undefined = firstRunId;
  while (runId) {
    const history: History = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
    const events = history.events ?? [];
    const mentions: boolean[] = [];
    for (const e of events) {
      const payloads = (await decodedPayloads(
        env,
        e.workflowExecutionSignaledEventAttributes?.input?.payloads ?? [],
      )) as Payload[];
      mentions.push(payloads.some((p) => p.data && Buffer.from(p.data).toString('utf8').includes(marker)));
    }
    const signalAt = mentions.indexOf(true);
    if (signalAt >= 0 && events.slice(signalAt).some((e) => e.workflowTaskCompletedEventAttributes)) return true;
    runId = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
  }
  return false;
}

async function waitForOutbound(handle: Handle, messageId: string, status: string): Promise<void> {
  await pollUntil({
    what: `${messageId} to be ${status}`,
    read: () => handle.query(outboundMessagesQuery),
    done: (view) => view.messages.some((m) => m.messageId === messageId && m.status === status),
    describe: (view) => JSON.stringify(view.messages.map((m) => [m.messageId, m.status, m.log.map((l) => l.event)])),
  });
}

// --- Recording -----------------------------------------------------------------------------------

interface Recorded {
  scenario: ScenarioName;
  runs: History[];
}

/** Every run of the chain that starts at `firstRunId`, following continue-as-new. */
async function fetchChain(
  env: TestWorkflowEnvironment,
  workflowId: string,
  firstRunId: string,
  open = false,
): Promise<History[]> {
  const runs: History[] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const history = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
    runs.push(history);
    runId = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    if (runs.length > 20) throw new Error(`${workflowId}: more than 20 runs`);
  }
  const last = runs.at(-1)?.events?.at(-1);
  if (open) {
    if (last?.eventType !== undefined && !last.workflowTaskCompletedEventAttributes)
      throw new Error(
        `${workflowId}: an open history should end with a completed workflow task (last event ${String(last.eventType)})`,
      );
    return runs;
  }
  if (!last?.workflowExecutionCompletedEventAttributes)
    throw new Error(`${workflowId}: the last run did not complete (last event ${String(last?.eventType)})`);
  return runs;
}

async function record(
  env: TestWorkflowEnvironment,
  bundle: WorkflowBundleWithSourceMap,
  scenario: Scenario,
): Promise<Recorded> {
  const workflowId = workflowIdFor(scenario.name);
  const taskQueue = uniqueTaskQueue(`record-${scenario.name}`);
  const earlier: string[] = [];
  // A reopened conversation reads the result of its latest closed run, as the worker's visibility loader does.
  const previousRuns = {
    previousRun: async (id: string) =>
      earlier.length > 0 ? env.client.workflow.getHandle(id, earlier.at(-1)).result() : undefined,
  };
  const routing = {
    forVersion: (version: string) =>
      ROUTING_VERSIONS[version] ? { version, routing: ROUTING_VERSIONS[version] } : undefined,
  };
  const { activities } = recordingActivities({ previousRuns, routing, ...scenario.activities });
  const worker = await Worker.create({
    connection: env.nativeConnection,
    taskQueue,
    workflowBundle: bundle,
    activities,
    dataConverter: testDataConverter(),
  });
  const latest = env.client.workflow.getHandle<typeof conversationWorkflow>(workflowId);
  const ctx: ScenarioContext = {
    env,
    latest,
    earlier,
    start: (input) => env.client.workflow.start(conversationWorkflow, { workflowId, taskQueue, args: [input] }),
    signalWithStart: (input, events) =>
      env.client.workflow.signalWithStart(conversationWorkflow, {
        workflowId,
        taskQueue,
        args: [input],
        signal: inboundEventsSignal,
        signalArgs: [events],
      }),
    deliver: (routingVersion, events, settings) => {
      const gateway = new ConversationsClient({
        client: env.client,
        taskQueue,
        timeoutMs: 10_000,
        workflowIds: { revealPhoneNumbers: false, secret: 'replay' },
        startInput: { routingVersion, ...(settings ? { settings } : {}) },
      });
      return env.client.workflow.signalWithStart(conversationWorkflow, {
        ...gateway.deliveryOptions(RBM_KEY, events),
        workflowId,
      });
    },
  };
  return worker.runUntil(async () => {
    try {
      console.log(`${scenario.name}: driving`);
      const firstRunId = await withTimeout(scenario.drive(ctx), 60_000, `${scenario.name} to be driven`);
      if (!scenario.open) {
        console.log(`${scenario.name}: waiting for the conversation to go quiet and complete`);
        // Time skips while we wait: the conversation goes quiet for its idleTimeout and completes.
        await withTimeout(latest.result(), 60_000, `${workflowId} to complete`);
      }
      const earlier: History[] = [];
      for (const runId of ctx.earlier) earlier.push(...(await fetchChain(env, workflowId, runId)));
      const runs = [...earlier, ...(await fetchChain(env, workflowId, firstRunId, scenario.open))];
      if (scenario.minRuns !== undefined && runs.length < scenario.minRuns)
        throw new Error(`${workflowId}: expected at least ${scenario.minRuns} runs, got ${runs.length}`);
      return { scenario: scenario.name, runs };
    } finally {
      // A run left open would stop the shared test server from skipping time for the next scenario.
      await latest.terminate('recording finished').catch(() => undefined);
    }
  });
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Compact proto3 JSON: replayers only need the events (see history-json.ts for why not historyToJSON). */
function serialize(history: History): string {
  return `${JSON.stringify(historyToJsonObject(history))}\n`;
}

/** Committed files of a scenario (its single history or the runs of its chain). */
function committedFiles(scenario: string): string[] {
  mkdirSync(HISTORIES_DIR, { recursive: true });
  return readdirSync(HISTORIES_DIR).filter(
    (file) => file === historyFileName(scenario) || (file.startsWith(`${scenario}.run-`) && file.endsWith('.json')),
  );
}

function write(recorded: Recorded): string[] {
  // Only reached with --overwrite when the scenario has files: drop them first (a chain may now have fewer runs).
  for (const file of committedFiles(recorded.scenario)) rmSync(path.join(HISTORIES_DIR, file));
  const files = recorded.runs.map((_, i) =>
    historyFileName(recorded.scenario, recorded.runs.length > 1 ? i + 1 : undefined),
  );
  recorded.runs.forEach((history, i) =>
    writeFileSync(path.join(HISTORIES_DIR, files[i] as string), serialize(history)),
  );
  return files;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const overwrite = args.includes('--overwrite');
  const wanted = args.filter((a) => a !== '--overwrite');
  const unknown = wanted.filter((name) => !(SCENARIOS as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIOS.join(', ')}`);
  const selected = scenarios.filter((s) =>
    wanted.length === 0 ? committedFiles(s.name).length === 0 : wanted.includes(s.name),
  );
  // Committed histories are what running conversations look like: a behaviour change gets a new
  // scenario beside them, never a re-recording of an old one.
  const already = selected.filter((s) => committedFiles(s.name).length > 0);
  if (already.length > 0 && !overwrite) {
    throw new Error(
      `${already.map((s) => s.name).join(', ')} already recorded: add a new scenario for new behaviour (or pass --overwrite to replace a history no running conversation can have)`,
    );
  }
  if (selected.length === 0) {
    console.log('every scenario is recorded already; name one (with --overwrite) to record it again');
    return;
  }

  const bundle = await bundleWorkflowCode({
    workflowsPath: path.join(projectRoot, 'src', 'workflows'),
    logger: new DefaultLogger('WARN'),
  });
  // The production payload codec with the test key: histories are recorded as production writes them.
  const env = await createTimeSkippingEnv({ dataConverter: testDataConverter() });
  const recorded: Recorded[] = [];
  try {
    // One scenario at a time: time is global on the test server.
    for (const scenario of selected) {
      recorded.push(await record(env, bundle, scenario));
    }
  } finally {
    await env.teardown();
  }
  // Write only after every selected scenario succeeded, so a failed run leaves the committed files alone.
  for (const r of recorded) {
    const files = write(r);
    files.forEach((file, i) => console.log(`${file}: ${r.runs[i]?.events?.length ?? 0} events`));
  }
}

main().catch((err: unknown) => {
  console.error(err);
  // Exit at once: a failed scenario can leave client retries pending that would keep Node alive.
  process.exit(1);
});
