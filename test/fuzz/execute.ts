/**
 * Runs one sequence against the time-skipping server and the worker child: every step as the
 * webhook or the operator API would do it (signal-with-start per inbound event, update-with-start
 * for sends, updates for assign / read / typing), then lets the conversation settle and collects
 * what the invariants need: every run of the chain with its history, the final state, the search
 * attributes and the activity attempts the scripted platform saw.
 */
import {
  type Client,
  WithStartWorkflowOperation,
  type WorkflowUpdateHandle,
  WorkflowUpdateStage,
} from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { type TestWorkflowEnvironment } from '@temporalio/testing';

import { type InboundEvent, type MessageContent } from '../../src/domain/inbound';
import { type RoutingConfig } from '../../src/routing';
import { workflowIdFor } from '../../src/temporal/workflow-ids';
import { conversationWorkflow } from '../../src/workflows';
import { type ConversationSnapshot } from '../../src/workflows/definitions';
import {
  agentTypingUpdate,
  assignUpdate,
  type CarriedConversation,
  type ConversationInput,
  conversationStateQuery,
  type ConversationView,
  inboundEventsSignal,
  markReadUpdate,
  searchAttributes,
  sendMessageUpdate,
  sendMessageUpdateId,
} from '../../src/workflows/definitions';
import { outboundMessagesQuery } from '../../src/workflows/definitions';
import { type OutboundMessagesView, type OutboundSendInput } from '../../src/workflows/outbound/types';
import { type CallRecord } from './protocol';
import { type Sequence, type Step } from './steps';
import { type WorkerHost } from './worker-host';

/** The conversation settings every fuzzed conversation runs with (plus the sequence's own). */
export const FUZZ_SETTINGS = { handoffSla: '5 minutes', typingKeepAlive: '15 seconds' } as const;
/** Google redelivers for up to 7 days: a redelivery later than this may be handled again. */
export const REDELIVERY_PERIOD_MS = 7 * 24 * 60 * 60_000;

/**
 * Time on the test server is global: skips of all lanes go through here one at a time, and each
 * lane can tell how much time others skipped since it last looked (recorded in its trace, so a
 * failing trace replays alone with the same time line).
 */
export class SharedClock {
  total = 0;
  /** Skips that did not return in time: a workflow task the worker never completed holds the test server's clock. */
  stalls = 0;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly env: TestWorkflowEnvironment,
    /** Called when a skip stalls (the runner kills the worker, which frees the clock). */
    private readonly onStall: () => Promise<void>,
    private readonly stallMs = 60_000,
  ) {}

  /** Runs `fn` while no lane skips time (only real time passes meanwhile). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => undefined);
    return run;
  }

  skip(ms: number): Promise<void> {
    const run = this.chain.then(async () => {
      let timer: NodeJS.Timeout | undefined;
      const stalled = new Promise<'stalled'>((resolve) => (timer = setTimeout(() => resolve('stalled'), this.stallMs)));
      const outcome = await Promise.race([this.env.sleep(ms).then(() => 'skipped' as const), stalled]).finally(() =>
        clearTimeout(timer),
      );
      if (outcome === 'stalled') {
        this.stalls++;
        await this.onStall();
        throw new Error(
          `a ${ms} ms time skip did not return within ${this.stallMs} ms: a workflow task never completed (worker killed)`,
        );
      }
      this.total += ms;
    });
    this.chain = run.catch(() => undefined);
    return run;
  }
}

export interface FuzzContext {
  env: TestWorkflowEnvironment;
  /** A plain client: the environment's own client unlocks time skipping while it waits for results. */
  client: Client;
  clock: SharedClock;
  host: WorkerHost;
  taskQueue: string;
  routing: RoutingConfig;
  /** Real-time bound on a call that should be quick (signal, update acceptance, query). */
  callTimeoutMs: number;
  /** Every step and phase as it starts (--trace). */
  debug?: (line: string) => void;
}

/** One run of the conversation's chain as its history tells it. */
export interface RunObservation {
  runId: string;
  /** Last event type (e.g. WorkflowExecutionCompleted), or RUNNING. */
  status: string;
  historyLength: number;
  /** Each failed workflow task; `sinceCompleted`: how many tasks in a row had failed by then (1 = the first since a completed one). */
  workflowTaskFailures: { cause: string; message: string; sinceCompleted: number }[];
  workflowTaskTimeouts: number;
  /** Activities the run scheduled that have no completion, failure, timeout or cancellation in its history. */
  openActivities: string[];
  result?: CarriedConversation;
}

export interface UpdateObservation {
  step: number;
  name: string;
  idem?: string;
  outcome: 'completed' | 'failed' | 'rejected' | 'not_accepted' | 'pending';
  messageId?: string;
  detail?: string;
}

export interface Observation {
  conversationKey: string;
  workflowId: string;
  /** The steps as executed, with time others skipped inserted as `skip` steps (replayable alone). */
  trace: Step[];
  /** Accepted user messages: id → server time of the first accepted delivery, deliveries. */
  messages: Map<string, { firstAtMs: number; deliveries: number; lastAtMs: number; kind: MessageContent['kind'] }>;
  runs: RunObservation[];
  view?: ConversationView;
  outbound?: OutboundMessagesView;
  /** Routing decisions of every run segment (runs that completed plus the running one), deduplicated. */
  decisions: ConversationView['routingDecisions'];
  decisionsTruncated: boolean;
  searchAttributes?: { status?: string; queue?: string; channel?: string; locale?: string };
  describeStatus?: string;
  updates: UpdateObservation[];
  calls: readonly CallRecord[];
  workerDied: boolean;
  workerExit?: string;
  errors: string[];
  /** The latest run kept a workflow task or an activity outstanding after the settle, or did not answer a query with a workflow task pending. */
  stuckWorkflowTask?: string;
  realMs: number;
  startServerMs: number;
}

const MAX_DECISIONS_KEPT = 50;
let conversationCounter = 0;

function conversationKeyFor(seq: Sequence, slot: number): string {
  const n = String(slot).padStart(7, '0');
  if (seq.setup.channel === 'bm') return `bm:fuzz-${seq.seed.toString(16)}-${n}`;
  const msisdn =
    seq.setup.country === 'FR'
      ? `+336${n.slice(-8).padStart(8, '1')}`
      : seq.setup.country === 'ES'
        ? `+346${n.slice(-8).padStart(8, '1')}`
        : `+1415555${n.slice(-4)}`;
  return `rbm:fuzz@rbm.goog:${msisdn}`;
}

function contentOf(text: string): MessageContent {
  if (text === '[image]') return { kind: 'image', url: 'https://example.invalid/photo.jpg' };
  if (text.startsWith('faq:')) return { kind: 'suggestion', postbackData: text, suggestionType: 'REPLY', text };
  return { kind: 'text', text };
}

/** Executes `seq` in a conversation of its own and observes the outcome. Never throws for a workflow's fault. */
export async function executeSequence(
  ctx: FuzzContext,
  seq: Sequence,
  options: { settleMs: number; idleTimeoutMs: number },
): Promise<Observation> {
  const realStart = Date.now();
  // US numbers have 4 free digits: slots wrap after 10 000 conversations per server, which a run never reaches per number space.
  const slot = ++conversationCounter;
  const key = conversationKeyFor(seq, slot);
  const workflowId = workflowIdFor(key, { revealPhoneNumbers: false, secret: 'fuzz' });
  const { client, host } = ctx;
  const workerGeneration = host.generation;
  await host.register(workflowId, key);
  const input: ConversationInput = {
    key,
    ...(seq.setup.routing ? { routing: ctx.routing } : {}),
    settings: {
      ...FUZZ_SETTINGS,
      idleTimeout: options.idleTimeoutMs,
      continueAsNewAfterEvents: seq.setup.continueAsNewAfterEvents,
      ...(seq.setup.dedupeWindow !== undefined ? { dedupeWindow: seq.setup.dedupeWindow } : {}),
    },
  };
  const channel = seq.setup.channel;
  const obs: Observation = {
    conversationKey: key,
    workflowId,
    trace: [],
    messages: new Map(),
    runs: [],
    decisions: [],
    decisionsTruncated: false,
    updates: [],
    calls: [],
    workerDied: false,
    errors: [],
    realMs: 0,
    startServerMs: await ctx.env.currentTimeMs(),
  };
  const runIds = new Set<string>();
  const delivered: InboundEvent[] = [];
  const pendingUpdates: { obs: UpdateObservation; handle: Promise<WorkflowUpdateHandle<unknown>> }[] = [];
  let eventCounter = 0;
  let ownSkips = 0;
  let seenTotal = ctx.clock.total;
  const clockAtStart = ctx.clock.total;
  let serverNow = obs.startServerMs;

  const bounded = <T>(fn: () => Promise<T>, ms = ctx.callTimeoutMs) => client.withDeadline(Date.now() + ms, fn);
  const deliver = async (events: InboundEvent[]): Promise<boolean> => {
    try {
      const handle = await bounded(() =>
        client.workflow.signalWithStart(conversationWorkflow, {
          workflowId,
          taskQueue: ctx.taskQueue,
          args: [input],
          signal: inboundEventsSignal,
          signalArgs: [events],
        }),
      );
      runIds.add(handle.signaledRunId);
      return true;
    } catch (err) {
      obs.errors.push(`signalWithStart: ${(err as Error).message}`);
      return false;
    }
  };
  const skip = async (ms: number): Promise<number> => {
    try {
      await ctx.clock.skip(ms);
      return ms;
    } catch (err) {
      obs.errors.push(`time skip: ${(err as Error).message}`);
      return 0;
    }
  };
  const event = (body: Record<string, unknown>, dedupeKey: string): InboundEvent => {
    const at = new Date(serverNow).toISOString();
    return { channel, conversationKey: key, dedupeKey, receivedAt: at, occurredAt: at, ...body } as InboundEvent;
  };
  const outboundIds = () => [
    ...new Set(
      host
        .calls(key)
        .filter((c) => c.activity === 'sendMessage' && c.effect && c.messageId)
        .map((c) => c.messageId as string),
    ),
  ];
  const startUpdate = (
    index: number,
    name: string,
    fn: () => Promise<WorkflowUpdateHandle<unknown>>,
    idem?: string,
  ) => {
    const u: UpdateObservation = { step: index, name, ...(idem ? { idem } : {}), outcome: 'pending' };
    obs.updates.push(u);
    const handle = bounded(fn);
    pendingUpdates.push({ obs: u, handle });
    // Acceptance is awaited here, so the next step sees the update in history; its result is collected when the sequence settles.
    return handle.then(
      () => undefined,
      (err: unknown) => {
        const message = (err as Error).message ?? String(err);
        u.outcome = /deadline|timed? ?out/i.test(message) ? 'not_accepted' : 'rejected';
        u.detail = message;
      },
    );
  };

  for (let index = 0; index < seq.steps.length; index++) {
    const step = seq.steps[index] as Step;
    if (!host.alive) break;
    const foreign = ctx.clock.total - seenTotal - ownSkips;
    if (foreign > 0) obs.trace.push({ k: 'skip', ms: foreign });
    seenTotal = ctx.clock.total;
    ownSkips = 0;
    // Server time without a call per step: skips are ours to count, and between them the test server's clock runs in real time.
    serverNow = obs.startServerMs + (ctx.clock.total - clockAtStart) + (Date.now() - realStart);
    obs.trace.push(step);
    ctx.debug?.(`${workflowId} step ${index} ${JSON.stringify(step)} at +${Date.now() - realStart} ms`);
    switch (step.k) {
      case 'msg': {
        const messageId = `u-${step.id}`;
        const content = contentOf(step.text);
        const context = channel === 'bm' ? { ...seq.setup.bmLocale, displayName: 'Maria Gonzalez' } : undefined;
        const ev = event({ type: 'message', messageId, content, ...(context ? { context } : {}) }, messageId);
        if (await deliver([ev])) {
          delivered.push(ev);
          obs.messages.set(messageId, { firstAtMs: serverNow, lastAtMs: serverNow, deliveries: 1, kind: content.kind });
        }
        break;
      }
      case 'redeliver': {
        if (delivered.length === 0) break;
        const original = delivered[step.pick % delivered.length] as InboundEvent;
        const again = { ...original, receivedAt: new Date(serverNow).toISOString() };
        if ((await deliver([again])) && original.type === 'message') {
          const m = obs.messages.get(original.messageId);
          if (m) {
            m.deliveries++;
            m.lastAtMs = serverNow;
          }
        }
        break;
      }
      case 'receipt': {
        const ids = outboundIds();
        if (ids.length === 0) break;
        const ev = event(
          { type: 'receipt', messageId: ids[step.pick % ids.length], receipt: step.receipt },
          `ev-${++eventCounter}`,
        );
        if (await deliver([ev])) delivered.push(ev);
        break;
      }
      case 'ttl': {
        const ids = outboundIds();
        if (ids.length === 0) break;
        const ev = event(
          { type: 'ttl_expired', messageId: ids[step.pick % ids.length], revoked: step.revoked },
          `ttl-${++eventCounter}`,
        );
        if (await deliver([ev])) delivered.push(ev);
        break;
      }
      case 'typing': {
        const ev = event({ type: 'typing', isTyping: step.on }, `ty-${++eventCounter}`);
        if (await deliver([ev])) delivered.push(ev);
        break;
      }
      case 'liveAgent': {
        const ev = event({ type: 'live_agent_requested' }, `la-${++eventCounter}`);
        if (await deliver([ev])) delivered.push(ev);
        break;
      }
      case 'send': {
        const request: OutboundSendInput = {
          conversationKey: key,
          content: { text: `operator message ${step.idem}` },
          ...(step.human ? { representative: { type: 'HUMAN', displayName: 'Alice' } } : {}),
          policy: {
            ...(step.deliverWithinMs !== undefined ? { deliverWithinMs: step.deliverWithinMs } : {}),
            ...(step.readWithinMs !== undefined ? { readWithinMs: step.readWithinMs } : {}),
            ...(step.sms
              ? {
                  fallbackSms: {
                    text: `operator message ${step.idem} (SMS)`,
                    ...(channel === 'bm' ? { to: '+14155550199' } : {}),
                  },
                }
              : {}),
            ...(step.timeSensitive ? { timeSensitive: true } : {}),
          },
          idempotencyKey: step.idem,
          origin: 'operator',
        };
        const startWorkflowOperation = new WithStartWorkflowOperation(conversationWorkflow, {
          workflowId,
          taskQueue: ctx.taskQueue,
          args: [input],
          workflowIdConflictPolicy: 'USE_EXISTING',
        });
        await startUpdate(
          index,
          'sendMessage',
          () =>
            client.workflow.startUpdateWithStart(sendMessageUpdate, {
              args: [request],
              updateId: sendMessageUpdateId(step.idem),
              waitForStage: WorkflowUpdateStage.ACCEPTED,
              startWorkflowOperation,
            }) as Promise<WorkflowUpdateHandle<unknown>>,
          step.idem,
        );
        break;
      }
      case 'assign':
        await startUpdate(index, `assign:${step.to}`, () =>
          client.workflow.getHandle(workflowId).startUpdate(assignUpdate, {
            args: [
              step.to === 'human'
                ? { to: 'human', agentId: step.agent ?? 'alice', displayName: step.agent }
                : { to: 'automation' },
            ],
            waitForStage: WorkflowUpdateStage.ACCEPTED,
          }),
        );
        break;
      case 'read':
        await startUpdate(index, 'markRead', () =>
          client.workflow
            .getHandle(workflowId)
            .startUpdate(markReadUpdate, { args: [{ agentId: 'alice' }], waitForStage: WorkflowUpdateStage.ACCEPTED }),
        );
        break;
      case 'agentTyping':
        await startUpdate(index, `agentTyping:${step.on}`, () =>
          client.workflow.getHandle(workflowId).startUpdate(agentTypingUpdate, {
            args: [{ agentId: 'alice', typing: step.on }],
            waitForStage: WorkflowUpdateStage.ACCEPTED,
          }),
        );
        break;
      case 'fault':
        await host
          .script(key, step.activity, step.outcomes)
          .catch((err: Error) => obs.errors.push(`script: ${err.message}`));
        break;
      case 'skip':
        ownSkips += await skip(step.ms);
        break;
      case 'idle':
        ownSkips += await skip(options.idleTimeoutMs + 60_000);
        break;
    }
  }

  ctx.debug?.(`${workflowId} settling at +${Date.now() - realStart} ms`);
  // Settle: let retries, timers and handlers run out, then collect every update's outcome. The
  // half second keeps the settle's end off the timers a sequence sets (whole seconds after one of
  // its steps, e.g. the idle deadline right after the last step when settle = idle timeout).
  for (let left = options.settleMs + SETTLE_OFFSET_MS; left > 0 && host.alive; left -= 30 * 60_000)
    await skip(Math.min(left, 30 * 60_000));
  ctx.debug?.(`${workflowId} collecting updates at +${Date.now() - realStart} ms`);
  if (host.alive) await collectUpdates(pendingUpdates, ctx);
  ctx.debug?.(`${workflowId} observing at +${Date.now() - realStart} ms`);
  // Observed and terminated while no lane skips time, once nothing is in flight: a run terminated
  // with a workflow task or an activity outstanding leaves the test server's clock locked for
  // good (sdk-java #1138), and a timer firing mid-observation would mix two runs' views.
  await ctx.clock.exclusive(async () => {
    for (let attempt = 0; attempt < 3; attempt++) {
      const before = await untilQuiet(ctx, obs);
      await observeChain(ctx, obs, runIds);
      if (before === undefined || before === (await untilQuiet(ctx, obs))) break;
    }
    // A conversation left running would keep its timers firing in later sequences' time skips.
    await client.workflow
      .getHandle(workflowId)
      .terminate('fuzz sequence observed')
      .catch(() => undefined);
  });
  obs.calls = [...host.calls(key)];
  obs.workerDied = host.generation !== workerGeneration || !host.alive;
  if (obs.workerDied && host.lastExit)
    obs.workerExit = `code ${host.lastExit.code}, signal ${host.lastExit.signal}\n${host.lastExit.stderrTail}`;
  await host.forget(key);
  obs.realMs = Date.now() - realStart;
  return obs;
}

/** Offset of the settle's end from whole seconds (see executeSequence). */
const SETTLE_OFFSET_MS = 500;

/**
 * Waits (polling in real time, bounded) until the chain's latest run has no workflow task and no
 * activity outstanding, and returns its run id and history length; undefined when it is not
 * running, cannot be described or the worker is dead. A run that stays busy is a stuck workflow.
 */
async function untilQuiet(ctx: FuzzContext, obs: Observation): Promise<string | undefined> {
  const started = Date.now();
  // A workflow task completes within its 10 s timeout; an activity attempt may be a `slow` one (31 s).
  const bound = (activitiesOnly: boolean) =>
    started + (activitiesOnly ? Math.max(ctx.callTimeoutMs, 45_000) : ctx.callTimeoutMs);
  const deadline = bound(true);
  for (;;) {
    let d: Awaited<ReturnType<ReturnType<Client['workflow']['getHandle']>['describe']>>;
    try {
      d = await ctx.client.withDeadline(deadline + 5_000, () =>
        ctx.client.workflow.getHandle(obs.workflowId).describe(),
      );
    } catch (err) {
      obs.errors.push(`describe: ${(err as Error).message}`);
      return undefined;
    }
    if (d.status.name !== 'RUNNING' || !ctx.host.alive) return undefined;
    const task = d.raw.pendingWorkflowTask;
    const activities = d.raw.pendingActivities ?? [];
    if (!task && activities.length === 0) return `${d.runId}:${d.historyLength}`;
    if (Date.now() > bound(!task)) {
      const what = [
        task
          ? `a workflow task (${temporal.api.enums.v1.PendingWorkflowTaskState[task.state ?? 0]}, attempt ${task.attempt})`
          : '',
        ...activities.map((a) => `activity ${a.activityType?.name} (attempt ${a.attempt})`),
      ].filter(Boolean);
      obs.stuckWorkflowTask = `run ${d.runId}: ${what.join(', ')} still outstanding ${Math.round((Date.now() - started) / 1000)} s after the settle (history length ${d.historyLength})`;
      return undefined;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function collectUpdates(
  pending: { obs: UpdateObservation; handle: Promise<WorkflowUpdateHandle<unknown>> }[],
  ctx: FuzzContext,
): Promise<void> {
  await Promise.all(
    pending.map(async ({ obs, handle }) => {
      if (obs.outcome !== 'pending') return;
      let h: WorkflowUpdateHandle<unknown>;
      try {
        h = await handle;
      } catch {
        return;
      }
      try {
        const result = await ctx.client.withDeadline(Date.now() + ctx.callTimeoutMs, () => h.result());
        obs.outcome = 'completed';
        const messageId = (result as { messageId?: unknown } | undefined)?.messageId;
        if (typeof messageId === 'string') obs.messageId = messageId;
      } catch (err) {
        const message = (err as Error).message ?? String(err);
        if (/deadline/i.test(message)) obs.detail = 'no result within the settle period';
        else {
          obs.outcome = 'failed';
          obs.detail = message;
        }
      }
    }),
  );
}

const CLOSING_EVENTS = new Set([
  'WorkflowExecutionCompleted',
  'WorkflowExecutionFailed',
  'WorkflowExecutionTerminated',
  'WorkflowExecutionTimedOut',
  'WorkflowExecutionCanceled',
  'WorkflowExecutionContinuedAsNew',
]);

function eventTypeName(e: temporal.api.history.v1.IHistoryEvent): string {
  const attrs = Object.keys(e).find((k) => k.endsWith('EventAttributes') && (e as Record<string, unknown>)[k]);
  if (!attrs) return 'Unknown';
  const name = attrs.replace(/EventAttributes$/, '');
  return name.charAt(0).toUpperCase() + name.slice(1);
}

/** Walks every run of the chain (continue-as-new links both ways, reopened runs from the calls made), oldest first. */
async function observeChain(ctx: FuzzContext, obs: Observation, known: Set<string>): Promise<void> {
  const { client } = ctx;
  const bounded = <T>(fn: () => Promise<T>) => client.withDeadline(Date.now() + ctx.callTimeoutMs * 3, fn);
  // The search attributes and the state of one and the same run: a timer firing as the settle ends
  // (e.g. the idle deadline) can continue the chain while it is observed, so the pair is taken
  // again until the latest run stayed the same across it.
  for (let attempt = 0; attempt < 3; attempt++) {
    let runId: string;
    try {
      const latest = await bounded(() => client.workflow.getHandle(obs.workflowId).describe());
      runId = latest.runId;
      known.add(runId);
      obs.describeStatus = latest.status.name;
      const sa = latest.typedSearchAttributes;
      obs.searchAttributes = {
        status: sa.get(searchAttributes.status),
        queue: sa.get(searchAttributes.queue),
        channel: sa.get(searchAttributes.channel),
        locale: sa.get(searchAttributes.locale),
      };
    } catch (err) {
      obs.errors.push(`describe: ${(err as Error).message}`);
      break;
    }
    obs.view = undefined;
    obs.outbound = undefined;
    // Without a worker a query would wait for the deadline: the dead worker is the finding then.
    if (obs.describeStatus !== 'RUNNING' || !ctx.host.alive) break;
    try {
      const handle = client.workflow.getHandle(obs.workflowId, runId);
      obs.view = await bounded(() => handle.query(conversationStateQuery));
      obs.outbound = await bounded(() => handle.query(outboundMessagesQuery));
      const again = await bounded(() => client.workflow.getHandle(obs.workflowId).describe());
      if (again.runId === runId) break;
      known.add(again.runId);
    } catch (err) {
      const cause = (err as Error).cause as Error | undefined;
      obs.errors.push(`query: ${(err as Error).message}${cause ? ` (${cause.message})` : ''}`);
      // A query the worker never answers: is the run's workflow task stuck?
      try {
        const d = await bounded(() => client.workflow.getHandle(obs.workflowId, runId).describe());
        const task = d.raw.pendingWorkflowTask;
        if (task) {
          const ago = (await ctx.env.currentTimeMs()) - Number(task.scheduledTime?.seconds ?? 0) * 1000;
          obs.stuckWorkflowTask = `run ${runId}: workflow task ${temporal.api.enums.v1.PendingWorkflowTaskState[task.state ?? 0]} (attempt ${task.attempt}) scheduled ${Math.round(ago / 1000)} s before never completed; history length ${d.historyLength}`;
        }
      } catch (e) {
        obs.errors.push(`describe after query: ${(e as Error).message}`);
      }
      break;
    }
  }
  try {
    // The test server has no visibility queries, but it answers the older list calls: every run of the ID, open or closed.
    const filter = { namespace: 'default', maximumPageSize: 1000, executionFilter: { workflowId: obs.workflowId } };
    const [closed, open] = await Promise.all([
      bounded(() => client.workflowService.listClosedWorkflowExecutions(filter)),
      bounded(() => client.workflowService.listOpenWorkflowExecutions(filter)),
    ]);
    for (const e of [...closed.executions, ...open.executions]) if (e.execution?.runId) known.add(e.execution.runId);
  } catch (err) {
    obs.errors.push(`list runs: ${(err as Error).message}`);
  }
  const seen = new Map<string, RunObservation & { startMs: number }>();
  const queue = [...known];
  while (queue.length > 0) {
    const runId = queue.shift() as string;
    if (seen.has(runId)) continue;
    try {
      const history = await bounded(() => client.workflow.getHandle(obs.workflowId, runId).fetchHistory());
      const events = history.events ?? [];
      const open = new Map<string, string>();
      const run: RunObservation & { startMs: number } = {
        runId,
        status: 'RUNNING',
        historyLength: events.length,
        workflowTaskFailures: [],
        workflowTaskTimeouts: 0,
        openActivities: [],
        startMs: Number(events[0]?.eventTime?.seconds ?? 0) * 1000,
      };
      let failedInARow = 0;
      for (const e of events) {
        const type = eventTypeName(e);
        if (type === 'WorkflowTaskCompleted') failedInARow = 0;
        if (type === 'WorkflowTaskFailed')
          run.workflowTaskFailures.push({
            cause: String(e.workflowTaskFailedEventAttributes?.cause ?? ''),
            message: e.workflowTaskFailedEventAttributes?.failure?.message ?? '',
            sinceCompleted: ++failedInARow,
          });
        if (type === 'WorkflowTaskTimedOut') run.workflowTaskTimeouts++;
        if (CLOSING_EVENTS.has(type)) run.status = type;
        if (e.activityTaskScheduledEventAttributes)
          open.set(String(e.eventId), e.activityTaskScheduledEventAttributes.activityType?.name ?? '?');
        const ended =
          e.activityTaskCompletedEventAttributes ??
          e.activityTaskFailedEventAttributes ??
          e.activityTaskTimedOutEventAttributes ??
          e.activityTaskCanceledEventAttributes;
        if (ended) open.delete(String(ended.scheduledEventId));
      }
      run.openActivities = [...open.values()];
      const started = events[0]?.workflowExecutionStartedEventAttributes;
      if (started?.continuedExecutionRunId) queue.push(started.continuedExecutionRunId);
      const next = events.at(-1)?.workflowExecutionContinuedAsNewEventAttributes?.newExecutionRunId;
      if (next) queue.push(next);
      if (run.status === 'WorkflowExecutionCompleted') {
        run.result = (await bounded(() =>
          client.workflow.getHandle(obs.workflowId, runId, { followRuns: false }).result(),
        )) as CarriedConversation;
      }
      seen.set(runId, run);
    } catch (err) {
      obs.errors.push(`history of ${runId}: ${(err as Error).message}`);
    }
  }
  obs.runs = [...seen.values()].sort((a, b) => a.startMs - b.startMs).map(({ startMs: _startMs, ...run }) => run);
  // Decisions: each completed run returned its segment's (a reopened run starts a new list); the running one has the rest.
  const segments: ConversationView['routingDecisions'][] = obs.runs
    .filter((r) => r.result)
    .map((r) => (r.result?.conversation as ConversationSnapshot | undefined)?.decisions ?? []);
  if (obs.view) segments.push(obs.view.routingDecisions);
  const unique = new Map<string, ConversationView['routingDecisions'][number]>();
  for (const segment of segments) {
    if (segment.length >= MAX_DECISIONS_KEPT) obs.decisionsTruncated = true;
    for (const d of segment) unique.set(`${d.messageId}|${d.action}|${d.at}|${d.detail ?? ''}`, d);
  }
  obs.decisions = [...unique.values()];
}
