/**
 * Child processes of a benchmark or chaos run (worker, API, simulator): started as
 * `node --import tsx <entry>`, their output written to a log file (the console stays readable,
 * and the tail is quoted when one fails), their resident memory sampled from /proc, and every one
 * of them stopped when the run ends, also when it fails or is interrupted.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync, type WriteStream } from 'node:fs';
import path from 'node:path';

import { projectRoot } from '../../dev/binaries';
import { PollTimeoutError, pollUntil } from '../../dev/poll';

/** Resident set size of a process in MiB (Linux /proc), or undefined when unknown or gone. */
export function rssMiB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kb === undefined ? undefined : Math.round((Number(kb) / 1024) * 10) / 10;
  } catch {
    return undefined;
  }
}

let clockTicks: number | undefined;

/** CPU time (user + system) a process has used so far, in seconds (Linux /proc), or undefined. */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name is in parentheses and may hold spaces: count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    clockTicks ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
    return (Number(fields[11]) + Number(fields[12])) / clockTicks;
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds per thread name of a process (Linux /proc/<pid>/task): tells the JS main thread
 * ("node"), Node worker threads (the SDK runs workflows in one), libuv and V8 helper threads and a
 * native runtime's threads (Temporal's Rust core: "tokio-runtime-w") apart.
 */
export function threadCpuSeconds(pid: number | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (pid === undefined) return out;
  try {
    clockTicks ??= Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        // Node's other threads (the SDK's workflow thread, GC helpers, libuv) keep the name "node".
        const name =
          tid === String(pid) ? `${comm} (main thread)` : comm === 'node' ? 'node (worker threads, GC, libuv)' : comm;
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        out[name] = (out[name] ?? 0) + (Number(fields[11]) + Number(fields[12])) / clockTicks;
      } catch {
        // The thread ended meanwhile.
      }
    }
  } catch {
    // Not Linux, or the process is gone.
  }
  return out;
}

/** How a child is started. */
export interface ChildSpec {
  /** Short name for logs (`worker-2`, `api`). */
  name: string;
  /** Entry file relative to the project root, run with tsx. */
  entry: string;
  /** The child's complete environment (PATH and HOME are added). */
  env: Record<string, string>;
  /** Folder for `<name>.log`. */
  logDir: string;
  /** Extra node flags, e.g. `--cpu-prof`. */
  nodeFlags?: string[];
}

/** One running child. */
export class BenchChild {
  readonly name: string;
  readonly logFile: string;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private readonly child: ChildProcess;
  private readonly log: WriteStream;
  private tail: string[] = [];

  constructor(spec: ChildSpec) {
    this.name = spec.name;
    this.logFile = path.join(spec.logDir, `${spec.name}.log`);
    this.log = createWriteStream(this.logFile, { flags: 'a' });
    // Only what the run gives, plus PATH/HOME: a developer's TEMPORAL_ADDRESS must not leak in.
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...spec.env };
    this.child = spawn(
      process.execPath,
      [...(spec.nodeFlags ?? []), '--import', 'tsx', path.join(projectRoot, spec.entry)],
      { cwd: projectRoot, env, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const keep = (chunk: Buffer) => {
      this.log.write(chunk);
      // A bounded tail for error messages; the log file has everything.
      this.tail.push(chunk.toString('utf8'));
      if (this.tail.length > 40) this.tail = this.tail.slice(-40);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code, signal) => {
        this.log.end();
        resolve({ code, signal });
      }),
    );
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Current resident memory in MiB. */
  rssMiB(): number | undefined {
    return this.running ? rssMiB(this.child.pid) : undefined;
  }

  /** The last lines the child printed (for error messages). */
  outputTail(chars = 3000): string {
    return this.tail.join('').slice(-chars);
  }

  /** SIGKILL and wait for the exit: the crash a chaos run inflicts. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM (graceful: a worker drains, a CPU profile is written), then SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/**
 * Every child a run started, so one call stops them all. A process exit handler SIGKILLs whatever
 * is still alive (a crash of the run itself must not leave workers polling a dead server).
 */
export class ChildGroup {
  private readonly children: BenchChild[] = [];
  private readonly onExit = () => {
    for (const c of this.children) if (c.running && c.pid !== undefined) process.kill(c.pid, 'SIGKILL');
  };

  constructor() {
    process.on('exit', this.onExit);
  }

  start(spec: ChildSpec): BenchChild {
    const child = new BenchChild(spec);
    this.children.push(child);
    return child;
  }

  /** Stops every child, newest first. */
  async stopAll(graceMs = 10_000): Promise<void> {
    for (const child of [...this.children].reverse()) await child.stop(graceMs);
    process.off('exit', this.onExit);
  }
}

/**
 * Polls `url` until it answers with `ok(status)`; fails at the deadline or as soon as `child`
 * exits (with the child's output, so a worker that cannot start says why).
 */
export async function waitForHttp(
  url: string,
  timeoutMs: number,
  child?: BenchChild,
  ok: (status: number) => boolean = (s) => s === 200,
): Promise<void> {
  try {
    await pollUntil({
      what: `${url} to answer`,
      read: async () => {
        const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        return res.status;
      },
      done: ok,
      // Not listening yet.
      retryErrors: true,
      timeoutMs,
      intervalMs: 100,
      describe: (status) => `status ${status}`,
      abort: () => (child && !child.running ? `${child.name} exited; its output:\n${child.outputTail()}` : undefined),
    });
  } catch (err) {
    if (err instanceof PollTimeoutError && child)
      throw new Error(`${err.message}; ${child.name} output:\n${child.outputTail()}`, { cause: err });
    throw err;
  }
}
