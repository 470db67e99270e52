/**
 * A rolling upgrade at production shape (test/production/rolling-upgrade.test.ts), with Temporal's
 * Worker Versioning: workers poll as worker deployment `switchboard-<run>` and a build ID, every
 * conversation is AUTO_UPGRADE (src/temporal/worker-factory.ts), and the current version is moved
 * with the Temporal CLI, as the procedure in docs/deployment.md ("Rolling upgrades") does it.
 *
 * 1. Two workers of build A (the bundle without the handoff-sla-escalation change, see
 *    upgrade-bundles.ts) run; A is made current. On A: conversations answer a question (their
 *    idle timers pending), an operator message with a 10-minute deliverWithin timer is SENT to a
 *    phone that does not deliver it (between SENT and DELIVERED), a handoff's SLA expires (the
 *    holding message is sent, without the change) and users keep opening conversations.
 * 2. A worker of build B (the change, behind patched()) starts; one more handoff is requested, its
 *    SLA still running; B is made current; then the A workers are replaced one at a time
 *    (SIGTERM, then a new B worker) while traffic continues. After each step, conversations opened
 *    on A send their next question, and the run waits until new conversations were answered, so
 *    traffic provably flowed through every step.
 * 3. After the last A worker stopped: the pending message is delivered and read, the expired
 *    handoff gets a new message and an operator takes it and gives it back, the second handoff's
 *    SLA expires on B (holding message, then the desk notified again: the change), and every
 *    conversation gets one more event, so each runs its next workflow task on B.
 *
 * Checked from the workflows' histories and state, the simulator and the workers' logs: no workflow
 * task failed or timed out, no non-determinism anywhere, every conversation in its expected final
 * state on build B, the change taken only where its point was reached after the upgrade. Both
 * handoff histories are then replayed against B (deterministic), and the expired one against the
 * change made without patched(), which must fail: the checks above can tell a broken upgrade.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';

import { type WorkflowHandle } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';

import { readTemporalBinaries } from '../../dev/binaries';
import { pollUntil } from '../../dev/poll';
import { rbmUserEvent, rbmUserMessage } from '../../dev/simulator/payloads';
import { type SimMessage } from '../../dev/simulator/phones';
import { type ConversationKey } from '../../src/domain/conversation-key';
import { routingVersionOf } from '../../src/routing/load';
import { ConversationsClient } from '../../src/temporal-client/conversations';
import { conversationStateQuery, type ConversationView, outboundMessagesQuery } from '../../src/workflows/definitions';
import { HANDOFF_SLA_ESCALATION } from '../../src/workflows/handoff-patches';
import { type OutboundMessagesView } from '../../src/workflows/outbound/types';
import { drain, exchangeDone } from './drain';
import { rbmInboundEvents } from './normalize';
import { BENCH_AGENT, BENCH_API_TOKEN, BENCH_CLIENT_TOKEN, type BenchStack, type WorkerHandle } from './stack';
import { type BenchConversation, benchConversations, type UserEvent, userEvents, WebhookPoster } from './traffic';
import { type UpgradeBuild } from './upgrade-bundles';

const run = promisify(execFile);
type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const T = temporal.api.enums.v1.EventType;

/** SLA of the handoff that expires while build A runs. */
const SLA_ON_A_SECONDS = 2;

/** Build IDs of the two versions. */
export const BUILD_A = 'build-a';
export const BUILD_B = 'build-b';

/** How the upgrade runs. The stack is the caller's, started with `apis: 2` and `agentDesk: true`. */
export interface UpgradeOptions {
  stack: BenchStack;
  bundles: Record<UpgradeBuild, string>;
  /** Conversations opened on A that send a question at every step of the upgrade (default 8). */
  steady?: number;
  /** SLA of the handoff requested on A just before B becomes current (default 45 s: it must expire on B). */
  slaOnBSeconds?: number;
  deadlineMs: number;
  log: (line: string) => void;
}

/** One step of the upgrade, when it happened (ms since the run started). */
export interface UpgradeStep {
  step: string;
  atMs: number;
}

/** What one handoff conversation showed. */
export interface HandoffOutcome {
  /** The build whose worker completed the workflow task that ran the SLA's expiry. */
  slaExpiredOn: string | undefined;
  holdingMessages: number;
  deskNotifications: string[];
  escalated: boolean;
  patchMarker: boolean;
  finalStatus: string | undefined;
}

/** Everything the run saw. `violations` is empty when the upgrade held. */
export interface UpgradeReport {
  durationMs: number;
  temporal: string;
  deployment: string;
  steps: UpgradeStep[];
  workers: { name: string; build: string; stopped: string }[];
  conversations: {
    total: number;
    openedOnA: number;
    openedDuringUpgrade: number;
    asExpected: number;
    notAsExpected: number;
  };
  /** Conversations per build of their last workflow task, and per versioning behaviour (AUTO_UPGRADE expected). */
  finalBuilds: Record<string, number>;
  behaviors: Record<string, number>;
  /**
   * Timed out is not failed: a workflow task that waited too long (a busy machine, a stopped
   * worker's sticky queue) is retried by the server and then completes; counted, by timeout type.
   */
  workflowTasks: {
    completedByBuild: Record<string, number>;
    failed: number;
    timedOut: number;
    timeoutTypes: Record<string, number>;
  };
  /** Worker log lines naming non-determinism (none expected). */
  nondeterminismInLogs: string[];
  pendingDelivery: {
    sentOn: string | undefined;
    deliveredOn: string | undefined;
    status: string | undefined;
    sms: number;
  };
  handoffExpiredOnA: HandoffOutcome;
  handoffExpiringOnB: HandoffOutcome;
  replay: { expiredOnAOnB: string; expiringOnBOnB: string; expiredOnAUnpatched: string };
  /** `temporal worker deployment describe` after the upgrade: current version, and each version's drainage. */
  deploymentAfter: {
    currentBuild: string | undefined;
    versions: { buildId: string; status?: string; drainage?: string }[];
  };
  violations: string[];
}

/** Reads until `read` gives a value (undefined or a throw: not yet) or the run's `deadline` passes. */
async function until<T>(
  what: string,
  deadline: number,
  read: () => Promise<T | undefined>,
  intervalMs = 200,
): Promise<T> {
  return (await pollUntil({
    what,
    read,
    retryErrors: true,
    timeoutMs: Math.max(0, deadline - Date.now()),
    intervalMs,
  })) as T;
}

/** The build of a workflow task completion (1.29 fills deploymentVersion; older servers the version string). */
function completedBy(event: HistoryEvent): string {
  const a = event.workflowTaskCompletedEventAttributes;
  return (
    a?.deploymentVersion?.buildId ??
    a?.workerDeploymentVersion?.split(/[.:]/).pop() ??
    a?.workerVersion?.buildId ??
    'unversioned'
  );
}

/** Runs the upgrade (see the module header); throws only for a harness failure, reports every broken guarantee. */
export async function runRollingUpgrade(options: UpgradeOptions): Promise<UpgradeReport> {
  const { stack, bundles, log } = options;
  const started = Date.now();
  const deadline = started + options.deadlineMs;
  const deploymentName = `switchboard-${stack.taskQueue}`;
  const slaOnBSeconds = options.slaOnBSeconds ?? 45;
  const steps: UpgradeStep[] = [];
  const step = (name: string) => {
    steps.push({ step: name, atMs: Date.now() - started });
    log(`  ${name}`);
  };
  const cli = async (args: string[]) =>
    (
      await run(readTemporalBinaries().cli, [...args, '--address', stack.temporal.address, '--namespace', 'default'], {
        timeout: 30_000,
        encoding: 'utf8',
      })
    ).stdout;
  const setCurrent = async (buildId: string) => {
    // The version exists once one of its workers polled: until then the CLI refuses.
    await until(
      `version ${buildId} made current`,
      deadline,
      async () =>
        (await cli([
          'worker',
          'deployment',
          'set-current-version',
          '--deployment-name',
          deploymentName,
          '--build-id',
          buildId,
          '--yes',
        ])) || 'ok',
      500,
    );
  };

  const workers: { handle: WorkerHandle; build: string; stopped: string }[] = [];
  const startWorker = async (build: 'a' | 'b') => {
    const buildId = build === 'a' ? BUILD_A : BUILD_B;
    const handle = await stack.startWorker({
      WORKFLOW_BUNDLE_PATH: bundles[build],
      WORKER_DEPLOYMENT_NAME: deploymentName,
      WORKER_BUILD_ID: buildId,
      WORKER_SHUTDOWN_GRACE_MS: '10000',
    });
    workers.push({ handle, build: buildId, stopped: 'running' });
    return handle;
  };
  const stopWorker = async (handle: WorkerHandle) => {
    await handle.child.stop(30_000);
    const entry = workers.find((w) => w.handle === handle);
    const exit = await handle.child.exited;
    if (entry) entry.stopped = `SIGTERM → exit ${exit.code ?? exit.signal}`;
  };

  const users = new WebhookPoster({
    apiUrl: stack.apiUrls,
    token: BENCH_CLIENT_TOKEN,
    seed: 21,
    retry: { maxAttempts: 30, baseDelayMs: 200, maxDelayMs: 2000 },
  });
  const post = async (e: Pick<UserEvent, 'conversation' | 'data'>) => {
    const sample = await users.post(e, BENCH_AGENT);
    if (!sample.delivered) throw new Error(`a webhook for ${e.conversation.phone} was never accepted`);
  };
  const text = (c: BenchConversation, id: string, body: string): UserEvent => ({
    conversation: c,
    kind: 'text',
    id,
    data: rbmUserMessage(BENCH_AGENT, c.phone, id, { kind: 'text', text: body }),
  });
  const typing = (c: BenchConversation, id: string): UserEvent => ({
    conversation: c,
    kind: 'typing',
    id,
    data: rbmUserEvent(BENCH_AGENT, c.phone, 'IS_TYPING', id),
  });
  const api = async (pathname: string, init: RequestInit = {}) => {
    const res = await fetch(`${stack.apiUrl}${pathname}`, {
      ...init,
      headers: {
        authorization: `Bearer ${BENCH_API_TOKEN}`,
        'content-type': 'application/json',
        ...(init.headers as Record<string, string>),
      },
    });
    const body = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${pathname} answered ${res.status}: ${JSON.stringify(body)}`);
    return body;
  };
  const keyPath = (key: ConversationKey) => `/v1/conversations/${encodeURIComponent(key)}`;
  const state = (c: BenchConversation) =>
    stack.client.workflow.getHandle(stack.workflowId(c.key)).query(conversationStateQuery);
  const desk = async (c: BenchConversation) =>
    (await stack.sim.calls(0))
      .filter((call) => call.api === 'desk' && call.status === 200 && call.conversation === c.key)
      .map((call) => String((call.body as { reason?: string } | undefined)?.reason));
  const readQuestions = async () => new Set(Object.keys((await stack.sim.counts()).readReceipts.tookEffect));

  // Conversations whose handoff SLA is short: started, as the API would start them, with their own settings.
  const gatewayWithSla = (sla: string) =>
    new ConversationsClient({
      client: stack.client,
      taskQueue: stack.taskQueue,
      timeoutMs: 10_000,
      workflowIds: { revealPhoneNumbers: false, secret: stack.workflowIdSecret },
      startInput: { routingVersion: routingVersionOf(stack.routing), settings: { handoffSla: sla } },
    });
  const requestHandoff = async (c: BenchConversation, sla: string) => {
    const e = text(c, `handoff-${c.phone}`, 'I want to talk to a person');
    await gatewayWithSla(sla).deliver(c.key, rbmInboundEvents(e, 'upgrade'));
    await until(`the desk notified for ${c.phone}`, deadline, async () =>
      (await desk(c)).length >= 1 ? true : undefined,
    );
  };

  const steady = benchConversations(BENCH_AGENT, 1, options.steady ?? 8);
  const steadyEvents = userEvents(BENCH_AGENT, steady, 2, 31);
  const [pending, expiredOnA, expiringOnB] = benchConversations(BENCH_AGENT, 2, 3) as [
    BenchConversation,
    BenchConversation,
    BenchConversation,
  ];
  const freshPool = benchConversations(BENCH_AGENT, 3, 2000);
  const fresh: { conversation: BenchConversation; events: UserEvent[]; openedOn: string }[] = [];
  let current = BUILD_A;
  let trafficOn = false;
  let traffic: Promise<void> | undefined;

  try {
    log(`worker deployment ${deploymentName}: two workers of ${BUILD_A}`);
    const a1 = await startWorker('a');
    const a2 = await startWorker('a');
    await setCurrent(BUILD_A);
    step(`${BUILD_A} current (2 workers)`);

    // On A: questions answered, an operator message left SENT, a handoff SLA expired, new conversations arriving.
    await Promise.all(
      steady.map(async (_, i) => {
        for (const e of (steadyEvents[i] ?? []).slice(0, 2)) await post(e);
      }),
    );
    await stack.sim.configurePhone(pending.phone, { deliverAfterMs: null });
    const operatorMessage = (await api(`${keyPath(pending.key)}/messages`, {
      method: 'POST',
      headers: { 'idempotency-key': 'upgrade-pending' },
      body: JSON.stringify({
        text: 'Your table is ready',
        delivery: { deliverWithin: '10m', fallbackSms: { text: 'Your table is ready (SMS)' } },
      }),
    })) as { messageId: string; status: string };
    await requestHandoff(expiredOnA, `${SLA_ON_A_SECONDS} seconds`);
    await until('the holding message of the handoff that expires on A', deadline, async () =>
      (await state(expiredOnA)).history.some((h) => h.direction === 'outbound' && /waiting/i.test(h.summary))
        ? true
        : undefined,
    );
    const steadyFirst = await drain(
      stack.client,
      steady.map((c, i) => ({
        workflowId: stack.workflowId(c.key),
        done: exchangeDone(
          (steadyEvents[i] ?? [])
            .slice(0, 2)
            .filter((e) => e.kind === 'text')
            .map((e) => e.id),
        ),
      })),
      Math.max(1000, deadline - Date.now()),
    );
    if (steadyFirst.pending.length > 0)
      throw new Error(`${steadyFirst.pending.length} conversations did not finish their first exchange on ${BUILD_A}`);
    step(
      `on ${BUILD_A}: ${steady.length} conversations answered, an operator message SENT and not delivered (deliverWithin 10m), a handoff SLA expired`,
    );

    // Traffic from here on: two lanes, each opening a conversation (typing, question) and waiting
    // until its question was answered (READ at the platform) before the next: closed loop, so a
    // slow machine slows the traffic instead of piling up a backlog the upgrade would wait behind.
    trafficOn = true;
    let next = 0;
    traffic = Promise.all(
      [0, 1].map(async () => {
        while (trafficOn && next < freshPool.length) {
          const conversation = freshPool[next++] as BenchConversation;
          const events = userEvents(BENCH_AGENT, [conversation], 1, 1000 + conversation.index)[0] ?? [];
          fresh.push({ conversation, events, openedOn: current });
          for (const e of events) await post(e);
          const question = events.find((e) => e.kind === 'text')?.id ?? '';
          await until(
            `the question of ${conversation.phone} READ`,
            deadline,
            async () => ((await readQuestions()).has(question) ? true : undefined),
            250,
          );
        }
      }),
    ).then(() => undefined);
    /** Waits until two conversations opened after this call had their question READ: traffic went through. */
    const progressed = async (what: string) => {
      const from = fresh.length;
      await until(
        `traffic after ${what}`,
        deadline,
        async () => {
          const read = await readQuestions();
          const answered = fresh
            .slice(from)
            .filter((f) => f.events.some((e) => e.kind === 'text' && read.has(e.id))).length;
          return answered >= 2 ? true : undefined;
        },
        250,
      );
    };
    const steadyNext = async (indexes: number[]) => {
      await Promise.all(
        indexes.map(async (i) => {
          for (const e of (steadyEvents[i] ?? []).slice(2)) await post(e);
        }),
      );
    };
    const slices = [0, 1, 2, 3].map((k) => steady.map((_, i) => i).filter((i) => i % 4 === k));
    await progressed('traffic started');

    log(`rolling upgrade to ${BUILD_B}, one worker at a time`);
    await startWorker('b');
    step(`a ${BUILD_B} worker started beside the two ${BUILD_A} workers`);
    await progressed(`the first ${BUILD_B} worker started`);
    await requestHandoff(expiringOnB, `${slaOnBSeconds} seconds`);
    await setCurrent(BUILD_B);
    current = BUILD_B;
    step(`${BUILD_B} current (a handoff's SLA running since just before)`);
    await steadyNext(slices[0] ?? []);
    await progressed(`${BUILD_B} became current`);
    await stopWorker(a1);
    step(`first ${BUILD_A} worker stopped (SIGTERM)`);
    await steadyNext(slices[1] ?? []);
    await progressed(`the first ${BUILD_A} worker stopped`);
    await startWorker('b');
    step(`second ${BUILD_B} worker started`);
    await steadyNext(slices[2] ?? []);
    await progressed(`the second ${BUILD_B} worker started`);
    await stopWorker(a2);
    step(`last ${BUILD_A} worker stopped (SIGTERM): only ${BUILD_B} runs`);
    await steadyNext(slices[3] ?? []);
    await progressed(`the last ${BUILD_A} worker stopped`);
    trafficOn = false;
    await traffic;
    traffic = undefined;
    step(`traffic stopped: ${fresh.length} conversations opened during the upgrade`);

    // After the upgrade: the pending message delivered, the expired handoff taken and released, the other SLA expiring on B.
    const delivered = await fetch(
      `${stack.simUrl}/sim/messages/${encodeURIComponent(operatorMessage.messageId)}/deliver?agentId=${encodeURIComponent(BENCH_AGENT)}`,
      { method: 'POST' },
    );
    if (!delivered.ok)
      throw new Error(
        `the simulator did not deliver ${operatorMessage.messageId}: ${delivered.status} ${await delivered.text()}`,
      );
    await post(text(expiredOnA, `after-upgrade-${expiredOnA.phone}`, 'Is anyone there?'));
    await until('the new message of the expired handoff in its history', deadline, async () =>
      (await state(expiredOnA)).history.some((h) => h.messageId === `after-upgrade-${expiredOnA.phone}`)
        ? true
        : undefined,
    );
    await api(`${keyPath(expiredOnA.key)}/assign`, {
      method: 'POST',
      body: JSON.stringify({ to: 'human', agentId: 'dana', displayName: 'Dana' }),
    });
    await api(`${keyPath(expiredOnA.key)}/assign`, { method: 'POST', body: JSON.stringify({ to: 'automation' }) });
    await until(
      `the handoff SLA expiring on ${BUILD_B}: desk notified again`,
      deadline,
      async () => ((await desk(expiringOnB)).includes('sla_expired') ? true : undefined),
      500,
    );
    step(
      `after the upgrade: message delivered, the expired handoff taken and released, the second SLA expired on ${BUILD_B}`,
    );

    // One more event for every conversation: each runs its next workflow task on B.
    const everyone = [...steady, ...fresh.map((f) => f.conversation), pending, expiredOnA, expiringOnB];
    const typingBefore = new Map<string, number>();
    for (const c of everyone) typingBefore.set(c.key, (await state(c)).userTyping.changes);
    for (const c of everyone) await post(typing(c, `final-typing-${c.phone}`));
    step(`every conversation got one more event (${everyone.length})`);

    // Final states.
    const questionsOf = (events: readonly UserEvent[]) => events.filter((e) => e.kind === 'text').map((e) => e.id);
    const typed = (c: BenchConversation) => (view: ConversationView) =>
      view.userTyping.changes > (typingBefore.get(c.key) ?? 0);
    const items = [
      ...steady.map((c, i) => ({
        c,
        done: (v: ConversationView) => exchangeDone(questionsOf(steadyEvents[i] ?? []))(v) && typed(c)(v),
      })),
      ...fresh.map((f) => ({
        c: f.conversation,
        done: (v: ConversationView) => exchangeDone(questionsOf(f.events))(v) && typed(f.conversation)(v),
      })),
      {
        c: pending,
        done: (v: ConversationView) =>
          typed(pending)(v) &&
          v.events.some(
            (ev) => ev.type === 'receipt' && ev.messageId === operatorMessage.messageId && ev.receipt === 'READ',
          ),
      },
      { c: expiredOnA, done: (v: ConversationView) => v.status === 'automation' && typed(expiredOnA)(v) },
      {
        c: expiringOnB,
        done: (v: ConversationView) =>
          v.status === 'waiting_for_agent' &&
          v.routingDecisions.some((d) => d.action === 'handoff_sla_expired') &&
          typed(expiringOnB)(v),
      },
    ];
    const final = await drain(
      stack.client,
      items.map((i) => ({ workflowId: stack.workflowId(i.c.key), done: i.done })),
      Math.max(1000, deadline - Date.now()),
    );
    const handles = new Map(
      everyone.map((c) => [c.key, stack.client.workflow.getHandle(stack.workflowId(c.key))] as const),
    );
    // Until every conversation's last workflow task completed (the typing event's), so histories and versions are final.
    await until(
      'every workflow task completed',
      deadline,
      async () => {
        for (const handle of handles.values()) {
          const d = await handle.describe();
          if (d.raw.pendingWorkflowTask) return undefined;
        }
        return true;
      },
      500,
    );
    const histories = new Map<string, HistoryEvent[]>();
    for (const [key, handle] of handles) histories.set(key, (await handle.fetchHistory()).events ?? []);
    const descriptions = new Map(
      await Promise.all([...handles].map(async ([key, handle]) => [key, await handle.describe()] as const)),
    );
    return check({
      stack,
      bundles,
      started,
      steps,
      workers,
      deploymentName,
      slaOnBSeconds,
      describeDeployment: async () =>
        (await stack.connection.workflowService.describeWorkerDeployment({ namespace: 'default', deploymentName }))
          .workerDeploymentInfo ?? {},
      everyone,
      steady,
      fresh,
      pending,
      expiredOnA,
      expiringOnB,
      expected: new Map(items.map((i) => [i.c.key, i.done])),
      views: new Map(
        everyone.flatMap((c) =>
          final.views.has(stack.workflowId(c.key))
            ? [[c.key, final.views.get(stack.workflowId(c.key)) as ConversationView] as const]
            : [],
        ),
      ),
      histories,
      versions: new Map(
        [...descriptions].map(([key, d]) => [
          key,
          {
            build:
              d.raw.workflowExecutionInfo?.versioningInfo?.deploymentVersion?.buildId ??
              d.raw.workflowExecutionInfo?.versioningInfo?.version?.split(/[.:]/).pop() ??
              'unversioned',
            behavior:
              temporal.api.enums.v1.VersioningBehavior[d.raw.workflowExecutionInfo?.versioningInfo?.behavior ?? 0] ??
              '?',
          },
        ]),
      ),
      outbound: await handles
        .get(pending.key)
        ?.query(outboundMessagesQuery)
        .catch(() => undefined),
      operatorMessageId: operatorMessage.messageId,
      simMessages: await stack.sim.messages(),
      sms: (
        (await (await fetch(`${stack.simUrl}/sim/messages?phone=${encodeURIComponent(pending.phone)}`)).json()) as {
          sms: unknown[];
        }
      ).sms.length,
      desk,
      handles,
    });
  } finally {
    trafficOn = false;
    await traffic?.catch(() => undefined);
    users.close();
  }
}

/** What DescribeWorkerDeployment answers (the data of `temporal worker deployment describe`). */
type DeploymentDescription = temporal.api.deployment.v1.IWorkerDeploymentInfo;

interface Evidence {
  stack: BenchStack;
  bundles: Record<UpgradeBuild, string>;
  started: number;
  steps: UpgradeStep[];
  workers: { handle: WorkerHandle; build: string; stopped: string }[];
  deploymentName: string;
  slaOnBSeconds: number;
  describeDeployment: () => Promise<DeploymentDescription>;
  everyone: BenchConversation[];
  steady: BenchConversation[];
  fresh: { conversation: BenchConversation; openedOn: string }[];
  pending: BenchConversation;
  expiredOnA: BenchConversation;
  expiringOnB: BenchConversation;
  expected: Map<string, (view: ConversationView) => boolean>;
  views: Map<string, ConversationView>;
  histories: Map<string, HistoryEvent[]>;
  versions: Map<string, { build: string; behavior: string }>;
  outbound: OutboundMessagesView | undefined;
  operatorMessageId: string;
  simMessages: SimMessage[];
  sms: number;
  desk: (c: BenchConversation) => Promise<string[]>;
  handles: Map<string, WorkflowHandle>;
}

/** Payloads as text (the run writes them in clear): enough to find an id or a receipt type in them. */
function payloadText(payloads: temporal.api.common.v1.IPayload[] | null | undefined): string {
  return (payloads ?? []).map((p) => Buffer.from(p.data ?? new Uint8Array()).toString('utf8')).join('\n');
}

/** The build that completed the workflow task following the first event matching `isTrigger`. */
function buildAfter(history: HistoryEvent[], isTrigger: (e: HistoryEvent) => boolean): string | undefined {
  const at = history.findIndex(isTrigger);
  if (at < 0) return undefined;
  const done = history.slice(at).find((e) => e.eventType === T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
  return done ? completedBy(done) : undefined;
}

async function replay(
  codePath: string,
  history: temporal.api.history.v1.IHistory,
  workflowId: string,
): Promise<string> {
  try {
    await Worker.runReplayHistory({ workflowBundle: { codePath } }, history, workflowId);
    return 'deterministic';
  } catch (err) {
    return `${(err as Error).name}: ${(err as Error).message.split('\n')[0]?.slice(0, 200)}`;
  }
}

async function check(e: Evidence): Promise<UpgradeReport> {
  const violations: string[] = [];
  const note = (problem: string) => {
    if (violations.length < 50) violations.push(problem);
  };
  const count = (map: Record<string, number>, key: string) => (map[key] = (map[key] ?? 0) + 1);

  // Workflow tasks: none failed or timed out; who completed them.
  const completedByBuild: Record<string, number> = {};
  let failed = 0;
  let timedOut = 0;
  const timeoutTypes: Record<string, number> = {};
  for (const [key, history] of e.histories) {
    for (const event of history) {
      if (event.eventType === T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED) count(completedByBuild, completedBy(event));
      if (event.eventType === T.EVENT_TYPE_WORKFLOW_TASK_FAILED) {
        failed++;
        note(
          `${key}: workflow task failed (${temporal.api.enums.v1.WorkflowTaskFailedCause[event.workflowTaskFailedEventAttributes?.cause ?? 0]}): ${event.workflowTaskFailedEventAttributes?.failure?.message?.slice(0, 200)}`,
        );
      }
      if (event.eventType === T.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT) {
        timedOut++;
        count(
          timeoutTypes,
          temporal.api.enums.v1.TimeoutType[event.workflowTaskTimedOutEventAttributes?.timeoutType ?? 0] ?? '?',
        );
      }
    }
  }
  const nondeterminismInLogs = e.workers.flatMap((w) =>
    readFileSync(w.handle.child.logFile, 'utf8')
      .split('\n')
      .filter((line) => /nondetermini|non-determini|DeterminismViolation|TMPRL1100/i.test(line))
      .map((line) => `${w.handle.child.name}: ${line.slice(0, 300)}`),
  );
  for (const line of nondeterminismInLogs.slice(0, 5)) note(`non-determinism logged: ${line}`);

  // Final states and versions.
  let asExpected = 0;
  for (const c of e.everyone) {
    const view = e.views.get(c.key);
    if (view && e.expected.get(c.key)?.(view)) asExpected++;
    else note(`${c.key}: not in its expected final state (status ${view?.status ?? 'unknown'})`);
  }
  const finalBuilds: Record<string, number> = {};
  const behaviors: Record<string, number> = {};
  for (const [key, v] of e.versions) {
    count(finalBuilds, v.build);
    count(behaviors, v.behavior);
    if (v.build !== BUILD_B) note(`${key}: its last workflow task ran on ${v.build}, not ${BUILD_B}`);
    if (v.behavior !== 'VERSIONING_BEHAVIOR_AUTO_UPGRADE') note(`${key}: versioning behaviour ${v.behavior}`);
  }

  // The message left between SENT and DELIVERED on A.
  const tracked = e.outbound?.messages.find((m) => m.messageId === e.operatorMessageId);
  const pendingHistory = e.histories.get(e.pending.key) ?? [];
  const pendingDelivery = {
    sentOn: buildAfter(pendingHistory, (event) => event.eventType === T.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED),
    deliveredOn: buildAfter(
      pendingHistory,
      (event) =>
        event.eventType === T.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED &&
        payloadText(event.workflowExecutionSignaledEventAttributes?.input?.payloads).includes('"DELIVERED"'),
    ),
    status: tracked?.status,
    sms: e.sms,
  };
  if (pendingDelivery.sentOn !== BUILD_A)
    note(`the operator message was sent on ${pendingDelivery.sentOn}, not ${BUILD_A}`);
  if (tracked?.status !== 'READ') note(`the operator message is ${tracked?.status ?? 'not tracked'}, not READ`);
  if (e.sms > 0) note(`the phone got ${e.sms} SMS: the delivered message fell back`);

  // The two handoffs.
  const handoff = async (c: BenchConversation, slaSeconds: number): Promise<HandoffOutcome> => {
    const history = e.histories.get(c.key) ?? [];
    const view = e.views.get(c.key);
    // The SLA timer: started with the SLA as its duration (armed in the task that took the request).
    const slaTimer = history.find(
      (event) =>
        event.eventType === T.EVENT_TYPE_TIMER_STARTED &&
        Math.abs(Number(event.timerStartedEventAttributes?.startToFireTimeout?.seconds ?? -1) - slaSeconds) <= 1,
    );
    return {
      slaExpiredOn: slaTimer
        ? buildAfter(
            history,
            (event) =>
              event.eventType === T.EVENT_TYPE_TIMER_FIRED &&
              String(event.timerFiredEventAttributes?.startedEventId) === String(slaTimer.eventId),
          )
        : undefined,
      holdingMessages:
        view?.history.filter((h) => h.direction === 'outbound' && /waiting/i.test(h.summary)).length ?? 0,
      deskNotifications: await e.desk(c),
      escalated: view?.routingDecisions.some((d) => d.action === 'handoff_sla_expired') ?? false,
      patchMarker: history.some(
        (event) =>
          event.eventType === T.EVENT_TYPE_MARKER_RECORDED &&
          Object.values(event.markerRecordedEventAttributes?.details ?? {}).some((p) =>
            payloadText(p.payloads).includes(HANDOFF_SLA_ESCALATION),
          ),
      ),
      finalStatus: view?.status,
    };
  };
  const handoffExpiredOnA = await handoff(e.expiredOnA, SLA_ON_A_SECONDS);
  const handoffExpiringOnB = await handoff(e.expiringOnB, e.slaOnBSeconds);
  if (handoffExpiredOnA.slaExpiredOn !== BUILD_A)
    note(`the first handoff's SLA expired on ${handoffExpiredOnA.slaExpiredOn}, not ${BUILD_A}`);
  if (
    handoffExpiredOnA.holdingMessages !== 1 ||
    handoffExpiredOnA.escalated ||
    handoffExpiredOnA.patchMarker ||
    handoffExpiredOnA.deskNotifications.includes('sla_expired')
  )
    note(`the handoff expired on ${BUILD_A} took the change on replay: ${JSON.stringify(handoffExpiredOnA)}`);
  if (handoffExpiringOnB.slaExpiredOn !== BUILD_B)
    note(`the second handoff's SLA expired on ${handoffExpiringOnB.slaExpiredOn}, not ${BUILD_B}`);
  if (
    handoffExpiringOnB.holdingMessages !== 1 ||
    !handoffExpiringOnB.escalated ||
    !handoffExpiringOnB.patchMarker ||
    handoffExpiringOnB.deskNotifications.filter((r) => r === 'sla_expired').length !== 1
  )
    note(`the handoff expiring on ${BUILD_B} did not take the change once: ${JSON.stringify(handoffExpiringOnB)}`);

  // Replays: B replays both handoffs; the change without patched() cannot replay the one that expired on A.
  const historyOf = async (c: BenchConversation) => (await e.handles.get(c.key)?.fetchHistory()) ?? { events: [] };
  const workflowIdOf = (c: BenchConversation) => e.stack.workflowId(c.key);
  const replayResult = {
    expiredOnAOnB: await replay(e.bundles.b, await historyOf(e.expiredOnA), workflowIdOf(e.expiredOnA)),
    expiringOnBOnB: await replay(e.bundles.b, await historyOf(e.expiringOnB), workflowIdOf(e.expiringOnB)),
    expiredOnAUnpatched: await replay(e.bundles.unpatched, await historyOf(e.expiredOnA), workflowIdOf(e.expiredOnA)),
  };
  if (replayResult.expiredOnAOnB !== 'deterministic' || replayResult.expiringOnBOnB !== 'deterministic')
    note(`build B does not replay the handoffs: ${JSON.stringify(replayResult)}`);
  if (!/Determinism|nondetermin/i.test(replayResult.expiredOnAUnpatched))
    note(`the change without patched() replayed the handoff that expired on A: ${replayResult.expiredOnAUnpatched}`);

  const described = await e.describeDeployment();
  const E = temporal.api.enums.v1;
  const deploymentAfter = {
    currentBuild:
      described.routingConfig?.currentDeploymentVersion?.buildId ??
      described.routingConfig?.currentVersion?.split(/[.:]/).pop() ??
      undefined,
    versions: (described.versionSummaries ?? []).map((v) => ({
      buildId: v.deploymentVersion?.buildId ?? v.version?.split(/[.:]/).pop() ?? '?',
      ...(v.status
        ? { status: E.WorkerDeploymentVersionStatus[v.status]?.replace('WORKER_DEPLOYMENT_VERSION_STATUS_', '') }
        : {}),
      ...((v.drainageInfo?.status ?? v.drainageStatus)
        ? {
            drainage: E.VersionDrainageStatus[v.drainageInfo?.status ?? v.drainageStatus ?? 0]?.replace(
              'VERSION_DRAINAGE_STATUS_',
              '',
            ),
          }
        : {}),
    })),
  };
  if (deploymentAfter.currentBuild !== BUILD_B)
    note(`the deployment's current version is ${deploymentAfter.currentBuild}, not ${BUILD_B}`);

  return {
    durationMs: Date.now() - e.started,
    temporal: e.stack.temporalDescription,
    deployment: e.deploymentName,
    steps: e.steps,
    workers: e.workers.map((w) => ({ name: w.handle.child.name, build: w.build, stopped: w.stopped })),
    conversations: {
      total: e.everyone.length,
      openedOnA: e.steady.length + 3 + e.fresh.filter((f) => f.openedOn === BUILD_A).length,
      openedDuringUpgrade: e.fresh.length,
      asExpected,
      notAsExpected: e.everyone.length - asExpected,
    },
    finalBuilds,
    behaviors,
    workflowTasks: { completedByBuild, failed, timedOut, timeoutTypes },
    nondeterminismInLogs,
    pendingDelivery,
    handoffExpiredOnA,
    handoffExpiringOnB,
    replay: replayResult,
    deploymentAfter,
    violations,
  };
}

/** The report as a few readable lines (printed by the test). */
export function describeUpgrade(r: UpgradeReport): string {
  const h = (o: HandoffOutcome) =>
    `SLA expired on ${o.slaExpiredOn}, holding message ×${o.holdingMessages}, desk notified [${o.deskNotifications.join(', ')}], patch marker ${o.patchMarker ? 'recorded' : 'absent'}, final ${o.finalStatus}`;
  return [
    `rolling upgrade: ${BUILD_A} → ${BUILD_B} on ${r.temporal}, worker deployment ${r.deployment}, ${(r.durationMs / 1000).toFixed(1)} s`,
    ...r.steps.map((s) => `  ${(s.atMs / 1000).toFixed(1).padStart(6)} s  ${s.step}`),
    `workers: ${r.workers.map((w) => `${w.name} (${w.build}, ${w.stopped})`).join('; ')}`,
    `conversations: ${r.conversations.total} (${r.conversations.openedOnA} opened on ${BUILD_A}, ${r.conversations.openedDuringUpgrade} opened during the upgrade) → ${r.conversations.asExpected} as expected, ${r.conversations.notAsExpected} not`,
    `last workflow task by build ${JSON.stringify(r.finalBuilds)}, behaviour ${JSON.stringify(r.behaviors)}`,
    `workflow tasks completed by build ${JSON.stringify(r.workflowTasks.completedByBuild)}; failed ${r.workflowTasks.failed}, timed out ${r.workflowTasks.timedOut} ${JSON.stringify(r.workflowTasks.timeoutTypes)}; non-determinism in worker logs: ${r.nondeterminismInLogs.length}`,
    `message between SENT and DELIVERED: sent on ${r.pendingDelivery.sentOn}, DELIVERED handled on ${r.pendingDelivery.deliveredOn}, now ${r.pendingDelivery.status}, SMS ${r.pendingDelivery.sms}`,
    `handoff expired on ${BUILD_A}: ${h(r.handoffExpiredOnA)}`,
    `handoff expiring after the upgrade: ${h(r.handoffExpiringOnB)}`,
    `replay: expired-on-A history on ${BUILD_B} ${r.replay.expiredOnAOnB}; expiring-on-B history on ${BUILD_B} ${r.replay.expiringOnBOnB}; expired-on-A history on the change without patched(): ${r.replay.expiredOnAUnpatched}`,
    `deployment after: current ${r.deploymentAfter.currentBuild}; ${r.deploymentAfter.versions.map((v) => `${v.buildId} ${v.status ?? ''}${v.drainage ? ` (${v.drainage})` : ''}`).join(', ')}`,
    r.violations.length === 0
      ? 'violations: none'
      : `violations (${r.violations.length}):\n  ${r.violations.join('\n  ')}`,
  ].join('\n');
}
