/**
 * Types of the non-retryable ApplicationFailures that activities raise. One enum, so workflows can
 * branch on `failure.type` (e.g. fall back to SMS at once for NotRcsReachable).
 */
export const FailureType = {
  /** RBM answered 404 (or 403) to a send, event or capability call: the user is not RCS-reachable. */
  NotRcsReachable: 'NotRcsReachable',
  /** The request itself is wrong (400): retrying the same call cannot help. */
  InvalidRequest: 'InvalidRequest',
  /** Credentials refused (401 after a token refresh, 403 permission denied). */
  PermissionDenied: 'PermissionDenied',
  /** Business Messages: the conversation does not exist / agent may not post (404 / 403). */
  ConversationNotFound: 'ConversationNotFound',
  /** The SMS provider refused the message permanently (bad number, blocked, ...). */
  SmsRejected: 'SmsRejected',
  /** Any other 4xx the APIs answer that is not worth retrying. */
  PermanentApiError: 'PermanentApiError',
  /** A feature is not configured (no SMS provider, no handoff URL, ...). */
  NotConfigured: 'NotConfigured',
} as const;

export type FailureType = (typeof FailureType)[keyof typeof FailureType];

/**
 * Types of the retryable ApplicationFailures the outbound clients raise. Temporal's activity retry
 * is the one retry owner (clients never loop), so these must never appear in a retry policy's
 * nonRetryableErrorTypes.
 */
export const RetryableFailureType = {
  /** Network error, timeout, 408 or 5xx: the same call (same ids) may well succeed later. */
  Unavailable: 'Unavailable',
  /** 429 RESOURCE_EXHAUSTED: the failure's nextRetryDelay honours Retry-After. */
  RateLimited: 'RateLimited',
} as const;

export type RetryableFailureType = (typeof RetryableFailureType)[keyof typeof RetryableFailureType];
