/**
 * Records the histories the replay test (replay.test.ts) runs against the current workflow code.
 *
 *   npm run record-histories                 # every scenario
 *   npm run record-histories -- redelivery   # only the named scenario(s)
 *
 * Each scenario drives one conversation workflow on the time-skipping test server (the pinned
 * binary, as the workflow tests use) with activities that only record their calls, lets it go
 * quiet until it completes by itself (short idleTimeout, time skipped), and writes every run's
 * history to test/replay/histories/. A plain tsx script, not a Jest test: webpack (bundling the
 * workflows) does not run inside Jest's module sandbox.
 *
 * Re-record only on purpose: see "Replay tests" in the README.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type WorkflowHandle, type WorkflowHandleWithFirstExecutionRunId, type WorkflowHandleWithSignaledRunId } from '@temporalio/client';
import { type History } from '@temporalio/common/lib/proto-utils';
import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Worker, bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { type InboundEvent } from '../../src/domain/inbound';
import { projectRoot } from '../../src/temporal/binaries';
import { conversationWorkflow } from '../../src/workflows';
import {
  agentTypingUpdate,
  assignUpdate,
  type ConversationInput,
  type ConversationView,
  conversationStateQuery,
  inboundEventsSignal,
  markReadUpdate,
  outboundMessagesQuery,
  sendMessageUpdate,
  sendMessageUpdateId,
} from '../../src/workflows/definitions';
import { type OutboundSendInput } from '../../src/workflows/outbound/types';
import { recordingActivities } from '../helpers/recording-activities';
import { exampleRouting } from '../helpers/routing';
import { createTimeSkippingEnv, uniqueTaskQueue } from '../helpers/temporal';
import { historyToJsonObject } from './history-json';
import { HISTORIES_DIR, historyFileName, SCENARIOS, type ScenarioName, workflowIdFor } from './histories';

type Handle = WorkflowHandle<typeof conversationWorkflow>;

const MIN = 60_000;
const RBM_KEY = 'rbm:agent@rbm.goog:+14155550100';
const BM_KEY = 'bm:replay-conversation-1';

interface ScenarioContext {
  env: TestWorkflowEnvironment;
  /** Starts the scenario's workflow (fixed workflow id, own task queue). */
  start(input: ConversationInput): Promise<WorkflowHandleWithFirstExecutionRunId<typeof conversationWorkflow>>;
  /** Starts it through signal-with-start, the webhook's path. */
  signalWithStart(input: ConversationInput, events: InboundEvent[]): Promise<WorkflowHandleWithSignaledRunId<typeof conversationWorkflow>>;
  /** A handle on the latest run (follows continue-as-new). */
  latest: Handle;
}

interface Scenario {
  name: ScenarioName;
  /** Drives the conversation; the recorder then waits for the (last) run to complete. Returns the first run's id. */
  drive(ctx: ScenarioContext): Promise<string>;
  /** For continue-as-new: the chain must have at least this many runs. */
  minRuns?: number;
}

// --- Events as the webhook normalizes them (fixed ids, so re-recorded files differ only in times) ---

function text(key: string, messageId: string, body: string, context?: Extract<InboundEvent, { type: 'message' }>['context']): InboundEvent {
  const channel = key.startsWith('bm:') ? 'bm' : 'rbm';
  return { type: 'message', channel, conversationKey: key, dedupeKey: messageId, messageId, content: { kind: 'text', text: body }, ...(context ? { context } : {}), receivedAt: new Date().toISOString() };
}

function liveAgentRequest(key: string, requestId: string): InboundEvent {
  return { type: 'live_agent_requested', channel: 'bm', conversationKey: key, dedupeKey: requestId, receivedAt: new Date().toISOString() };
}

function receipt(key: string, messageId: string, kind: 'DELIVERED' | 'READ'): InboundEvent {
  return { type: 'receipt', channel: key.startsWith('bm:') ? 'bm' : 'rbm', conversationKey: key, dedupeKey: `${kind.toLowerCase()}-${messageId}`, messageId, receipt: kind, receivedAt: new Date().toISOString() };
}

function ttlRevokeFailed(key: string, messageId: string): InboundEvent {
  return { type: 'ttl_expired', channel: 'rbm', conversationKey: key, dedupeKey: `ttl-${messageId}`, messageId, revoked: false, receivedAt: new Date().toISOString() };
}

function send(handle: Handle, input: OutboundSendInput & { idempotencyKey: string }) {
  return handle.executeUpdate(sendMessageUpdate, { args: [input], updateId: sendMessageUpdateId(input.idempotencyKey) });
}

/** Polls the latest run's state until `done` holds; query errors (e.g. mid continue-as-new) are retried. */
async function stateUntil(handle: Handle, done: (view: ConversationView) => boolean, what: string, timeoutMs = 15_000): Promise<ConversationView> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const view = await handle.query(conversationStateQuery);
      if (done(view)) return view;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// --- The scenarios -----------------------------------------------------------------------------

const scenarios: Scenario[] = [
  {
    // New RBM conversation with a known question: automation marks it READ and answers from the FAQ.
    name: 'faq-answer',
    async drive({ signalWithStart }) {
      const handle = await signalWithStart({ key: RBM_KEY, routing: exampleRouting(), settings: { idleTimeout: '1 hour' } }, [text(RBM_KEY, 'faq-m1', 'what are your opening hours?')]);
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
        { key: BM_KEY, routing: exampleRouting(), settings: { handoffSla: '2 minutes', typingKeepAlive: '15 seconds', idleTimeout: '1 hour' } },
        [text(BM_KEY, 'handoff-m1', 'my parcel never arrived', { displayName: 'Maria Gonzalez', resolvedLocale: 'en' })],
      );
      await stateUntil(handle, (s) => s.routingDecisions.length >= 1, 'the first message to be routed');
      await handle.signal(inboundEventsSignal, [liveAgentRequest(BM_KEY, 'handoff-req-1')]);
      await stateUntil(handle, (s) => s.status === 'waiting_for_agent', 'the handoff');
      const outboundBefore = (await handle.query(conversationStateQuery)).history.filter((h) => h.direction === 'outbound').length;
      await env.sleep('3 minutes');
      await stateUntil(handle, (s) => s.history.filter((h) => h.direction === 'outbound').length > outboundBefore, 'the SLA holding message');
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
      await stateUntil(handle, (s) => s.readReceiptsSent.includes('dup-m1') && s.history.length >= 2, 'the first delivery to be answered');
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
];

/** Waits until some run of the chain recorded a signal mentioning `marker` and completed a workflow task after it. */
async function signalHandled(env: TestWorkflowEnvironment, workflowId: string, firstRunId: string, marker: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let runId: string | undefined = firstRunId;
    while (runId) {
      const history: History = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
      const events = history.events ?? [];
      const signalAt = events.findIndex((e) => e.workflowExecutionSignaledEventAttributes?.input?.payloads?.some((p) => p.data && Buffer.from(p.data).toString('utf8').includes(marker)));
      if (signalAt >= 0 && events.slice(signalAt).some((e) => e.workflowTaskCompletedEventAttributes)) return;
      runId = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for the signal carrying ${marker} to be handled`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function waitForOutbound(handle: Handle, messageId: string, status: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const view = await handle.query(outboundMessagesQuery);
    if (view.messages.some((m) => m.messageId === messageId && m.status === status)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${messageId} to be ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// --- Recording -----------------------------------------------------------------------------------

interface Recorded {
  scenario: ScenarioName;
  runs: History[];
}

/** Every run of the chain that starts at `firstRunId`, following continue-as-new. */
async function fetchChain(env: TestWorkflowEnvironment, workflowId: string, firstRunId: string): Promise<History[]> {
  const runs: History[] = [];
  let runId: string | undefined = firstRunId;
  while (runId) {
    const history = await env.client.workflow.getHandle(workflowId, runId).fetchHistory();
    runs.push(history);
    runId = history.events?.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId ?? undefined;
    if (runs.length > 20) throw new Error(`${workflowId}: more than 20 runs`);
  }
  const last = runs.at(-1)?.events?.at(-1);
  if (!last?.workflowExecutionCompletedEventAttributes) throw new Error(`${workflowId}: the last run did not complete (last event ${String(last?.eventType)})`);
  return runs;
}

async function record(env: TestWorkflowEnvironment, bundle: WorkflowBundleWithSourceMap, scenario: Scenario): Promise<Recorded> {
  const workflowId = workflowIdFor(scenario.name);
  const taskQueue = uniqueTaskQueue(`record-${scenario.name}`);
  const { activities } = recordingActivities();
  const worker = await Worker.create({ connection: env.nativeConnection, taskQueue, workflowBundle: bundle, activities });
  const latest = env.client.workflow.getHandle<typeof conversationWorkflow>(workflowId);
  const ctx: ScenarioContext = {
    env,
    latest,
    start: (input) => env.client.workflow.start(conversationWorkflow, { workflowId, taskQueue, args: [input] }),
    signalWithStart: (input, events) => env.client.workflow.signalWithStart(conversationWorkflow, { workflowId, taskQueue, args: [input], signal: inboundEventsSignal, signalArgs: [events] }),
  };
  return worker.runUntil(async () => {
    try {
      console.log(`${scenario.name}: driving`);
      const firstRunId = await withTimeout(scenario.drive(ctx), 60_000, `${scenario.name} to be driven`);
      console.log(`${scenario.name}: waiting for the conversation to go quiet and complete`);
      // Time skips while we wait: the conversation goes quiet for its idleTimeout and completes.
      await withTimeout(latest.result(), 60_000, `${workflowId} to complete`);
      const runs = await fetchChain(env, workflowId, firstRunId);
      if (scenario.minRuns !== undefined && runs.length < scenario.minRuns) throw new Error(`${workflowId}: expected at least ${scenario.minRuns} runs, got ${runs.length}`);
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

function write(recorded: Recorded): string[] {
  mkdirSync(HISTORIES_DIR, { recursive: true });
  // Drop the scenario's previous files first: a chain may now have fewer runs.
  for (const file of readdirSync(HISTORIES_DIR)) {
    if (file === historyFileName(recorded.scenario) || (file.startsWith(`${recorded.scenario}.run-`) && file.endsWith('.json'))) rmSync(path.join(HISTORIES_DIR, file));
  }
  const files = recorded.runs.map((_, i) => historyFileName(recorded.scenario, recorded.runs.length > 1 ? i + 1 : undefined));
  recorded.runs.forEach((history, i) => writeFileSync(path.join(HISTORIES_DIR, files[i] as string), serialize(history)));
  return files;
}

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((name) => !(SCENARIOS as readonly string[]).includes(name));
  if (unknown.length > 0) throw new Error(`unknown scenario(s) ${unknown.join(', ')}; known: ${SCENARIOS.join(', ')}`);
  const selected = scenarios.filter((s) => wanted.length === 0 || wanted.includes(s.name));

  const bundle = await bundleWorkflowCode({ workflowsPath: path.join(projectRoot, 'src', 'workflows'), logger: new DefaultLogger('WARN') });
  const env = await createTimeSkippingEnv();
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
