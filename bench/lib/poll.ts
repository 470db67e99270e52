/**
 * For the benchmark's waits that report how far they got instead of failing (a drain that lists
 * what never finished, a count taken at the deadline): dev/poll.ts's pollUntil, with the last
 * value read in place of its timeout error.
 */
import { type PollOptions, PollTimeoutError, pollUntil } from '../../dev/poll';

/**
 * Reads until `done` holds, like {@link pollUntil}; at the timeout returns the last value read
 * instead of throwing. Without `retryErrors` there is always one (the first read happens before the
 * deadline is checked).
 */
export async function pollUntilOrLast<T>(options: Omit<PollOptions<T>, 'retryErrors' | 'abort'>): Promise<T> {
  try {
    return await pollUntil(options);
  } catch (err) {
    if (err instanceof PollTimeoutError) return err.last as T;
    throw err;
  }
}
