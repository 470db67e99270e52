import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

import { Connection } from '@temporalio/client';

import { searchAttributeCliArgs } from '../src/temporal/search-attributes';

export interface DevServerOptions {
  cliPath: string;
  ip?: string;
  port: number;
  /** Web UI port; without it the server runs headless. */
  uiPort?: number;
  /** The UI's remote codec endpoint (`--ui-codec-endpoint`): the UI decodes payloads through it. */
  uiCodecEndpoint?: string;
  /** SQLite file for persistence; without it state lives in memory. */
  dbFile?: string;
  namespace?: string;
  extraArgs?: string[];
  /** Where the server's own output goes (default: discarded). */
  output?: 'inherit' | 'ignore';
  readyTimeoutMs?: number;
  /** The server's own log level (default: error, so a clean shutdown prints nothing). */
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
}

/** A `temporal server start-dev` child process, started and stopped by us (no 5 s SDK spawn limit). */
export class DevServer {
  private constructor(
    private readonly child: ChildProcess,
    readonly address: string,
    readonly namespace: string,
  ) {}

  static async start(options: DevServerOptions): Promise<DevServer> {
    const ip = options.ip ?? '127.0.0.1';
    const namespace = options.namespace ?? 'default';
    const args = [
      'server',
      'start-dev',
      '--ip',
      ip,
      '--port',
      String(options.port),
      '--namespace',
      namespace,
      '--log-level',
      options.logLevel ?? 'error',
    ];
    args.push('--dynamic-config-value', 'frontend.enableServerVersionCheck=false');
    args.push(...searchAttributeCliArgs());
    if (options.uiPort !== undefined) {
      args.push('--ui-port', String(options.uiPort), '--ui-disable-news-fetch');
      if (options.uiCodecEndpoint) args.push('--ui-codec-endpoint', options.uiCodecEndpoint);
    } else args.push('--headless');
    if (options.dbFile) {
      mkdirSync(path.dirname(options.dbFile), { recursive: true });
      args.push('--db-filename', options.dbFile, '--sqlite-pragma', 'journal_mode=WAL');
    }
    args.push(...(options.extraArgs ?? []));
    const child = spawn(options.cliPath, args, {
      stdio: ['ignore', options.output ?? 'ignore', options.output ?? 'ignore'],
    });
    const server = new DevServer(child, `${ip}:${options.port}`, namespace);
    await server.waitUntilReady(options.readyTimeoutMs ?? 60_000);
    return server;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Resolves when the server process exits (for whatever reason). */
  get exited(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => this.child.once('exit', () => resolve()));
  }

  private async waitUntilReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exited: string | undefined;
    this.child.once('exit', (code, signal) => (exited = `exited with ${code ?? signal}`));
    for (;;) {
      if (exited)
        throw new Error(`temporal server start-dev ${exited} before it was ready (is port ${this.address} taken?)`);
      try {
        const connection = await Connection.connect({ address: this.address, connectTimeout: 1000 });
        try {
          await connection.withDeadline(Date.now() + 2000, () =>
            connection.workflowService.describeNamespace({ namespace: this.namespace }),
          );
          return;
        } finally {
          await connection.close();
        }
      } catch (err) {
        if (Date.now() > deadline) {
          this.child.kill('SIGKILL');
          throw new Error(
            `temporal server start-dev at ${this.address} not ready within ${timeoutMs} ms: ${(err as Error).message}`,
          );
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  /** Stops the server (SIGTERM, then SIGKILL after 10 s) and waits for it to exit. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
