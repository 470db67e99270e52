import { ActivityFailure, ApplicationFailure, isCancellation, log, metricMeter } from '@temporalio/workflow';

import { type ConversationState } from './conversation-state';

/** Counter of activity failures a conversation recorded and carried on from (tag `kind`). */
const ACTIVITY_FAILURE_METRIC = 'switchboard_conversation_activity_failures';

/** The failure's type (e.g. NotRcsReachable) and message, for state and logs. */
export function describeActivityFailure(err: unknown): string {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return `${cause.type ?? 'ApplicationFailure'}: ${cause.message}`;
  if (cause instanceof Error) return `${cause.name}: ${cause.message}`;
  return String(cause);
}

/**
 * No activity failure ever fails a conversation (a failed READ receipt once failed the whole
 * workflow). Records it in the state (bounded) and in the
 * `switchboard_conversation_activity_failures` metric, and logs it. Cancellations are not
 * failures: they are rethrown so the scope that was cancelled sees them.
 */
export function recordActivityFailure(state: ConversationState, kind: string, err: unknown, messageId?: string): void {
  if (isCancellation(err)) throw err;
  const message = describeActivityFailure(err);
  state.recordActivityFailure({
    kind,
    message,
    at: new Date().toISOString(),
    ...(messageId !== undefined ? { messageId } : {}),
  });
  metricMeter
    .createCounter(ACTIVITY_FAILURE_METRIC, undefined, 'Activity failures conversations recorded and carried on from')
    .add(1, { kind });
  log.warn('activity failed; the conversation carries on', { kind, error: message });
}
