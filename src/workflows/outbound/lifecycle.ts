/**
 * One coroutine per outbound message: send, then follow `nextStep` until it says finish. Every
 * wait is a durable timer (`condition` with a timeout) that a receipt or TTL event cuts short by
 * bumping the record's version. Timers are always computed from the absolute deadlines in the
 * record, so a lifecycle restored after continue-as-new resumes with exactly the remaining time.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  isCancellation,
  log,
  proxyActivities,
} from '@temporalio/workflow';

import type { Activities } from '../../activities';
import { type ConversationKey } from '../../domain/conversation-key';
import { FailureType } from '../../domain/errors';
import { type OutboundMetrics } from './metrics';
import { nextStep, type PlanContext } from './plan';
import { addLog, markExpired, markSendFailed, markSent, recordRevoke, recordSms } from './record';
import { type ExpiryReason, type OutboundRecord, type ReadReceiptInReply } from './types';

const nonRetryableErrorTypes = Object.values(FailureType);

/**
 * Send and revoke: a message that cannot reach Google within minutes is better served by its
 * fallback than by a day of retries, and the update handler (hence the operator's POST) waits for
 * the send. Exhausted retries count as a failed send.
 */
const rcs = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '10 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', nonRetryableErrorTypes },
});

/** The SMS is the last resort: it may retry longer (same idempotency key every attempt). */
const sms = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  scheduleToCloseTimeout: '1 hour',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes', nonRetryableErrorTypes },
});

/** What a lifecycle needs from its tracker. */
export interface LifecycleContext {
  conversationKey: ConversationKey;
  metrics: OutboundMetrics;
  /** Wraps every activity call so the tracker knows when a lifecycle is inside one (`busy`). */
  inActivity<T>(fn: () => Promise<T>): Promise<T>;
  /** What the conversation knows about its user (asked at every step). */
  planContext?: () => PlanContext;
  /** The READ receipt to send with this message (automation's reply), if any. */
  readReceiptInReply?: () => ReadReceiptInReply | undefined;
}

/** Drives `rec` to the end of its lifecycle. Never throws for business outcomes; those land in the record. */
export async function runLifecycle(rec: OutboundRecord, ctx: LifecycleContext): Promise<void> {
  try {
    if (!rec.initialSettled) await initialPhase(rec, ctx);
    for (;;) {
      const step = nextStep(rec, Date.now(), ctx.planContext?.() ?? {});
      switch (step.kind) {
        case 'send':
          await sendStep(rec, ctx);
          break;
        case 'wait': {
          const version = rec.version;
          const remaining = step.untilMs - Date.now();
          // A receipt or TTL event bumps the version and ends the wait early; either way we re-plan.
          if (remaining > 0) await condition(() => rec.version !== version, remaining);
          break;
        }
        case 'revoke':
          await revokeStep(rec, step.expiry, step.reason, ctx);
          break;
        case 'sms':
          await smsStep(rec, step.reason, ctx);
          break;
        case 'finish':
          rec.finished = true;
          addLog(rec, Date.now(), 'finished', step.reason);
          return;
      }
    }
  } catch (err) {
    if (isCancellation(err)) throw err;
    // A bug, not a business outcome: keep the conversation alive, surface it in logs and state.
    rec.finished = true;
    rec.initialSettled = true;
    addLog(rec, Date.now(), 'lifecycle_error', err instanceof Error ? err.message : String(err));
    log.error('outbound lifecycle failed', {
      messageId: rec.messageId,
      error: err instanceof Error ? err.message : String(err),
    });
  }
}

/**
 * Send, plus what must happen "at once": the time-sensitive SMS goes out alongside the RCS send
 * (started before it, not after), and a failed send falls back to SMS immediately. The update
 * handler answers when this phase is over, so the caller sees SENT, FAILED or FALLBACK_SENT.
 */
async function initialPhase(rec: OutboundRecord, ctx: LifecycleContext): Promise<void> {
  const alongside = rec.policy.timeSensitive && rec.sms === undefined ? smsStep(rec, 'time_sensitive', ctx) : undefined;
  try {
    if (rec.send.state === 'pending') await sendStep(rec, ctx);
    if (rec.send.state === 'failed' && rec.sms === undefined) await smsStep(rec, 'send_failed', ctx);
  } finally {
    if (alongside !== undefined) await alongside;
    rec.initialSettled = true;
  }
}

async function sendStep(rec: OutboundRecord, ctx: LifecycleContext): Promise<void> {
  const content = rec.content;
  if (content === undefined)
    throw ApplicationFailure.nonRetryable(
      `message ${rec.messageId} lost its content before sending`,
      'OutboundStateCorrupt',
    );
  const args = {
    conversationKey: ctx.conversationKey,
    messageId: rec.messageId,
    content,
    representative: rec.representative,
    ...(rec.policy.ttl !== undefined ? { ttl: rec.policy.ttl } : {}),
    ...(rec.policy.expireTime !== undefined ? { expireTime: rec.policy.expireTime } : {}),
  };
  const read = ctx.readReceiptInReply?.();
  const withRead = read?.state === 'pending' ? read : undefined;
  try {
    if (withRead) {
      const result = await ctx.inActivity(() =>
        rcs.replyWithReadReceipt({
          ...args,
          readReceipt: {
            conversationKey: ctx.conversationKey,
            messageId: withRead.messageId,
            eventId: `read-${withRead.messageId}`,
          },
        }),
      );
      withRead.state = result.readReceipt;
    } else await ctx.inActivity(() => rcs.sendMessage(args));
    markSent(rec, Date.now(), ctx.metrics);
  } catch (err) {
    if (isCancellation(err)) throw err;
    const { type, message } = describeFailure(err);
    markSendFailed(rec, Date.now(), type, message, ctx.metrics);
  } finally {
    // Unknown after a failed send: the conversation sends the receipt on its own (same eventId).
    if (withRead && withRead.state === 'pending') withRead.state = 'not_sent';
  }
}

/** Marks EXPIRED (first reason wins), then revokes the RCS copy where the channel can. */
async function revokeStep(
  rec: OutboundRecord,
  expiry: ExpiryReason,
  reason: string,
  ctx: LifecycleContext,
): Promise<void> {
  markExpired(rec, expiry, Date.now(), ctx.metrics);
  addLog(rec, Date.now(), 'revoke', reason);
  if (rec.channel !== 'rbm') {
    // Business Messages has no revoke: the deadline goes straight to the fallback decision.
    recordRevoke(rec, 'skipped', Date.now(), ctx.metrics, 'Business Messages cannot revoke');
    return;
  }
  rec.revoke = { state: 'in_flight', source: 'explicit', atMs: Date.now() };
  try {
    const outcome = await ctx.inActivity(() =>
      rcs.revokeMessage({ conversationKey: ctx.conversationKey, messageId: rec.messageId }),
    );
    recordRevoke(rec, outcome, Date.now(), ctx.metrics);
  } catch (err) {
    if (isCancellation(err)) throw err;
    const { type, message } = describeFailure(err);
    // Unconfirmed either way: the message's ifRevokeNotConfirmed policy decides.
    recordRevoke(rec, 'error', Date.now(), ctx.metrics, `${type}: ${message}`);
  }
}

/** The one SMS of a message: guarded by `rec.sms`, keyed `sms-{messageId}` so a retried activity is the same SMS. */
async function smsStep(rec: OutboundRecord, reason: string, ctx: LifecycleContext): Promise<void> {
  if (rec.sms !== undefined && rec.sms.state !== 'in_flight') return;
  const target = rec.policy.fallbackSms;
  if (target === undefined) {
    recordSms(
      rec,
      { state: 'skipped', reason, error: rec.policy.fallbackUnavailable ?? 'no fallback SMS configured' },
      Date.now(),
      ctx.metrics,
    );
    return;
  }
  rec.sms = { state: 'in_flight', reason, atMs: Date.now(), to: target.to };
  try {
    const result = await ctx.inActivity(() =>
      sms.sendSms({
        to: target.to,
        body: target.text,
        idempotencyKey: `sms-${rec.messageId}`,
        conversationKey: ctx.conversationKey,
      }),
    );
    recordSms(
      rec,
      { state: 'sent', reason, to: target.to, providerMessageId: result.providerMessageId },
      Date.now(),
      ctx.metrics,
    );
  } catch (err) {
    if (isCancellation(err)) throw err;
    const { type, message } = describeFailure(err);
    recordSms(rec, { state: 'failed', reason, to: target.to, error: `${type}: ${message}` }, Date.now(), ctx.metrics);
  }
}

/** The ApplicationFailure type behind an activity failure (e.g. NotRcsReachable), or a generic label. */
function describeFailure(err: unknown): { type: string; message: string } {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return { type: cause.type ?? 'ApplicationFailure', message: cause.message };
  if (cause instanceof Error) return { type: cause.name, message: cause.message };
  return { type: 'Unknown', message: String(cause) };
}
