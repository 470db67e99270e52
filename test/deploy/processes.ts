/**
 * Helpers for the deployment tests: the production build in a scratch folder, worker processes
 * started from it (JSON log lines parsed as they arrive), and a stand-in for Google whose answers
 * the test releases by hand, so "an activity is in flight" is a fact, not a timing guess.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import path from 'node:path';

import { projectRoot } from '../../dev/binaries';
import { pollUntil } from '../../dev/poll';

/**
 * Runs `npm run build`'s script into `outDir` (scripts/build.mjs --out-dir): tsc, then the two
 * workflow bundles (plain and tracing: two webpack runs, which took over 240 s together on a
 * shared machine at a load average of ~30).
 */
export function buildProduction(outDir: string): void {
  const res = spawnSync(process.execPath, [path.join(projectRoot, 'scripts', 'build.mjs'), '--out-dir', outDir], {
    cwd: projectRoot,
    encoding: 'utf8',
    timeout: 480_000,
  });
  if (res.status !== 0)
    throw new Error(`production build failed (exit ${res.status ?? res.signal}):\n${res.stdout}\n${res.stderr}`);
}

/** A scratch folder under .tools/ (inside the project, so the build's requires find node_modules). */
export function scratchDir(name: string): string {
  const dir = path.join(projectRoot, '.tools', 'test-build', `${name}-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

export type LogLine = Record<string, unknown> & { msg?: string; level?: string };

/** A process started from the build, with its stdout parsed as JSON lines. */
export class ProcessUnderTest {
  readonly lines: LogLine[] = [];
  /** Lines that were not JSON (must stay empty: every line the worker prints is structured). */
  readonly unstructured: string[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  private readonly child: ChildProcess;
  private listeners: (() => void)[] = [];

  constructor(entry: string, env: Record<string, string>) {
    // Only what the test gives, plus PATH/HOME: nothing from the developer's shell leaks in.
    this.child = spawn(process.execPath, [entry], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buffered = '';
    this.child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const raw = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!raw.trim()) continue;
        try {
          this.lines.push(JSON.parse(raw) as LogLine);
        } catch {
          this.unstructured.push(raw);
        }
      }
      for (const l of this.listeners) l();
    });
    this.child.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.stderr.push(chunk));
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
    );
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  kill(signal: NodeJS.Signals): void {
    this.child.kill(signal);
  }

  /** Resolves with the first log line matching `predicate` (past or future); rejects at the deadline or if the process exits first. */
  waitForLine(
    predicate: (line: LogLine) => boolean,
    timeoutMs = 30_000,
    what = 'a matching log line',
  ): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.lines.find(predicate);
        if (found) {
          cleanup();
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no ${what} within ${timeoutMs} ms; output so far:\n${this.describe()}`));
      }, timeoutMs);
      const onExit = () => {
        cleanup();
        reject(new Error(`process exited before ${what}; output:\n${this.describe()}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== check);
        this.child.off('exit', onExit);
      };
      this.listeners.push(check);
      this.child.once('exit', onExit);
      check();
    });
  }

  describe(): string {
    return [...this.lines.map((l) => JSON.stringify(l)), ...this.unstructured, ...this.stderr].join('\n').slice(-6000);
  }

  /** SIGKILL if still running (test cleanup). */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

/** Polls an HTTP URL until `done(status, body)` holds or the deadline passes. */
export async function waitForHttp(
  url: string,
  done: (status: number, body: string) => boolean,
  timeoutMs = 30_000,
): Promise<{ status: number; body: string }> {
  return pollUntil({
    what: `the expected answer from ${url}`,
    read: async () => {
      const res = await fetch(url);
      return { status: res.status, body: await res.text() };
    },
    done: (answer) => done(answer.status, answer.body),
    retryErrors: true,
    timeoutMs,
    intervalMs: 100,
    describe: (answer) => `${answer.status} ${answer.body.slice(0, 300)}`,
  });
}

export interface HeldCall {
  path: string;
  query: URLSearchParams;
  body: string;
  /** Answers the call now. */
  release(status?: number, body?: unknown): void;
}

/**
 * Google, as far as sending an RBM message goes: an OAuth token endpoint that accepts any
 * JWT-bearer assertion, and agentMessages.create calls that are held until the test releases them.
 */
export async function startHeldGoogle() {
  const calls: HeldCall[] = [];
  let waiters: { n: number; resolve: (c: HeldCall) => void }[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (url.pathname === '/token') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ access_token: 'test-access-token', expires_in: 3600, token_type: 'Bearer' }));
        return;
      }
      let answered = false;
      const call: HeldCall = {
        path: url.pathname,
        query: url.searchParams,
        body,
        release(
          status = 200,
          answer = {
            name: `phones/x/agentMessages/${url.searchParams.get('messageId') ?? ''}`,
            sendTime: new Date().toISOString(),
          },
        ) {
          if (answered || res.destroyed) return;
          answered = true;
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(answer));
        },
      };
      calls.push(call);
      for (const w of [...waiters]) {
        if (calls.length >= w.n) {
          waiters = waiters.filter((x) => x !== w);
          w.resolve(calls[w.n - 1] as HeldCall);
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    calls,
    /** Resolves with the n-th call (1-based) once it arrived. */
    nthCall(n: number, timeoutMs = 30_000): Promise<HeldCall> {
      const existing = calls[n - 1];
      if (existing) return Promise.resolve(existing);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`call #${n} did not arrive within ${timeoutMs} ms (${calls.length} so far)`)),
          timeoutMs,
        );
        waiters.push({ n, resolve: (c) => (clearTimeout(timer), resolve(c)) });
      });
    },
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

/** A service-account key file whose token_uri points at `tokenUri` (fresh RSA key, never committed). */
export function writeServiceAccountKey(dir: string, tokenUri: string): string {
  const { privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const file = path.join(dir, 'service-account.json');
  writeFileSync(
    file,
    JSON.stringify({
      type: 'service_account',
      client_email: 'deploy-test@switchboard.iam.gserviceaccount.com',
      private_key: privateKey,
      private_key_id: 'k1',
      token_uri: tokenUri,
    }),
    { mode: 0o600 },
  );
  return file;
}

export interface CollectedSpan {
  traceId: string;
  spanId: string;
  name: string;
  serviceName: string | undefined;
}

/** An OTLP/HTTP collector (JSON encoding, as @opentelemetry/exporter-trace-otlp-http sends it) that keeps every span. */
export async function startCollector() {
  const received: CollectedSpan[] = [];
  type OtlpJson = {
    resourceSpans?: {
      resource?: { attributes?: { key: string; value: { stringValue?: string } }[] };
      scopeSpans?: { spans?: { traceId: string; spanId: string; name: string }[] }[];
    }[];
  };
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (d: string) => (body += d));
    req.on('end', () => {
      if (req.url === '/v1/traces') {
        const parsed = JSON.parse(body) as OtlpJson;
        for (const rs of parsed.resourceSpans ?? []) {
          const serviceName = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value.stringValue;
          for (const ss of rs.scopeSpans ?? [])
            for (const span of ss.spans ?? [])
              received.push({ traceId: span.traceId, spanId: span.spanId, name: span.name, serviceName });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans: () => [...received],
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}
