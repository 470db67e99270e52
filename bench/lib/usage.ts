/**
 * Samples the run's processes while a phase runs: the maximum resident memory per process (a
 * worker's RSS grows with its workflow cache: what operators size containers by) and the CPU time
 * each used during the phase (on a shared 2-core machine, where the time goes is the first thing
 * to know about a throughput figure).
 */
import { cpuSeconds, rssMiB, threadCpuSeconds } from './processes';

/** What one process did during a phase. */
export interface ProcessUsage {
  rssMaxMiB: Record<string, number>;
  /** CPU seconds (user + system) used during the phase, per process. */
  cpuSeconds: Record<string, number>;
  /** CPU seconds by thread name during the phase, for the processes named in `threadsOf`. */
  threadCpuSeconds: Record<string, Record<string, number>>;
}

/** Records the maximum RSS (MiB) and the CPU time of each named process until stopped. */
export class ProcSampler {
  private readonly max: Record<string, number> = {};
  private readonly cpuAtStart: Record<string, number> = {};
  private readonly threadsAtStart: Record<string, Record<string, number>> = {};
  private timer: NodeJS.Timeout | undefined;

  /** `threadsOf`: processes whose CPU is also broken down by thread (e.g. the worker: JS, workflow thread, Rust core). */
  constructor(
    private readonly pids: () => Record<string, number | undefined>,
    private readonly threadsOf: readonly string[] = [],
  ) {}

  /** Takes one memory sample now; returns it. */
  sample(): Record<string, number> {
    const now: Record<string, number> = {};
    for (const [name, pid] of Object.entries(this.pids())) {
      const mib = rssMiB(pid);
      if (mib === undefined) continue;
      now[name] = mib;
      this.max[name] = Math.max(this.max[name] ?? 0, mib);
    }
    return now;
  }

  start(intervalMs = 250): this {
    for (const [name, pid] of Object.entries(this.pids())) {
      const cpu = cpuSeconds(pid);
      if (cpu !== undefined) this.cpuAtStart[name] = cpu;
      if (this.threadsOf.includes(name)) this.threadsAtStart[name] = threadCpuSeconds(pid);
    }
    this.sample();
    this.timer = setInterval(() => this.sample(), intervalMs);
    this.timer.unref();
    return this;
  }

  /** Stops sampling; returns the maximum RSS and the CPU seconds used since start(), per process. */
  stop(): ProcessUsage {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    const cpu: Record<string, number> = {};
    const threads: Record<string, Record<string, number>> = {};
    for (const [name, pid] of Object.entries(this.pids())) {
      const now = cpuSeconds(pid);
      const start = this.cpuAtStart[name];
      if (now !== undefined && start !== undefined) cpu[name] = Math.round((now - start) * 100) / 100;
      const before = this.threadsAtStart[name];
      if (before) {
        threads[name] = Object.fromEntries(
          Object.entries(threadCpuSeconds(pid))
            .map(([thread, sec]) => [thread, Math.round((sec - (before[thread] ?? 0)) * 100) / 100] as const)
            .filter(([, sec]) => sec > 0)
            .sort((x, y) => y[1] - x[1]),
        );
      }
    }
    return { rssMaxMiB: { ...this.max }, cpuSeconds: cpu, threadCpuSeconds: threads };
  }
}
