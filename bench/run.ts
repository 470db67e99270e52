/**
 * `npm run bench`: throughput, acknowledgement latency, drain time, READ-receipt latency, Temporal
 * actions and worker memory, measured side by side in one run on a stack the run boots for itself
 * (bench/lib/stack.ts: dev server on SQLite in a temp folder, simulator, worker and API as child
 * processes). Phases, each on conversations of its own, at the same concurrency C:
 *
 *   (a) ack-only      signed RBM webhooks → the production Hono app whose gateway returns at once:
 *                     verification and parsing without Temporal, the HTTP ceiling;
 *   (b) raw Temporal  a Node loop calling client.workflow.signalWithStart with the same events for
 *                     the same kind of conversations: Temporal's ceiling on this machine;
 *   (f) floor         the same raw signalWithStart to a minimal workflow (bench/floor) on the same
 *                     SDK and worker entry, running the same activities (READ receipt, reply) and
 *                     nothing else: the worker CPU per event no conversation logic can go below;
 *   (c) Switchboard   the same signed webhooks through src/server.ts to the workers; the simulator's
 *                     phones deliver and read automation's reply and post DELIVERED / READ;
 *   (c½) open loop    (c)'s traffic at half of (c)'s throughput: the ack latency at half load;
 *   (d) lifecycle     operator messages (POST /v1/conversations/{key}/messages) until READ: the
 *                     Temporal actions of one tracked outbound message.
 *
 * In (b) and (c) the workers do the same work (the simulator's receipts come back through the
 * API in both), so c/b isolates what the webhook path costs. Figures are printed as a table and
 * written to bench/results/ (JSON, SVG chart of latency over time); the JSON's `targets[]` lists
 * issue 14's targets with their value and whether they are met.
 *
 *   npm run bench [-- --conversations 300 --concurrency 16 --exchanges 1 --open-seconds 10
 *                     --lifecycle 20 --memory --profile --seed 1]
 *   npm run bench -- --scale [--scale-counts 1000,10000 --scale-cache 1000]   (bench/scale.ts)
 *   npm run bench -- --codec-ab [--conversations 300 --rounds 2]   payload encryption on vs off (bench/codec.ts)
 */
import { mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

import { projectRoot, readTemporalBinaries } from '../dev/binaries';
import { type CallRecord } from '../dev/simulator/calls';
import { type InboundEvent } from '../src/domain/inbound';
import { type ConversationsClient } from '../src/temporal-client/conversations';
import { conversationWorkflow } from '../src/workflows';
import { runCodecComparison } from './codec';
import { type ActionCount, countWorkflows, perUnit, subtractCounts } from './lib/actions';
import { type ChartSeries, latencyChart } from './lib/chart';
import { summarizeProfiles, type ThreadProfile } from './lib/cpuprofile';
import { drain, exchangeDone } from './lib/drain';
import { rbmInboundEvents } from './lib/normalize';
import { PhoneEmulator, type Receipt } from './lib/phones';
import { pollUntilOrLast } from './lib/poll';
import { hostInfo, resultPath, RESULTS_DIR, writeJsonResult, writeTextResult } from './lib/results';
import { agentEventOf, CallCollector } from './lib/sim-client';
import {
  type ApiHandle,
  BENCH_AGENT,
  BENCH_API_TOKEN,
  BENCH_CLIENT_TOKEN,
  BenchStack,
  type WorkerHandle,
} from './lib/stack';
import { type LatencySummary, round, summarize } from './lib/stats';
import {
  type BenchConversation,
  benchConversations,
  closedLoop,
  interleave,
  type LoopResult,
  openLoop,
  type Sample,
  toLanes,
  type UserEvent,
  userEvents,
  WebhookPoster,
} from './lib/traffic';
import { type ProcessUsage, ProcSampler } from './lib/usage';
import { runScaleProbe } from './scale';

const { values: args } = parseArgs({
  options: {
    conversations: { type: 'string', default: '300' },
    concurrency: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '2' },
    exchanges: { type: 'string', default: '1' },
    'open-seconds': { type: 'string', default: '10' },
    lifecycle: { type: 'string', default: '20' },
    'deliver-after-ms': { type: 'string', default: '100' },
    'read-after-ms': { type: 'string', default: '100' },
    warmup: { type: 'string', default: '40' },
    memory: { type: 'boolean', default: false },
    temporal: { type: 'string', default: 'dev' },
    only: { type: 'string' },
    profile: { type: 'boolean', default: false },
    seed: { type: 'string', default: '1' },
    scale: { type: 'boolean', default: false },
    'scale-counts': { type: 'string', default: '1000,10000' },
    'scale-cache': { type: 'string', default: '1000' },
    'scale-concurrency': { type: 'string', default: '32' },
    bundle: { type: 'string' },
    'bundle-with-otel': { type: 'boolean', default: false },
    'sim-receipts': { type: 'boolean', default: false },
    'codec-ab': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

const positive = (name: keyof typeof args): number => {
  const n = Number(args[name]);
  if (!Number.isFinite(n) || n < 0)
    throw new Error(`--${name} must be a non-negative number, got ${String(args[name])}`);
  return n;
};

const N = positive('conversations');
const C = positive('concurrency');
const E = Math.max(1, positive('exchanges'));
const ROUNDS = Math.max(1, positive('rounds'));
const SEED = positive('seed');
const log = (line: string) => console.log(line);

/** One phase's figures (JSON and table). */
interface PhaseReport {
  id: string;
  /** Phases of one kind over all rounds (b, c) share a group. */
  group: 'a' | 'b0' | 'b' | 'floor' | 'c' | 'c-more' | 'c-half';
  label: string;
  mode: 'closed' | 'open';
  concurrency: number | null;
  offeredRatePerS?: number;
  conversations: number;
  /** Every request of the phase: the users' events and the phones' receipts. */
  requests: number;
  /** The users' events alone (typing, questions). */
  userRequests: number;
  /** First request sent → last request answered. */
  wallMs: number;
  /** Requests answered per second (the acknowledgement rate). */
  throughputPerS: number;
  /**
   * Requests per second counting until all the work they caused was done (loop + drain): the
   * rate the stack can keep up with, since acknowledging faster than the workers drain only
   * builds a backlog. Undefined for phases without a drain.
   */
  sustainedPerS?: number;
  /** Acknowledgement latency of every request (first attempt). */
  ackMs: LatencySummary;
  /** … of the users' events alone (the open loop's are counted from their scheduled time). */
  userAckMs: LatencySummary;
  /** First attempts not answered 200, by status ('none': no answer). */
  notAccepted: Record<string, number>;
  /** Requests never accepted, after the sender's retries. */
  undelivered: number;
  /** Open loop: requests that could not start on time. */
  late?: number;
  drainMs?: number;
  drainPollRounds?: number;
  notDrained?: number;
  /** User message webhook sent → Switchboard's READ receipt call reached the simulator. */
  readReceiptMs?: LatencySummary;
  /** The DELIVERED / READ of the phase's agent messages, and who sent them. */
  receipts?: { count: number; ackMs: LatencySummary; sentBy: string };
  /** Max RSS and CPU seconds per process during the phase (drain included). */
  usage: ProcessUsage;
  /** Inbound events the phase sent (typing, question, DELIVERED, READ per exchange), for phases with workflows. */
  inboundEvents?: number;
  /** The worker's CPU (all its threads) per inbound event, drain included. */
  workerCpuMsPerInboundEvent?: number;
  /**
   * Phases on a fresh worker: its RSS before the phase and once drained, and the workflows in its
   * cache then; `perCachedMiB` = (after − before) / cached.
   */
  workerMemory?: {
    idleMiB: number | undefined;
    afterMiB: number | undefined;
    cachedWorkflows: number | undefined;
    perCachedMiB: number | undefined;
  };
  /**
   * Temporal actions in the phase's histories (for c+, only what the extra exchange added):
   * per inbound event = typing, question, DELIVERED and READ of each exchange.
   */
  actions?: {
    inboundEvents: number;
    total: number;
    perInboundEvent: number;
    workflowTasksPerInboundEvent: number;
    perConversation: Record<string, number>;
    count: ActionCount;
    /** Everything in the histories so far (differs from `count` for c+ only). */
    cumulative: ActionCount;
  };
}

/** Actions of operator messages: the first one opens the conversation (update-with-start), the second is a message in a running one. */
interface LifecycleReport {
  conversations: number;
  read: { first: number; second: number };
  firstMessage: { perMessage: number; byKind: Record<string, number> };
  furtherMessage: { perMessage: number; byKind: Record<string, number> };
}

/** A group's rounds pooled: all requests over all wall time (and over wall + drain time for the sustained rate). */
function pooled(
  phases: readonly PhaseReport[],
  group: PhaseReport['group'],
): { throughputPerS?: number; sustainedPerS?: number; rounds: number } {
  const list = phases.filter((p) => p.group === group);
  if (list.length === 0) return { rounds: 0 };
  const requests = list.reduce((n, p) => n + p.requests, 0);
  const wall = list.reduce((n, p) => n + p.wallMs, 0);
  const drained = list.every((p) => p.drainMs !== undefined);
  const withDrainMs = list.reduce((n, p) => n + p.wallMs + (p.drainMs ?? 0), 0);
  return {
    throughputPerS: round(requests / (wall / 1000)),
    ...(drained ? { sustainedPerS: round(requests / (withDrainMs / 1000)) } : {}),
    rounds: list.length,
  };
}

const fmt = (v: number | undefined, d = 1) => (v === undefined ? '–' : String(round(v, d)));

function ackSummary(samples: readonly Sample[]): LatencySummary {
  return summarize(samples.map((s) => s.answeredPerf - s.startPerf));
}

function notAccepted(samples: readonly Sample[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples)
    if (s.status !== 200) out[String(s.status ?? 'none')] = (out[String(s.status ?? 'none')] ?? 0) + 1;
  return out;
}

/** READ receipt latency: the question's send time → the first agentEvents READ call for it at the simulator. */
function readReceiptLatency(calls: readonly CallRecord[], sentAt: ReadonlyMap<string, number>): LatencySummary {
  const firstRead = new Map<string, number>();
  for (const call of calls) {
    const ev = agentEventOf(call);
    if (ev?.eventType !== 'READ' || !ev.messageId) continue;
    const at = Date.parse(call.time);
    if (!firstRead.has(ev.messageId) || at < (firstRead.get(ev.messageId) as number)) firstRead.set(ev.messageId, at);
  }
  const latencies: number[] = [];
  for (const [id, sent] of sentAt) {
    const read = firstRead.get(id);
    if (read !== undefined) latencies.push(read - sent);
  }
  return summarize(latencies);
}

/** The simulator's own receipt webhooks (with --sim-receipts), as the simulator timed them (whole ms). */
function receiptWebhooks(calls: readonly CallRecord[]): { count: number; ackMs: LatencySummary } {
  const hooks = calls.filter((c) => c.direction === 'webhook' && c.api === 'rbm');
  return { count: hooks.length, ackMs: summarize(hooks.map((c) => c.durationMs)) };
}

/** The events the webhook would hand to Temporal for this payload (parsed once, before timing starts). */
function normalized(event: { id: string; data: Record<string, unknown> }): InboundEvent[] {
  return rbmInboundEvents(event);
}

/** The usage text of `--help`. */
function printHelp(): void {
  console.log(
    [
      'npm run bench [-- options]',
      '  --conversations N      conversations per phase (300)',
      '  --concurrency C        lanes / in-flight requests in the closed loops (16)',
      '  --exchanges E          (typing, question) pairs per conversation in (a)–(c½) (1)',
      '  --rounds R             rounds of (b) and (c), alternating their order; ratios pool the rounds (2)',
      '  --open-seconds S       duration of the open-loop phase at half of (c) (10)',
      '  --lifecycle M          conversations of the outbound-lifecycle probe, 2 operator messages each (20)',
      '  --deliver-after-ms, --read-after-ms   simulated phone (100, 100)',
      '  --warmup W             warm-up conversations, not measured (40)',
      '  --memory               dev server in memory instead of SQLite',
      '  --temporal postgres    the real Temporal server on a private PostgreSQL (bench/lib/production-temporal.ts; `node scripts/temporal-server.mjs` first) instead of the dev server',
      '  --only c               warm-up and (c) alone (its --rounds), e.g. to compare Temporal servers: `--only c` against `--only c --temporal postgres`',
      '  --profile              CPU profiles of the worker and the API (bench/results/profiles-*)',
      '  --seed S               ids and simulator seed (1)',
      "  --sim-receipts         let the simulator's phones send DELIVERED / READ (one in-order queue) instead of the run's phones",
      '  --bundle FILE          use this workflow bundle instead of building the production one (A/B of workflow code)',
      '  --bundle-with-otel     build the bundle with the OpenTelemetry workflow interceptors, tracing still off (A/B: what workers ran before the split)',
      '  --scale                run the scale probe instead (bench/scale.ts): --scale-counts 1000,10000 --scale-cache 1000',
      '  --codec-ab             payload encryption on against off instead (bench/codec.ts): c/b and worker CPU per event for each',
    ].join('\n'),
  );
}

/** `--scale`: the scale probe (bench/scale.ts) instead of the phases. */
async function runScale(): Promise<void> {
  await runScaleProbe({
    counts: String(args['scale-counts']).split(',').map(Number),
    maxCachedWorkflows: positive('scale-cache'),
    concurrency: positive('scale-concurrency'),
    persistence: args.memory ? 'memory' : 'sqlite',
    seed: SEED,
    ...(args.bundle ? { workflowBundlePath: path.resolve(args.bundle) } : {}),
    bundleWithTracing: args['bundle-with-otel'] === true,
    log,
  });
}

/** `--codec-ab`: payload encryption on against off (bench/codec.ts) instead of the phases. */
async function runCodecAb(): Promise<void> {
  await runCodecComparison({
    conversations: N,
    concurrency: C,
    rounds: ROUNDS,
    persistence: args.memory ? 'memory' : 'sqlite',
    seed: SEED,
    warmup: positive('warmup'),
    ...(args.bundle ? { workflowBundlePath: path.resolve(args.bundle) } : {}),
    bundleWithTracing: args['bundle-with-otel'] === true,
    log,
  });
}

/** One phase: what it sends, how, and what it waits for. */
interface PhaseSpec {
  id: string;
  group: PhaseReport['group'];
  label: string;
  chartTitle: string;
  convs: BenchConversation[];
  /** The users' events per conversation (typing, questions). */
  events: UserEvent[][];
  via: 'ack-only' | 'webhook' | 'signalWithStart' | 'signalWithStart-unpolled' | 'floor';
  /** Open loop at this many user events per second; closed loop (C lanes) when absent. */
  openRate?: number;
  /** Agent messages the phase makes (one reply per question); 0: no workflows, no receipts, no drain. */
  replies: number;
  /** Every question each conversation must have answered when drained (earlier phases' included). */
  drainQuestions?: (i: number) => string[];
  /** Run on a fresh worker: Switchboard's (`switchboard`) or the floor's (`floor`, bench/floor). */
  freshWorker?: 'switchboard' | 'floor';
  /** Inbound events sent (for the worker's CPU per event). */
  inboundEvents?: number;
  /** Count actions, minus what the histories held before (c+). */
  actions?: { inboundEvents: number; minus?: ActionCount };
}

/** What a phase's drain found (empty for phases without workflows). */
type Drained = Pick<PhaseReport, 'drainMs' | 'drainPollRounds' | 'notDrained'>;

const questionIds = (events: readonly UserEvent[]) => events.filter((e) => e.kind === 'text').map((e) => e.id);

/** Run-wide facts: when it started, where profiles go. */
interface RunContext {
  at: string;
  started: number;
  profileDir: string | undefined;
}

/** Set-up, first half: checks the flags and boots the stack (dev server or PostgreSQL-backed server, simulator). */
async function startStack(): Promise<{ context: RunContext; stack: BenchStack }> {
  const at = new Date().toISOString();
  const profileDir = args.profile ? resultPath('profiles', at, 'cpuprofiles') : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const started = Date.now();
  if (args.temporal !== 'dev' && args.temporal !== 'postgres')
    throw new Error(`--temporal must be dev or postgres, not ${args.temporal}`);
  if (args.only !== undefined && args.only !== 'c')
    throw new Error(`--only takes c (the Switchboard phase), not ${args.only}`);
  const stack = await BenchStack.start({
    label: 'bench',
    handleSignals: true,
    persistence: args.temporal === 'postgres' ? 'postgres' : args.memory ? 'memory' : 'sqlite',
    simulator: { deliverAfterMs: positive('deliver-after-ms'), readAfterMs: positive('read-after-ms'), seed: SEED },
    ...(profileDir ? { profileDir } : {}),
    ...(args.bundle ? { workflowBundlePath: path.resolve(args.bundle) } : {}),
    bundleWithTracing: args['bundle-with-otel'] === true,
    log,
  });
  return { context: { at, started, profileDir }, stack };
}

/** The processes, webhook posters and figures the phases share, and how one phase runs. */
class BenchRun {
  readonly phases: PhaseReport[] = [];
  readonly chart: ChartSeries[] = [];
  private readonly gateway: ConversationsClient;
  /** The floor (bench/floor): the same signalWithStart, to the floor workflow on its own task queue. */
  private readonly floorSend: (conversation: BenchConversation, inbound: InboundEvent[]) => Promise<Sample>;

  private constructor(
    readonly stack: BenchStack,
    private worker: WorkerHandle,
    readonly api: ApiHandle,
    private readonly ackApi: ApiHandle,
    readonly simReceipts: boolean,
    private readonly toAck: WebhookPoster,
    readonly toApi: WebhookPoster,
  ) {
    this.gateway = stack.gateway();
    this.floorSend = this.signalWithStart(stack.floorTaskQueue, 'floorWorkflow');
  }

  /** Set-up, second half: the worker, the API and the ack-only API, and a webhook poster to each API. */
  static async start(stack: BenchStack): Promise<BenchRun> {
    const simReceipts = args['sim-receipts'] === true;
    // The run's phones answer agent messages (bench/lib/phones.ts) unless the simulator's own are asked for.
    if (!simReceipts) await stack.sim.setDefaults({ deliverAfterMs: null });
    log('starting the worker, the API and the ack-only API');
    const worker = await stack.startWorker();
    const api = await stack.startApi('switchboard');
    const ackApi = await stack.startApi('ack-only');
    const toAck = new WebhookPoster({ apiUrl: ackApi.url, token: BENCH_CLIENT_TOKEN, seed: SEED + 1 });
    const toApi = new WebhookPoster({ apiUrl: api.url, token: BENCH_CLIENT_TOKEN, seed: SEED + 2 });
    return new BenchRun(stack, worker, api, ackApi, simReceipts, toAck, toApi);
  }

  /** Teardown: pending webhook retries must not keep the process alive after a failure. */
  close(): void {
    this.toAck.close();
    this.toApi.close();
  }

  /** The processes whose memory and CPU are sampled, by name. */
  readonly pids = () => ({
    worker: this.worker.child.pid,
    api: this.api.child.pid,
    'api-ack-only': this.ackApi.child.pid,
    temporal: this.stack.temporalPid(),
    simulator: this.stack.simulator.pid,
    bench: process.pid,
  });

  /**
   * (b) and (c) each start on a fresh worker: a worker's cost per activation grows with its
   * cache (garbage collection walks every cached workflow's context), so the phase that ran
   * second would otherwise pay for the first one's conversations.
   */
  private async freshWorker(kind: 'switchboard' | 'floor'): Promise<void> {
    await this.worker.child.stop(20_000);
    this.worker = kind === 'floor' ? await this.stack.startFloorWorker() : await this.stack.startWorker();
  }

  /** signalWithStart with what the webhook would have handed to Temporal (parsed before timing). */
  private signalWithStart(
    taskQueue: string,
    workflowType: typeof conversationWorkflow | 'floorWorkflow' = conversationWorkflow,
  ): (conversation: BenchConversation, inbound: InboundEvent[]) => Promise<Sample> {
    return async (conversation, inbound) => {
      const key = conversation.key;
      const sentAtMs = Date.now();
      const startPerf = performance.now();
      let status: number | null = 200;
      try {
        await this.stack.client.workflow.signalWithStart(workflowType, {
          ...this.gateway.deliveryOptions(key, inbound),
          taskQueue,
        });
      } catch {
        status = null;
      }
      return { sentAtMs, startPerf, answeredPerf: performance.now(), status, delivered: status === 200, attempts: 1 };
    };
  }

  /** The simulator's records of the phase, then a clean log for the next one. */
  async takeCalls(): Promise<CallRecord[]> {
    const calls = await this.stack.sim.calls();
    if (calls.length >= 10_000)
      log('  warning: the simulator kept only its newest 10 000 calls; READ-receipt latency covers those');
    await this.stack.sim.clearCalls();
    return calls;
  }

  private async actionsOf(
    convs: readonly BenchConversation[],
    inboundEvents: number,
    minus?: ActionCount,
  ): Promise<NonNullable<PhaseReport['actions']>> {
    const { count } = await countWorkflows(
      this.stack.client,
      convs.map((c) => this.stack.workflowId(c.key)),
    );
    const own = minus ? subtractCounts(count, minus) : count;
    return {
      inboundEvents,
      total: own.total,
      perInboundEvent: round(own.total / inboundEvents, 3),
      workflowTasksPerInboundEvent: round(own.workflowTasks / inboundEvents, 3),
      perConversation: perUnit(own, convs.length),
      count: own,
      cumulative: count,
    };
  }

  /** How the phase's user events are sent: through an API, or straight to Temporal. */
  private userSender(spec: PhaseSpec): (e: UserEvent) => Promise<Sample> {
    switch (spec.via) {
      case 'ack-only':
        return (e: UserEvent) => this.toAck.post(e, BENCH_AGENT);
      case 'webhook':
        return (e: UserEvent) => this.toApi.post(e, BENCH_AGENT);
      case 'signalWithStart':
      case 'signalWithStart-unpolled':
      case 'floor': {
        const send =
          spec.via === 'floor'
            ? this.floorSend
            : this.signalWithStart(
                spec.via === 'signalWithStart' ? this.stack.taskQueue : `${this.stack.taskQueue}-unpolled`,
              );
        const parsed = new Map(spec.events.flat().map((e) => [e.id, normalized(e)]));
        return (e: UserEvent) => send(e.conversation, parsed.get(e.id) ?? []);
      }
    }
  }

  /** The run's phones for a phase that makes replies, sending DELIVERED / READ the way the phase's events go. */
  private startPhones(spec: PhaseSpec): PhoneEmulator | undefined {
    if (spec.replies === 0 || this.simReceipts) return undefined;
    return new PhoneEmulator(this.stack.sim, {
      agentId: BENCH_AGENT,
      conversations: spec.convs,
      concurrency: C,
      seed: SEED + this.phases.length,
      send:
        spec.via === 'webhook'
          ? (r: Receipt) => this.toApi.post(r, BENCH_AGENT)
          : spec.via === 'floor'
            ? (r: Receipt) => this.floorSend(r.conversation, normalized(r))
            : (r: Receipt) => this.signalWithStart(this.stack.taskQueue)(r.conversation, normalized(r)),
    }).start();
  }

  /** Waits until every conversation of the phase is done, for up to 10 min; the drain time counts from `lastAck`. */
  private async drainPhase(spec: PhaseSpec, phones: PhoneEmulator | undefined, lastAck: number): Promise<Drained> {
    // Queried only once its phone has had every READ of this phase accepted (or, with the simulator's phones, once the simulator saw them accepted).
    const simReads = new Map<string, number>();
    const simWebhooks = new CallCollector(this.stack.sim, 200, 'webhook');
    const refresh = async () => {
      if (phones) return;
      simReads.clear();
      for (const c of await simWebhooks.poll())
        if (c.status === 200 && (c.body as { eventType?: string } | undefined)?.eventType === 'READ' && c.phone)
          simReads.set(c.phone, (simReads.get(c.phone) ?? 0) + 1);
    };
    const perConversation = spec.replies / spec.convs.length;
    const items = spec.convs.map((c, i) => ({
      workflowId: this.stack.workflowId(c.key),
      done: exchangeDone(spec.drainQuestions ? spec.drainQuestions(i) : questionIds(spec.events[i] ?? [])),
      ready: () => (phones ? phones.completedFor(c.phone) : (simReads.get(c.phone) ?? 0)) >= perConversation,
    }));
    const d = await drain(this.stack.client, items, 10 * 60_000, 4, refresh);
    if (d.pending.length > 0)
      log(`  ${d.pending.length} conversations not drained within 10 min, e.g. ${d.pending[0]}`);
    return {
      ...(d.lastDonePerf !== undefined ? { drainMs: round(Math.max(0, d.lastDonePerf - lastAck)) } : {}),
      drainPollRounds: d.rounds,
      notDrained: d.pending.length,
    };
  }

  /** A fresh worker's RSS before the phase and now, and the workflows in its cache. */
  private async workerMemory(idleMiB: number | undefined): Promise<NonNullable<PhaseReport['workerMemory']>> {
    const afterMiB = this.worker.child.rssMiB();
    const cachedWorkflows = (await this.stack.workerStatus(this.worker))?.status.numCachedWorkflows;
    const perCachedMiB =
      idleMiB !== undefined && afterMiB !== undefined && cachedWorkflows
        ? round((afterMiB - idleMiB) / cachedWorkflows, 3)
        : undefined;
    return { idleMiB, afterMiB, cachedWorkflows, perCachedMiB };
  }

  /** Runs one phase: sends its events (and the phones' receipts), drains it, records its figures and chart. */
  async runPhase(spec: PhaseSpec): Promise<{ cumulative?: ActionCount }> {
    if (spec.freshWorker) await this.freshWorker(spec.freshWorker);
    const idleMiB = spec.freshWorker ? this.worker.child.rssMiB() : undefined;
    log(
      `${spec.label}: ${spec.convs.length} conversations, ${spec.events.flat().length} user events${spec.openRate ? `, open loop at ${round(spec.openRate)}/s` : `, concurrency ${C}`}${spec.replies > 0 ? ` + ${2 * spec.replies} receipts` : ''}`,
    );
    const sentAt = new Map<string, number>();
    const userSend = this.userSender(spec);
    const send = async (e: UserEvent) => {
      const sample = await userSend(e);
      if (e.kind === 'text') sentAt.set(e.id, sample.sentAtMs);
      return sample;
    };
    const phones = this.startPhones(spec);
    const usage = new ProcSampler(this.pids, ['worker']).start();
    const loopStart = performance.now();
    const result = spec.openRate
      ? await openLoop(interleave(spec.events), spec.openRate, send)
      : await closedLoop(toLanes(spec.events, C), send);
    if (phones) {
      await phones.waitFor(spec.replies, 10 * 60_000);
      await phones.stop();
    }
    const samples = [...result.samples, ...(phones?.samples ?? [])];
    const lastAck = Math.max(...samples.map((x) => x.answeredPerf));
    const drained = spec.replies > 0 ? await this.drainPhase(spec, phones, lastAck) : {};
    const phaseUsage = usage.stop();
    const workerMemory = spec.freshWorker ? await this.workerMemory(idleMiB) : undefined;
    const calls = await this.takeCalls();
    const actions = spec.actions
      ? await this.actionsOf(spec.convs, spec.actions.inboundEvents, spec.actions.minus)
      : undefined;
    this.phases.push(
      phaseReport({
        spec,
        wallMs: lastAck - loopStart,
        samples,
        result,
        phones,
        calls,
        sentAt,
        drained,
        usage: phaseUsage,
        workerMemory,
        actions,
      }),
    );
    const t0 = Math.min(...samples.map((x) => x.startPerf));
    this.chart.push({
      title: spec.chartTitle,
      points: samples.map((x) => [(x.startPerf - t0) / 1000, x.answeredPerf - x.startPerf]),
    });
    return { ...(actions ? { cumulative: actions.cumulative } : {}) };
  }
}

/** A phase's figures from what it sent, what was answered and what its drain and samplers saw. */
function phaseReport(input: {
  spec: PhaseSpec;
  wallMs: number;
  /** The users' events' samples and the phones' receipts' samples. */
  samples: Sample[];
  result: LoopResult;
  phones: PhoneEmulator | undefined;
  calls: CallRecord[];
  sentAt: ReadonlyMap<string, number>;
  drained: Drained;
  usage: ProcessUsage;
  workerMemory: PhaseReport['workerMemory'];
  actions: PhaseReport['actions'];
}): PhaseReport {
  const { spec, wallMs, samples, result, phones, calls, drained, workerMemory, actions } = input;
  const inboundEvents = spec.inboundEvents ?? spec.actions?.inboundEvents;
  const workerCpu = input.usage.cpuSeconds.worker;
  const requests = samples.length;
  return {
    id: spec.id,
    group: spec.group,
    label: spec.label,
    mode: spec.openRate ? 'open' : 'closed',
    concurrency: spec.openRate ? null : C,
    ...(spec.openRate ? { offeredRatePerS: round(spec.openRate), late: result.late ?? 0 } : {}),
    conversations: spec.convs.length,
    requests,
    userRequests: result.samples.length,
    wallMs: round(wallMs),
    throughputPerS: round(requests / (wallMs / 1000)),
    ...(drained.drainMs !== undefined ? { sustainedPerS: round(requests / ((wallMs + drained.drainMs) / 1000)) } : {}),
    ackMs: ackSummary(samples),
    userAckMs: ackSummary(result.samples),
    ...(phones
      ? {
          receipts: {
            count: phones.samples.length,
            ackMs: ackSummary(phones.samples),
            sentBy: "the benchmark's phones",
          },
        }
      : spec.replies > 0
        ? {
            receipts: {
              ...receiptWebhooks(calls),
              sentBy: "the simulator's phones (one in-order queue; whole-ms timings)",
            },
          }
        : {}),
    notAccepted: notAccepted(samples),
    undelivered: samples.filter((x) => !x.delivered).length,
    ...drained,
    ...(spec.replies > 0 ? { readReceiptMs: readReceiptLatency(calls, input.sentAt) } : {}),
    usage: input.usage,
    ...(inboundEvents ? { inboundEvents } : {}),
    ...(inboundEvents && workerCpu !== undefined
      ? { workerCpuMsPerInboundEvent: round((workerCpu * 1000) / inboundEvents, 2) }
      : {}),
    ...(workerMemory ? { workerMemory } : {}),
    ...(actions ? { actions } : {}),
  };
}

/** Warm-up (not measured, not reported): JIT, connection pools, the worker's first workflow tasks. */
async function warmUp(run: BenchRun): Promise<void> {
  const W = positive('warmup');
  if (W === 0) return;
  log(`warm-up: ${W} conversations through both APIs`);
  const convs = benchConversations(BENCH_AGENT, 9, W);
  const events = userEvents(BENCH_AGENT, convs, E, SEED + 9);
  await run.runPhase({
    id: 'warmup-a',
    group: 'a',
    label: 'warm-up (ack-only)',
    chartTitle: '',
    convs,
    events,
    via: 'ack-only',
    replies: 0,
  });
  await run.runPhase({
    id: 'warmup-c',
    group: 'c',
    label: 'warm-up (Switchboard)',
    chartTitle: '',
    convs,
    events,
    via: 'webhook',
    replies: W * E,
  });
  run.phases.length = 0;
  run.chart.length = 0;
}

/** A measured phase's conversations (block `block`, round `roundNo`'s share of it) and their events. */
function phaseTraffic(
  group: 'a' | 'b0' | 'b' | 'floor' | 'c',
  roundNo: number,
  block: number,
): Omit<PhaseSpec, 'id' | 'label' | 'chartTitle' | 'via' | 'replies'> {
  const convs = benchConversations(BENCH_AGENT, block, N, (roundNo - 1) * N);
  return { group, convs, events: userEvents(BENCH_AGENT, convs, E, SEED + block * 10 + roundNo) };
}

const roundLabel = (label: string, r: number) => `${label}${ROUNDS > 1 ? `, round ${r}` : ''}`;

/** (b) raw Temporal, round `r`, on a fresh worker. */
function runB(run: BenchRun, r: number): Promise<{ cumulative?: ActionCount }> {
  return run.runPhase({
    ...phaseTraffic('b', r, 2),
    id: r === 1 ? 'b' : `b#${r}`,
    label: roundLabel('(b) raw Temporal: signalWithStart loop', r),
    chartTitle: roundLabel('(b) raw Temporal: signalWithStart for every event (workers running)', r),
    via: 'signalWithStart',
    replies: N * E,
    freshWorker: 'switchboard',
    actions: { inboundEvents: N * E * 4 },
  });
}

/** (c)'s conversations and events in round `r`. */
const cTraffic = (r: number) => phaseTraffic('c', r, 3);

/** (c) Switchboard, round `r`, on a fresh worker. */
function runC(run: BenchRun, r: number, traffic = cTraffic(r)): Promise<{ cumulative?: ActionCount }> {
  return run.runPhase({
    ...traffic,
    id: r === 1 ? 'c' : `c#${r}`,
    label: roundLabel('(c) Switchboard: signed webhooks → workers', r),
    chartTitle: roundLabel('(c) Switchboard: signed webhooks for every event, closed loop', r),
    via: 'webhook',
    replies: N * E,
    freshWorker: 'switchboard',
    actions: { inboundEvents: N * E * 4 },
  });
}

/** (f) the floor, round `r`, on a fresh floor worker. */
function runFloor(run: BenchRun, r: number): Promise<{ cumulative?: ActionCount }> {
  return run.runPhase({
    ...phaseTraffic('floor', r, 8),
    id: r === 1 ? 'floor' : `floor#${r}`,
    label: roundLabel('(f) floor: minimal workflow, same signals and activities', r),
    chartTitle: roundLabel('(f) floor: raw signalWithStart to a minimal workflow (READ receipt, reply)', r),
    via: 'floor',
    replies: N * E,
    freshWorker: 'floor',
    actions: { inboundEvents: N * E * 4 },
  });
}

/** (a) the HTTP ceiling and (b0) the Temporal server's alone: no workflows run. */
async function runCeilings(run: BenchRun): Promise<void> {
  await run.runPhase({
    ...phaseTraffic('a', 1, 1),
    id: 'a',
    label: '(a) ack-only: webhook route, no Temporal',
    chartTitle: '(a) ack-only webhook (HTTP ceiling)',
    via: 'ack-only',
    replies: 0,
  });
  await run.runPhase({
    ...phaseTraffic('b0', 1, 7),
    id: 'b0',
    label: '(b0) signalWithStart, no worker (server only)',
    chartTitle: '(b0) signalWithStart, no worker polling (the dev server alone)',
    via: 'signalWithStart-unpolled',
    replies: 0,
  });
}

/**
 * The rounds of (b), the floor and (c). Round 1: (b), the floor, then (c); (c+) follows on (c)'s
 * conversations; later rounds alternate the order of (b) and (c) so neither always runs second.
 */
async function runRounds(run: BenchRun): Promise<void> {
  await runB(run, 1);
  await runFloor(run, 1);
  const c1 = cTraffic(1);
  const { cumulative: cFirst } = await runC(run, 1, c1);
  const more = userEvents(BENCH_AGENT, c1.convs, 1, SEED + 99);
  await run.runPhase({
    id: 'c-more',
    group: 'c-more',
    label: '(c+) Switchboard: next exchange, running workflows',
    chartTitle: '(c+) Switchboard: one more exchange in the conversations of (c)',
    convs: c1.convs,
    events: more,
    via: 'webhook',
    replies: N,
    drainQuestions: (i) => [...questionIds(c1.events[i] ?? []), ...questionIds(more[i] ?? [])],
    actions: { inboundEvents: N * 4, ...(cFirst ? { minus: cFirst } : {}) },
  });
  for (let r = 2; r <= ROUNDS; r++) {
    if (r % 2 === 0) {
      await runC(run, r);
      await runFloor(run, r);
      await runB(run, r);
    } else {
      await runB(run, r);
      await runFloor(run, r);
      await runC(run, r);
    }
  }
}

/** (c½) open loop at half of (c)'s sustained rate: user events are half of all requests. */
async function runHalfLoad(run: BenchRun): Promise<void> {
  const cPooled = pooled(run.phases, 'c');
  const halfTotal = (cPooled.sustainedPerS ?? cPooled.throughputPerS ?? 2) / 2;
  const userRate = Math.max(1, halfTotal / 2);
  const hConvs = benchConversations(
    BENCH_AGENT,
    4,
    Math.max(1, Math.ceil((userRate * positive('open-seconds')) / (2 * E))),
  );
  const hEvents = userEvents(BENCH_AGENT, hConvs, E, SEED + 4);
  await run.runPhase({
    id: 'c-half',
    group: 'c-half',
    label: '(c½) Switchboard at half of (c) sustained, open loop',
    chartTitle: `(c½) Switchboard at half load: ${round(halfTotal, 0)} requests/s (latency from the scheduled time)`,
    convs: hConvs,
    events: hEvents,
    via: 'webhook',
    openRate: userRate,
    replies: hConvs.length * E,
    actions: { inboundEvents: hConvs.length * E * 4 },
  });
}

/** (d) outbound lifecycle: two operator messages per conversation, each until READ; undefined with `--lifecycle 0`. */
async function runLifecycle(run: BenchRun): Promise<LifecycleReport | undefined> {
  const M = positive('lifecycle');
  if (M === 0) return undefined;
  const { stack, api } = run;
  log(
    `(d) outbound lifecycle: ${M} conversations, 2 operator messages each (the first one opens the conversation), each until READ`,
  );
  const convs = benchConversations(BENCH_AGENT, 5, M);
  const ids = (c: BenchConversation) => stack.workflowId(c.key);
  const phones = run.simReceipts
    ? undefined
    : new PhoneEmulator(stack.sim, {
        agentId: BENCH_AGENT,
        conversations: convs,
        concurrency: Math.min(C, M),
        seed: SEED + 55,
        send: (r) => run.toApi.post(r, BENCH_AGENT),
      }).start();
  let lifecycle: LifecycleReport;
  try {
    const first = await lifecycleProbe(api.url, convs, Math.min(C, M), 1);
    const firstRead = await waitForRead(api.url, convs, first);
    const afterFirst = (await countWorkflows(stack.client, convs.map(ids))).count;
    const second = await lifecycleProbe(api.url, convs, Math.min(C, M), 2);
    const secondRead = await waitForRead(api.url, convs, second);
    const afterSecond = (await countWorkflows(stack.client, convs.map(ids))).count;
    const further = subtractCounts(afterSecond, afterFirst);
    lifecycle = {
      conversations: M,
      read: { first: firstRead, second: secondRead },
      firstMessage: { perMessage: round(afterFirst.total / M, 3), byKind: perUnit(afterFirst, M) },
      furtherMessage: { perMessage: round(further.total / M, 3), byKind: perUnit(further, M) },
    };
  } finally {
    await phones?.stop();
  }
  await run.takeCalls();
  return lifecycle;
}

/** With `--profile`: stops the children gracefully (profiles are written when they exit) and summarizes the profiles. */
async function collectProfiles(
  stack: BenchStack,
  profileDir: string | undefined,
): Promise<Record<string, ThreadProfile[]> | undefined> {
  if (!profileDir) return undefined;
  log('stopping the children gracefully to write their CPU profiles');
  await stack.children.stopAll(20_000);
  const profiles: Record<string, ThreadProfile[]> = {};
  // worker-2 ran (b); worker-3 ran (c), (c+) …: one folder per process, one profile per thread.
  for (const name of readdirSync(profileDir)) {
    try {
      profiles[name] = summarizeProfiles(path.join(profileDir, name));
    } catch (err) {
      log(`  no profile for ${name}: ${(err as Error).message}`);
    }
  }
  return profiles;
}

/** `--only c`: the same phase on another Temporal server (e.g. the dev server against PostgreSQL; the figures are in docs/performance.md). */
async function runOnlyC(run: BenchRun, context: RunContext): Promise<void> {
  for (let r = 1; r <= ROUNDS; r++) await runC(run, r);
  report({
    ...context,
    stack: run.stack,
    phases: run.phases,
    lifecycle: undefined,
    rssEnd: new ProcSampler(run.pids).sample(),
    chart: run.chart,
    profiles: undefined,
    simReceipts: run.simReceipts,
    partial: true,
  });
}

/** All phases in order, then the report. */
async function runAllPhases(run: BenchRun, context: RunContext): Promise<void> {
  await runCeilings(run);
  await runRounds(run);
  await runHalfLoad(run);
  const lifecycle = await runLifecycle(run);
  const rssEnd = new ProcSampler(run.pids).sample();
  const profiles = await collectProfiles(run.stack, context.profileDir);
  report({
    ...context,
    stack: run.stack,
    phases: run.phases,
    lifecycle,
    rssEnd,
    chart: run.chart,
    profiles,
    simReceipts: run.simReceipts,
  });
}

async function main(): Promise<void> {
  if (args.help) return printHelp();
  if (args.scale) return runScale();
  if (args['codec-ab']) return runCodecAb();
  const { context, stack } = await startStack();
  let run: BenchRun | undefined;
  try {
    run = await BenchRun.start(stack);
    await warmUp(run);
    if (args.only === 'c') await runOnlyC(run, context);
    else await runAllPhases(run, context);
  } finally {
    run?.close();
    await stack.stop();
  }
}

/** Sends one operator message per conversation (the first one is an update-with-start that opens it), `concurrency` at a time; returns the messageIds. */
async function lifecycleProbe(
  apiUrl: string,
  convs: readonly BenchConversation[],
  concurrency: number,
  messageNumber: number,
): Promise<string[]> {
  const ids: string[] = new Array<string>(convs.length);
  let next = 0;
  const lane = async () => {
    while (next < convs.length) {
      const i = next++;
      const c = convs[i] as BenchConversation;
      const res = await fetch(`${apiUrl}/v1/conversations/${encodeURIComponent(c.key)}/messages`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${BENCH_API_TOKEN}`,
          'content-type': 'application/json',
          'idempotency-key': `bench-lifecycle-${c.index}-${messageNumber}`,
        },
        body: JSON.stringify({
          text: messageNumber === 1 ? 'Your table is ready.' : 'We are holding it for 15 minutes.',
          delivery: { deliverWithin: '10m', fallbackSms: { text: 'Your table is ready (SMS).' } },
        }),
      });
      const body = (await res.json()) as { messageId?: string; error?: unknown };
      if (res.status !== 201 || !body.messageId)
        throw new Error(`operator send answered ${res.status}: ${JSON.stringify(body)}`);
      ids[i] = body.messageId;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return ids;
}

/** Waits until every probe message is READ (GET …/messages/{id}), for up to 2 min; returns how many were. */
async function waitForRead(
  apiUrl: string,
  convs: readonly BenchConversation[],
  ids: readonly string[],
): Promise<number> {
  const pending = new Set(convs.map((_, i) => i));
  /** Asks for each message not READ yet; returns how many are still not. */
  const readPass = async (): Promise<number> => {
    for (const i of [...pending]) {
      const c = convs[i] as BenchConversation;
      const res = await fetch(`${apiUrl}/v1/conversations/${encodeURIComponent(c.key)}/messages/${ids[i] ?? ''}`, {
        headers: { authorization: `Bearer ${BENCH_API_TOKEN}` },
      });
      const body = (await res.json()) as { status?: string };
      if (body.status === 'READ') pending.delete(i);
    }
    return pending.size;
  };
  // Messages still unread at the deadline are reported as such, not as a failure.
  await pollUntilOrLast({
    what: `${convs.length} operator messages READ`,
    read: readPass,
    done: (unread) => unread === 0,
    timeoutMs: 120_000,
    intervalMs: 250,
  });
  return convs.length - pending.size;
}

/** Worker CPU ms per inbound event of a group's rounds pooled (all worker CPU over all inbound events). */
function workerCpuPooled(phases: readonly PhaseReport[]): { b?: number; c?: number; floor?: number } {
  const of = (group: PhaseReport['group']) => {
    const list = phases.filter((p) => p.group === group && p.inboundEvents && p.usage.cpuSeconds.worker !== undefined);
    const events = list.reduce((n, p) => n + (p.inboundEvents ?? 0), 0);
    return events > 0
      ? round((list.reduce((n, p) => n + (p.usage.cpuSeconds.worker ?? 0), 0) * 1000) / events, 2)
      : undefined;
  };
  const out: { b?: number; c?: number; floor?: number } = {};
  for (const g of ['b', 'c', 'floor'] as const) {
    const v = of(g);
    if (v !== undefined) out[g] = v;
  }
  return out;
}

/** One target of issue 14, as the bench JSON lists it (`targets[]`). */
export interface BenchTarget {
  id:
    | 'actionsPerInboundRunning'
    | 'actionsPerInboundNew'
    | 'actionsPerOutboundRunning'
    | 'actionsPerOutboundOpening'
    | 'workerCpuOverFloor'
    | 'rssPerCachedConversationMb'
    | 'cOverB'
    | 'ackP99HalfLoadMs'
    | 'readReceiptP50HalfLoadMs';
  /** What is measured and the bound, in words. */
  target: string;
  value: number | undefined;
  /** The bound: `value ≤ limit` (or `≥` for cOverB). */
  limit: number;
  met: boolean;
}

/** The targets of issue 14 from one run's figures (missing figures are not met). */
function issueTargets(input: {
  ratios: { cOverB: number | undefined };
  half: PhaseReport | undefined;
  phases: readonly PhaseReport[];
  lifecycle: LifecycleReport | undefined;
  workerCpu: { c?: number; floor?: number };
}): BenchTarget[] {
  const { ratios, half, phases, lifecycle, workerCpu } = input;
  const by = (id: string) => phases.find((p) => p.id === id);
  const perCached = phases
    .filter((p) => p.group === 'c' && p.workerMemory?.perCachedMiB !== undefined)
    .map((p) => p.workerMemory?.perCachedMiB as number);
  const atMost = (id: BenchTarget['id'], target: string, value: number | undefined, limit: number): BenchTarget => ({
    id,
    target,
    value,
    limit,
    met: value !== undefined && value <= limit,
  });
  return [
    atMost(
      'actionsPerInboundRunning',
      'Temporal actions per inbound event in a running conversation (c+) ≤ 1.25',
      by('c-more')?.actions?.perInboundEvent,
      1.25,
    ),
    atMost(
      'actionsPerInboundNew',
      'Temporal actions per inbound event, new conversations (c, round 1) ≤ 1.5',
      by('c')?.actions?.perInboundEvent,
      1.5,
    ),
    atMost(
      'actionsPerOutboundRunning',
      'Temporal actions per outbound lifecycle (send → DELIVERED → READ) in a running conversation (d) ≤ 4',
      lifecycle?.furtherMessage.perMessage,
      4,
    ),
    atMost(
      'actionsPerOutboundOpening',
      'Temporal actions per outbound lifecycle, the message that opens the conversation (d) ≤ 6',
      lifecycle?.firstMessage.perMessage,
      6,
    ),
    atMost(
      'workerCpuOverFloor',
      'worker CPU per inbound event, (c) over the floor (f), rounds pooled ≤ 1.5',
      workerCpu.c !== undefined && workerCpu.floor ? round(workerCpu.c / workerCpu.floor, 3) : undefined,
      1.5,
    ),
    atMost(
      'rssPerCachedConversationMb',
      'worker RSS growth per cached conversation after (c) on a fresh worker, MiB, mean of the rounds ≤ 0.5',
      perCached.length > 0 ? round(perCached.reduce((x, y) => x + y, 0) / perCached.length, 3) : undefined,
      0.5,
    ),
    {
      id: 'cOverB',
      target: 'c/b ≥ 1.0 (acknowledged requests/s at the same concurrency, rounds pooled)',
      value: ratios.cOverB,
      limit: 1.0,
      met: ratios.cOverB !== undefined && ratios.cOverB >= 1.0,
    },
    atMost(
      'ackP99HalfLoadMs',
      'ack p99 at half the sustained maximum (c½, open loop, every request) ≤ 50 ms',
      half?.ackMs.p99,
      50,
    ),
    atMost(
      'readReceiptP50HalfLoadMs',
      'inbound message → READ receipt p50 at half load (c½) ≤ 50 ms',
      half?.readReceiptMs?.p50,
      50,
    ),
  ];
}

interface ReportInput {
  at: string;
  started: number;
  stack: BenchStack;
  phases: PhaseReport[];
  lifecycle: LifecycleReport | undefined;
  rssEnd: Record<string, number>;
  chart: ChartSeries[];
  profiles: Record<string, ThreadProfile[]> | undefined;
  profileDir: string | undefined;
  simReceipts: boolean;
  /** Only some phases ran (--only): issue 14's targets, which need all of them, are left out. */
  partial?: boolean;
}

/** Prints a table with a header rule; the first column left-aligned, the others right-aligned. */
function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
}

/** Reporting: the figures, printed, then written. */
function report(input: ReportInput): void {
  const figures = runFigures(input);
  printReport(input, figures);
  writeResults(input, figures);
}

/** What the report derives from the phases: pooled rates, ratios, worker CPU per event, issue 14's targets. */
interface RunFigures {
  pb: ReturnType<typeof pooled>;
  pc: ReturnType<typeof pooled>;
  ratios: {
    rounds: number;
    cOverB: number | undefined;
    cOverBSustained: number | undefined;
    cOverA: number | undefined;
    bOverB0: number | undefined;
    perRound: { cOverB: number | undefined; cOverBSustained: number | undefined }[];
  };
  workerCpu: ReturnType<typeof workerCpuPooled>;
  targets: BenchTarget[];
}

/** The phases' figures pooled over the rounds and checked against issue 14's targets (none with --only). */
function runFigures(input: ReportInput): RunFigures {
  const { phases, lifecycle } = input;
  const by = (id: string) => phases.find((p) => p.id === id);
  const ratio = (x?: number, y?: number) => (x !== undefined && y ? round(x / y, 3) : undefined);
  const [pa, pb0, pb, pc] = (['a', 'b0', 'b', 'c'] as const).map((g) => pooled(phases, g)) as [
    ReturnType<typeof pooled>,
    ReturnType<typeof pooled>,
    ReturnType<typeof pooled>,
    ReturnType<typeof pooled>,
  ];
  const ratios = {
    rounds: pc.rounds,
    cOverB: ratio(pc.throughputPerS, pb.throughputPerS),
    cOverBSustained: ratio(pc.sustainedPerS, pb.sustainedPerS),
    cOverA: ratio(pc.throughputPerS, pa.throughputPerS),
    bOverB0: ratio(pb.throughputPerS, pb0.throughputPerS),
    perRound: phases
      .filter((p) => p.group === 'c')
      .map((c, i) => {
        const b = phases.filter((p) => p.group === 'b')[i];
        return {
          cOverB: ratio(c.throughputPerS, b?.throughputPerS),
          cOverBSustained: ratio(c.sustainedPerS, b?.sustainedPerS),
        };
      }),
  };
  const half = by('c-half');
  const workerCpu = workerCpuPooled(phases);
  const targets = input.partial ? [] : issueTargets({ ratios, half, phases, lifecycle, workerCpu });
  return { pb, pc, ratios, workerCpu, targets };
}

/** Prints the phases' table, the CPU table and the run's figures and targets. */
function printReport(input: ReportInput, figures: RunFigures): void {
  const { phases, lifecycle } = input;
  const { pb, pc, ratios, workerCpu, targets } = figures;
  const by = (id: string) => phases.find((p) => p.id === id);
  console.log('');
  printTable(
    [
      'phase',
      'conc.',
      'requests',
      'acked/s',
      'sustained/s',
      'ack p50 ms',
      'p95',
      'p99',
      'drain s',
      'READ rcpt p50/p99 ms',
      'actions/event',
      'worker RSS MiB',
    ],
    phases.map((p) => [
      p.label,
      p.mode === 'open' ? `open ${fmt(p.offeredRatePerS, 0)}/s+rcpts` : String(p.concurrency),
      String(p.requests),
      fmt(p.throughputPerS, 0),
      fmt(p.sustainedPerS, 0),
      fmt(p.ackMs.p50),
      fmt(p.ackMs.p95),
      fmt(p.ackMs.p99),
      p.drainMs === undefined ? '–' : fmt(p.drainMs / 1000, 2),
      p.readReceiptMs ? `${fmt(p.readReceiptMs.p50, 0)} / ${fmt(p.readReceiptMs.p99, 0)}` : '–',
      p.actions ? fmt(p.actions.perInboundEvent, 2) : '–',
      fmt(p.usage.rssMaxMiB.worker, 0),
    ]),
  );
  console.log(
    `requests = users' events + the phones' DELIVERED and READ (sent by ${input.simReceipts ? "the simulator's phones, one in-order queue" : "the run's phones, up to C in flight"}); acked/s over first request → last answer; sustained/s includes the drain.`,
  );
  console.log('');
  const procs = ['api-ack-only', 'api', 'worker', 'temporal', 'simulator', 'bench'];
  console.log(
    'CPU seconds per process during each phase (drain included), and CPU ms per request summed over all processes:',
  );
  printTable(
    ['phase', ...procs, 'CPU ms/request'],
    phases.map((p) => {
      const total = Object.values(p.usage.cpuSeconds).reduce((x, y) => x + y, 0);
      return [
        p.label,
        ...procs.map((n) => fmt(p.usage.cpuSeconds[n], 2)),
        fmt((total * 1000) / Math.max(1, p.requests), 1),
      ];
    }),
  );
  console.log('');
  console.log(
    `pooled over ${ratios.rounds} round(s): b ${fmt(pb.throughputPerS, 0)} acked/s, ${fmt(pb.sustainedPerS, 0)} sustained/s; c ${fmt(pc.throughputPerS, 0)} acked/s, ${fmt(pc.sustainedPerS, 0)} sustained/s`,
  );
  console.log(
    `c/b = ${fmt(ratios.cOverB, 3)} (sustained: ${fmt(ratios.cOverBSustained, 3)}; per round ${ratios.perRound.map((r) => `${fmt(r.cOverB, 2)}/${fmt(r.cOverBSustained, 2)}`).join(', ')})   c/a = ${fmt(ratios.cOverA, 3)}   b/b0 = ${fmt(ratios.bOverB0, 3)} (b0: no worker, the dev server alone)`,
  );
  for (const id of ['c', 'c-more']) {
    const p = by(id);
    if (p?.actions)
      console.log(
        `${p.label}: actions per conversation (${p.actions.inboundEvents / p.conversations} inbound events): ${JSON.stringify(p.actions.perConversation)}`,
      );
  }
  if (lifecycle) {
    console.log(
      `(d) operator message opening a conversation (${lifecycle.read.first}/${lifecycle.conversations} READ): ${lifecycle.firstMessage.perMessage} actions ${JSON.stringify(lifecycle.firstMessage.byKind)}`,
    );
    console.log(
      `(d) operator message in a running conversation (${lifecycle.read.second}/${lifecycle.conversations} READ): ${lifecycle.furtherMessage.perMessage} actions ${JSON.stringify(lifecycle.furtherMessage.byKind)}`,
    );
  }
  console.log(`RSS at the end (MiB): ${JSON.stringify(input.rssEnd)}`);
  for (const p of phases)
    if (p.usage.threadCpuSeconds.worker)
      console.log(`${p.label}: worker CPU seconds by thread ${JSON.stringify(p.usage.threadCpuSeconds.worker)}`);
  console.log(
    `worker CPU ms per inbound event, rounds pooled: (b) ${fmt(workerCpu.b, 2)}, (c) ${fmt(workerCpu.c, 2)}, floor ${fmt(workerCpu.floor, 2)}; per phase ${phases.map((p) => `${p.id} ${fmt(p.workerCpuMsPerInboundEvent, 2)}`).join(', ')}`,
  );
  for (const p of phases)
    if (p.workerMemory)
      console.log(
        `${p.label}: worker RSS ${fmt(p.workerMemory.idleMiB, 0)} → ${fmt(p.workerMemory.afterMiB, 0)} MiB with ${p.workerMemory.cachedWorkflows ?? '–'} cached workflows: ${fmt(p.workerMemory.perCachedMiB, 3)} MiB each`,
      );
  for (const t of targets) console.log(`${t.met ? 'MET   ' : 'MISSED'}  ${t.id}: ${fmt(t.value, 3)} (${t.target})`);
  if (input.profiles) {
    console.log(
      'CPU profiles (whole run; per thread, busy time = sampled time not idle; self time by package / file):',
    );
    for (const [name, threads] of Object.entries(input.profiles)) {
      for (const t of threads.filter((x) => x.busyMs > 200))
        console.log(
          `  ${name} ${t.file}: busy ${(t.busyMs / 1000).toFixed(1)} s: ${t.buckets.map((x) => `${x.bucket} ${x.pct}%`).join(', ')}`,
        );
    }
  }
}

/** Writes the result JSON and the latency chart to bench/results/ and prints where. */
function writeResults(input: ReportInput, figures: RunFigures): void {
  const { at, phases, lifecycle, stack } = input;
  const { ratios, workerCpu, targets } = figures;
  const result = {
    benchmark: 'switchboard',
    at,
    durationS: round((Date.now() - input.started) / 1000, 1),
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    config: {
      conversations: N,
      concurrency: C,
      exchanges: E,
      rounds: ROUNDS,
      seed: SEED,
      workflowBundle:
        args.bundle ??
        (args['bundle-with-otel']
          ? 'built with the OpenTelemetry interceptors, tracing off'
          : 'production, tracing off (built for the run)'),
      receiptsSentBy: input.simReceipts ? 'simulator phones' : 'benchmark phones',
      openSeconds: Number(args['open-seconds']),
      lifecycleConversations: Number(args.lifecycle),
      deliverAfterMs: Number(args['deliver-after-ms']),
      readAfterMs: Number(args['read-after-ms']),
      warmup: Number(args.warmup),
    },
    temporal: stack.production
      ? { server: stack.temporalDescription, persistence: 'PostgreSQL (private cluster in .data/production)' }
      : {
          server: readTemporalBinaries().cliVersion,
          persistence: stack.dbFile ? 'sqlite (WAL) in a temp folder' : 'memory',
        },
    host: hostInfo(),
    phases,
    lifecycle,
    ratios,
    workerCpuMsPerInboundEvent: workerCpu,
    targets,
    rssEndMiB: input.rssEnd,
    profiles: input.profiles,
    profileDir: input.profileDir ? path.relative(projectRoot, input.profileDir) : undefined,
    actionRules: 'bench/lib/actions.ts (Temporal Cloud action rules applied to history events; queries excluded)',
  };
  const json = writeJsonResult('bench', at, result);
  const svg = writeTextResult(
    'bench-latency',
    at,
    'svg',
    latencyChart(`Switchboard ack latency over time (${at}, concurrency ${C}, ${result.host.cpus} cores)`, input.chart),
  );
  console.log(`\nwritten: ${json}, ${svg} (${path.relative(projectRoot, RESULTS_DIR)}/ is git-ignored)`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exitCode = 1;
});
