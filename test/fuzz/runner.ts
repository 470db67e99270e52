/**
 * Runs many sequences through several lanes (one conversation each, in parallel) on one
 * time-skipping server and one worker child, checks the invariants after each, and shrinks a
 * failing sequence by delta debugging (ddmin over its executed trace) so it can be replayed.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { Client } from '@temporalio/client';
import { type TestWorkflowEnvironment } from '@temporalio/testing';

import { type RoutingConfig } from '../../src/routing';
import { exampleRouting } from '../helpers/routing';
import { createTimeSkippingEnv } from '../helpers/temporal';
import { executeSequence, type FuzzContext, type Observation, SharedClock } from './execute';
import { checkInvariants, type Violation } from './invariants';
import { type FuzzProfile } from './profile';
import { Rng, sequenceSeed } from './rng';
import { generateSequence, type Sequence } from './steps';
import { WorkerHost } from './worker-host';

export interface FuzzEnvironment {
  env: TestWorkflowEnvironment;
  ctx: FuzzContext;
  close(): Promise<void>;
}

/** The time-skipping server, a plain client and the worker child on a task queue of their own. */
export async function startFuzzEnvironment(
  bundlePath: string,
  options: {
    routing?: RoutingConfig;
    callTimeoutMs?: number;
    stallMs?: number;
    debug?: (line: string) => void;
    stallLog?: (line: string) => void;
  } = {},
): Promise<FuzzEnvironment> {
  const env = await createTimeSkippingEnv();
  const taskQueue = `fuzz-${randomUUID()}`;
  const host = new WorkerHost({ address: env.address, taskQueue, bundlePath });
  try {
    await host.ensureStarted();
  } catch (err) {
    await env.teardown();
    throw err;
  }
  const client = new Client({ connection: env.connection, namespace: env.namespace ?? 'default' });
  const ctx: FuzzContext = {
    env,
    client,
    clock: new SharedClock(
      env,
      async () => {
        const stallLog = options.stallLog ?? options.debug;
        if (stallLog) await describeStall(client, host, stallLog);
        await host.kill();
      },
      options.stallMs,
    ),
    host,
    taskQueue,
    routing: options.routing ?? exampleRouting(),
    callTimeoutMs: options.callTimeoutMs ?? 15_000,
    ...(options.debug ? { debug: options.debug } : {}),
  };
  return {
    env,
    ctx,
    async close() {
      await host.stop();
      await env.teardown();
    },
  };
}

/** What each running conversation waits on when the clock stalls (pending activities, last history events). */
async function describeStall(client: Client, host: WorkerHost, debug: (line: string) => void): Promise<void> {
  for (const workflowId of host.activeWorkflows.keys()) {
    try {
      const handle = client.workflow.getHandle(workflowId);
      const d = await client.withDeadline(Date.now() + 5_000, () => handle.describe());
      const pending =
        d.raw.pendingActivities?.map((a) => `${a.activityType?.name} attempt ${a.attempt} state ${a.state}`) ?? [];
      debug(
        `stall: ${workflowId} ${d.status.name}, pending activities [${pending.join('; ')}], pending workflow task ${d.raw.pendingWorkflowTask ? `state ${d.raw.pendingWorkflowTask.state} attempt ${d.raw.pendingWorkflowTask.attempt}` : 'none'}`,
      );
      const history = await client.withDeadline(Date.now() + 5_000, () => handle.fetchHistory());
      for (const e of (history.events ?? []).slice(-15)) {
        const attrs = Object.keys(e).find((k) => k.endsWith('EventAttributes') && (e as Record<string, unknown>)[k]);
        debug(
          `stall:   #${e.eventId} ${attrs?.replace(/EventAttributes$/, '')} ${JSON.stringify((e as Record<string, unknown>)[attrs ?? ''])?.slice(0, 200)}`,
        );
      }
    } catch (err) {
      debug(`stall: ${workflowId}: ${(err as Error).message}`);
    }
  }
}

export interface SequenceResult {
  index: number;
  sequence: Sequence;
  observation: Observation;
  violations: Violation[];
}

/** Executes one sequence (restarting the worker first if an earlier sequence killed it) and checks it. */
export async function runSequence(
  fuzz: FuzzEnvironment,
  sequence: Sequence,
  profile: FuzzProfile,
  index = 0,
): Promise<SequenceResult> {
  const { client } = fuzz.ctx;
  await fuzz.ctx.host.ensureStarted((workflowIds) =>
    Promise.all(
      workflowIds.map((id) =>
        client.workflow
          .getHandle(id)
          .terminate('worker died while it ran')
          .catch(() => undefined),
      ),
    ).then(() => undefined),
  );
  const observation = await executeSequence(fuzz.ctx, sequence, {
    settleMs: profile.settleMs,
    idleTimeoutMs: profile.idleTimeoutMs,
  });
  const violations = checkInvariants(observation, profile.checks, {
    continueAsNewAfterEvents: sequence.setup.continueAsNewAfterEvents,
    channel: sequence.setup.channel,
  });
  return { index, sequence, observation, violations };
}

export interface FuzzRunOptions {
  runs: number;
  seed: number;
  lanes: number;
  /** First sequence index (default 0): `runs` 5000 with `from` 3125 finishes a run of 5000 stopped after 3125. */
  from?: number;
  profile: FuzzProfile;
  /** Shrink each failing sequence (default true) with at most this many executions. */
  shrinkBudget: number;
  /** Stop after this many failing sequences (default: no limit). */
  maxFailures?: number;
  log(line: string): void;
  /** Where findings are written as JSON (replayable with --replay). */
  findingsDir?: string;
  /**
   * Wall-clock time (epoch ms) after which no new sequence starts and shrinking stops: a run that
   * cannot finish in its test's time ends with a report, instead of going on under the next tests.
   */
  deadlineAtMs?: number;
}

export interface Finding {
  seed: number;
  index: number;
  profile: string;
  violations: Violation[];
  /** The shrunk sequence: `npm run fuzz:workflow -- --replay <file>` runs it. */
  sequence: Sequence;
  originalSteps: number;
  /** False when the sequence did not fail again alone (another lane's crash hit it); absent when not shrunk. */
  reproducedAlone?: boolean;
  file?: string;
}

export interface FuzzReport {
  sequences: number;
  steps: number;
  realMs: number;
  perMinute: number;
  findings: Finding[];
  workerRestarts: number;
  /** Time skips that stalled (each cost stallMs and a worker restart). */
  stalls: number;
  /** True when the deadline passed before every sequence ran. */
  stoppedAtDeadline: boolean;
}

/** Generates sequence `index` of run `seed` (the same on every machine). */
export function sequenceFor(seed: number, index: number, profile: FuzzProfile): Sequence {
  const s = sequenceSeed(seed, index);
  return generateSequence(new Rng(s), s, profile.generator);
}

export async function runFuzz(fuzz: FuzzEnvironment, options: FuzzRunOptions): Promise<FuzzReport> {
  const started = Date.now();
  const findings: Finding[] = [];
  const failing: SequenceResult[] = [];
  const generationAtStart = fuzz.ctx.host.generation;
  const stallsAtStart = fuzz.ctx.clock.stalls;
  const pastDeadline = () => options.deadlineAtMs !== undefined && Date.now() > options.deadlineAtMs;
  let stoppedAtDeadline = false;
  const from = options.from ?? 0;
  const total = Math.max(0, options.runs - from);
  let next = from;
  let done = 0;
  let steps = 0;
  const lane = async () => {
    for (;;) {
      if (options.maxFailures !== undefined && failing.length >= options.maxFailures) return;
      if (next < options.runs && pastDeadline()) {
        stoppedAtDeadline = true;
        return;
      }
      const index = next++;
      if (index >= options.runs) return;
      const sequence = sequenceFor(options.seed, index, options.profile);
      const result = await runSequence(fuzz, sequence, options.profile, index);
      done++;
      steps += sequence.steps.length;
      if (result.violations.length > 0) {
        failing.push(result);
        options.log(
          `[fuzz] sequence ${index} (seed ${options.seed}) violated ${[...new Set(result.violations.map((v) => v.check))].join(', ')}: ${result.violations[0]?.message}`,
        );
      }
      if (done % 25 === 0 || done === total) {
        const minutes = (Date.now() - started) / 60_000;
        options.log(
          `[fuzz] ${done}/${total} sequences${from > 0 ? ` (${from + done}/${options.runs} of the seed)` : ''}, ${failing.length} failing, ${(done / minutes).toFixed(1)} sequences/min`,
        );
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.lanes) }, lane));
  for (const result of failing) {
    const shrunk =
      options.shrinkBudget > 0 && !pastDeadline()
        ? await shrink(fuzz, result, { ...options, pastDeadline })
        : {
            sequence: { ...result.sequence, steps: result.observation.trace },
            violations: result.violations,
            reproduced: undefined,
          };
    const finding: Finding = {
      seed: options.seed,
      index: result.index,
      profile: options.profile.name,
      violations: shrunk.violations,
      sequence: shrunk.sequence,
      originalSteps: result.sequence.steps.length,
      ...(shrunk.reproduced !== undefined ? { reproducedAlone: shrunk.reproduced } : {}),
    };
    if (options.findingsDir) finding.file = writeFinding(options.findingsDir, finding);
    findings.push(finding);
    options.log(
      `[fuzz] FAILED seed ${options.seed} sequence ${result.index}: ${shrunk.violations.map((v) => `${v.check}: ${v.message}`).join(' | ')}`,
    );
    options.log(
      `[fuzz] shrunk to ${shrunk.sequence.steps.length} of ${result.sequence.steps.length} steps${finding.file ? ` (${finding.file})` : ''}:\n${JSON.stringify(shrunk.sequence)}`,
    );
  }
  const realMs = Date.now() - started;
  if (stoppedAtDeadline)
    options.log(`[fuzz] deadline passed: ${done} of ${total} sequences ran in ${Math.round(realMs / 1000)} s`);
  return {
    sequences: done,
    steps,
    realMs,
    perMinute: done / (realMs / 60_000),
    findings,
    workerRestarts: fuzz.ctx.host.generation - generationAtStart,
    stalls: fuzz.ctx.clock.stalls - stallsAtStart,
    stoppedAtDeadline,
  };
}

/** Writes a finding as JSON (replayable with --replay) and returns its path. */
export function writeFinding(dir: string, finding: Finding): string {
  mkdirSync(dir, { recursive: true });
  const checks = [...new Set(finding.violations.map((v) => v.check))].join('+');
  const file = path.join(dir, `${checks}-seed${finding.seed}-seq${finding.index}.json`);
  writeFileSync(file, `${JSON.stringify(finding, null, 2)}\n`);
  return file;
}

/**
 * Delta debugging (Zeller's ddmin) over the executed trace: keep removing chunks (complements of
 * n-way splits) while some check that failed originally still fails. Candidates run one at a time:
 * a worker crash or a stalled clock hits every lane running at that moment, so parallel
 * candidates would blame each other. A trace that does not fail again alone (it only broke with
 * another sequence, e.g. the worker another lane crashed) is reported as not reproduced.
 */
export async function shrink(
  fuzz: FuzzEnvironment,
  failing: SequenceResult,
  options: Pick<FuzzRunOptions, 'profile' | 'shrinkBudget' | 'log'> & { pastDeadline?: () => boolean },
): Promise<{ sequence: Sequence; violations: Violation[]; reproduced: boolean }> {
  const wanted = new Set(failing.violations.map((v) => v.check));
  let budget = options.shrinkBudget;
  const left = () => budget > 0 && !options.pastDeadline?.();
  const fails = async (steps: Sequence['steps']): Promise<Violation[] | undefined> => {
    budget--;
    const result = await runSequence(fuzz, { ...failing.sequence, steps }, options.profile);
    const relevant = result.violations.filter((v) => wanted.has(v.check));
    return relevant.length > 0 ? relevant : undefined;
  };
  const alone = await fails(failing.observation.trace);
  if (!alone) {
    options.log(
      `[fuzz] sequence ${failing.index} does not fail when run alone: ${[...wanted].join(', ')} came from another lane`,
    );
    return {
      sequence: { ...failing.sequence, steps: failing.observation.trace },
      violations: failing.violations,
      reproduced: false,
    };
  }
  let best = { sequence: { ...failing.sequence, steps: failing.observation.trace }, violations: alone };
  let n = 2;
  while (best.sequence.steps.length >= 2 && left()) {
    const steps = best.sequence.steps;
    const chunk = Math.ceil(steps.length / n);
    let reduced = false;
    for (let start = 0; start < steps.length && left(); start += chunk) {
      const candidate = [...steps.slice(0, start), ...steps.slice(start + chunk)];
      if (candidate.length === 0) continue;
      const violations = await fails(candidate);
      if (violations) {
        best = { sequence: { ...failing.sequence, steps: candidate }, violations };
        n = Math.max(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (n >= steps.length) break;
      n = Math.min(steps.length, n * 2);
    }
  }
  options.log(`[fuzz] shrink used ${options.shrinkBudget - budget} executions`);
  return { ...best, reproduced: true };
}
