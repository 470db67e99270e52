/**
 * Payload encryption on against off (`npm run bench -- --codec-ab`), in one run on one stack: for
 * each setting, on a fresh worker and API started with PAYLOAD_ENCRYPTION=on or off, the closed
 * loops of `npm run bench`'s (b) (signalWithStart straight from a client, that client encrypting
 * or not like the processes) and (c) (signed webhooks through src/server.ts), each until drained.
 * Rounds alternate the order of the settings. Reported per setting: c/b (acknowledged and
 * sustained, rounds pooled), the worker's CPU per inbound event in (b) and (c), the API's CPU per
 * request in (c), and (c)'s acknowledgement latency. First, the codec alone: CPU per encrypt +
 * decrypt of the two payloads every webhook carries (the start input with the routing file, the
 * events), which does not depend on how loaded the machine is as much as throughput does.
 */
import { defaultPayloadConverter, type Payload } from '@temporalio/common';

import { readTemporalBinaries } from '../dev/binaries';
import { type InboundEvent } from '../src/domain/inbound';
import { AesGcmPayloadCodec } from '../src/temporal/payload-codec';
import { generatePayloadKeyEntry, parsePayloadKeys } from '../src/temporal/payload-keys';
import { conversationWorkflow } from '../src/workflows';
import { inboundEventsSignal } from '../src/workflows/definitions';
import { drain, exchangeDone } from './lib/drain';
import { rbmInboundEvents } from './lib/normalize';
import { PhoneEmulator, type Receipt } from './lib/phones';
import { hostInfo, writeJsonResult } from './lib/results';
import { BENCH_AGENT, BENCH_CLIENT_TOKEN, BenchStack } from './lib/stack';
import { type LatencySummary, round, summarize } from './lib/stats';
import {
  type BenchConversation,
  benchConversations,
  closedLoop,
  type Sample,
  toLanes,
  type UserEvent,
  userEvents,
  WebhookPoster,
} from './lib/traffic';
import { ProcSampler } from './lib/usage';

/** Sizes of the comparison. */
export interface CodecComparisonOptions {
  conversations: number;
  concurrency: number;
  rounds: number;
  persistence: 'sqlite' | 'memory';
  seed: number;
  warmup: number;
  workflowBundlePath?: string;
  /** Build the bundle with the OpenTelemetry workflow interceptors, tracing still off (A/B). */
  bundleWithTracing?: boolean;
  log: (line: string) => void;
}

type Setting = 'off' | 'on';

interface CodecPhase {
  setting: Setting;
  kind: 'b' | 'c';
  round: number;
  requests: number;
  inboundEvents: number;
  wallMs: number;
  drainMs: number | undefined;
  notDrained: number;
  ackMs: LatencySummary;
  cpuSeconds: Record<string, number>;
}

/** The events the webhook would hand to Temporal for this payload (parsed once, before timing starts). */
function normalized(event: { id: string; data: Record<string, unknown> }): InboundEvent[] {
  return rbmInboundEvents(event, 'codec');
}

/** CPU µs per encrypt + decrypt of `payload`, over `iterations` (process CPU time, not wall time). */
async function codecCost(
  payload: Payload,
  iterations: number,
): Promise<{ bytes: number; cpuMicrosPerRoundTrip: number }> {
  const codec = new AesGcmPayloadCodec({ keys: parsePayloadKeys(generatePayloadKeyEntry('micro')), encrypt: true });
  for (let i = 0; i < 200; i++) await codec.decode(await codec.encode([payload]));
  const before = process.cpuUsage();
  for (let i = 0; i < iterations; i++) await codec.decode(await codec.encode([payload]));
  const used = process.cpuUsage(before);
  return { bytes: payload.data?.length ?? 0, cpuMicrosPerRoundTrip: round((used.user + used.system) / iterations, 1) };
}

/** Runs the comparison, prints its table and writes bench/results/codec-*.json. */
export async function runCodecComparison(options: CodecComparisonOptions): Promise<void> {
  const { log, conversations: N, concurrency: C } = options;
  const at = new Date().toISOString();
  const sample = userEvents(BENCH_AGENT, benchConversations(BENCH_AGENT, 8, 1), 1, options.seed)[0]?.find(
    (e) => e.kind === 'text',
  ) as UserEvent;
  const stack = await BenchStack.start({
    label: 'codec',
    handleSignals: true,
    persistence: options.persistence,
    simulator: { deliverAfterMs: 100, readAfterMs: 100, seed: options.seed },
    ...(options.workflowBundlePath ? { workflowBundlePath: options.workflowBundlePath } : {}),
    bundleWithTracing: options.bundleWithTracing ?? false,
    log,
  });
  const posters: WebhookPoster[] = [];
  try {
    const micro = {
      startInput: await codecCost(
        defaultPayloadConverter.toPayload(stack.gateway().startInput(sample.conversation.key)) as Payload,
        5000,
      ),
      inboundEvents: await codecCost(defaultPayloadConverter.toPayload(normalized(sample)) as Payload, 5000),
    };
    log(
      `codec alone: ${micro.startInput.cpuMicrosPerRoundTrip} µs CPU per encrypt + decrypt of the start input (${micro.startInput.bytes} B), ${micro.inboundEvents.cpuMicrosPerRoundTrip} µs of an event batch (${micro.inboundEvents.bytes} B)`,
    );
    await stack.sim.setDefaults({ deliverAfterMs: null });
    let worker: Awaited<ReturnType<BenchStack['startWorker']>> | undefined;
    let api: Awaited<ReturnType<BenchStack['startApi']>> | undefined;
    let poster: WebhookPoster | undefined;
    const restart = async (setting: Setting) => {
      await Promise.all([worker?.child.stop(20_000), api?.child.stop(20_000)]);
      poster?.close();
      const env = { PAYLOAD_ENCRYPTION: setting };
      [worker, api] = await Promise.all([stack.startWorker(env), stack.startApi('switchboard', env)]);
      poster = new WebhookPoster({ apiUrl: api.url, token: BENCH_CLIENT_TOKEN, seed: options.seed + posters.length });
      posters.push(poster);
    };
    const phases: CodecPhase[] = [];
    let block = 0;

    /** One closed loop until drained; `count` conversations (a warm-up is not recorded). */
    const runPhase = async (
      setting: Setting,
      kind: 'b' | 'c',
      roundNo: number,
      count = N,
      measured = true,
    ): Promise<void> => {
      const convs = benchConversations(BENCH_AGENT, 8, count, block++ * Math.max(N, options.warmup));
      const events = userEvents(BENCH_AGENT, convs, 1, options.seed + block);
      const client = stack.clientFor(setting === 'on');
      const gateway = stack.gateway();
      const viaClient = async (conversation: BenchConversation, inbound: InboundEvent[]): Promise<Sample> => {
        const sentAtMs = Date.now();
        const startPerf = performance.now();
        let status: number | null = 200;
        try {
          await client.workflow.signalWithStart(conversationWorkflow, {
            workflowId: gateway.workflowId(conversation.key),
            taskQueue: stack.taskQueue,
            args: [gateway.startInput(conversation.key)],
            signal: inboundEventsSignal,
            signalArgs: [inbound],
          });
        } catch {
          status = null;
        }
        return { sentAtMs, startPerf, answeredPerf: performance.now(), status, delivered: status === 200, attempts: 1 };
      };
      const toApi = poster as WebhookPoster;
      const parsed = new Map(events.flat().map((e) => [e.id, normalized(e)]));
      const send =
        kind === 'c'
          ? (e: UserEvent) => toApi.post(e, BENCH_AGENT)
          : (e: UserEvent) => viaClient(e.conversation, parsed.get(e.id) ?? []);
      const phones = new PhoneEmulator(stack.sim, {
        agentId: BENCH_AGENT,
        conversations: convs,
        concurrency: C,
        seed: options.seed + block * 7,
        send:
          kind === 'c'
            ? (r: Receipt) => toApi.post(r, BENCH_AGENT)
            : (r: Receipt) => viaClient(r.conversation, normalized(r)),
      }).start();
      const pids = () => ({
        worker: worker?.child.pid,
        api: api?.child.pid,
        temporal: stack.temporalPid(),
        simulator: stack.simulator.pid,
        bench: process.pid,
      });
      const usage = new ProcSampler(pids).start();
      const loopStart = performance.now();
      const result = await closedLoop(toLanes(events, C), send);
      await phones.waitFor(count, 10 * 60_000);
      await phones.stop();
      const samples = [...result.samples, ...phones.samples];
      const lastAck = Math.max(...samples.map((s) => s.answeredPerf));
      const drained = await drain(
        client,
        convs.map((c, i) => ({
          workflowId: gateway.workflowId(c.key),
          done: exchangeDone((events[i] ?? []).filter((e) => e.kind === 'text').map((e) => e.id)),
          ready: () => phones.completedFor(c.phone) >= 1,
        })),
        10 * 60_000,
      );
      const used = usage.stop();
      await stack.sim.clearCalls();
      if (!measured) return;
      phases.push({
        setting,
        kind,
        round: roundNo,
        requests: samples.length,
        inboundEvents: count * 4,
        wallMs: round(lastAck - loopStart),
        drainMs: drained.lastDonePerf !== undefined ? round(Math.max(0, drained.lastDonePerf - lastAck)) : undefined,
        notDrained: drained.pending.length,
        ackMs: summarize(samples.map((s) => s.answeredPerf - s.startPerf)),
        cpuSeconds: used.cpuSeconds,
      });
      const p = phases.at(-1) as CodecPhase;
      log(
        `  ${setting.padEnd(3)} (${kind}) round ${roundNo}: ${round(p.requests / (p.wallMs / 1000), 1)} acked/s, drain ${round((p.drainMs ?? NaN) / 1000, 2)} s, worker ${fmtMs(perEvent(p, 'worker'))} ms CPU per inbound event`,
      );
    };

    for (let r = 1; r <= Math.max(1, options.rounds); r++) {
      const order: Setting[] = r % 2 === 1 ? ['off', 'on'] : ['on', 'off'];
      for (const setting of order) {
        log(`round ${r}: payload encryption ${setting}: fresh worker and API`);
        await restart(setting);
        // Warm-up (JIT, connection pools, the fresh worker's first tasks): not recorded.
        if (options.warmup > 0) await runPhase(setting, 'c', r, options.warmup, false);
        // (b) and (c) alternate too, so neither always runs on the warmer worker.
        for (const kind of (r % 2 === 1 ? ['b', 'c'] : ['c', 'b']) as ('b' | 'c')[]) await runPhase(setting, kind, r);
      }
    }
    report(at, stack, options, phases, micro);
  } finally {
    for (const p of posters) p.close();
    await stack.stop();
  }
}

const perEvent = (p: CodecPhase, proc: string) => ((p.cpuSeconds[proc] ?? 0) * 1000) / p.inboundEvents;
const fmtMs = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '–' : String(round(v, 2)));

function pool(phases: readonly CodecPhase[], setting: Setting, kind: 'b' | 'c') {
  const list = phases.filter((p) => p.setting === setting && p.kind === kind);
  const requests = list.reduce((n, p) => n + p.requests, 0);
  const wall = list.reduce((n, p) => n + p.wallMs, 0);
  const withDrain = list.reduce((n, p) => n + p.wallMs + (p.drainMs ?? 0), 0);
  const events = list.reduce((n, p) => n + p.inboundEvents, 0);
  const cpu = (proc: string) => (list.reduce((n, p) => n + (p.cpuSeconds[proc] ?? 0), 0) * 1000) / Math.max(1, events);
  const perPhase = (proc: string) => list.map((p) => perEvent(p, proc));
  return {
    rounds: list.length,
    /** The least a round used: on a machine shared with other work, the closest to the setting's own cost. */
    workerCpuMsPerEventMin: round(Math.min(...perPhase('worker')), 2),
    workerCpuMsPerEventByRound: perPhase('worker').map((v) => round(v, 2)),
    ackedPerS: round(requests / (wall / 1000), 1),
    sustainedPerS: round(requests / (withDrain / 1000), 1),
    workerCpuMsPerEvent: round(cpu('worker'), 2),
    apiCpuMsPerRequest: round(
      (list.reduce((n, p) => n + (p.cpuSeconds.api ?? 0), 0) * 1000) / Math.max(1, requests),
      2,
    ),
    temporalCpuMsPerEvent: round(cpu('temporal'), 2),
    ackP50: round(list.map((p) => p.ackMs.p50).reduce((a, b) => a + b, 0) / Math.max(1, list.length), 1),
    ackP99: round(Math.max(...list.map((p) => p.ackMs.p99)), 1),
    notDrained: list.reduce((n, p) => n + p.notDrained, 0),
  };
}

function report(
  at: string,
  stack: BenchStack,
  options: CodecComparisonOptions,
  phases: CodecPhase[],
  micro: Record<string, { bytes: number; cpuMicrosPerRoundTrip: number }>,
): void {
  const rows = (['off', 'on'] as const).map((setting) => {
    const b = pool(phases, setting, 'b');
    const c = pool(phases, setting, 'c');
    return {
      setting,
      b,
      c,
      cOverB: round(c.ackedPerS / b.ackedPerS, 3),
      cOverBSustained: round(c.sustainedPerS / b.sustainedPerS, 3),
    };
  });
  const [off, on] = rows as [(typeof rows)[number], (typeof rows)[number]];
  const delta = (x: number, y: number) => `${y >= x ? '+' : ''}${round(((y - x) / x) * 100, 1)} %`;
  console.log('');
  console.log(
    'payload encryption  c/b acked  c/b sustained  (c) acked/s  (b) acked/s  worker CPU ms/event (c)  (b)   API CPU ms/request (c)  (c) ack p50 / p99 ms',
  );
  for (const r of rows) {
    console.log(
      `${r.setting.padEnd(18)}  ${String(r.cOverB).padStart(9)}  ${String(r.cOverBSustained).padStart(13)}  ${String(r.c.ackedPerS).padStart(11)}  ${String(r.b.ackedPerS).padStart(11)}  ${String(r.c.workerCpuMsPerEvent).padStart(23)}  ${String(r.b.workerCpuMsPerEvent).padStart(4)}  ${String(r.c.apiCpuMsPerRequest).padStart(22)}  ${r.c.ackP50} / ${r.c.ackP99}`,
    );
  }
  console.log(
    `on vs off: worker CPU per inbound event ${delta(off.c.workerCpuMsPerEvent, on.c.workerCpuMsPerEvent)} in (c), ${delta(off.b.workerCpuMsPerEvent, on.b.workerCpuMsPerEvent)} in (b); API CPU per request ${delta(off.c.apiCpuMsPerRequest, on.c.apiCpuMsPerRequest)}; c/b ${off.cOverB} → ${on.cOverB}`,
  );
  console.log(
    `worker CPU ms per inbound event by round: (c) off ${off.c.workerCpuMsPerEventByRound.join(', ')} / on ${on.c.workerCpuMsPerEventByRound.join(', ')}; (b) off ${off.b.workerCpuMsPerEventByRound.join(', ')} / on ${on.b.workerCpuMsPerEventByRound.join(', ')}`,
  );
  console.log(
    `least per round: (c) ${off.c.workerCpuMsPerEventMin} → ${on.c.workerCpuMsPerEventMin} (${delta(off.c.workerCpuMsPerEventMin, on.c.workerCpuMsPerEventMin)}), (b) ${off.b.workerCpuMsPerEventMin} → ${on.b.workerCpuMsPerEventMin} (${delta(off.b.workerCpuMsPerEventMin, on.b.workerCpuMsPerEventMin)})`,
  );
  if (phases.some((p) => p.notDrained > 0))
    console.log(`warning: ${phases.reduce((n, p) => n + p.notDrained, 0)} conversations not drained`);
  const file = writeJsonResult('codec', at, {
    benchmark: 'switchboard-codec-ab',
    at,
    command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
    config: {
      conversations: options.conversations,
      concurrency: options.concurrency,
      rounds: options.rounds,
      seed: options.seed,
      warmup: options.warmup,
      workflowBundle:
        options.workflowBundlePath ??
        (options.bundleWithTracing
          ? 'built with the OpenTelemetry interceptors, tracing off'
          : 'production, tracing off (built for the run)'),
    },
    temporal: {
      server: readTemporalBinaries().cliVersion,
      persistence: stack.dbFile ? 'sqlite (WAL) in a temp folder' : 'memory',
    },
    host: hostInfo(),
    codecAlone: micro,
    settings: rows,
    phases,
  });
  console.log(`\nwritten: ${file}`);
}
