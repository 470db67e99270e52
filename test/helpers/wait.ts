import { PollTimeoutError, pollUntil } from '../../dev/poll';

/**
 * Polls `read` until `done` holds or the deadline passes; returns the last value read, for callers
 * that assert on it themselves (their expect() then shows what the value was).
 */
export async function waitUntil<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 10_000,
  intervalMs = 50,
): Promise<T> {
  try {
    return await pollUntil({ what: 'a condition', read, done, timeoutMs, intervalMs });
  } catch (err) {
    if (err instanceof PollTimeoutError) return err.last as T;
    throw err;
  }
}
