/**
 * One HTTP exchange with an outbound API, over the platform fetch: a per-request timeout, the
 * activity's cancellation, and network errors turned into retryable failures (failures.ts). It
 * never retries: Temporal's activity retry owns that, so a retried activity repeats the call with
 * the same ids.
 */
import { Context } from '@temporalio/activity';

import { type CallDescription, failureForNetworkError } from './failures';

export interface HttpRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: URL;
  headers?: Record<string, string>;
  body?: string;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
}

export interface HttpOptions {
  timeoutMs: number;
}

/** The running activity's cancellation signal, or undefined outside an activity (tests, scripts). */
function activityCancellation(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined;
  }
}

/**
 * Sends the request and reads the whole answer. Resolves for every HTTP status (the caller
 * classifies it); rejects with a retryable ApplicationFailure when no answer came, or with the
 * activity's cancellation reason when the activity was cancelled.
 */
export async function httpCall(req: HttpRequest, call: CallDescription, opts: HttpOptions): Promise<HttpResponse> {
  const cancelled = activityCancellation();
  const timeout = AbortSignal.timeout(opts.timeoutMs);
  const signal = cancelled ? AbortSignal.any([timeout, cancelled]) : timeout;
  try {
    const res = await fetch(req.url, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      signal,
      redirect: 'error',
    });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text };
  } catch (err) {
    if (cancelled?.aborted) throw cancelled.reason;
    throw failureForNetworkError(err, call, opts.timeoutMs);
  }
}

/**
 * `base` + `path` + query, keeping any path prefix of the base (e.g. a proxy mounted under /rbm).
 * `path` segments must already be encoded by the caller.
 */
export function apiUrl(base: string, path: string, query: Record<string, string | undefined> = {}): URL {
  const url = new URL(base.replace(/\/+$/, '') + path);
  for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, value);
  return url;
}

/** Parses a JSON answer, or undefined when the body is empty or not JSON (some 200s have no body). */
export function jsonBody<T>(res: HttpResponse): T | undefined {
  if (!res.text) return undefined;
  try {
    return JSON.parse(res.text) as T;
  } catch {
    return undefined;
  }
}
