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
 * When each fault happens is bench/lib/chaos-schedule.ts; what is checked afterwards, from the
 * simulator's records and the workflows' state and histories, is bench/lib/chaos-checks.ts. This
 * module boots the stack, sends the traffic, waits until everything settled and collects the
 * evidence.
 */
import { temporal } from '@temporalio/proto';

import { pollUntil } from '../../dev/poll';
import { countWorkflows } from './actions';
import { type ChaosReport, checkChaos } from './chaos-checks';
import { addPlatformFaults, type ChaosWaves, Redeliverer, runFaultSchedule, UserPoster } from './chaos-schedule';
import { drain, exchangeDone } from './drain';
import { pollUntilOrLast } from './poll';
import { agentEventOf, CallCollector } from './sim-client';
import { BENCH_AGENT, BENCH_CLIENT_TOKEN, BenchStack, type WorkerHandle } from './stack';
import {
  type BenchConversation,
  benchConversations,
  toLanes,
  type UserEvent,
  userEvents,
  WebhookPoster,
} from './traffic';

// The chaos tests (test/chaos, test/production) take the report's type from the run's module.
export { type ChaosReport } from './chaos-checks';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const T = temporal.api.enums.v1.EventType;

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
 * processed after the check), and no activity is still open. At the timeout, the histories as
 * they are (the checks then report what is missing).
 */
async function settledHistories(
  stack: BenchStack,
  workflowIds: readonly string[],
  timeoutMs: number,
): Promise<Map<string, HistoryEvent[]>> {
  const unsettled = (events: readonly HistoryEvent[]) => {
    const lastSignal = events.map((e) => e.eventType).lastIndexOf(T.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED);
    const signalPending =
      lastSignal >= 0 && !events.slice(lastSignal).some((e) => e.eventType === T.EVENT_TYPE_WORKFLOW_TASK_COMPLETED);
    return signalPending || openActivities(events) > 0;
  };
  return pollUntilOrLast({
    what: 'every signal processed and no activity open',
    read: async () => (await countWorkflows(stack.client, workflowIds)).histories,
    done: (histories) => ![...histories.values()].some(unsettled),
    timeoutMs,
    intervalMs: 200,
    describe: (histories) => `${[...histories.values()].filter(unsettled).length} histories not settled`,
  });
}

/** The users' traffic in four waves, 30 % of it posted twice, and how far the phones have read it. */
function chaosWaves(
  conversations: readonly BenchConversation[],
  events: readonly UserEvent[][],
  users: UserPoster,
  collector: CallCollector,
  concurrency: number,
  remaining: () => number,
): ChaosWaves {
  const questionsOf = (i: number) => (events[i] ?? []).filter((e) => e.kind === 'text').map((e) => e.id);
  const [w1, w2, w3, w4] = [0, 1, 2, 3].map((w) => conversations.map((_, i) => i).filter((i) => i % 4 === w)) as [
    number[],
    number[],
    number[],
    number[],
  ];
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
  return {
    waves: [w1, w2, w3, w4],
    // Each wave posted by its own lanes.
    post: (indexes) =>
      Promise.all(
        toLanes(
          indexes.map((i) => events[i] ?? []),
          concurrency,
        ).map(async (lane) => {
          for (const e of lane) await users.post(e);
        }),
      ),
    halfRead: async (indexes, what) => {
      const wanted = Math.ceil(indexes.flatMap(questionsOf).length / 2);
      await pollUntil({
        what: `half of ${what}'s questions READ`,
        read: async () => {
          await collector.poll();
          return questionsRead(indexes);
        },
        done: (read) => read >= wanted,
        timeoutMs: remaining(),
        intervalMs: 100,
      });
    },
    totalRead: () => questionsRead(conversations.map((_, i) => i)),
  };
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
  let redeliverer: Redeliverer | undefined;
  try {
    const workers: WorkerHandle[] = [];
    for (let i = 0; i < (options.workers ?? 1); i++) workers.push(await stack.startWorker());
    for (let i = 0; i < (options.apis ?? 1); i++) await stack.startApi('switchboard', {}, i);
    await addPlatformFaults(stack, options.faultRate);

    const conversations = benchConversations(BENCH_AGENT, 8, options.conversations);
    const events = userEvents(BENCH_AGENT, conversations, options.exchanges, options.seed);
    const collector = new CallCollector(stack.sim);
    const userPoster = new UserPoster(users, options.duplicateRate);
    const traffic = chaosWaves(conversations, events, userPoster, collector, options.concurrency, remaining);
    redeliverer = new Redeliverer(collector, redeliveries, conversations, options.duplicateRate, log);
    redeliverer.start();

    const faults = await runFaultSchedule(
      { stack, workers, users, faultRate: options.faultRate, remaining, log },
      traffic,
    );

    log('all user webhooks accepted; waiting for every conversation to reach its final state');
    const items = conversations.map((c, i) => ({
      workflowId: stack.workflowId(c.key),
      done: exchangeDone((events[i] ?? []).filter((e) => e.kind === 'text').map((e) => e.id)),
    }));
    const drained = await drain(stack.client, items, remaining());
    if (drained.pending.length > 0)
      log(`  ${drained.pending.length} conversations did not reach their final state in time`);
    // The phones have posted every receipt by now: redeliver the last chosen ones, and wait until the workflows took every signal.
    await redeliverer.finish();
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
      ...faults,
      userDuplicates: userPoster.duplicates,
      receiptDuplicates: redeliverer.duplicates,
    });
  } finally {
    await redeliverer?.stop();
    users.close();
    redeliveries.close();
    await stack.stop();
  }
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
