/**
 * The fault schedule of a chaos run (bench/lib/chaos.ts): what is injected, and when. Faults
 * happen at points the run observes, not after sleeps: conversations come in four waves, and each
 * fault waits until half of the current wave's questions were marked READ at the simulator.
 *
 *   wave 1  platform errors and slowness only (from the start, throughout);
 *   wave 2  a worker is killed (SIGKILL) while the platform holds one of its calls, then replaced;
 *   wave 3  the Temporal server restarts on its data; it comes back once a webhook was refused;
 *   wave 4  with `temporal: 'postgres'`, PostgreSQL restarts under the server; then a worker is
 *           killed as in wave 2.
 *
 * Beside the schedule, 30 % of all webhooks are posted twice (the users' once accepted, and the
 * phones' DELIVERED / READ re-posted with the same data, as Google redelivers).
 */
import { pollUntil } from '../../dev/poll';
import { type ChaosReport } from './chaos-checks';
import { pollUntilOrLast } from './poll';
import { type CallCollector } from './sim-client';
import { BENCH_AGENT, type BenchStack, type WorkerHandle } from './stack';
import { type BenchConversation, chosen, type UserEvent, type WebhookPoster } from './traffic';

/**
 * How long the platform holds the call a worker is killed inside. Long, so that a slow machine
 * still kills the worker inside it; under the channel client's 10 s request timeout
 * (OUTBOUND_HTTP_TIMEOUT_MS), so that only the kill can end the attempt.
 */
const KILL_HOLD_MS = 8_000;

/**
 * The simulator's error rules: of the RBM calls, `rate` answered with an error (a quarter of them
 * 500 after the call took effect, a quarter 503, half 429 with Retry-After), and half of the
 * others slowed by 250 ms.
 */
export async function addPlatformFaults(stack: BenchStack, rate: number): Promise<void> {
  // Rules are tried in order, each only on calls the ones before did not take.
  await stack.sim.addFault({ api: 'rbm', status: 500, afterProcessing: true, probability: rate / 4 });
  await stack.sim.addFault({ api: 'rbm', status: 503, probability: rate / 4 / (1 - rate / 4) });
  await stack.sim.addFault({
    api: 'rbm',
    status: 429,
    retryAfterSeconds: 1,
    probability: rate / 2 / (1 - rate / 2),
  });
  await stack.sim.addFault({ api: 'rbm', latencyMs: 250, probability: 0.5 });
}

/** What the faults act on and how long they may wait. */
export interface FaultTargets {
  stack: BenchStack;
  /** The running workers; a killed or exited one is replaced in place. */
  workers: WorkerHandle[];
  /** The users' webhooks: a refused one shows that Temporal (or its database) is down. */
  users: WebhookPoster;
  faultRate: number;
  /** Time left before the run's deadline (at least 1 s). */
  remaining: () => number;
  log: (line: string) => void;
}

/** The run's traffic as the schedule drives it. */
export interface ChaosWaves {
  /** The conversation indexes of each wave. */
  waves: readonly [number[], number[], number[], number[]];
  /** Posts a wave's user webhooks; resolves once all were accepted. */
  post(indexes: readonly number[]): Promise<unknown>;
  /** Waits until half of a wave's questions were marked READ at the simulator. */
  halfRead(indexes: readonly number[], what: string): Promise<void>;
  /** Questions READ at the simulator so far, all waves. */
  totalRead(): number;
}

/** The faults as they happened. */
export interface FaultRecord {
  kills: ChaosReport['faults']['workerKills'];
  restart: NonNullable<ChaosReport['faults']['temporalRestart']>;
  /** Production runs only. */
  postgresRestart?: ChaosReport['faults']['postgresRestart'];
}

/** Starts a worker in place of any that exited (a restart of the server can end one). */
async function replaceExited(targets: FaultTargets): Promise<void> {
  const { workers, stack, log } = targets;
  for (let i = 0; i < workers.length; i++) {
    const w = workers[i] as WorkerHandle;
    if (w.child.running) continue;
    log(`  ${w.child.name} exited; starting another`);
    workers[i] = await stack.startWorker();
  }
}

/** Whether the call held by rule `hold` ended before its hold did: its client went away (the simulator records the call once it ends). */
async function heldCallCutShort(stack: BenchStack, after: number, hold: string): Promise<boolean> {
  // Not recorded within the hold (and 5 s more): the call was not cut short.
  const held = await pollUntilOrLast({
    what: `the call held by fault ${hold} recorded`,
    read: async () => (await stack.sim.calls(after, 'inbound')).find((c) => c.fault?.startsWith(`${hold},`)),
    timeoutMs: KILL_HOLD_MS + 5_000,
    intervalMs: 20,
  });
  return held !== undefined && held.durationMs < KILL_HOLD_MS;
}

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
async function killWorker(
  targets: FaultTargets,
  atQuestionsRead: () => number,
): Promise<ChaosReport['faults']['workerKills'][number]> {
  const { stack, workers, log } = targets;
  await stack.sim.clearFaults();
  const callsBefore = (await stack.sim.calls()).at(-1)?.id ?? 0;
  const hold = await stack.sim.addFault({
    api: 'rbm',
    method: 'POST',
    pathContains: 'agentMessages',
    latencyMs: KILL_HOLD_MS,
    times: 1,
  });
  await addPlatformFaults(stack, targets.faultRate);
  await pollUntil({
    what: 'an RBM call reaching the platform to hold',
    read: async () => !(await stack.sim.faults()).some((f) => f.id === hold),
    done: (spent) => spent,
    timeoutMs: Math.min(60_000, targets.remaining()),
    intervalMs: 10,
  });
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
  const kill = {
    worker: worker.child.name,
    activitiesInFlight: inFlight,
    atQuestionsRead: atQuestionsRead(),
    heldCallCutShort: await heldCallCutShort(stack, callsBefore, hold),
  };
  log(
    `  killed ${worker.child.name} (SIGKILL) while the platform held one of its calls; ${inFlight ?? 0} activities in flight`,
  );
  workers[index] = await stack.startWorker();
  return kill;
}

/** Waits until a user webhook posted after attempt `from` was refused (Temporal or its database down); returns the statuses refused with. */
async function refusedSince(targets: FaultTargets, from: number, what: string): Promise<(number | null)[]> {
  const { users } = targets;
  const refused = () =>
    users.calls
      .list()
      .slice(from)
      .filter((c) => c.status !== 200);
  await pollUntil({
    what: `a webhook refused while ${what} was down`,
    read: () => refused().length,
    done: (n) => n > 0,
    timeoutMs: targets.remaining(),
    intervalMs: 20,
  });
  return [...new Set(refused().map((c) => c.status))];
}

/**
 * Stops a server (`stop`), posts `wave` meanwhile, and starts it again once the API was seen
 * refusing a webhook (so the outage is observed, not assumed); returns the outage.
 */
async function outage(
  targets: FaultTargets,
  traffic: ChaosWaves,
  what: string,
  wave: readonly number[],
  posting: Promise<unknown>[],
  stop: () => Promise<void>,
  start: () => Promise<void>,
): Promise<{ downMs: number; atQuestionsRead: number; refusedWith: (number | null)[] }> {
  const atQuestionsRead = traffic.totalRead();
  const stoppedAt = Date.now();
  await stop();
  const attemptsBefore = targets.users.calls.list().length;
  posting.push(traffic.post(wave));
  const refusedWith = await refusedSince(targets, attemptsBefore, what);
  await start();
  return { downMs: Date.now() - stoppedAt, atQuestionsRead, refusedWith };
}

/** Runs the four waves with their faults (see the module header); returns once the last fault is over and every user webhook was accepted. */
export async function runFaultSchedule(targets: FaultTargets, traffic: ChaosWaves): Promise<FaultRecord> {
  const { stack, log } = targets;
  const [w1, w2, w3, w4] = traffic.waves;
  const kills: FaultRecord['kills'] = [];
  const posting: Promise<unknown>[] = [];

  log(`wave 1: ${w1.length} conversations`);
  posting.push(traffic.post(w1));
  await traffic.halfRead(w1, 'wave 1');

  log(`wave 2: ${w2.length} conversations; a worker is killed under them, then a new one starts`);
  posting.push(traffic.post(w2));
  kills.push(await killWorker(targets, traffic.totalRead));
  await traffic.halfRead(w2, 'wave 2');

  const server = stack.production ? 'the Temporal server' : 'the Temporal dev server';
  log(`wave 3: ${w3.length} conversations while ${server} restarts on its data`);
  const restart = await outage(
    targets,
    traffic,
    server,
    w3,
    posting,
    () => stack.stopTemporal(),
    () => stack.startTemporal(),
  );
  log(
    `  ${server} was down ${restart.downMs} ms; webhooks were answered ${JSON.stringify(restart.refusedWith)} meanwhile`,
  );
  await replaceExited(targets);
  await traffic.halfRead(w3, 'wave 3');

  let postgresRestart: FaultRecord['postgresRestart'];
  const production = stack.production;
  if (production) {
    log(`wave 4: ${w4.length} conversations while PostgreSQL restarts under the server; then a worker is killed`);
    postgresRestart = await outage(
      targets,
      traffic,
      'PostgreSQL',
      w4,
      posting,
      () => production.stopPostgres(),
      () => production.startPostgres(),
    );
    log(
      `  PostgreSQL was down ${postgresRestart.downMs} ms; webhooks were answered ${JSON.stringify(postgresRestart.refusedWith)} meanwhile`,
    );
    await production.waitUntilServing();
    await replaceExited(targets);
  } else {
    log(`wave 4: ${w4.length} conversations; a worker is killed under them, then a new one starts`);
    posting.push(traffic.post(w4));
  }
  kills.push(await killWorker(targets, traffic.totalRead));
  await Promise.all(posting);
  return { kills, restart, ...(production ? { postgresRestart } : {}) };
}

/** The users' webhook for `e`, posted a second time once accepted if `e` is chosen (at `rate`); counts those. */
export class UserPoster {
  duplicates = 0;

  constructor(
    private readonly users: WebhookPoster,
    private readonly rate: number,
  ) {}

  async post(e: UserEvent): Promise<void> {
    await this.users.post(e, BENCH_AGENT);
    if (chosen(e.id, this.rate, 'duplicate')) {
      this.duplicates++;
      await this.users.post(e, BENCH_AGENT);
    }
  }
}

/**
 * Re-posts the chosen share of the simulator's DELIVERED / READ webhooks once they were accepted,
 * as Google redelivers: a loop beside everything else until `stop()`, then one last pass.
 */
export class Redeliverer {
  duplicates = 0;
  private readonly redelivered = new Set<string>();
  private readonly posts: Promise<unknown>[] = [];
  private running = false;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly collector: CallCollector,
    private readonly redeliveries: WebhookPoster,
    private readonly conversations: readonly BenchConversation[],
    private readonly rate: number,
    private readonly log: (line: string) => void,
  ) {}

  /** Starts redelivering every 150 ms. */
  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        try {
          await this.pass();
        } catch (err) {
          // The simulator answers again on the next pass; a run that failed stops the loop.
          this.log(`  redelivery pass failed: ${(err as Error).message}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 150));
      }
    })();
  }

  /** Stops the loop (safe to call twice). */
  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
    this.loop = undefined;
  }

  /** Stops the loop, redelivers the last chosen receipts and waits until every redelivery was accepted. */
  async finish(): Promise<void> {
    await this.stop();
    await this.pass();
    await Promise.all(this.posts);
  }

  private async pass(): Promise<void> {
    for (const call of await this.collector.poll()) {
      const data = call.body as Record<string, unknown> | undefined;
      const eventId = typeof data?.eventId === 'string' ? data.eventId : undefined;
      if (call.direction !== 'webhook' || call.status !== 200 || !eventId || this.redelivered.has(eventId)) continue;
      this.redelivered.add(eventId);
      const conversation = this.conversations.find((c) => c.phone === call.phone);
      if (!conversation || !data || !chosen(eventId, this.rate, 'duplicate')) continue;
      this.duplicates++;
      this.posts.push(this.redeliveries.post({ conversation, data }, BENCH_AGENT));
    }
  }
}
