import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';

import { maskConversationKey } from '../../domain/conversation-key';
import { FailureType } from '../../domain/errors';
import { RetryableFailureType } from '../../domain/errors';
import { type SendSmsArgs, type SmsGateway } from '../../domain/ports';
import { type Logger } from '../../logger';
import { permanentFailure } from '../failures';
import { type SmsProvider } from './provider';

/** Which attempt of the activity this is, when its first attempt was scheduled, and when this one times out. */
export interface AttemptInfo {
  attempt: number;
  firstScheduledMs: number;
  /** When Temporal times this attempt out (start-to-close), if it does. */
  deadlineMs?: number;
}

/**
 * The running activity's attempt, or undefined outside an activity. Called as the attempt starts:
 * its start-to-close timer began a moment earlier, when the worker took the task.
 */
function currentActivityAttempt(): AttemptInfo | undefined {
  try {
    const info = Context.current().info;
    return {
      attempt: info.attempt,
      firstScheduledMs: info.scheduledTimestampMs,
      ...(info.startToCloseTimeoutMs > 0 ? { deadlineMs: Date.now() + info.startToCloseTimeoutMs } : {}),
    };
  } catch {
    return undefined;
  }
}

export interface SmsGatewayOptions {
  /** Unset when no SMS provider is configured: sends fail with NotConfigured. */
  provider?: SmsProvider;
  logger: Logger;
  /** Tolerance for the provider's clock when looking for an earlier attempt's message. */
  clockSkewMs?: number;
  attempt?: () => AttemptInfo | undefined;
  /** The provider call's own timeout (OUTBOUND_HTTP_TIMEOUT_MS): a send starts only if it ends before the attempt's deadline. */
  sendTimeoutMs?: number;
  /** Room kept between the send's timeout and the attempt's deadline (worker pickup, clocks). */
  deadlineMarginMs?: number;
  now?: () => number;
}

const E164 = /^\+[1-9]\d{6,14}$/;

/**
 * SmsGateway over a provider. On a retried activity (attempt > 1) it first asks the provider for a
 * message with the same body to the same number created since the first attempt was scheduled,
 * and returns that one instead of sending again: the first attempt may have reached the provider
 * and lost only its answer. That lookup is complete only if no earlier attempt is still sending:
 * a send therefore never starts unless its call (bounded by `sendTimeoutMs`) ends before the
 * attempt's start-to-close deadline, so by the time Temporal starts a retry every earlier call
 * has reached the provider or given up. Too little time left fails the attempt, retryable,
 * without a call. The match is on body text, so two identical texts to one number from
 * concurrent activities could be taken for one another; bodies carry message-specific content in
 * practice, and a duplicate SMS is the worse outcome.
 */
export function createSmsGateway(options: SmsGatewayOptions): SmsGateway {
  const attemptOf = options.attempt ?? currentActivityAttempt;
  const skew = options.clockSkewMs ?? 60_000;
  const now = options.now ?? Date.now;
  const margin = options.deadlineMarginMs ?? 2_000;
  return {
    async sendSms(args: SendSmsArgs) {
      const provider = options.provider ?? notConfigured();
      if (!E164.test(args.to))
        throw permanentFailure('the SMS recipient is not an E.164 number', FailureType.SmsRejected);
      if (args.body.length === 0) throw permanentFailure('the SMS body is empty', FailureType.InvalidRequest);
      const log = options.logger.child({
        conversation: maskConversationKey(args.conversationKey),
        idempotencyKey: args.idempotencyKey,
        provider: provider.name,
      });

      const attempt = attemptOf();
      if (attempt && attempt.attempt > 1 && provider.findSent) {
        const existing = await provider.findSent({
          to: args.to,
          body: args.body,
          since: new Date(attempt.firstScheduledMs - skew),
        });
        if (existing) {
          log.info('sms already sent by an earlier attempt', { attempt: attempt.attempt, providerMessageId: existing });
          return { providerMessageId: existing };
        }
      }
      if (
        attempt?.deadlineMs !== undefined &&
        options.sendTimeoutMs !== undefined &&
        now() + options.sendTimeoutMs + margin > attempt.deadlineMs
      ) {
        log.warn('sms not sent: the attempt would time out during the call; retrying', {
          attempt: attempt.attempt,
          msLeft: attempt.deadlineMs - now(),
        });
        throw ApplicationFailure.retryable(
          'too little of the attempt left to send the SMS safely',
          RetryableFailureType.Unavailable,
        );
      }
      const sent = await provider.send({ to: args.to, body: args.body, idempotencyKey: args.idempotencyKey });
      log.debug('sms sent', { providerMessageId: sent.providerMessageId });
      return sent;
    },
  };
}

function notConfigured(): never {
  throw permanentFailure(
    'SMS is not configured (set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and SMS_FROM)',
    FailureType.NotConfigured,
  );
}
