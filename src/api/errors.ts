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
