/**
 * Tells the human desk that a conversation needs a person: a JSON POST to HANDOFF_URL, signed so
 * the desk can tell it came from Switchboard. `X-Switchboard-Signature: sha256=<hex>` is
 * HMAC-SHA256(HANDOFF_SECRET, raw body); `Idempotency-Key` names the notification (see
 * handoffIdempotencyKey), so a retried activity is recognisably the same notification.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

import { maskConversationKey } from '../domain/conversation-key';
import { FailureType } from '../domain/errors';
import { type HandoffNotifier, type NotifyHandoffArgs } from '../domain/ports';
import { type Logger } from '../logger';
import { failureForStatus, permanentFailure } from './failures';
import { httpCall } from './http';

export const HANDOFF_SIGNATURE_HEADER = 'X-Switchboard-Signature';

export interface HandoffNotifierOptions {
  url?: string;
  secret?: string;
  timeoutMs: number;
  logger: Logger;
}

/** `sha256=<hex HMAC-SHA256(secret, body)>`. */
export function signHandoffBody(secret: string, body: string | Uint8Array): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Constant-time check of a handoff signature header, for desks written in TypeScript (and tests). */
export function verifyHandoffSignature(
  secret: string,
  body: string | Uint8Array,
  header: string | null | undefined,
): boolean {
  if (!header) return false;
  const expected = Buffer.from(signHandoffBody(secret, body));
  const given = Buffer.from(header.trim());
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The Idempotency-Key of one notification: a digest of the conversation key and the handoff id.
 * The handoff id counts within its conversation (`handoff-<run>-<sequence>`), so every
 * conversation's first handoff has the same one: a desk that dedupes on it alone would take the
 * second conversation's handoff for a repeat and drop it (answering 409, which counts as
 * delivered). The digest is the same for every retry of one notification, differs between
 * conversations, and carries no phone number.
 */
export function handoffIdempotencyKey(conversationKey: string, handoffId: string): string {
  return `handoff-${createHash('sha256').update(`${conversationKey}\n${handoffId}`).digest('hex').slice(0, 32)}`;
}

export function createHandoffNotifier(options: HandoffNotifierOptions): HandoffNotifier {
  return {
    async notify(args: NotifyHandoffArgs) {
      if (!options.url)
        throw permanentFailure(
          'handoff is not configured (set HANDOFF_URL and HANDOFF_SECRET)',
          FailureType.NotConfigured,
        );
      if (!options.secret)
        throw permanentFailure(
          'HANDOFF_URL is set but HANDOFF_SECRET is not: refusing to send unsigned handoffs',
          FailureType.NotConfigured,
        );
      // The desk needs the real conversation key to answer through the operator API; the summary
      // lines carry no full phone numbers (the workflow's contract).
      const body = JSON.stringify({
        handoffId: args.handoffId,
        conversationKey: args.conversationKey,
        queue: args.queue,
        reason: args.reason,
        ...(args.locale ? { locale: args.locale } : {}),
        ...(args.displayName ? { displayName: args.displayName } : {}),
        summary: args.summary,
        sentAt: new Date().toISOString(),
      });
      const call = { operation: 'handoff notification', subject: maskConversationKey(args.conversationKey) };
      const res = await httpCall(
        {
          method: 'POST',
          url: new URL(options.url),
          headers: {
            'content-type': 'application/json',
            'idempotency-key': handoffIdempotencyKey(args.conversationKey, args.handoffId),
            [HANDOFF_SIGNATURE_HEADER]: signHandoffBody(options.secret, body),
          },
          body,
        },
        call,
        { timeoutMs: options.timeoutMs },
      );
      // 409: the desk already has this handoff id, i.e. an earlier attempt arrived.
      if ((res.status >= 200 && res.status < 300) || res.status === 409) {
        options.logger.info('handoff notified', {
          conversation: call.subject,
          handoffId: args.handoffId,
          queue: args.queue,
        });
        return;
      }
      throw failureForStatus(res.status, call, {}, { retryAfter: res.headers.get('retry-after'), bodyText: res.text });
    },
  };
}
