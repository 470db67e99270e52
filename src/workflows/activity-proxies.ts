import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';

import type { Activities } from '../activities';
import { FailureType } from '../domain/errors';

const nonRetryableErrorTypes = Object.values(FailureType);

/** Outbound calls to Google / SMS / the agent desk: retried with backoff for up to a day. */
export const channelActivities = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '1 day',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes', nonRetryableErrorTypes },
});

/**
 * Typing indicators are ephemeral: a late one is worse than none, so they get few, quick retries
 * and the workflow carries on if they fail.
 */
export const typingActivities = proxyActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  scheduleToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', maximumAttempts: 3, nonRetryableErrorTypes },
});

/** Reads of Temporal itself (the previous run of a reopened conversation): short, local. */
export const localActivities = proxyLocalActivities<Activities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 5 },
});
