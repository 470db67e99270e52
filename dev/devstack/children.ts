import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** Restart back-off of a supervised child: 1 s, 2 s, 4 s … up to maxMs; reset once it stayed up for stableMs. */
export interface RestartPolicy {
  initialMs: number;
  maxMs: number;
  stableMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { initialMs: 1000, maxMs: 30_000, stableMs: 60_000 };

/**
 * A long-running child of `npm start`, its output prefixed with its name, supervised like a
 * process manager would: when it exits without being asked to (a crash, an OOM kill) it is started
 * again after a back-off that doubles with each quick crash, and every restart is logged.
 */
export class ManagedChild {
  private child: ChildProcess | undefined;
  private stopping = false;
  private restarts = 0;
  private startedAt = 0;
  private timer: NodeJS.Timeout | undefined;
  private exitedNow: Promise<void> = Promise.resolve();

  constructor(
    readonly name: string,
    private readonly command: string,
    private readonly args: string[],
    private readonly env: NodeJS.ProcessEnv,
    private readonly log: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
    private readonly policy: RestartPolicy = DEFAULT_RESTART_POLICY,
  ) {
    this.spawn();
  }

  /** How many times it was restarted after an unexpected exit. */
  get restartCount(): number {
    return this.restarts;
  }

  /** The current process id (changes with each restart). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  private spawn(): void {
    const child = spawn(this.command, this.args, { env: this.env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.startedAt = Date.now();
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', (line) => this.log(`[${this.name}] ${line}`));
    }
    this.exitedNow = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        resolve();
        if (!this.stopping) this.scheduleRestart(code, signal);
      }),
    );
  }

  private scheduleRestart(code: number | null, signal: NodeJS.Signals | null): void {
    const { initialMs, maxMs, stableMs } = this.policy;
    // A child that ran for a while before crashing starts over at the shortest delay.
    const quick = Date.now() - this.startedAt < stableMs;
    const attempt = quick ? this.restarts : 0;
    const delayMs = Math.min(maxMs, initialMs * 2 ** Math.min(attempt, 20));
    this.restarts++;
    this.log(
      `[${this.name}] exited unexpectedly (${signal ?? `code ${code}`}); restarting in ${delayMs / 1000} s (restart ${this.restarts})`,
    );
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.stopping) this.spawn();
    }, delayMs);
  }

  /** SIGTERM, then SIGKILL if it has not exited within graceMs; no restart afterwards. */
  async stop(graceMs = 15_000): Promise<void> {
    this.stopping = true;
    if (this.timer) clearTimeout(this.timer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exitedNow;
    clearTimeout(timer);
  }
}
