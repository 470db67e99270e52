/** The one classification of outbound answers into retryable and permanent failures. */
import { errorDetail, failureForStatus, parseRetryAfterMs } from '../../src/channels/failures';
import { FailureType, RetryableFailureType } from '../../src/domain/errors';

const call = { operation: 'RBM agentMessages.create', subject: '+44••••••••23' };

describe('failure classification', () => {
  test.each([
    [500, RetryableFailureType.Unavailable, false],
    [502, RetryableFailureType.Unavailable, false],
    [503, RetryableFailureType.Unavailable, false],
    [504, RetryableFailureType.Unavailable, false],
    [408, RetryableFailureType.Unavailable, false],
    [429, RetryableFailureType.RateLimited, false],
    [400, FailureType.InvalidRequest, true],
    [401, FailureType.PermissionDenied, true],
    [403, FailureType.PermissionDenied, true],
    [404, FailureType.PermanentApiError, true],
    [410, FailureType.PermanentApiError, true],
    [422, FailureType.PermanentApiError, true],
  ])('HTTP %i → %s (nonRetryable %s)', (status, type, nonRetryable) => {
    const failure = failureForStatus(status, call);
    expect(failure.type).toBe(type);
    expect(failure.nonRetryable).toBe(nonRetryable);
    expect(failure.details).toEqual([{ httpStatus: status }]);
  });

  test('per-API meaning of 400 / 403 / 404', () => {
    const meaning = {
      notFound: FailureType.NotRcsReachable,
      forbidden: FailureType.NotRcsReachable,
      badRequest: FailureType.SmsRejected,
    };
    expect(failureForStatus(404, call, meaning).type).toBe(FailureType.NotRcsReachable);
    expect(failureForStatus(403, call, meaning).type).toBe(FailureType.NotRcsReachable);
    expect(failureForStatus(400, call, meaning).type).toBe(FailureType.SmsRejected);
  });

  test('Retry-After in seconds or as an HTTP date becomes nextRetryDelay (429 and 503)', () => {
    const now = Date.parse('2026-11-23T10:00:00Z');
    expect(failureForStatus(429, call, {}, { retryAfter: '12' }).nextRetryDelay).toBe(12_000);
    expect(
      failureForStatus(503, call, {}, { retryAfter: 'Mon, 23 Nov 2026 10:00:30 GMT', nowMs: now }).nextRetryDelay,
    ).toBe(30_000);
    expect(failureForStatus(429, call).nextRetryDelay).toBeUndefined();
    expect(parseRetryAfterMs('0')).toBeUndefined();
    expect(parseRetryAfterMs('soon')).toBeUndefined();
    expect(parseRetryAfterMs('Mon, 23 Nov 2026 09:59:00 GMT', now)).toBeUndefined();
  });

  test('the message carries the API status and a short, masked excerpt, never a full number', () => {
    const body = JSON.stringify({
      error: { code: 404, status: 'NOT_FOUND', message: 'Phone +447700900123 is not reachable' },
    });
    const failure = failureForStatus(404, call, { notFound: FailureType.NotRcsReachable }, { bodyText: body });
    expect(failure.message).toBe(
      'RBM agentMessages.create for +44••••••••23 answered HTTP 404 (NOT_FOUND: Phone +44••••••••23 is not reachable)',
    );
    expect(failure.details).toEqual([{ httpStatus: 404, apiStatus: 'NOT_FOUND' }]);
    expect(errorDetail('{"code":21211,"message":"Invalid To"}')).toEqual({ apiStatus: '21211', message: 'Invalid To' });
    expect(errorDetail('<html>')).toEqual({});
  });
});
