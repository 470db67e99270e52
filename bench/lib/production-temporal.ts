/**
 * The production Temporal deployment, on this machine, from the project's own files: a private
 * PostgreSQL cluster (initdb in a folder under .data/, its own free port, no system service), both
 * schemas set up and updated with the server's own `temporal-sql-tool` (as compose's
 * temporal-schema service does), the real `temporal-server` (all four services in one process)
 * with SQL visibility on that PostgreSQL and the dynamic config compose mounts
 * (deploy/temporal/dynamicconfig.yaml, the one source for both), then the namespace and
 * Switchboard's search attributes (as compose's temporal-setup does).
 *
 * Binaries come from scripts/temporal-server.mjs (`.tools/temporal-server.json`). Used by
 * `npm run test:production` (test/production/), the chaos run and the bench (BenchStack
 * `persistence: 'postgres'`). `restartServer()` and `restartPostgres()` are the chaos run's faults.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, createWriteStream, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

import { Connection } from '@temporalio/client';
import { SearchAttributeType, type SearchAttributeUpdatePair } from '@temporalio/common';
import { encodeUnifiedSearchAttributes } from '@temporalio/common/lib/converter/payload-search-attributes';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { stringify } from 'yaml';

import { projectRoot } from '../../dev/binaries';
import { isPortFree } from '../../dev/devstack/ports';
import { pollUntil } from '../../dev/poll';
import { ensureSearchAttributes } from '../../src/temporal/search-attributes';
import { searchAttributes } from '../../src/workflows/definitions';

const run = promisify(execFile);

/**
 * PostgreSQL refuses to run as root: under root (CI containers) the cluster runs as the
 * `postgres` user the Debian package creates; otherwise as the current user.
 */
function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    throw new Error(
      'running as root, and there is no `postgres` user to run the private PostgreSQL cluster as (PostgreSQL refuses root): install postgresql-15 (it creates the user) or run as an ordinary user',
    );
  }
}

/** What scripts/temporal-server.mjs resolved. */
export interface TemporalServerBinaries {
  version: string;
  server: string;
  sqlTool: string;
  schemaDir: string;
  postgresBinDir: string;
  postgresVersion: string;
  lastBuildSeconds?: number;
}

/** The dynamic config compose mounts into its Temporal server; this server reads the same file. */
export const DYNAMIC_CONFIG_FILE = path.join(projectRoot, 'deploy', 'temporal', 'dynamicconfig.yaml');
/** Namespace retention, as compose's temporal-setup registers it. */
const RETENTION_SECONDS = 30 * 24 * 3600;

/** Reads .tools/temporal-server.json (written by `node scripts/temporal-server.mjs`, which `npm run test:production` runs first). */
export function readTemporalServerBinaries(): TemporalServerBinaries {
  const file = path.join(projectRoot, '.tools', 'temporal-server.json');
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as TemporalServerBinaries;
  } catch {
    throw new Error(
      `${file} is missing: run \`node scripts/temporal-server.mjs\` (or \`npm run test:production\`), which builds the Temporal server and finds PostgreSQL`,
    );
  }
}

/** How a deployment is started. */
export interface ProductionTemporalOptions {
  /** Folder for the cluster, the server's config and logs (created; removed by stop() unless kept). */
  dir: string;
  namespace?: string;
  log?: (line: string) => void;
}

/** A running private PostgreSQL + Temporal server (see the module header). */
export class ProductionTemporal {
  private server: ChildProcess | undefined;
  private serverExit: string | undefined;
  private readonly password = randomBytes(12).toString('hex');
  private readonly runAs = postgresUser();

  private constructor(
    readonly options: ProductionTemporalOptions,
    readonly binaries: TemporalServerBinaries,
    readonly postgresPort: number,
    readonly frontendPort: number,
    private readonly servicePorts: number[],
  ) {}

  get namespace(): string {
    return this.options.namespace ?? 'default';
  }

  /** The frontend's gRPC address. */
  get address(): string {
    return `127.0.0.1:${this.frontendPort}`;
  }

  /** The server's pid (CPU and memory sampling). */
  get pid(): number | undefined {
    return this.server?.pid;
  }

  private get pgData(): string {
    return path.join(this.options.dir, 'postgresql');
  }

  private pg(binary: string): string {
    return path.join(this.binaries.postgresBinDir, binary);
  }

  /** Boots PostgreSQL, sets up both schemas, starts the server, registers the namespace and search attributes. */
  static async start(options: ProductionTemporalOptions): Promise<ProductionTemporal> {
    const binaries = readTemporalServerBinaries();
    mkdirSync(options.dir, { recursive: true });
    const ports: number[] = [];
    // PostgreSQL, frontend gRPC + HTTP, gRPC + membership of the four services: all distinct, and
    // below 32768 (the SQL schema keeps membership ports in a smallint; ephemeral ports are above).
    while (ports.length < 10) {
      const port = 20_000 + Math.floor(Math.random() * 12_000);
      if (!ports.includes(port) && (await isPortFree(port))) ports.push(port);
    }
    const [postgresPort, frontendPort, ...servicePorts] = ports as [number, number, ...number[]];
    const deployment = new ProductionTemporal(options, binaries, postgresPort, frontendPort, servicePorts);
    try {
      await deployment.initPostgres();
      await deployment.startPostgres();
      await deployment.setUpSchemas();
      deployment.writeServerConfig();
      await deployment.startServer();
      await deployment.registerNamespace();
      return deployment;
    } catch (err) {
      await deployment.stop(true);
      throw err;
    }
  }

  private log(line: string): void {
    this.options.log?.(line);
  }

  private async initPostgres(): Promise<void> {
    const pwFile = path.join(this.options.dir, 'pgpass');
    writeFileSync(pwFile, `${this.password}\n`, { mode: 0o600 });
    mkdirSync(this.pgData, { recursive: true, mode: 0o700 });
    if (this.runAs) for (const f of [pwFile, this.pgData]) chownSync(f, this.runAs.uid, this.runAs.gid);
    this.log(`initdb ${this.pgData} (${this.binaries.postgresVersion})`);
    await run(
      this.pg('initdb'),
      [
        '-D',
        this.pgData,
        '-U',
        'temporal',
        '--pwfile',
        pwFile,
        '--auth',
        'scram-sha-256',
        '-E',
        'UTF8',
        '--locale',
        'C.UTF-8',
        '--no-sync',
      ],
      this.pgExec(),
    ).catch((err: Error & { stderr?: string }) => {
      throw new Error(`initdb failed: ${err.stderr ?? err.message}`);
    });
    rmSync(pwFile);
  }

  private pgEnv(): NodeJS.ProcessEnv {
    return { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LC_ALL: 'C.UTF-8' };
  }

  /** Options of a PostgreSQL command: its environment, and the cluster's user when run as root. */
  private pgExec(): { env: NodeJS.ProcessEnv; cwd: string; uid?: number; gid?: number } {
    return { env: this.pgEnv(), cwd: this.options.dir, ...(this.runAs ?? {}) };
  }

  /** Starts (or starts again) the cluster on its port, listening on 127.0.0.1 only, its socket in the folder. */
  async startPostgres(): Promise<void> {
    const socketDir = path.join(this.options.dir, 'socket');
    const logFile = path.join(this.options.dir, 'postgresql.log');
    mkdirSync(socketDir, { recursive: true });
    if (this.runAs) {
      writeFileSync(logFile, '', { flag: 'a' });
      for (const f of [socketDir, logFile]) chownSync(f, this.runAs.uid, this.runAs.gid);
    }
    await run(
      this.pg('pg_ctl'),
      [
        '-D',
        this.pgData,
        '-l',
        logFile,
        '-w',
        '-t',
        '60',
        '-o',
        `-p ${this.postgresPort} -k ${socketDir} -c listen_addresses=127.0.0.1 -c max_connections=200`,
        'start',
      ],
      this.pgExec(),
    ).catch((err: Error & { stderr?: string }) => {
      throw new Error(
        `pg_ctl start failed: ${err.stderr ?? err.message} (log: ${path.join(this.options.dir, 'postgresql.log')})`,
      );
    });
  }

  /** Stops the cluster (fast shutdown: open connections are cut, as when the database host goes away). */
  async stopPostgres(): Promise<void> {
    await run(this.pg('pg_ctl'), ['-D', this.pgData, '-m', 'fast', '-w', '-t', '60', 'stop'], this.pgExec());
  }

  /** PostgreSQL down and up again under the running server: its connections fail until it is back. */
  async restartPostgres(downMs = 0): Promise<void> {
    await this.stopPostgres();
    if (downMs > 0) await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.startPostgres();
  }

  private async sql(db: string, ...args: string[]): Promise<void> {
    await run(
      this.binaries.sqlTool,
      [
        '--plugin',
        'postgres12',
        '--ep',
        '127.0.0.1',
        '-p',
        String(this.postgresPort),
        '-u',
        'temporal',
        '--db',
        db,
        ...args,
      ],
      { env: { ...this.pgEnv(), SQL_PASSWORD: this.password } },
    ).catch((err: Error & { stderr?: string }) => {
      throw new Error(
        `temporal-sql-tool --db ${db} ${args.join(' ')} failed: ${(err.stderr ?? err.message).slice(-2000)}`,
      );
    });
  }

  /** Both databases created and brought to the server's schema version (compose's temporal-schema service, same commands). */
  private async setUpSchemas(): Promise<void> {
    this.log('setting up the temporal and temporal_visibility schemas');
    for (const [db, folder] of [
      ['temporal', 'temporal'],
      ['temporal_visibility', 'visibility'],
    ] as const) {
      await this.sql(db, 'create');
      await this.sql(db, 'setup-schema', '-v', '0.0');
      await this.sql(db, 'update-schema', '-d', path.join(this.binaries.schemaDir, folder, 'versioned'));
    }
  }

  private writeServerConfig(): void {
    const [
      historyGrpc,
      historyMembership,
      matchingGrpc,
      matchingMembership,
      workerGrpc,
      workerMembership,
      frontendMembership,
      frontendHttp,
    ] = this.servicePorts as number[];
    const datastore = (databaseName: string, maxConns: number) => ({
      sql: {
        pluginName: 'postgres12',
        databaseName,
        connectAddr: `127.0.0.1:${this.postgresPort}`,
        connectProtocol: 'tcp',
        user: 'temporal',
        password: this.password,
        maxConns,
        maxIdleConns: maxConns,
        maxConnLifetime: '1h',
      },
    });
    const service = (
      grpcPort: number | undefined,
      membershipPort: number | undefined,
      extra: Record<string, unknown> = {},
    ) => ({ rpc: { grpcPort, membershipPort, bindOnLocalHost: true, ...extra } });
    const config = {
      log: { stdout: true, level: 'warn' },
      persistence: {
        defaultStore: 'postgres-default',
        visibilityStore: 'postgres-visibility',
        numHistoryShards: 4,
        datastores: {
          'postgres-default': datastore('temporal', 20),
          'postgres-visibility': datastore('temporal_visibility', 10),
        },
      },
      global: { membership: { maxJoinDuration: '30s', broadcastAddress: '127.0.0.1' } },
      services: {
        frontend: service(this.frontendPort, frontendMembership, { httpPort: frontendHttp }),
        history: service(historyGrpc, historyMembership),
        matching: service(matchingGrpc, matchingMembership),
        worker: service(workerGrpc, workerMembership),
      },
      clusterMetadata: {
        enableGlobalNamespace: false,
        failoverVersionIncrement: 10,
        masterClusterName: 'active',
        currentClusterName: 'active',
        clusterInformation: {
          active: { enabled: true, initialFailoverVersion: 1, rpcName: 'frontend', rpcAddress: this.address },
        },
      },
      dcRedirectionPolicy: { policy: 'noop' },
      dynamicConfigClient: { filepath: DYNAMIC_CONFIG_FILE, pollInterval: '10s' },
    };
    mkdirSync(path.join(this.options.dir, 'config'), { recursive: true });
    writeFileSync(path.join(this.options.dir, 'config', 'production.yaml'), stringify(config), { mode: 0o600 });
  }

  /** Starts the server (all services in one process) and waits until the frontend answers for the system namespace. */
  async startServer(): Promise<void> {
    const logStream = createWriteStream(path.join(this.options.dir, 'temporal-server.log'), { flags: 'a' });
    this.serverExit = undefined;
    const child = spawn(
      this.binaries.server,
      ['--root', this.options.dir, '--config', 'config', '--env', 'production', '--allow-no-auth', 'start'],
      { env: this.pgEnv(), stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stdout.pipe(logStream);
    child.stderr.pipe(logStream);
    child.once(
      'exit',
      (code, signal) =>
        (this.serverExit = `temporal-server exited with ${code ?? signal} (log: ${path.join(this.options.dir, 'temporal-server.log')})`),
    );
    this.server = child;
    await this.waitUntilServing('temporal-system');
  }

  /** Until DescribeNamespace answers: the frontend is up and the history shards serve requests. */
  async waitUntilServing(namespace = this.namespace, timeoutMs = 120_000): Promise<void> {
    await pollUntil({
      what: `the Temporal server at ${this.address} serving namespace ${namespace}`,
      read: async () => {
        const connection = await Connection.connect({ address: this.address, connectTimeout: 2000 });
        try {
          await connection.withDeadline(Date.now() + 3000, () =>
            connection.workflowService.describeNamespace({ namespace }),
          );
        } finally {
          await connection.close();
        }
      },
      // Any answer is the awaited one; a refused connection or call throws (not serving yet).
      done: () => true,
      retryErrors: true,
      timeoutMs,
      intervalMs: 250,
      abort: () => this.serverExit,
    });
  }

  /** SIGTERM (the server drains and closes its connections), SIGKILL after 20 s. */
  async stopServer(): Promise<void> {
    const child = this.server;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }

  /** The namespace (30 days of retention, as compose's temporal-setup) and Switchboard's search attributes. */
  private async registerNamespace(): Promise<void> {
    const connection = await Connection.connect({ address: this.address });
    try {
      try {
        await connection.workflowService.registerNamespace({
          namespace: this.namespace,
          workflowExecutionRetentionPeriod: msToTs(RETENTION_SECONDS * 1000),
        });
      } catch (err) {
        if ((err as { code?: number }).code !== 6) throw err;
      }
      await this.waitUntilServing(this.namespace, 60_000);
      await ensureSearchAttributes(connection, this.namespace);
      await this.waitForSearchAttributes(connection);
      this.log(`namespace ${this.namespace} and the search attributes registered on ${this.address}`);
    } finally {
      await connection.close();
    }
  }

  /**
   * Until Switchboard's search attributes are usable by the frontend and by history: both check
   * them against their own namespace cache (refreshed every system.namespaceCacheRefreshInterval,
   * 2 s), so an attribute registered a moment ago can still be refused; a conversation's first
   * workflow task would then fail. A probe workflow (its own type, so no conversation list shows
   * it) is started with every attribute and, acting as its worker over gRPC, upserts them all in its
   * first workflow task and completes; refused, it is terminated and the probe runs again.
   */
  private async waitForSearchAttributes(connection: Connection): Promise<void> {
    const { workflowService } = connection;
    const namespace = this.namespace;
    const identity = 'production-temporal-probe';
    const values: Record<SearchAttributeType, unknown> = {
      [SearchAttributeType.KEYWORD]: 'probe',
      [SearchAttributeType.TEXT]: 'probe',
      [SearchAttributeType.DATETIME]: new Date(),
      [SearchAttributeType.INT]: 1,
      [SearchAttributeType.DOUBLE]: 1.5,
      [SearchAttributeType.BOOL]: true,
      [SearchAttributeType.KEYWORD_LIST]: ['probe'],
    };
    const indexedFields = encodeUnifiedSearchAttributes(
      undefined,
      Object.values(searchAttributes).map((key) => ({ key, value: values[key.type] }) as SearchAttributeUpdatePair),
    );
    const taskQueue = { name: `search-attribute-probe-${randomBytes(6).toString('hex')}` };
    await pollUntil({
      what: 'Switchboard search attributes usable',
      read: async () => {
        const workflowId = `search-attribute-probe-${randomBytes(6).toString('hex')}`;
        await workflowService.startWorkflowExecution({
          namespace,
          workflowId,
          workflowType: { name: 'switchboard-search-attribute-probe' },
          taskQueue,
          requestId: randomBytes(16).toString('hex'),
          identity,
          searchAttributes: { indexedFields },
        });
        try {
          const task = await connection.withDeadline(Date.now() + 20_000, () =>
            workflowService.pollWorkflowTaskQueue({ namespace, taskQueue, identity }),
          );
          if (!task.taskToken?.length) throw new Error('the probe workflow task did not arrive');
          const C = temporal.api.enums.v1.CommandType;
          await workflowService.respondWorkflowTaskCompleted({
            namespace,
            identity,
            taskToken: task.taskToken,
            commands: [
              {
                commandType: C.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES,
                upsertWorkflowSearchAttributesCommandAttributes: { searchAttributes: { indexedFields } },
              },
              {
                commandType: C.COMMAND_TYPE_COMPLETE_WORKFLOW_EXECUTION,
                completeWorkflowExecutionCommandAttributes: {},
              },
            ],
          });
          const { workflowExecutionInfo } = await workflowService.describeWorkflowExecution({
            namespace,
            execution: { workflowId },
          });
          if (
            workflowExecutionInfo?.status !==
            temporal.api.enums.v1.WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_COMPLETED
          )
            throw new Error('the probe workflow did not complete: its upsert was refused');
        } catch (err) {
          await workflowService
            .terminateWorkflowExecution({
              namespace,
              workflowExecution: { workflowId },
              reason: 'search attribute probe refused',
              identity,
            })
            .catch(() => undefined);
          throw err;
        }
      },
      // The probe ran through: the attributes are usable; a refusal throws and the probe runs again.
      done: () => true,
      retryErrors: true,
      timeoutMs: 60_000,
      intervalMs: 250,
    });
  }

  /** Last resort when the run dies without stop() (a process 'exit' handler): SIGKILL the server, immediate PostgreSQL shutdown. */
  killNow(): void {
    try {
      this.server?.kill('SIGKILL');
    } catch {
      // Already gone.
    }
    try {
      execFileSync(this.pg('pg_ctl'), ['-D', this.pgData, '-m', 'immediate', 'stop'], {
        ...this.pgExec(),
        stdio: 'ignore',
      });
    } catch {
      // Not running.
    }
  }

  /** Stops the server and PostgreSQL; removes the folder unless `keepDir`. */
  async stop(keepDir = false): Promise<void> {
    await this.stopServer();
    await this.stopPostgres().catch(() => undefined);
    if (!keepDir) rmSync(this.options.dir, { recursive: true, force: true });
  }
}
