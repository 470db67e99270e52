/**
 * The chaos run behind `npm run chaos` and test/chaos/chaos.test.ts. Under load it:
 *
 * - kills the worker process twice (SIGKILL, each time while the platform holds one of its calls,
 *   so an activity is lost mid-flight) and starts a new one;
 * - restarts the Temporal server once on its data (the dev server on its SQLite file; with
 *   `temporal: 'postgres'` the real server on PostgreSQL, and PostgreSQL itself once more under it);
 * - has the simulator answer 20 % of RBM calls with a 5xx or a 429 (a quarter of them after the
 *   call took effect: the answer is lost, the retry must be deduped) and slow half of the others;
 * - posts 30 % of all webhooks twice (the users' messages and typing, and the phones' DELIVERED /
 *   READ, re-posted with the same data as Google redelivers).
 *
 * Faults happen at points the run observes, not after sleeps: conversations come in four waves;
 * each fault waits until half of the current wave's questions were marked READ at the simulator.
 * Then everything is checked from the simulator's records and the workflows' state and histories:
 * every inbound event processed exactly once, no agent message and no READ receipt sent twice as
 * distinct ids (retried requests of the same id are counted apart: the platform dedupes those),
 * every conversation in its expected final state.
 */
import { temporal } from '@temporalio/proto';

import { type CallCounts, webhookEventId } from '../../dev/simulator/call-counts';
import { type CallRecord } from '../../dev/simulator/calls';
import { type SimMessage } from '../../dev/simulator/phones';
import { type ConversationView } from '../../src/workflows/definitions';
import { countWorkflows, signalledDedupeKeys } from './actions';
import { drain, exchangeDone } from './drain';
import { agentEventOf, CallCollector } from './sim-client';
import { BENCH_AGENT, BENCH_CLIENT_TOKEN, BenchStack, type WorkerHandle } from './stack';
import {
  type BenchConversation,
  benchConversations,
  chosen,
  toLanes,
  type UserEvent,
  userEvents,
  WebhookPoster,
} from './traffic';

/** Size and shape of a chaos run. */
export interface ChaosOptions {
  /** Conversations in all, split into four waves. */
  conversations: number;
  /** Questions per conversation (each preceded by a typing event). */
  exchanges: number;
  /** Webhook lanes (requests in flight). */
  concurrency: number;
  /** Share of RBM calls answered 5xx / 429 (0.2). */
  faultRate: number;
  /** Share of webhooks posted twice (0.3). */
  duplicateRate: number;
  seed: number;
  /** `dev`: the dev server on SQLite (default); `postgres`: the production server on a private PostgreSQL. */
  temporal?: 'dev' | 'postgres';
  /** Worker processes running at once (default 1); a killed one is replaced. */
  workers?: number;
  /** Switchboard API replicas (default 1); webhooks alternate between them. */
  apis?: number;
  /** A prebuilt workflow bundle (Jest's global setup has one); built when absent. */
  workflowBundlePath?: string;
  /** Bound on the whole run after the stack is up. */
  deadlineMs: number;
  /** Stop the stack on SIGINT / SIGTERM (`npm run chaos`; not under Jest). */
  handleSignals?: boolean;
  log: (line: string) => void;
}

/** Everything the run counted. `violations` is empty when nothing was lost or duplicated and every conversation ended as expected. */
export interface ChaosReport {
  durationMs: number;
  /** The Temporal server the run used, and how many workers and APIs ran. */
  deployment: { temporal: string; workers: number; apis: number; userWebhooksByApi?: Record<string, number> };
  conversations: number;
  questions: number;
  faults: {
    /** `heldCallCutShort`: the platform saw the held call's connection close before its hold ran out (the kill ended the attempt, not the hold). */
    workerKills: {
      worker: string;
      activitiesInFlight: number | undefined;
      atQuestionsRead: number;
      heldCallCutShort: boolean;
    }[];
    /** `refusedWith`: the statuses of the webhooks refused while it was down (503 is the contract). */
    temporalRestart: { downMs: number; atQuestionsRead: number; refusedWith?: (number | null)[] } | undefined;
    /** PostgreSQL stopped and started under the running server (postgres runs only). */
    postgresRestart?: { downMs: number; atQuestionsRead: number; refusedWith?: (number | null)[] } | undefined;
    /** Simulator answers by injected fault kind (from its call records). */
    platformFaults: Record<string, number>;
    platformCalls: number;
    duplicatesPosted: { userWebhooks: number; receiptWebhooks: number };
    /** From the histories: activity attempts beyond the first, those after a timeout (a killed worker's attempt), workflow tasks that timed out or failed. */
    recovery: {
      activityRetries: number;
      activityRetriesAfterTimeout: number;
      workflowTasksTimedOut: number;
      workflowTasksFailed: number;
      /** The retried activities (first 20): type, attempt that completed, why the one before failed. */
      retried: { activity: string; attempt: number; previousFailure: string }[];
    };
  };
  webhooks: {
    userEvents: number;
    userAttempts: number;
    receiptEvents: number;
    receiptAttempts: number;
    /** Answers other than 200 on the way (503 while Temporal was down …), by status; `none`: no answer within the poster's attempt timeout. */
    non200: Record<string, number>;
    /** Webhooks never accepted after all retries. */
    undelivered: number;
  };
  inbound: {
    /** Distinct events (questions, typing, receipts) sent to Switchboard. */
    distinctEvents: number;
    /** How many signals carried them (redeliveries and retries included). */
    signalsCarryingThem: number;
    processedOnce: number;
    notProcessed: number;
    processedMoreThanOnce: number;
  };
  outbound: {
    agentMessages: {
      calls: number;
      faulted: number;
      retriedSameId: number;
      distinctIds: number;
      expected: number;
      extraDistinct: number;
      missing: number;
    };
    readReceipts: {
      calls: number;
      faulted: number;
      retriedSameId: number;
      distinctEventIds: number;
      expected: number;
      extraDistinct: number;
      missing: number;
    };
  };
  finalState: { conversationsAsExpected: number; notAsExpected: number };
  violations: string[];
}

/** The simulator's fault description → a short kind. */
function faultKind(fault: string): string {
  if (fault.includes('status 429')) return '429';
  if (fault.includes('status') && fault.includes('after processing')) return '5xx after the call took effect';
  if (fault.includes('status')) return '5xx';
  if (fault.includes('latency')) return 'slow (latency only)';
  return fault;
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const T = temporal.api.enums.v1.EventType;
/**
 * How long the platform holds the call a worker is killed inside. Long, so that a slow machine
 * still kills the worker inside it; under the channel client's 10 s request timeout
 * (OUTBOUND_HTTP_TIMEOUT_MS), so that only the kill can end the attempt.
 */
const KILL_HOLD_MS = 8_000;

/**
 * Activities scheduled and not yet closed. The platform registers a held call's effect when it
 * arrives, so the conversations can look finished while a killed worker's attempt still waits
 * out its start-to-close timeout; its retry is part of the evidence.
 */
function openActivities(events: readonly HistoryEvent[]): number {
  const open = new Set<string>();
  for (const e of events) {
    if (e.eventType === T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) open.add(String(e.eventId));
    const closed =
      e.activityTaskCompletedEventAttributes ??
      e.activityTaskFailedEventAttributes ??
      e.activityTaskTimedOutEventAttributes ??
      e.activityTaskCanceledEventAttributes;
    if (closed?.scheduledEventId !== undefined && closed.scheduledEventId !== null)
      open.delete(String(closed.scheduledEventId));
  }
  return open.size;
}

/**
 * The histories once every signal in them was followed by a completed workflow task: the state
 * read afterwards has seen every delivery, redeliveries included (else a duplicate could be
 * processed after the check), and no activity is still open.
 */
async function settledHistories(
  stack: BenchStack,
  workflowIds: readonly string[],
  timeoutMs: number,
): Promise<Map<string, HistoryEvent[]>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const { histories } = await countWorkflows(stack.client, workflowIds);
    const unsettled = [...histories.values()].filter((events) => {
      const lastSignal = events.map((e) => e.eventType).lastIndexOf(T.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
      const signalPending =
        lastSignal >= 0 && !events.slice(lastSignal).some((e) => e.eventType === T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
      return signalPending || openActivities(events) > 0;
    });
    if (unsettled.length === 0 || Date.now() > until) return histories;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Runs the scenario; never throws for a violated guarantee (it is reported), only for a harness failure. */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const { log } = options;
  const stack = await BenchStack.start({
    label: 'chaos',
    persistence: options.temporal === 'postgres' ? 'postgres' : 'sqlite',
    apis: options.apis ?? 1,
    handleSignals: options.handleSignals ?? false,
    simulator: {
      deliverAfterMs: 100,
      readAfterMs: 100,
      webhookMaxAttempts: 30,
      webhookRetryBaseMs: 200,
      seed: options.seed,
    },
    ...(options.workflowBundlePath ? { workflowBundlePath: options.workflowBundlePath } : {}),
    log,
  });
  const users = new WebhookPoster({
    apiUrl: stack.apiUrls,
    token: BENCH_CLIENT_TOKEN,
    seed: options.seed,
    retry: { maxAttempts: 30, baseDelayMs: 200, maxDelayMs: 2000 },
  });
  const redeliveries = new WebhookPoster({
    apiUrl: stack.apiUrls,
    token: BENCH_CLIENT_TOKEN,
    seed: options.seed + 1,
    retry: { maxAttempts: 30, baseDelayMs: 200, maxDelayMs: 2000 },
  });
  const started = Date.now();
  const deadline = started + options.deadlineMs;
  const remaining = () => Math.max(1000, deadline - Date.now());
  // Redelivery of the phones' webhooks runs beside everything else; `finally` stops it whatever happened.
  let redelivering = true;
  let redeliverLoop: Promise<void> | undefined;
  try {
    const workers: WorkerHandle[] = [];
    for (let i = 0; i < (options.workers ?? 1); i++) workers.push(await stack.startWorker());
    for (let i = 0; i < (options.apis ?? 1); i++) await stack.startApi('switchboard', {}, i);
    /** Starts a worker in place of any that exited (a restart of the server can end one). */
    const replaceExited = async () => {
      for (let i = 0; i < workers.length; i++) {
        const w = workers[i] as WorkerHandle;
        if (w.child.running) continue;
        log(`  ${w.child.name} exited; starting another`);
        workers[i] = await stack.startWorker();
      }
    };

    // 20 % errors: 5 % after the call took effect (lost answer), 5 % 503, 10 % 429 with Retry-After.
    // Rules are tried in order, each only on calls the ones before did not take.
    const r = options.faultRate;
    const platformFaults = async () => {
      await stack.sim.addFault({ api: 'rbm', status: 500, afterProcessing: true, probability: r / 4 });
      await stack.sim.addFault({ api: 'rbm', status: 503, probability: r / 4 / (1 - r / 4) });
      await stack.sim.addFault({ api: 'rbm', status: 429, retryAfterSeconds: 1, probability: r / 2 / (1 - r / 2) });
      // And a slow platform: half of the other calls take 250 ms more.
      await stack.sim.addFault({ api: 'rbm', latencyMs: 250, probability: 0.5 });
    };
    await platformFaults();

    const conversations = benchConversations(BENCH_AGENT, 8, options.conversations);
    const events = userEvents(BENCH_AGENT, conversations, options.exchanges, options.seed);
    const questionsOf = (i: number) => (events[i] ?? []).filter((e) => e.kind === 'text').map((e) => e.id);
    const waves = [0, 1, 2, 3].map((w) => conversations.map((_, i) => i).filter((i) => i % 4 === w));

    const collector = new CallCollector(stack.sim);
    const questionsRead = (indexes: readonly number[]) => {
      const read = new Set(
        collector
          .all()
          .flatMap((c) =>
            agentEventOf(c)?.eventType === 'READ' && c.status === 200 ? [agentEventOf(c)?.messageId] : [],
          ),
      );
      return indexes.flatMap(questionsOf).filter((id) => read.has(id)).length;
    };
    /** Waits until half of a wave's questions were marked READ at the simulator. */
    const halfRead = async (indexes: readonly number[], what: string) => {
      const wanted = Math.ceil(indexes.flatMap(questionsOf).length / 2);
      const until = Date.now() + remaining();
      for (;;) {
        await collector.poll();
        if (questionsRead(indexes) >= wanted) return;
        if (Date.now() > until)
          throw new Error(`${what}: half of the wave's questions were not READ before the deadline`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    const totalRead = () => questionsRead(conversations.map((_, i) => i));

    // Users: each wave posted by its own lanes; 30 % of the webhooks posted a second time once the first was accepted.
    let userDuplicates = 0;
    const postUser = async (e: UserEvent) => {
      const sample = await users.post(e, BENCH_AGENT);
      if (chosen(e.id, options.duplicateRate, 'duplicate')) {
        userDuplicates++;
        await users.post(e, BENCH_AGENT);
      }
      return sample;
    };
    const postWave = (indexes: readonly number[]) =>
      Promise.all(
        toLanes(
          indexes.map((i) => events[i] ?? []),
          options.concurrency,
        ).map(async (lane) => {
          for (const e of lane) await postUser(e);
        }),
      );

    // Phones: 30 % of the simulator's DELIVERED / READ webhooks are posted again once they were accepted.
    let receiptDuplicates = 0;
    const redelivered = new Set<string>();
    const redeliveryPosts: Promise<unknown>[] = [];
    const redeliverPass = async () => {
      for (const call of await collector.poll()) {
        const data = call.body as Record<string, unknown> | undefined;
        const eventId = typeof data?.eventId === 'string' ? data.eventId : undefined;
        if (call.direction !== 'webhook' || call.status !== 200 || !eventId || redelivered.has(eventId)) continue;
        redelivered.add(eventId);
        const conversation = conversations.find((c) => c.phone === call.phone);
        if (!conversation || !data || !chosen(eventId, options.duplicateRate, 'duplicate')) continue;
        receiptDuplicates++;
        redeliveryPosts.push(redeliveries.post({ conversation, data }, BENCH_AGENT));
      }
    };
    redeliverLoop = (async () => {
      while (redelivering) {
        try {
          await redeliverPass();
        } catch (err) {
          // The simulator answers again on the next pass; a run that failed stops the loop in `finally`.
          log(`  redelivery pass failed: ${(err as Error).message}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    })();

    const kills: ChaosReport['faults']['workerKills'] = [];
    /** Whether the call held by rule `hold` ended before its hold did: its client went away (the simulator records the call once it ends). */
    const heldCallCutShort = async (after: number, hold: string) => {
      const until = Date.now() + KILL_HOLD_MS + 5_000;
      for (;;) {
        const held = (await stack.sim.calls(after, 'inbound')).find((c) => c.fault?.startsWith(`${hold},`));
        if (held) return held.durationMs < KILL_HOLD_MS;
        if (Date.now() > until) return false;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    /**
     * Kills a worker (SIGKILL) while one of its activities is inside a platform call: a one-off
     * rule, put before the others, holds the next agent message (POST agentMessages: a channel
     * activity, 30 s start-to-close and retried until it succeeds; a typing indicator's short
     * retries could run out instead) for KILL_HOLD_MS; as soon as the simulator shows
     * the rule spent (that call has arrived and is being held) the worker with an activity in
     * flight is killed (with several workers, the one whose health endpoint counts it). Its
     * attempt is then lost and Temporal retries it after the activity's 30 s start-to-close
     * timeout. Called with the next wave already being posted, so a call is bound to come; the
     * killed worker is replaced.
     */
    const killWorker = async () => {
      await stack.sim.clearFaults();
      const callsBefore = (await stack.sim.calls()).at(-1)?.id ?? 0;
      const hold = await stack.sim.addFault({
        api: 'rbm',
        method: 'POST',
        pathContains: 'agentMessages',
        latencyMs: KILL_HOLD_MS,
        times: 1,
      });
      await platformFaults();
      const until = Date.now() + Math.min(60_000, remaining());
      while ((await stack.sim.faults()).some((f) => f.id === hold)) {
        if (Date.now() > until) throw new Error('no RBM call reached the platform to hold before the deadline');
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const statuses = await Promise.all(
        workers.map(async (w) => (await stack.workerStatus(w))?.status.numInFlightNonLocalActivities ?? 0),
      );
      const index = Math.max(
        0,
        statuses.findIndex((n) => n > 0),
      );
      const worker = workers[index] as WorkerHandle;
      const inFlight = statuses[index];
      await worker.child.kill();
      kills.push({
        worker: worker.child.name,
        activitiesInFlight: inFlight,
        atQuestionsRead: totalRead(),
        heldCallCutShort: await heldCallCutShort(callsBefore, hold),
      });
      log(
        `  killed ${worker.child.name} (SIGKILL) while the platform held one of its calls; ${inFlight ?? 0} activities in flight`,
      );
      workers[index] = await stack.startWorker();
    };
    /** Waits until a user webhook posted after attempt `from` was refused (Temporal or its database down). */
    const refusedSince = async (from: number, what: string) => {
      const until = Date.now() + remaining();
      while (
        !users.calls
          .list()
          .slice(from)
          .some((c) => c.status !== 200)
      ) {
        if (Date.now() > until) throw new Error(`no webhook was refused while ${what} was down`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return [
        ...new Set(
          users.calls
            .list()
            .slice(from)
            .filter((c) => c.status !== 200)
            .map((c) => c.status),
        ),
      ];
    };

    const [w1, w2, w3, w4] = waves as [number[], number[], number[], number[]];
    log(`wave 1: ${w1.length} conversations`);
    const posting: Promise<unknown>[] = [postWave(w1)];
    await halfRead(w1, 'wave 1');
    log(`wave 2: ${w2.length} conversations; a worker is killed under them, then a new one starts`);
    posting.push(postWave(w2));
    await killWorker();
    await halfRead(w2, 'wave 2');

    const server = stack.production ? 'the Temporal server' : 'the Temporal dev server';
    log(`wave 3: ${w3.length} conversations while ${server} restarts on its data`);
    const atRead = totalRead();
    const stoppedAt = Date.now();
    await stack.stopTemporal();
    const attemptsBefore = users.calls.list().length;
    posting.push(postWave(w3));
    // Back up only once the API was seen refusing a webhook while Temporal was down.
    const refusedWhileDown = await refusedSince(attemptsBefore, server);
    await stack.startTemporal();
    const downMs = Date.now() - stoppedAt;
    log(`  ${server} was down ${downMs} ms; webhooks were answered ${JSON.stringify(refusedWhileDown)} meanwhile`);
    await replaceExited();
    await halfRead(w3, 'wave 3');

    let postgresRestart: ChaosReport['faults']['postgresRestart'];
    const production = stack.production;
    if (production) {
      log(`wave 4: ${w4.length} conversations while PostgreSQL restarts under the server; then a worker is killed`);
      const pgAtRead = totalRead();
      const pgStoppedAt = Date.now();
      await production.stopPostgres();
      const pgAttemptsBefore = users.calls.list().length;
      posting.push(postWave(w4));
      const refused = await refusedSince(pgAttemptsBefore, 'PostgreSQL');
      await production.startPostgres();
      postgresRestart = { downMs: Date.now() - pgStoppedAt, atQuestionsRead: pgAtRead, refusedWith: refused };
      log(
        `  PostgreSQL was down ${postgresRestart.downMs} ms; webhooks were answered ${JSON.stringify(refused)} meanwhile`,
      );
      await production.waitUntilServing();
      await replaceExited();
    } else {
      log(`wave 4: ${w4.length} conversations; a worker is killed under them, then a new one starts`);
      posting.push(postWave(w4));
    }
    await killWorker();
    await Promise.all(posting);

    log('all user webhooks accepted; waiting for every conversation to reach its final state');
    const items = conversations.map((c, i) => ({
      workflowId: stack.workflowId(c.key),
      done: exchangeDone(questionsOf(i)),
    }));
    const drained = await drain(stack.client, items, remaining());
    if (drained.pending.length > 0)
      log(`  ${drained.pending.length} conversations did not reach their final state in time`);
    // The phones have posted every receipt by now: redeliver the last chosen ones, and wait until the workflows took every signal.
    redelivering = false;
    await redeliverLoop;
    redeliverLoop = undefined;
    await redeliverPass();
    await Promise.all(redeliveryPosts);
    const histories = await settledHistories(
      stack,
      items.map((i) => i.workflowId),
      remaining(),
    );
    const final = await drain(
      stack.client,
      items.map((i) => ({ workflowId: i.workflowId, done: () => true })),
      remaining(),
    );

    const byKey = <V>(map: ReadonlyMap<string, V>) =>
      new Map(
        conversations.flatMap((c) =>
          map.has(stack.workflowId(c.key)) ? [[c.key, map.get(stack.workflowId(c.key)) as V] as const] : [],
        ),
      );
    return checkChaos({
      deployment: {
        temporal: stack.temporalDescription,
        workers: workers.length,
        apis: options.apis ?? 1,
        userWebhooksByApi: Object.fromEntries(users.postsByApi),
      },
      conversations,
      events,
      views: byKey(final.views),
      histories: byKey(histories),
      simCounts: await stack.sim.counts(),
      simMessages: await stack.sim.messages(),
      userCalls: users.calls.list(),
      redeliveryCalls: redeliveries.calls.list(),
      durationMs: Date.now() - started,
      kills,
      restart: { downMs, atQuestionsRead: atRead, refusedWith: refusedWhileDown },
      ...(production ? { postgresRestart } : {}),
      userDuplicates,
      receiptDuplicates,
    });
  } finally {
    redelivering = false;
    await redeliverLoop;
    users.close();
    redeliveries.close();
    await stack.stop();
  }
}

/** What a chaos run leaves behind, keyed by conversation key: all checkChaos needs. */
export interface ChaosEvidence {
  /** Defaults to one worker and one API on a dev server. */
  deployment?: ChaosReport['deployment'];
  conversations: readonly BenchConversation[];
  /** Per conversation, the user events posted (typing and questions), in order. */
  events: readonly UserEvent[][];
  /** Each conversation's final state (conversation-state query). */
  views: ReadonlyMap<string, ConversationView>;
  /** Each conversation's workflow history, read after every signal in it was processed. */
  histories: ReadonlyMap<string, HistoryEvent[]>;
  /** The simulator's exact per-id counts (GET /sim/counts: Switchboard's calls to the platform, the phones' webhooks), whatever the run's size. */
  simCounts: CallCounts;
  /** Agent messages the platform accepted (one per distinct messageId). */
  simMessages: SimMessage[];
  /** Every attempt of the users' webhooks, and of the receipt redeliveries. */
  userCalls: CallRecord[];
  redeliveryCalls: CallRecord[];
  durationMs: number;
  kills: ChaosReport['faults']['workerKills'];
  restart: ChaosReport['faults']['temporalRestart'];
  /** Present (possibly undefined: it did not happen) on production runs. */
  postgresRestart?: ChaosReport['faults']['postgresRestart'];
  userDuplicates: number;
  receiptDuplicates: number;
}

/**
 * Checks a run's evidence against the guarantees and counts everything. Pure, so the checks
 * themselves are tested on evidence with a planted loss or duplicate (test/chaos/checks.test.ts).
 */
export function checkChaos(input: ChaosEvidence): ChaosReport {
  const { conversations, events, views, simCounts: counts } = input;
  const violations: string[] = [];
  const note = (problem: string) => {
    if (violations.length < 50) violations.push(problem);
  };
  // Webhooks: every one eventually accepted.
  const userCalls = input.userCalls;
  const redeliveryCalls = input.redeliveryCalls;
  const non200: Record<string, number> = {};
  for (const c of [...userCalls, ...redeliveryCalls])
    if (c.status !== 200) non200[String(c.status ?? 'none')] = (non200[String(c.status ?? 'none')] ?? 0) + 1;
  for (const [status, n] of Object.entries(counts.rbmWebhooks.statuses))
    if (status !== '200') non200[status] = (non200[status] ?? 0) + n;
  const undeliveredOf = (list: CallRecord[], idOf: (c: CallRecord) => string | undefined) => {
    const ok = new Set<string>();
    const all = new Set<string>();
    for (const c of list) {
      const id = idOf(c);
      if (!id) continue;
      all.add(id);
      if (c.status === 200) ok.add(id);
    }
    return [...all].filter((id) => !ok.has(id));
  };
  // The webhook contract: 200 once durable, 503 (with Retry-After) while Temporal cannot take the events; nothing else for a signed request.
  for (const [status, n] of Object.entries(non200))
    if (status !== '503' && status !== 'none')
      note(
        `${n} webhook answers with status ${status}: a signed webhook is answered 200, or 503 while Temporal is unavailable`,
      );
  const receiptsNeverAccepted = Object.entries(counts.rbmWebhooks.byId)
    .filter(([, e]) => e.accepted === 0)
    .map(([id]) => id);
  const undelivered = [...undeliveredOf(userCalls, webhookEventId), ...receiptsNeverAccepted];
  for (const id of undelivered.slice(0, 5)) note(`webhook for ${id} was never accepted`);

  // Inbound: every distinct event processed exactly once.
  const ids = input.histories;
  let distinctEvents = 0;
  let signalsCarryingThem = 0;
  let processedOnce = 0;
  let notProcessed = 0;
  let processedMoreThanOnce = 0;
  // The phones' receipts, per phone: the distinct event ids the simulator posted (exact counts, not the capped log).
  const receiptEventIds = new Map<string, string[]>();
  for (const [id, entry] of Object.entries(counts.rbmWebhooks.byId)) {
    if (!entry.phone || !entry.event) continue;
    receiptEventIds.set(entry.phone, [...(receiptEventIds.get(entry.phone) ?? []), id]);
  }
  let asExpected = 0;
  conversations.forEach((conversation, i) => {
    const view = views.get(conversation.key);
    const history = ids.get(conversation.key) ?? [];
    const signalled = signalledDedupeKeys(history);
    const questions = (events[i] ?? []).filter((e) => e.kind === 'text').map((e) => e.id);
    const typing = (events[i] ?? []).filter((e) => e.kind === 'typing').map((e) => e.id);
    const receipts = receiptEventIds.get(conversation.phone) ?? [];
    const problems: string[] = [];
    if (!view) {
      note(`${conversation.key}: no state could be read`);
      notProcessed += questions.length + typing.length + receipts.length;
      distinctEvents += questions.length + typing.length + receipts.length;
      return;
    }
    const count = (id: string, where: readonly string[]) => where.filter((x) => x === id).length;
    const eventKeys = view.events.map((e) => e.dedupeKey);
    const inboundHistory = view.history.filter((h) => h.direction === 'inbound').map((h) => h.messageId);
    for (const id of [...questions, ...typing, ...receipts]) {
      distinctEvents++;
      signalsCarryingThem += count(id, signalled);
      // Questions and receipts are listed in the state (deduped); typing only flips a flag, so its proof is the signal plus the dedupe all events share.
      const seen = typing.includes(id) ? Math.min(1, count(id, signalled)) : count(id, eventKeys);
      const inHistory = questions.includes(id) ? count(id, inboundHistory) : seen;
      if (seen === 0 || inHistory === 0) {
        notProcessed++;
        problems.push(`event ${id} not processed`);
      } else if (seen > 1 || inHistory > 1) {
        processedMoreThanOnce++;
        problems.push(`event ${id} processed ${Math.max(seen, inHistory)} times`);
      } else processedOnce++;
    }
    // Final state: every question READ once, one reply per question, DELIVERED and READ for each reply.
    for (const q of questions)
      if (count(q, view.readReceiptsSent) !== 1)
        problems.push(`question ${q} marked READ ${count(q, view.readReceiptsSent)} times in state`);
    if (!exchangeDone(questions)(view)) problems.push('not every reply was DELIVERED and READ');
    const replies = view.history.filter((h) => h.direction === 'outbound');
    if (replies.length !== questions.length)
      problems.push(`${replies.length} replies in history for ${questions.length} questions`);
    if (view.status !== 'automation') problems.push(`status ${view.status}`);
    if (problems.length === 0) asExpected++;
    else note(`${conversation.key}: ${problems.join('; ')}`);
  });

  // Outbound, from the platform's side.
  const sentMessages = input.simMessages;
  let extraMessages = 0;
  let missingMessages = 0;
  let unread = 0;
  conversations.forEach((conversation, i) => {
    const expected = (events[i] ?? []).filter((e) => e.kind === 'text').length;
    const mine = sentMessages.filter((m) => m.conversation === conversation.key);
    if (mine.length > expected) {
      extraMessages += mine.length - expected;
      note(`${conversation.key}: ${mine.length} distinct agent messages for ${expected} questions`);
    }
    if (mine.length < expected) missingMessages += expected - mine.length;
    unread += mine.filter((m) => m.status !== 'read').length;
  });
  if (unread > 0) note(`${unread} agent messages not read at the platform`);
  const readEventIds = new Map<string, Set<string>>(
    Object.entries(counts.readReceipts.tookEffect).map(([question, eventIds]) => [
      question,
      new Set(Object.keys(eventIds)),
    ]),
  );
  const allQuestions = events
    .flat()
    .filter((e) => e.kind === 'text')
    .map((e) => e.id);
  const extraReads = allQuestions.reduce((n, q) => n + Math.max(0, (readEventIds.get(q)?.size ?? 0) - 1), 0);
  const missingReads = allQuestions.filter((q) => !readEventIds.has(q)).length;
  if (extraReads > 0) note(`${extraReads} READ receipts sent under a second distinct eventId`);
  if (missingReads > 0) note(`${missingReads} questions never marked READ at the platform`);
  if (missingMessages > 0) note(`${missingMessages} replies never reached the platform`);

  const recovery: ChaosReport['faults']['recovery'] = {
    activityRetries: 0,
    activityRetriesAfterTimeout: 0,
    workflowTasksTimedOut: 0,
    workflowTasksFailed: 0,
    retried: [],
  };
  for (const history of input.histories.values()) {
    const types = new Map<string, string>();
    const scheduledAt = new Map<string, number>();
    const seconds = (e: HistoryEvent) => Number(e.eventTime?.seconds ?? 0) + (e.eventTime?.nanos ?? 0) / 1e9;
    for (const e of history) {
      if (e.eventType === T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
        types.set(String(e.eventId), e.activityTaskScheduledEventAttributes?.activityType?.name ?? '?');
        scheduledAt.set(String(e.eventId), seconds(e));
      }
      const started = e.activityTaskStartedEventAttributes;
      if (e.eventType === T.EVENT_TYPE_ACTIVITY_TASK_STARTED && (started?.attempt ?? 1) > 1) {
        recovery.activityRetries += (started?.attempt ?? 1) - 1;
        // The history keeps only the last failure; an attempt that started 29 s or more after the
        // activity was scheduled waited out the 30 s start-to-close timeout of a lost attempt
        // (fault retries back off 1, 2, 4 … s, far from it within a few attempts).
        const waited = seconds(e) - (scheduledAt.get(String(started?.scheduledEventId)) ?? seconds(e));
        if (started?.lastFailure?.timeoutFailureInfo || waited >= 29) recovery.activityRetriesAfterTimeout++;
        if (recovery.retried.length < 20) {
          const failure = started?.lastFailure;
          recovery.retried.push({
            activity: types.get(String(started?.scheduledEventId)) ?? '?',
            attempt: started?.attempt ?? 1,
            previousFailure: failure?.timeoutFailureInfo
              ? `timeout (${failure.message ?? ''})`
              : (failure?.message ?? '?').slice(0, 120),
          });
        }
      }
      if (e.eventType === T.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT) recovery.workflowTasksTimedOut++;
      if (e.eventType === T.EVENT_TYPE_WORKFLOW_TASK_FAILED) recovery.workflowTasksFailed++;
    }
  }
  const platformFaults: Record<string, number> = {};
  for (const [fault, n] of Object.entries(counts.rbm.faults))
    platformFaults[faultKind(fault)] = (platformFaults[faultKind(fault)] ?? 0) + n;

  if (input.kills.length !== 2) note(`the worker was killed ${input.kills.length} times, not 2`);
  if (!input.restart) note('the Temporal server was not restarted');
  if ('postgresRestart' in input && !input.postgresRestart) note('PostgreSQL was not restarted');

  return {
    durationMs: input.durationMs,
    deployment: input.deployment ?? { temporal: 'dev server', workers: 1, apis: 1 },
    conversations: conversations.length,
    questions: allQuestions.length,
    faults: {
      workerKills: input.kills,
      temporalRestart: input.restart,
      ...('postgresRestart' in input ? { postgresRestart: input.postgresRestart } : {}),
      platformFaults,
      platformCalls: counts.rbm.calls,
      duplicatesPosted: { userWebhooks: input.userDuplicates, receiptWebhooks: input.receiptDuplicates },
      recovery,
    },
    webhooks: {
      userEvents: events.flat().length,
      userAttempts: userCalls.length,
      receiptEvents: [...receiptEventIds.values()].reduce((n, l) => n + l.length, 0),
      receiptAttempts: counts.rbmWebhooks.attempts + redeliveryCalls.length,
      non200,
      undelivered: undelivered.length,
    },
    inbound: { distinctEvents, signalsCarryingThem, processedOnce, notProcessed, processedMoreThanOnce },
    outbound: {
      agentMessages: {
        calls: counts.agentMessages.calls,
        faulted: counts.agentMessages.faulted,
        retriedSameId: counts.agentMessages.duplicate,
        distinctIds: new Set(sentMessages.map((m) => m.messageId)).size,
        expected: allQuestions.length,
        extraDistinct: extraMessages,
        missing: missingMessages,
      },
      readReceipts: {
        calls: counts.readReceipts.calls,
        faulted: counts.readReceipts.faulted,
        retriedSameId: counts.readReceipts.duplicate,
        distinctEventIds: [...readEventIds.values()].reduce((n, s) => n + s.size, 0),
        expected: allQuestions.length,
        extraDistinct: extraReads,
        missing: missingReads,
      },
    },
    finalState: { conversationsAsExpected: asExpected, notAsExpected: conversations.length - asExpected },
    violations,
  };
}

/** The report as a few readable lines (printed by `npm run chaos` and by the test). */
export function describeChaos(r: ChaosReport): string {
  const m = r.outbound.agentMessages;
  const rd = r.outbound.readReceipts;
  const refused = (outage: { refusedWith?: (number | null)[] }) =>
    outage.refusedWith ? `, webhooks answered ${outage.refusedWith.map((s) => s ?? 'none').join('/')} meanwhile` : '';
  return [
    `chaos run: ${r.conversations} conversations, ${r.questions} questions, ${(r.durationMs / 1000).toFixed(1)} s on ${r.deployment.temporal}, ${r.deployment.workers} worker(s), ${r.deployment.apis} API(s)`,
    `faults: worker killed ${r.faults.workerKills.length}× (activities in flight: ${r.faults.workerKills.map((k) => k.activitiesInFlight ?? 0).join(', ')}; held platform call cut short: ${r.faults.workerKills.map((k) => (k.heldCallCutShort ? 'yes' : 'no')).join(', ')}), Temporal server restarted ${r.faults.temporalRestart ? `once (down ${r.faults.temporalRestart.downMs} ms${refused(r.faults.temporalRestart)})` : 'never'}${'postgresRestart' in r.faults ? `, PostgreSQL restarted ${r.faults.postgresRestart ? `once (down ${r.faults.postgresRestart.downMs} ms${refused(r.faults.postgresRestart)})` : 'never'}` : ''}`,
    `        platform: ${r.faults.platformCalls} RBM calls, injected ${JSON.stringify(r.faults.platformFaults)}`,
    `        posted twice: ${r.faults.duplicatesPosted.userWebhooks} user webhooks, ${r.faults.duplicatesPosted.receiptWebhooks} receipt webhooks`,
    `recovery (histories): ${r.faults.recovery.activityRetries} activity retries, ${r.faults.recovery.activityRetriesAfterTimeout} of them after a timed-out attempt (killed worker); ${r.faults.recovery.workflowTasksTimedOut} workflow tasks timed out, ${r.faults.recovery.workflowTasksFailed} failed`,
    `webhooks: ${r.webhooks.userEvents} user events in ${r.webhooks.userAttempts} attempts, ${r.webhooks.receiptEvents} receipts in ${r.webhooks.receiptAttempts} attempts; non-200 on the way ${JSON.stringify(r.webhooks.non200)}; never accepted ${r.webhooks.undelivered}`,
    `inbound: ${r.inbound.distinctEvents} distinct events in ${r.inbound.signalsCarryingThem} signals → processed once ${r.inbound.processedOnce}, lost ${r.inbound.notProcessed}, more than once ${r.inbound.processedMoreThanOnce}`,
    `agent messages: ${m.calls} calls (${m.faulted} answered with an error, ${m.retriedSameId} retries of an id already sent, deduped by the platform) → ${m.distinctIds} distinct for ${m.expected} expected: ${m.extraDistinct} duplicated, ${m.missing} missing`,
    `READ receipts: ${rd.calls} calls (${rd.faulted} answered with an error, ${rd.retriedSameId} retries of an id already sent) → ${rd.distinctEventIds} distinct for ${rd.expected} expected: ${rd.extraDistinct} duplicated, ${rd.missing} missing`,
    `final state: ${r.finalState.conversationsAsExpected}/${r.conversations} conversations as expected`,
    r.violations.length === 0
      ? 'violations: none'
      : `violations (${r.violations.length}):\n  ${r.violations.join('\n  ')}`,
  ].join('\n');
}
