/**
 * The one place where an outbound API's answer becomes a Temporal failure. Every client (RBM,
 * Business Messages, SMS, handoff, OAuth token) routes its non-success statuses and network
 * errors through here, so "what is worth retrying" is decided once:
 *
 * - transient (network error, timeout, 408, 5xx, 429) → a retryable ApplicationFailure; Temporal's
 *   activity retry is the only retry loop, and `nextRetryDelay` carries Retry-After when the API
 *   sent one;
 * - permanent (400, 401 after a token refresh, 403, 404, other 4xx) → a non-retryable
 *   ApplicationFailure typed from FailureType, so a workflow can branch on `failure.type`.
 *
 * Messages name the operation and a masked subject only: never a token, a body or a full number.
 */
import { ApplicationFailure } from '@temporalio/common';

import { maskPhone } from '../domain/conversation-key';
import { FailureType, RetryableFailureType } from '../domain/errors';

/** What a call was, for failure messages. `subject` must already be masked. */
export interface CallDescription {
  /** e.g. `RBM agentMessages.create`. */
  operation: string;
  /** Masked phone number or a conversation id. */
  subject?: string;
}

/** The statuses whose meaning differs between APIs; anything unset falls back to the generic type. */
export interface StatusMeaning {
  /** 400 (default InvalidRequest). */
  badRequest?: FailureType;
  /** 403 (default PermissionDenied). */
  forbidden?: FailureType;
  /** 404 (default PermanentApiError). */
  notFound?: FailureType;
}

/** What the failure's details carry, for workflows and logs. */
export interface ApiFailureDetails {
  httpStatus?: number;
  /** Google's `error.status` (e.g. NOT_FOUND) or Twilio's numeric `code`, when the body had one. */
  apiStatus?: string;
}

const E164_ANYWHERE = /\+\d{7,15}/g;

/** Short, log-safe text from an API error body (Google `{error:{status,message}}`, Twilio `{code,message}`). */
export function errorDetail(bodyText: string): { apiStatus?: string; message?: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bodyText);
  } catch {
    return {};
  }
  if (typeof parsed !== 'object' || parsed === null) return {};
  const record = parsed as Record<string, unknown>;
  const google =
    typeof record.error === 'object' && record.error !== null ? (record.error as Record<string, unknown>) : undefined;
  const rawStatus = google?.status ?? record.code ?? (typeof record.error === 'string' ? record.error : undefined);
  const rawMessage = google?.message ?? record.message ?? record.error_description;
  const clean = (v: unknown) =>
    typeof v === 'string' || typeof v === 'number'
      ? String(v).replace(E164_ANYWHERE, maskPhone).slice(0, 200)
      : undefined;
  return { apiStatus: clean(rawStatus), message: clean(rawMessage) };
}

/**
 * Milliseconds to wait from a Retry-After header (delta-seconds or an HTTP date), or undefined when
 * absent, unparseable or not in the future.
 */
export function parseRetryAfterMs(value: string | null | undefined, nowMs: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) {
    const ms = Number(trimmed) * 1000;
    return ms > 0 ? ms : undefined;
  }
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  const ms = Math.ceil(at - nowMs);
  return ms > 0 ? ms : undefined;
}

function describe(call: CallDescription): string {
  return call.subject ? `${call.operation} for ${call.subject}` : call.operation;
}

function permanent(message: string, type: FailureType, details: ApiFailureDetails): ApplicationFailure {
  return ApplicationFailure.create({ message, type, nonRetryable: true, details: [details] });
}

function transient(
  message: string,
  type: RetryableFailureType,
  details: ApiFailureDetails,
  nextRetryDelayMs?: number,
): ApplicationFailure {
  return ApplicationFailure.create({
    message,
    type,
    nonRetryable: false,
    details: [details],
    ...(nextRetryDelayMs !== undefined ? { nextRetryDelay: nextRetryDelayMs } : {}),
  });
}

/**
 * The failure for an HTTP status the caller did not accept as success. `retryAfter` is the raw
 * Retry-After header; `bodyText` the error body (only a short, masked excerpt ends up in the message).
 */
export function failureForStatus(
  status: number,
  call: CallDescription,
  meaning: StatusMeaning = {},
  response: { retryAfter?: string | null; bodyText?: string; nowMs?: number } = {},
): ApplicationFailure {
  const detail = response.bodyText ? errorDetail(response.bodyText) : {};
  const details: ApiFailureDetails = {
    httpStatus: status,
    ...(detail.apiStatus ? { apiStatus: detail.apiStatus } : {}),
  };
  const suffix = [detail.apiStatus, detail.message].filter(Boolean).join(': ');
  const message = `${describe(call)} answered HTTP ${status}${suffix ? ` (${suffix})` : ''}`;

  if (status === 429)
    return transient(
      message,
      RetryableFailureType.RateLimited,
      details,
      parseRetryAfterMs(response.retryAfter, response.nowMs),
    );
  if (status >= 500 || status === 408)
    return transient(
      message,
      RetryableFailureType.Unavailable,
      details,
      parseRetryAfterMs(response.retryAfter, response.nowMs),
    );
  if (status === 400) return permanent(message, meaning.badRequest ?? FailureType.InvalidRequest, details);
  if (status === 401) return permanent(message, FailureType.PermissionDenied, details);
  if (status === 403) return permanent(message, meaning.forbidden ?? FailureType.PermissionDenied, details);
  if (status === 404) return permanent(message, meaning.notFound ?? FailureType.PermanentApiError, details);
  return permanent(message, FailureType.PermanentApiError, details);
}

/** A request that got no HTTP answer (refused, reset, DNS, timeout): always worth retrying with the same ids. */
export function failureForNetworkError(err: unknown, call: CallDescription, timeoutMs?: number): ApplicationFailure {
  const name = typeof err === 'object' && err !== null && 'name' in err ? String(err.name) : '';
  if (name === 'TimeoutError')
    return transient(`${describe(call)} timed out after ${timeoutMs ?? '?'} ms`, RetryableFailureType.Unavailable, {});
  // Duck-typed: undici's errors may come from another realm (Jest's sandbox), where instanceof fails.
  const cause = typeof err === 'object' && err !== null ? (err as { cause?: unknown }).cause : undefined;
  const code = (cause as { code?: unknown } | undefined)?.code ?? (err as { code?: unknown } | undefined)?.code;
  const reason =
    typeof code === 'string'
      ? code
      : typeof err === 'object' && err !== null && 'message' in err
        ? String(err.message)
        : String(err);
  return transient(`${describe(call)} failed without an HTTP answer (${reason})`, RetryableFailureType.Unavailable, {});
}

/** A permanent failure that is not an HTTP answer: bad input, missing configuration. */
export function permanentFailure(message: string, type: FailureType): ApplicationFailure {
  return permanent(message, type, {});
}
