import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** A long-running child of `npm start`, its output prefixed with its name. */
export class ManagedChild {
  private readonly child: ChildProcess;
  private stopping = false;
  readonly exited: Promise<number | null>;

  constructor(
    readonly name: string,
    command: string,
    args: string[],
    env: NodeJS.ProcessEnv,
    onUnexpectedExit: (name: string, code: number | null) => void,
  ) {
    this.child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', (line) => process.stdout.write(`[${name}] ${line}\n`));
    }
    this.exited = new Promise((resolve) =>
      this.child.once('exit', (code) => {
        if (!this.stopping) onUnexpectedExit(name, code);
        resolve(code);
      }),
    );
  }

  /** SIGTERM, then SIGKILL if it has not exited within graceMs. */
  async stop(graceMs = 15_000): Promise<void> {
    this.stopping = true;
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}
