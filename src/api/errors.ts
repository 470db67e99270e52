import { NamespaceNotFoundError } from '@temporalio/common';

/** An error the API answers with its own status and a JSON body naming the problem. */
export class ApiError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 503,
    readonly code: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** Temporal could not be reached, or did not answer within the configured bound. */
export class TemporalUnavailableError extends ApiError {
  constructor(message: string, cause?: unknown) {
    super(503, 'temporal_unavailable', message);
    this.name = 'TemporalUnavailableError';
    if (cause !== undefined) this.cause = cause;
  }
}

/**
 * Whether a Temporal client call failed because Temporal is not serving right now, so the caller
 * answers 503 with Retry-After: gRPC UNAVAILABLE (14), DEADLINE_EXCEEDED (4), RESOURCE_EXHAUSTED
 * (8: rate limited) or a connection failure anywhere in the cause chain; or NamespaceNotFoundError.
 * The Temporal server answers NamespaceNotFound whenever it cannot read the namespace from its
 * database (server 1.29 `nsregistry`: any persistence error on a namespace lookup becomes
 * NamespaceNotFound), so with PostgreSQL down a client cannot tell an outage from a missing
 * namespace; the SDK then drops the gRPC status. Both are retried: Google redelivers, nothing is kept
 * as unrecognized.
 */
export function isTemporalUnavailable(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof NamespaceNotFoundError) return true;
    const code = (e as { code?: unknown }).code;
    if (code === 14 || code === 4 || code === 8) return true;
    if (/UNAVAILABLE|DEADLINE_EXCEEDED|RESOURCE_EXHAUSTED|connect/i.test(e.message) && (e.name === 'ServiceError' || e.name === 'Error')) return true;
  }
  return false;
}

/** What a 503 says about the failure: a namespace Temporal does not serve is named, as it may also be a missing namespace. */
export function describeUnavailable(operation: string, timeoutMs: number, err: unknown): string {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof NamespaceNotFoundError) return `Temporal did not accept ${operation}: it does not serve namespace '${e.namespace}' now (its database unavailable, or the namespace missing)`;
  }
  return `Temporal did not accept ${operation} within ${timeoutMs} ms`;
}
