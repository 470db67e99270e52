/**
 * Scale probe (`npm run bench -- --scale`): how many open conversations one worker holds, and its
 * resident memory, at 1 000 and 10 000 (by default). Conversations are opened with one IS_TYPING
 * signal-with-start each (a conversation whose workflow runs and waits: the steady state of a
 * quiet conversation), straight from the client, since the webhook path is measured by
 * `npm run bench`. The worker's sticky cache is bounded (WORKER_MAX_CACHED_WORKFLOWS, default
 * here 1000), so beyond it workflows are evicted and replayed from history when they get a signal.
 *
 * At each level it records: time to open them, the worker's RSS after the level settled, its
 * cached-workflow count, the dev server's RSS, and a "still serves" check: a DELIVERED receipt is
 * signalled to 100 random open conversations (most of them evicted) and the time until each
 * workflow shows it is measured.
 */
import { readTemporalBinaries } from '../dev/binaries';
import { SeededRandom } from '../dev/simulator/rng';
import { type ConversationKey } from '../src/domain/conversation-key';
import { type InboundEvent } from '../src/domain/inbound';
import { conversationWorkflow } from '../src/workflows';
import { conversationStateQuery, inboundEventsSignal } from '../src/workflows/definitions';
import { pollUntilOrLast } from './lib/poll';
import { rssMiB } from './lib/processes';
import { hostInfo, writeJsonResult } from './lib/results';
import { BENCH_AGENT, BenchStack } from './lib/stack';
import { round, summarize } from './lib/stats';
import { benchConversations } from './lib/traffic';

/** Levels and worker settings of the scale probe. */
export interface ScaleOptions {
  /** Open conversations to reach, in order (e.g. [1000, 10000]). */
  counts: number[];
  maxCachedWorkflows: number;
  /** Signal-with-starts in flight while opening. */
  concurrency: number;
  persistence: 'sqlite' | 'memory';
  seed: number;
  /** A workflow bundle to use instead of building the production one. */
  workflowBundlePath?: string;
  /** Build the bundle with the OpenTelemetry workflow interceptors, tracing still off (A/B). */
  bundleWithTracing?: boolean;
  log: (line: string) => void;
}

interface Level {
  openConversations: number;
  runningWorkflows: number;
  openSeconds: number;
  openedPerSecond: number;
  workerRssMiB: number | undefined;
  workerCachedWorkflows: number | undefined;
  temporalRssMiB: number | undefined;
  /** Signal → visible in the workflow's state, for 100 random open conversations (mostly evicted: replayed from history). */
  touchMs: ReturnType<typeof summarize>;
  touchedNotSeen: number;
}

const typingEvent = (key: ConversationKey, id: string): InboundEvent => ({
  type: 'typing',
  isTyping: true,
  dedupeKey: id,
  channel: 'rbm',
  conversationKey: key,
  receivedAt: new Date().toISOString(),
});
const receiptEvent = (key: ConversationKey, id: string): InboundEvent => ({
  type: 'receipt',
  receipt: 'DELIVERED',
  messageId: `scale-${id}`,
  dedupeKey: id,
  channel: 'rbm',
  conversationKey: key,
  receivedAt: new Date().toISOString(),
});

/** Runs the probe, prints a table and writes bench/results/scale-*.json. */
export async function runScaleProbe(options: ScaleOptions): Promise<void> {
  const { log } = options;
  const at = new Date().toISOString();
  const counts = [...options.counts].filter((n) => n > 0).sort((a, b) => a - b);
  const stack = await BenchStack.start({
    label: 'scale',
    handleSignals: true,
    persistence: options.persistence,
    workerEnv: { WORKER_MAX_CACHED_WORKFLOWS: String(options.maxCachedWorkflows) },
    ...(options.workflowBundlePath ? { workflowBundlePath: options.workflowBundlePath } : {}),
    bundleWithTracing: options.bundleWithTracing ?? false,
    log,
  });
  try {
    const worker = await stack.startWorker();
    const gateway = stack.gateway();
    const all = benchConversations(BENCH_AGENT, 6, counts.at(-1) ?? 0);
    const random = new SeededRandom(options.seed);
    const levels: Level[] = [];
    const idle = { workerRssMiB: worker.child.rssMiB(), temporalRssMiB: rssMiB(stack.temporalPid()) };
    log(`worker idle: ${idle.workerRssMiB} MiB; cache bound ${options.maxCachedWorkflows} workflows`);
    let opened = 0;
    for (const target of counts) {
      log(`opening conversations ${opened + 1}–${target}`);
      const t0 = performance.now();
      let next = opened;
      const lane = async () => {
        while (next < target) {
          const c = all[next++];
          if (!c) break;
          await stack.client.workflow.signalWithStart(conversationWorkflow, {
            workflowId: gateway.workflowId(c.key),
            taskQueue: stack.taskQueue,
            args: [gateway.startInput(c.key)],
            signal: inboundEventsSignal,
            signalArgs: [[typingEvent(c.key, `scale-open-${c.index}`)]],
          });
        }
      };
      await Promise.all(Array.from({ length: options.concurrency }, lane));
      // Opened = the workflow ran its first task: started without the initial search attributes the API gives, it upserts SwitchboardChannel there.
      const query = `TaskQueue = '${stack.taskQueue}' AND ExecutionStatus = 'Running' AND SwitchboardChannel = 'rbm'`;
      // Measured even if not all opened within 15 min: the level records how many ran.
      const running = await pollUntilOrLast({
        what: `${target} conversations opened`,
        read: async () => (await stack.client.workflow.count(query)).count,
        done: (count) => count >= target,
        timeoutMs: 15 * 60_000,
        intervalMs: 500,
      });
      const openSeconds = (performance.now() - t0) / 1000;
      opened = target;

      const sample = Array.from(
        { length: Math.min(100, target) },
        () => all[Math.floor(random.next() * target)] as (typeof all)[number],
      );
      const touch: number[] = [];
      let notSeen = 0;
      await Promise.all(
        Array.from({ length: 8 }, async (_, laneIndex) => {
          for (let i = laneIndex; i < sample.length; i += 8) {
            const c = sample[i] as (typeof all)[number];
            const id = `scale-touch-${target}-${i}-${c.index}`;
            const handle = stack.client.workflow.getHandle(gateway.workflowId(c.key));
            const s0 = performance.now();
            await handle.signal(inboundEventsSignal, [receiptEvent(c.key, id)]);
            const seen = await pollUntilOrLast({
              what: `receipt ${id} in the state`,
              read: async () => (await handle.query(conversationStateQuery)).events.some((e) => e.dedupeKey === id),
              done: (listed) => listed,
              timeoutMs: 60_000,
              intervalMs: 20,
            });
            if (seen) touch.push(performance.now() - s0);
            else notSeen++;
          }
        }),
      );
      const status = await stack.workerStatus(worker);
      const level: Level = {
        openConversations: target,
        runningWorkflows: running,
        openSeconds: round(openSeconds, 1),
        openedPerSecond: round((target - (levels.at(-1)?.openConversations ?? 0)) / openSeconds, 1),
        workerRssMiB: worker.child.rssMiB(),
        workerCachedWorkflows: status?.status.numCachedWorkflows,
        temporalRssMiB: rssMiB(stack.temporalPid()),
        touchMs: summarize(touch),
        touchedNotSeen: notSeen,
      };
      levels.push(level);
      log(
        `  ${target} open: worker RSS ${level.workerRssMiB} MiB, cached ${level.workerCachedWorkflows}, dev server RSS ${level.temporalRssMiB} MiB, touch p50 ${level.touchMs.p50} ms p99 ${level.touchMs.p99} ms`,
      );
    }

    console.log('');
    console.log(
      'open conversations  running  open s  opened/s  worker RSS MiB  cached  dev server RSS MiB  touch p50/p99 ms',
    );
    for (const l of levels) {
      console.log(
        `${String(l.openConversations).padStart(18)}  ${String(l.runningWorkflows).padStart(7)}  ${String(l.openSeconds).padStart(6)}  ${String(l.openedPerSecond).padStart(8)}  ${String(l.workerRssMiB).padStart(14)}  ${String(l.workerCachedWorkflows).padStart(6)}  ${String(l.temporalRssMiB).padStart(18)}  ${l.touchMs.p50} / ${l.touchMs.p99}`,
      );
    }
    const file = writeJsonResult('scale', at, {
      benchmark: 'switchboard-scale',
      at,
      command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
      config: {
        counts,
        maxCachedWorkflows: options.maxCachedWorkflows,
        concurrency: options.concurrency,
        seed: options.seed,
        workflowBundle:
          options.workflowBundlePath ??
          (options.bundleWithTracing
            ? 'built with the OpenTelemetry interceptors, tracing off'
            : 'production bundle, tracing off (built for the run)'),
      },
      temporal: {
        server: readTemporalBinaries().cliVersion,
        persistence: stack.dbFile ? 'sqlite (WAL) in a temp folder' : 'memory',
      },
      host: hostInfo(),
      idle,
      levels,
    });
    console.log(`\nwritten: ${file}`);
  } finally {
    await stack.stop();
  }
}
