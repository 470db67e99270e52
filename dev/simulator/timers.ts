/**
 * Real-time timers the simulator owns (deliveries, reads, TTL expiry, webhook retries, held
 * requests), tracked so `close()` can cancel every one of them and a test run leaves nothing behind.
 */
export class Timers {
  private readonly pending = new Set<NodeJS.Timeout>();
  private closed = false;
  private readonly closeListeners = new Set<() => void>();

  /** Runs `fn` after `ms`; returns a cancel function. Does nothing once closed. */
  after(ms: number, fn: () => void): () => void {
    if (this.closed) return () => undefined;
    const handle = setTimeout(() => {
      this.pending.delete(handle);
      fn();
    }, ms);
    this.pending.add(handle);
    return () => {
      clearTimeout(handle);
      this.pending.delete(handle);
    };
  }

  /** Resolves after `ms`, or early (false) when the signal aborts or the simulator closes. */
  sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.closed || signal?.aborted) return resolve(false);
      const done = (completed: boolean) => {
        cancel();
        signal?.removeEventListener('abort', onAbort);
        this.closeListeners.delete(onClose);
        resolve(completed);
      };
      const onAbort = () => done(false);
      const onClose = () => done(false);
      const cancel = this.after(ms, () => done(true));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.closeListeners.add(onClose);
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    this.closed = true;
    for (const handle of this.pending) clearTimeout(handle);
    this.pending.clear();
    for (const listener of [...this.closeListeners]) listener();
  }
}
