/**
 * SMS through the Twilio Messages API shape, against the simulator over real HTTP, including the
 * two guards against a retried activity sending the same SMS twice.
 */
import { type Info } from '@temporalio/activity';
import { MockActivityEnvironment } from '@temporalio/testing';
import { DefaultLogger } from '@temporalio/worker';

import { type RunningSimulator, startSimulator } from '../../dev/simulator/server';
import { createSmsGateway } from '../../src/channels/sms/gateway';
import { TwilioSmsProvider } from '../../src/channels/sms/twilio';
import { rbmConversationKey } from '../../src/domain/conversation-key';
import { FailureType, RetryableFailureType } from '../../src/domain/errors';
import { type SendSmsArgs } from '../../src/domain/ports';
import { silentLogger } from '../../src/logger';
import { failureOf, startReceiver } from '../helpers/simulator';

const SID = 'AC0123456789abcdef0123456789abcdef';
const AUTH = 'twilio-test-auth-token';
const TO = '+14155550177';
const ARGS: SendSmsArgs = {
  to: TO,
  body: 'Your code is 123456',
  idempotencyKey: 'sms-msg-1',
  conversationKey: rbmConversationKey('a@rbm.goog', TO),
};

/** The real activity Context (attempt number, first scheduling time), without the SDK's failure logging. */
const activityAttempt = (info: Partial<Info>) =>
  new MockActivityEnvironment(info, { logger: new DefaultLogger('ERROR') });

describe('SMS via the Twilio Messages API shape', () => {
  let running: RunningSimulator;
  const provider = (extra: { authToken?: string; statusCallbackUrl?: string; timeoutMs?: number } = {}) =>
    new TwilioSmsProvider({
      baseUrl: running.url,
      accountSid: SID,
      authToken: extra.authToken ?? AUTH,
      from: '+15550001111',
      timeoutMs: extra.timeoutMs ?? 2000,
      ...(extra.statusCallbackUrl ? { statusCallbackUrl: extra.statusCallbackUrl } : {}),
    });

  afterEach(async () => {
    await running.close();
  });

  test('form-encoded POST with basic auth and StatusCallback; status callbacks are signed and posted', async () => {
    const receiver = await startReceiver();
    running = await startSimulator({ twilio: { accountSid: SID, authToken: AUTH }, defaults: { deliverAfterMs: 10 } });
    try {
      const gateway = createSmsGateway({
        provider: provider({ statusCallbackUrl: `${receiver.url}/sms/status` }),
        logger: silentLogger,
      });
      const { providerMessageId } = await gateway.sendSms(ARGS);
      expect(providerMessageId).toMatch(/^SM[0-9a-f]{32}$/);

      const [call] = running.sim.calls({ api: 'twilio' });
      expect(call).toMatchObject({
        method: 'POST',
        path: `/2010-04-01/Accounts/${SID}/Messages.json`,
        status: 201,
        phone: TO,
      });
      expect(call?.body).toEqual({
        To: TO,
        Body: 'Your code is 123456',
        From: '+15550001111',
        StatusCallback: `${receiver.url}/sms/status`,
      });

      const delivered = await receiver.next((r) => r.raw.toString().includes('MessageStatus=delivered'));
      expect(delivered.headers['x-twilio-signature']).toMatch(/^[A-Za-z0-9+/=]+$/);
      expect(new URLSearchParams(delivered.raw.toString()).get('MessageSid')).toBe(providerMessageId);
    } finally {
      await receiver.close();
    }
  });

  test('a lost answer, then the retry: the simulator dedupes on the idempotency header', async () => {
    running = await startSimulator({ twilio: { accountSid: SID, authToken: AUTH } });
    running.sim.addFault({ api: 'twilio', status: 503, afterProcessing: true, times: 1 });
    const gateway = createSmsGateway({ provider: provider(), logger: silentLogger });

    const failure = await failureOf(() => activityAttempt({ attempt: 1 }).run(() => gateway.sendSms(ARGS)));
    expect(failure.type).toBe(RetryableFailureType.Unavailable);
    const retried = (await activityAttempt({ attempt: 2, scheduledTimestampMs: Date.now() - 5000 }).run(() =>
      gateway.sendSms(ARGS),
    )) as { providerMessageId: string };

    expect(running.sim.sms()).toHaveLength(1);
    expect(retried.providerMessageId).toBe(running.sim.sms()[0]?.sid);
  });

  test('without the header dedupe (real Twilio), a retry attempt finds the earlier message instead of re-sending', async () => {
    running = await startSimulator({ twilio: { accountSid: SID, authToken: AUTH }, smsDedupeHeader: false });
    running.sim.addFault({ api: 'twilio', method: 'POST', timeout: true, afterProcessing: true, times: 1 });
    const gateway = createSmsGateway({ provider: provider({ timeoutMs: 300 }), logger: silentLogger });
    const firstScheduled = Date.now();

    const failure = await failureOf(() =>
      activityAttempt({ attempt: 1, scheduledTimestampMs: firstScheduled }).run(() => gateway.sendSms(ARGS)),
    );
    expect(failure.message).toContain('timed out');
    const retried = (await activityAttempt({ attempt: 2, scheduledTimestampMs: firstScheduled }).run(() =>
      gateway.sendSms(ARGS),
    )) as { providerMessageId: string };

    expect(running.sim.sms()).toHaveLength(1);
    expect(retried.providerMessageId).toBe(running.sim.sms()[0]?.sid);
    const methods = running.sim.calls({ api: 'twilio' }).map((c) => c.method);
    expect(methods).toEqual(['POST', 'GET']);

    // A different text to the same number is a different SMS, even on a retry attempt.
    await activityAttempt({ attempt: 3, scheduledTimestampMs: firstScheduled }).run(() =>
      gateway.sendSms({ ...ARGS, body: 'Another text', idempotencyKey: 'sms-msg-2' }),
    );
    expect(running.sim.sms()).toHaveLength(2);
  });

  test('a send starts only if its call ends before the attempt times out, so a retry never races an earlier attempt still sending', async () => {
    running = await startSimulator({ twilio: { accountSid: SID, authToken: AUTH }, smsDedupeHeader: false });
    const gateway = createSmsGateway({
      provider: provider({ timeoutMs: 1000 }),
      sendTimeoutMs: 1000,
      deadlineMarginMs: 200,
      logger: silentLogger,
    });
    const firstScheduled = Date.now();

    // Attempt 1 of a 1 s attempt cannot fit a call that may take 1 s: no call, a retryable failure.
    const tooShort = await failureOf(() =>
      activityAttempt({ attempt: 1, scheduledTimestampMs: firstScheduled, startToCloseTimeoutMs: 1000 }).run(() =>
        gateway.sendSms(ARGS),
      ),
    );
    expect(tooShort.type).toBe(RetryableFailureType.Unavailable);
    expect(tooShort.nonRetryable).toBe(false);
    expect(running.sim.calls({ api: 'twilio' })).toHaveLength(0);

    // Attempt 2's lookup of earlier sends is slow (0.9 s of a 1.8 s attempt): the send would end after the deadline.
    running.sim.addFault({ api: 'twilio', method: 'GET', latencyMs: 900, times: 1 });
    const lateAfterLookup = await failureOf(() =>
      activityAttempt({ attempt: 2, scheduledTimestampMs: firstScheduled, startToCloseTimeoutMs: 1800 }).run(() =>
        gateway.sendSms(ARGS),
      ),
    );
    expect(lateAfterLookup.type).toBe(RetryableFailureType.Unavailable);
    expect(running.sim.calls({ api: 'twilio' }).map((c) => c.method)).toEqual(['GET']);
    expect(running.sim.sms()).toHaveLength(0);

    // With the time to finish, attempt 3 looks up, then sends.
    await activityAttempt({ attempt: 3, scheduledTimestampMs: firstScheduled, startToCloseTimeoutMs: 30_000 }).run(() =>
      gateway.sendSms(ARGS),
    );
    expect(running.sim.calls({ api: 'twilio' }).map((c) => c.method)).toEqual(['GET', 'GET', 'POST']);
    expect(running.sim.sms()).toHaveLength(1);
  });

  test('permanent failures: bad credentials, invalid number, not configured', async () => {
    running = await startSimulator({ twilio: { accountSid: SID, authToken: AUTH } });
    const wrongAuth = await failureOf(() =>
      createSmsGateway({ provider: provider({ authToken: 'wrong' }), logger: silentLogger }).sendSms(ARGS),
    );
    expect(wrongAuth.type).toBe(FailureType.PermissionDenied);
    expect(wrongAuth.nonRetryable).toBe(true);

    running.sim.addFault({ api: 'twilio', status: 400, times: 1 });
    const rejected = await failureOf(() =>
      createSmsGateway({ provider: provider(), logger: silentLogger }).sendSms(ARGS),
    );
    expect(rejected.type).toBe(FailureType.SmsRejected);

    const invalid = await failureOf(() =>
      createSmsGateway({ provider: provider(), logger: silentLogger }).sendSms({ ...ARGS, to: '0044 12' }),
    );
    expect(invalid.type).toBe(FailureType.SmsRejected);

    const none = await failureOf(() => createSmsGateway({ logger: silentLogger }).sendSms(ARGS));
    expect(none.type).toBe(FailureType.NotConfigured);

    running.sim.addFault({ api: 'twilio', status: 429, retryAfterSeconds: 3, times: 1 });
    const limited = await failureOf(() =>
      createSmsGateway({ provider: provider(), logger: silentLogger }).sendSms(ARGS),
    );
    expect(limited.type).toBe(RetryableFailureType.RateLimited);
    expect(limited.nextRetryDelay).toBeGreaterThanOrEqual(3000);
  });
});
