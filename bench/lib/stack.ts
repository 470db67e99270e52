/**
 * The stack a benchmark or chaos run boots for itself, on free ports, in a temporary folder:
 *
 * - a Temporal dev server (dev/dev-server.ts) on a SQLite file in that folder (WAL, as
 *   `npm start` runs it) or in memory; or (`persistence: 'postgres'`) the production deployment of
 *   bench/lib/production-temporal.ts: the real Temporal server on a private PostgreSQL in .data/;
 * - the simulator as a child process (dev/simulator/main.ts): Google's RBM API, OAuth, Twilio, and
 *   the phones that deliver and read Switchboard's messages and post the signed receipts;
 * - workers as child processes (src/worker.ts, the production entry), each with its own health
 *   port, started from one prebuilt workflow bundle so a restart takes a second, not a webpack run;
 * - APIs as child processes: Switchboard's own (src/server.ts, `apis` replicas; the simulator's
 *   webhooks alternate between them) or the ack-only baseline.
 *
 * Children get only the environment given here (as `npm start` passes it, see dev/dev.ts), with
 * logs at warn and the worker's Prometheus exporter off. Every process (children and the run's own
 * client) has the run's payload key (a key file in the folder); `payloadEncryption` says whether
 * new payloads are encrypted with it (default off, so figures compare with earlier runs; `npm run
 * bench -- --codec-ab` measures on against off). `stop()` stops everything and removes the folder,
 * also after a failure.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { Client, Connection } from '@temporalio/client';
import { DefaultLogger } from '@temporalio/worker';

import { projectRoot, readTemporalBinaries } from '../../dev/binaries';
import { DevServer } from '../../dev/dev-server';
import { type ConversationKey } from '../../src/domain/conversation-key';
import { type RoutingConfig } from '../../src/routing';
import { loadRoutingConfig, routingVersionOf } from '../../src/routing/load';
import { payloadDataConverter } from '../../src/temporal/payload-codec';
import { generatePayloadKeyEntry, type PayloadKey, readPayloadKeyFile } from '../../src/temporal/payload-keys';
import { productionBundleOptions, WORKFLOWS_PATH, writeWorkflowBundle } from '../../src/temporal/workflow-bundle';
import { ConversationsClient } from '../../src/temporal-client/conversations';
import { ProductionTemporal, readTemporalServerBinaries } from './production-temporal';

function readTemporalServerVersion(): string {
  return readTemporalServerBinaries().version;
}
import { freePort } from '../../test/helpers/ports';
import { type BenchChild, ChildGroup, waitForHttp } from './processes';
import { SimClient } from './sim-client';

/** The RBM agent every benchmark conversation talks to. */
export const BENCH_AGENT = 'bench@rbm.goog';
/** Webhook client token shared by the simulator (signing) and the API (verifying). */
export const BENCH_CLIENT_TOKEN = 'bench-webhook-client-token';
/** Bearer token of the operator API (outbound-lifecycle probe). */
export const BENCH_API_TOKEN = 'bench-operator-api-token-0123456789';
/** Token of the API's codec endpoint (/codec). */
export const BENCH_CODEC_TOKEN = 'bench-codec-token-0123456789';
const TWILIO = { sid: 'ACbench0000000000000000000000000000', token: 'bench-twilio-auth-token' };
const ROUTING_FILE = path.join(projectRoot, 'config', 'routing.example.yaml');

/** How a run's stack is booted. */
export interface StackOptions {
  /** Prefix of the temporary folder. */
  label: string;
  /**
   * `sqlite`: a dev server on a SQLite file in the run's folder (WAL); `memory`: no file;
   * `postgres`: the real Temporal server on a private PostgreSQL (bench/lib/production-temporal.ts).
   */
  persistence: 'sqlite' | 'memory' | 'postgres';
  /**
   * With `postgres`: a production deployment already running at this address (the one
   * `npm run test:production`'s global setup started), used instead of starting one; the stack
   * neither restarts nor stops it.
   */
  temporalAddress?: string;
  /** Switchboard API replicas the simulator's webhooks alternate between (default 1). */
  apis?: number;
  /** Point HANDOFF_URL at the simulator's stand-in agent desk (signed with a run secret). */
  agentDesk?: boolean;
  simulator?: {
    deliverAfterMs?: number;
    readAfterMs?: number;
    webhookMaxAttempts?: number;
    webhookRetryBaseMs?: number;
    seed?: number;
  };
  /** Extra worker variables (WORKER_MAX_CACHED_WORKFLOWS …). */
  workerEnv?: Record<string, string>;
  /** A prebuilt workflow bundle; without it one is built into the run's folder. */
  workflowBundlePath?: string;
  /**
   * Build the tracing bundle (with the OpenTelemetry workflow interceptors) although tracing stays
   * off: what every worker ran before the bundles were split (an A/B of what they cost).
   */
  bundleWithTracing?: boolean;
  /** Write V8 CPU profiles of the worker and API children here (node --cpu-prof). */
  profileDir?: string;
  /** Stop the stack on SIGINT / SIGTERM and exit (command-line runs; not under Jest). */
  handleSignals?: boolean;
  /** Whether the children and the run's client encrypt new payloads with the run's key (default `off`; all of them decrypt). */
  payloadEncryption?: 'on' | 'off';
  /** Extra `temporal server start-dev` arguments (e.g. dynamic config). */
  temporalArgs?: string[];
  log?: (line: string) => void;
}

/** A production deployment the stack did not start (StackOptions.temporalAddress): used, never restarted or stopped. */
export class SharedTemporal {
  readonly pid = undefined;
  constructor(readonly address: string) {}

  async stop(): Promise<void> {}
}

/** The Temporal server of a stack: a dev server, the production deployment, or a shared one. */
export type StackTemporal = DevServer | ProductionTemporal | SharedTemporal;

/** A running worker child and its health endpoint (GET /healthz answers its status counters). */
export interface WorkerHandle {
  child: BenchChild;
  healthUrl: string;
}

/** A running API child. */
export interface ApiHandle {
  child: BenchChild;
  url: string;
}

/** Worker status counters from its health endpoint (src/temporal/worker-health.ts). */
export interface WorkerStatus {
  state: string;
  status: {
    numInFlightActivities?: number;
    numInFlightNonLocalActivities?: number;
    numCachedWorkflows?: number;
    numInFlightWorkflowActivations?: number;
  };
}

/** One run's stack (see the module header); `BenchStack.start` boots it, `stop` tears everything down. */
export class BenchStack {
  readonly children = new ChildGroup();
  readonly taskQueue = `bench-${randomUUID().slice(0, 8)}`;
  readonly workflowIdSecret = randomUUID();
  readonly routing: RoutingConfig;
  readonly sim: SimClient;
  /** Where Switchboard's first API listens (the simulator posts its webhooks there and to the other replicas). */
  readonly apiPort: number;
  /** Every API replica's port (the first is `apiPort`). */
  readonly apiPorts: number[];
  private workerCount = 0;
  private floorBundlePath: string | undefined;
  /** The task queue of the floor workflow (bench/floor): its worker polls only this one. */
  readonly floorTaskQueue = `${this.taskQueue}-floor`;
  private gatewayInstance: ConversationsClient | undefined;
  private readonly clients = new Map<boolean, Client>();
  private simulatorChild: BenchChild | undefined;
  /** Last resort if the run dies without stop(): the dev server is not one of `children`. */
  private readonly killTemporalOnExit = () => {
    if (this.temporal instanceof ProductionTemporal) return this.temporal.killNow();
    const pid = this.temporal.pid;
    if (pid !== undefined) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  };
  private readonly stopOnSignal = (signal: NodeJS.Signals) => {
    this.options.log?.(`${signal}: stopping the stack`);
    void this.stop().finally(() => process.exit(130));
  };

  private constructor(
    readonly options: StackOptions,
    readonly dir: string,
    readonly temporalPort: number,
    readonly dbFile: string | undefined,
    public temporal: StackTemporal,
    readonly connection: Connection,
    readonly payloadKeyFile: string,
    readonly payloadKeys: PayloadKey[],
    readonly simUrl: string,
    apiPorts: number[],
    readonly bundlePath: string,
  ) {
    this.routing = loadRoutingConfig(ROUTING_FILE);
    this.sim = new SimClient(simUrl);
    this.apiPorts = apiPorts;
    this.apiPort = apiPorts[0] as number;
    process.on('exit', this.killTemporalOnExit);
    if (options.handleSignals) {
      process.once('SIGINT', this.stopOnSignal);
      process.once('SIGTERM', this.stopOnSignal);
    }
  }

  /** Boots the dev server, bundles the workflows (unless given) and starts the simulator. Workers and APIs are started by the caller. */
  static async start(options: StackOptions): Promise<BenchStack> {
    const log = options.log ?? (() => undefined);
    const dir = mkdtempSync(path.join(tmpdir(), `switchboard-${options.label}-`));
    let startServer: Promise<StackTemporal> | undefined;
    let stack: BenchStack | undefined;
    try {
      const [temporalPort, simPort] = [await freePort(), await freePort()];
      const apiPorts: number[] = [];
      for (let i = 0; i < (options.apis ?? 1); i++) apiPorts.push(await freePort());
      const dbFile = options.persistence === 'sqlite' ? path.join(dir, 'temporal', 'dev.sqlite') : undefined;
      // The server starts while webpack bundles: both take seconds.
      if (options.persistence === 'postgres' && options.temporalAddress) {
        log(`Temporal server ${readTemporalServerVersion()} on PostgreSQL, shared, at ${options.temporalAddress}`);
        startServer = Promise.resolve(new SharedTemporal(options.temporalAddress));
      } else if (options.persistence === 'postgres') {
        const clusterDir = path.join(projectRoot, '.data', 'production', path.basename(dir));
        log(
          `Temporal server ${readTemporalServerVersion()} on a private PostgreSQL in ${path.relative(projectRoot, clusterDir)}`,
        );
        startServer = ProductionTemporal.start({ dir: clusterDir, log });
      } else {
        log(`Temporal dev server on 127.0.0.1:${temporalPort}, ${dbFile ? `SQLite ${dbFile} (WAL)` : 'in memory'}`);
        startServer = DevServer.start({
          cliPath: readTemporalBinaries().cli,
          port: temporalPort,
          ...(dbFile ? { dbFile } : {}),
          extraArgs: options.temporalArgs ?? [],
        });
      }
      let bundlePath = options.workflowBundlePath;
      if (!bundlePath) {
        bundlePath = path.join(dir, 'workflow-bundle.js');
        const logger = new DefaultLogger('WARN');
        const tracing = options.bundleWithTracing === true;
        log(
          tracing
            ? 'bundling the workflows once, with the OpenTelemetry workflow interceptors although tracing is off (A/B)'
            : 'bundling the workflows once (the production bundle for tracing off, as `npm run build` makes it)',
        );
        await writeWorkflowBundle(
          bundlePath,
          productionBundleOptions({ tracing, workflowsPath: WORKFLOWS_PATH, logger }),
        );
      }
      const payloadKeyFile = path.join(dir, 'payload-keys');
      writeFileSync(payloadKeyFile, `${generatePayloadKeyEntry('bench')}\n`, { mode: 0o600 });
      const temporal = await startServer;
      const connection = await Connection.connect({ address: temporal.address });
      const port = temporal instanceof DevServer ? temporalPort : Number(temporal.address.split(':').pop());
      stack = new BenchStack(
        options,
        dir,
        port,
        dbFile,
        temporal,
        connection,
        payloadKeyFile,
        readPayloadKeyFile(payloadKeyFile),
        `http://127.0.0.1:${simPort}`,
        apiPorts,
        bundlePath,
      );
      stack.simulatorChild = stack.children.start({
        name: 'simulator',
        entry: 'dev/simulator/main.ts',
        env: stack.simulatorEnv(simPort),
        logDir: dir,
      });
      await waitForHttp(`${stack.simUrl}/sim`, 60_000, stack.simulatorChild);
      return stack;
    } catch (err) {
      if (stack) await stack.stop();
      else {
        await startServer?.then((server) => server.stop()).catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
      }
      throw err;
    }
  }

  /** Whether the run encrypts new payloads (StackOptions.payloadEncryption). */
  get encrypts(): boolean {
    return this.options.payloadEncryption === 'on';
  }

  /** The run's Temporal client: the children's data converter (encrypting when the run does; it decrypts either way). */
  get client(): Client {
    return this.clientFor(this.encrypts);
  }

  /** A client on the run's connection that encrypts new payloads or writes them in clear (both decrypt with the run's key). */
  clientFor(encrypt: boolean): Client {
    let client = this.clients.get(encrypt);
    if (!client) {
      client = new Client({
        connection: this.connection,
        namespace: 'default',
        dataConverter: payloadDataConverter({ keys: this.payloadKeys, encrypt }),
      });
      this.clients.set(encrypt, client);
    }
    return client;
  }

  /** The simulator child. */
  get simulator(): BenchChild {
    if (!this.simulatorChild) throw new Error('the simulator has not been started');
    return this.simulatorChild;
  }

  private get serviceAccountFile(): string {
    return path.join(this.dir, 'service-account.json');
  }

  private simulatorEnv(simPort: number): Record<string, string> {
    const s = this.options.simulator ?? {};
    return {
      ...this.commonEnv(),
      SIMULATOR_HOST: '127.0.0.1',
      SIMULATOR_PORT: String(simPort),
      SIMULATOR_SERVICE_ACCOUNT_FILE: this.serviceAccountFile,
      SIMULATOR_WEBHOOK_BASE_URL: this.apiUrls.join(','),
      SIMULATOR_SEED: String(s.seed ?? 1),
      SIMULATOR_DELIVER_AFTER_MS: String(s.deliverAfterMs ?? 100),
      SIMULATOR_READ_AFTER_MS: String(s.readAfterMs ?? 100),
      SIMULATOR_WEBHOOK_MAX_ATTEMPTS: String(s.webhookMaxAttempts ?? 12),
      SIMULATOR_WEBHOOK_RETRY_BASE_MS: String(s.webhookRetryBaseMs ?? 250),
    };
  }

  /** What every child shares: tokens, agent, routing file, Temporal, the payload key, the platform's URLs. */
  private commonEnv(): Record<string, string> {
    return {
      LOG_LEVEL: 'warn',
      SWITCHBOARD_MODE: 'development',
      PAYLOAD_ENCRYPTION_KEY_FILE: this.payloadKeyFile,
      PAYLOAD_ENCRYPTION: this.encrypts ? 'on' : 'off',
      CODEC_SERVER_TOKEN: BENCH_CODEC_TOKEN,
      RBM_CLIENT_TOKEN: BENCH_CLIENT_TOKEN,
      BM_CLIENT_TOKEN: BENCH_CLIENT_TOKEN,
      API_TOKEN: BENCH_API_TOKEN,
      RBM_AGENT_ID: BENCH_AGENT,
      ROUTING_FILE,
      TEMPORAL_ADDRESS: `127.0.0.1:${this.temporalPort}`,
      TEMPORAL_NAMESPACE: 'default',
      TEMPORAL_TASK_QUEUE: this.taskQueue,
      WORKFLOW_ID_SECRET: this.workflowIdSecret,
      RBM_API_BASE_URL: this.simUrl,
      BM_API_BASE_URL: this.simUrl,
      TWILIO_BASE_URL: this.simUrl,
      TWILIO_ACCOUNT_SID: TWILIO.sid,
      TWILIO_AUTH_TOKEN: TWILIO.token,
      SMS_FROM: '+15550001111',
      GOOGLE_APPLICATION_CREDENTIALS: this.serviceAccountFile,
      ...(this.options.agentDesk
        ? { HANDOFF_URL: `${this.simUrl}/desk/handoffs`, HANDOFF_SECRET: this.workflowIdSecret }
        : {}),
    };
  }

  /** Switchboard's (first) API base URL (the simulator's webhook target). */
  get apiUrl(): string {
    return `http://127.0.0.1:${this.apiPort}`;
  }

  /** Every API replica's base URL (the simulator's webhooks alternate between them). */
  get apiUrls(): string[] {
    return this.apiPorts.map((port) => `http://127.0.0.1:${port}`);
  }

  /** One folder per process: V8 writes one profile per thread (main, the SDK's workflow thread, tsx's loader thread). */
  private profileFlags(name: string): string[] {
    return this.options.profileDir ? ['--cpu-prof', '--cpu-prof-dir', path.join(this.options.profileDir, name)] : [];
  }

  /**
   * Starts a worker child (`node --import tsx src/worker.ts`) and waits until its /readyz says
   * RUNNING and connected. `env` overrides the run's variables for this child (e.g. PAYLOAD_ENCRYPTION).
   */
  async startWorker(env: Record<string, string> = {}): Promise<WorkerHandle> {
    this.workerCount++;
    const name = `worker-${this.workerCount}`;
    const healthPort = await freePort();
    const child = this.children.start({
      name,
      entry: 'src/worker.ts',
      logDir: this.dir,
      nodeFlags: this.profileFlags(name),
      env: {
        ...this.commonEnv(),
        WORKFLOW_BUNDLE_PATH: this.bundlePath,
        WORKER_HEALTH_PORT: String(healthPort),
        WORKER_METRICS_ADDRESS: 'off',
        WORKER_SHUTDOWN_GRACE_MS: '2000',
        ...this.options.workerEnv,
        ...env,
      },
    });
    const healthUrl = `http://127.0.0.1:${healthPort}`;
    await waitForHttp(`${healthUrl}/readyz`, 120_000, child);
    return { child, healthUrl };
  }

  /**
   * Starts a worker child on the floor workflow (bench/floor/workflows.ts): the production worker
   * entry, activities and tuning, with a bundle of the floor alone (built once, on first use) on a
   * task queue of its own.
   */
  async startFloorWorker(): Promise<WorkerHandle> {
    if (!this.floorBundlePath) {
      this.floorBundlePath = path.join(this.dir, 'floor-bundle.js');
      await writeWorkflowBundle(this.floorBundlePath, {
        workflowsPath: path.join(projectRoot, 'bench', 'floor', 'workflows.ts'),
        logger: new DefaultLogger('WARN'),
      });
    }
    return this.startWorker({ WORKFLOW_BUNDLE_PATH: this.floorBundlePath, TEMPORAL_TASK_QUEUE: this.floorTaskQueue });
  }

  /** The worker's status counters (in-flight activities, cached workflows), or undefined when it does not answer. */
  async workerStatus(worker: WorkerHandle): Promise<WorkerStatus | undefined> {
    try {
      const res = await fetch(`${worker.healthUrl}/healthz`, { signal: AbortSignal.timeout(2000) });
      return (await res.json()) as WorkerStatus;
    } catch {
      return undefined;
    }
  }

  /**
   * Starts an API child: `switchboard` is src/server.ts on the port the simulator posts to;
   * `ack-only` is the baseline of bench/lib/ack-only-api.ts on a port of its own. `env` overrides
   * the run's variables for this child.
   */
  async startApi(kind: 'switchboard' | 'ack-only', env: Record<string, string> = {}, replica = 0): Promise<ApiHandle> {
    const port = kind === 'switchboard' ? this.apiPorts[replica] : await freePort();
    if (port === undefined)
      throw new Error(`API replica ${replica} was not planned: start the stack with apis: ${replica + 1}`);
    const name = kind === 'switchboard' ? (replica === 0 ? 'api' : `api-${replica + 1}`) : 'api-ack-only';
    const child = this.children.start({
      name,
      entry: kind === 'switchboard' ? 'src/server.ts' : 'bench/lib/ack-only-api.ts',
      logDir: this.dir,
      nodeFlags: this.profileFlags(name),
      env: { ...this.commonEnv(), API_HOST: '127.0.0.1', API_PORT: String(port), ...env },
    });
    const url = `http://127.0.0.1:${port}`;
    await waitForHttp(`${url}/healthz`, 60_000, child);
    return { child, url };
  }

  /** Stops the Temporal server (SIGTERM: the dev server flushes and closes its SQLite file; the production server leaves PostgreSQL running). Start it again with startTemporal(). */
  async stopTemporal(): Promise<void> {
    if (this.temporal instanceof ProductionTemporal) return this.temporal.stopServer();
    if (this.temporal instanceof SharedTemporal)
      throw new Error("a shared Temporal deployment is not the stack's to stop");
    if (!this.dbFile) throw new Error('restarting the dev server needs persistence: sqlite');
    await this.temporal.stop();
  }

  /** Starts the Temporal server again on the same port and the same data. */
  async startTemporal(): Promise<void> {
    if (this.temporal instanceof ProductionTemporal) {
      await this.temporal.startServer();
      await this.temporal.waitUntilServing();
      return;
    }
    if (this.temporal instanceof SharedTemporal)
      throw new Error("a shared Temporal deployment is not the stack's to start");
    if (!this.dbFile) throw new Error('restarting the dev server needs persistence: sqlite');
    this.temporal = await DevServer.start({
      cliPath: readTemporalBinaries().cli,
      port: this.temporalPort,
      dbFile: this.dbFile,
      extraArgs: this.options.temporalArgs ?? [],
    });
  }

  /** The production deployment, when the stack runs one. */
  get production(): ProductionTemporal | undefined {
    return this.temporal instanceof ProductionTemporal ? this.temporal : undefined;
  }

  /** A short description of the Temporal server (reports). */
  get temporalDescription(): string {
    const p = this.production;
    if (this.temporal instanceof SharedTemporal) {
      const binaries = readTemporalServerBinaries();
      return `temporal-server ${binaries.version} on ${binaries.postgresVersion} (SQL visibility, shared deployment)`;
    }
    return p
      ? `temporal-server ${p.binaries.version} on ${p.binaries.postgresVersion} (SQL visibility)`
      : `${readTemporalBinaries().cliVersion} dev server, ${this.dbFile ? 'SQLite (WAL)' : 'in memory'}`;
  }

  /** A gateway with the API's own settings: workflow IDs and start input exactly as src/server.ts computes them. */
  gateway(): ConversationsClient {
    this.gatewayInstance ??= new ConversationsClient({
      client: this.client,
      taskQueue: this.taskQueue,
      timeoutMs: 10_000,
      workflowIds: { revealPhoneNumbers: false, secret: this.workflowIdSecret },
      startInput: { routingVersion: routingVersionOf(this.routing) },
    });
    return this.gatewayInstance;
  }

  workflowId(key: ConversationKey): string {
    return this.gateway().workflowId(key);
  }

  /** The dev server's pid (memory and CPU sampling). */
  temporalPid(): number | undefined {
    return this.temporal.pid;
  }

  /** Stops every child and the dev server, closes the client and removes the folder (kept with `keepDir`, e.g. for profiles). */
  async stop(keepDir = false): Promise<void> {
    process.off('SIGINT', this.stopOnSignal);
    process.off('SIGTERM', this.stopOnSignal);
    await this.children.stopAll(5000);
    await this.connection.close().catch(() => undefined);
    await this.temporal.stop();
    process.off('exit', this.killTemporalOnExit);
    if (!keepDir) rmSync(this.dir, { recursive: true, force: true });
  }
}
