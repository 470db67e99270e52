import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure, NamespaceNotFoundError } from '@temporalio/common';

import { type ConversationKey } from '../domain/conversation-key';

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
 * gRPC statuses that mean "not now" rather than "never": CANCELLED (1), UNKNOWN (2),
 * DEADLINE_EXCEEDED (4), RESOURCE_EXHAUSTED (8: rate limited), ABORTED (10), INTERNAL (13),
 * UNAVAILABLE (14), DATA_LOSS (15). The Temporal server answers INTERNAL when its database fails
 * under it ("no usable database connection found" while PostgreSQL restarts) and CANCELLED or
 * UNKNOWN when an overloaded history service gives up; those events are taken on a retry.
 * Refusals of the request itself (INVALID_ARGUMENT: too large, bad search attributes; NOT_FOUND;
 * ALREADY_EXISTS; FAILED_PRECONDITION …) are not in the list.
 */
const RETRY_LATER = new Set([1, 2, 4, 8, 10, 13, 14, 15]);

/**
 * Whether a Temporal client call failed because Temporal cannot take it right now, so the caller
 * answers 503 with Retry-After: a gRPC status of RETRY_LATER or a connection failure anywhere in
 * the cause chain; or NamespaceNotFoundError. The Temporal server answers NamespaceNotFound
 * whenever it cannot read the namespace from its database (server 1.29 `nsregistry`: any
 * persistence error on a namespace lookup becomes NamespaceNotFound), so with PostgreSQL down a
 * client cannot tell an outage from a missing namespace; the SDK then drops the gRPC status. All of
 * these are retried: Google redelivers, nothing is kept as unrecognized.
 */
export function isTemporalUnavailable(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof NamespaceNotFoundError) return true;
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'number' && RETRY_LATER.has(code)) return true;
    if (
      /UNAVAILABLE|DEADLINE_EXCEEDED|RESOURCE_EXHAUSTED|connect/i.test(e.message) &&
      (e.name === 'ServiceError' || e.name === 'Error')
    )
      return true;
  }
  return false;
}

/** What a 503 says about the failure: a namespace Temporal does not serve is named, as it may also be a missing namespace. */
export function describeUnavailable(operation: string, timeoutMs: number, err: unknown): string {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (e instanceof NamespaceNotFoundError)
      return `Temporal did not accept ${operation}: it does not serve namespace '${e.namespace}' now (its database unavailable, or the namespace missing)`;
  }
  const status = grpcStatusOf(err);
  return status && !/^(4|14) /.test(status)
    ? `Temporal did not accept ${operation}: ${status}`
    : `Temporal did not accept ${operation} within ${timeoutMs} ms`;
}

/** The first gRPC status message in the cause chain (`13 INTERNAL: …`), for logs and reasons; undefined when there is none. */
export function grpcStatusOf(err: unknown): string | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if (typeof (e as { code?: unknown }).code === 'number') return e.message.slice(0, 200);
  }
  return undefined;
}

/**
 * Runs a call on a conversation's workflow, mapping Temporal's answers onto the API's status
 * contract: no such workflow → 404; an update the workflow refused → `refused(failure)` when that
 * names a more precise answer, else 422. Anything else propagates to the app's error handler.
 */
export async function onConversation<T>(
  key: ConversationKey,
  call: () => Promise<T>,
  refused?: (failure: ApplicationFailure) => ApiError | undefined,
): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError)
      throw new ApiError(404, 'conversation_not_found', `no conversation for ${key}`);
    if (err instanceof WorkflowUpdateFailedError && err.cause instanceof ApplicationFailure) {
      const failure = err.cause;
      throw (
        refused?.(failure) ?? new ApiError(422, 'rejected_by_conversation', failure.message, { type: failure.type })
      );
    }
    throw err;
  }
}
