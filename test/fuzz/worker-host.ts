/**
 * Parent side of the worker child process: starts it, sends outcome scripts (each acknowledged
 * before the sequence goes on), collects the activity attempts it reports, and notices when it
 * dies. A dead worker is a violation for every sequence running at the time; the next sequences
 * get a fresh one.
 */
import { type ChildProcess, fork } from 'node:child_process';
import path from 'node:path';

import { type CallRecord, type ChildToParent, type ParentToChild } from './protocol';
import { type Outcome, type ScriptableActivity } from './steps';

type Request = ParentToChild extends infer M ? (M extends { reqId: number } ? Omit<M, 'reqId'> : never) : never;

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The last lines the worker wrote to stderr (crash reports land there). */
  stderrTail: string;
}

export class WorkerHost {
  private child: ChildProcess | undefined;
  private nextReqId = 1;
  private readonly pending = new Map<number, { resolve(): void; reject(err: Error): void }>();
  private readonly callsByKey = new Map<string, CallRecord[]>();
  private stderr = '';
  /** Incremented every time a worker dies: a sequence compares it before and after. */
  generation = 0;
  lastExit: WorkerExit | undefined;
  private exitWaiters: (() => void)[] = [];
  /** Workflows of the sequences running now (registered, not yet forgotten). */
  readonly activeWorkflows = new Map<string, string>();
  private starting: Promise<void> | undefined;

  constructor(private readonly options: { address: string; taskQueue: string; bundlePath: string }) {}

  get alive(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Starts the child (again, if it died) and resolves once its worker polls. `beforeRestart` gets
   * the workflows that were running when the last worker died: a workflow whose task kills every
   * worker must be ended before a new worker polls, or it takes that one down too.
   */
  ensureStarted(beforeRestart?: (workflowIds: string[]) => Promise<void>): Promise<void> {
    if (this.alive) return Promise.resolve();
    this.starting ??= (async () => {
      try {
        if (this.generation > 0 && beforeRestart) await beforeRestart([...this.activeWorkflows.keys()]);
        await this.start();
      } finally {
        this.starting = undefined;
      }
    })();
    return this.starting;
  }

  private async start(): Promise<void> {
    this.stderr = '';
    const child = fork(
      path.join(__dirname, 'worker-child.ts'),
      [this.options.address, this.options.taskQueue, this.options.bundlePath],
      {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      },
    );
    this.child = child;
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-4000);
    });
    const ready = new Promise<void>((resolve, reject) => {
      child.on('message', (message: ChildToParent) => {
        if (message.t === 'ready') resolve();
        else if (message.t === 'ack') {
          this.pending.get(message.reqId)?.resolve();
          this.pending.delete(message.reqId);
        } else if (message.t === 'call') {
          const list = this.callsByKey.get(message.call.conversationKey) ?? [];
          list.push(message.call);
          this.callsByKey.set(message.call.conversationKey, list);
        } else if (message.t === 'fatal') this.stderr += `\n${message.message}`;
      });
      child.once('exit', (code, signal) => {
        this.generation++;
        this.lastExit = { code, signal, stderrTail: this.stderr.split('\n').slice(-25).join('\n') };
        for (const p of this.pending.values()) p.reject(new Error(`worker exited (code ${code}, signal ${signal})`));
        this.pending.clear();
        for (const w of this.exitWaiters.splice(0)) w();
        reject(
          new Error(`worker exited before it was ready (code ${code}, signal ${signal}): ${this.stderr.slice(-2000)}`),
        );
      });
    });
    await ready;
  }

  script(conversationKey: string, activity: ScriptableActivity, outcomes: Outcome[]): Promise<void> {
    return this.request({ t: 'script', conversationKey, activity, outcomes });
  }

  register(workflowId: string, conversationKey: string): Promise<void> {
    this.activeWorkflows.set(workflowId, conversationKey);
    return this.request({ t: 'register', workflowId, conversationKey });
  }

  /** Drops the conversation's leftover scripts in the child and its calls here. */
  async forget(conversationKey: string): Promise<void> {
    this.callsByKey.delete(conversationKey);
    for (const [wf, key] of [...this.activeWorkflows]) if (key === conversationKey) this.activeWorkflows.delete(wf);
    if (this.alive) await this.request({ t: 'forget', conversationKey }).catch(() => undefined);
  }

  /** Every attempt reported for the conversation so far (live array). */
  calls(conversationKey: string): readonly CallRecord[] {
    return this.callsByKey.get(conversationKey) ?? [];
  }

  /** Kills the worker at once (a workflow task that never completes holds the server's clock); resolves once it exited. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || !this.alive) return;
    const exited = new Promise<void>((resolve) => this.exitWaiters.push(resolve));
    this.stderr += '\nkilled by the fuzzer: a time skip stalled behind a workflow task that never completed';
    child.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (!child || !this.alive) return;
    const exited = new Promise<void>((resolve) => this.exitWaiters.push(resolve));
    child.disconnect();
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }

  private request(message: Request): Promise<void> {
    const child = this.child;
    if (!child || !this.alive) return Promise.reject(new Error('worker is not running'));
    const reqId = this.nextReqId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(reqId, { resolve, reject });
      child.send({ ...message, reqId } as ParentToChild);
    });
  }
}
