/**
 * The one polling helper of the tests, the benchmarks and the dev stack: waits on a condition of
 * state another process changes (a worker, the simulator, a server starting), never on elapsed time.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** What to poll and when to give up. */
export interface PollOptions<T> {
  /** Names the awaited condition in the timeout error, e.g. "message m1 DELIVERED". */
  what: string;
  /** Reads the current state. A throw counts as "not yet" when `retryErrors` is set, else it propagates. */
  read: () => Promise<T> | T;
  /** Whether the state read is the awaited one; by default, any value other than undefined. */
  done?: (value: T) => boolean;
  timeoutMs?: number;
  intervalMs?: number;
  /** Treat a throwing `read` as "not yet" (a server not listening yet); the last error is reported. */
  retryErrors?: boolean;
  /** Describes the last value in the timeout error; by default its JSON, cut at 2000 characters. */
  describe?: (value: T) => string;
  /** Gives up at once with this reason when it returns one (e.g. the awaited process exited). */
  abort?: () => string | undefined;
}

/** Thrown when the condition did not hold in time; `last` is the last value read, if any. */
export class PollTimeoutError extends Error {
  constructor(
    message: string,
    readonly last: unknown,
  ) {
    super(message);
    this.name = 'PollTimeoutError';
  }
}

/**
 * Reads until `done` holds and returns that value; throws a {@link PollTimeoutError} naming `what`
 * and the last value (or error) after `timeoutMs`.
 */
export async function pollUntil<T>(options: PollOptions<T>): Promise<T> {
  const {
    what,
    read,
    done = (value: T) => value !== undefined,
    timeoutMs = 15_000,
    intervalMs = 50,
    retryErrors = false,
    describe = (value: T) => JSON.stringify(value)?.slice(0, 2000) ?? String(value),
    abort,
  } = options;
  const deadline = Date.now() + timeoutMs;
  let last: { value: T } | { error: unknown } | undefined;
  for (;;) {
    const reason = abort?.();
    if (reason !== undefined) throw new Error(`gave up waiting for ${what}: ${reason}`);
    try {
      const value = await read();
      if (done(value)) return value;
      last = { value };
    } catch (error) {
      if (!retryErrors) throw error;
      last = { error };
    }
    if (Date.now() > deadline) {
      const lastText =
        last === undefined
          ? 'nothing read'
          : 'value' in last
            ? `last value: ${describe(last.value)}`
            : `last error: ${(last.error as Error)?.message ?? String(last.error)}`;
      throw new PollTimeoutError(
        `timed out after ${timeoutMs} ms waiting for ${what}; ${lastText}`,
        last && 'value' in last ? last.value : undefined,
      );
    }
    await sleep(intervalMs);
  }
}
