import { type ConversationKey } from './conversation-key';

/** A suggested reply or action chip. */
export interface Suggestion {
  kind: 'reply' | 'action';
  text: string;
  postbackData: string;
  openUrl?: string;
  dialPhoneNumber?: string;
}

export interface OutboundContent {
  text?: string;
  /** Channel-native rich card JSON, passed through unchanged. */
  richCard?: Record<string, unknown>;
  suggestions?: Suggestion[];
  /** Business Messages: text shown when the device cannot render the content. */
  fallbackText?: string;
}

export interface Representative {
  type: 'BOT' | 'HUMAN';
  displayName?: string;
}

/** How hard Switchboard tries to get a message to the user, and when it gives up on RCS. */
export interface DeliveryPolicy {
  /** RBM `ttl`, e.g. "86400s"; passed to Google. Exclusive with expireTime. */
  ttl?: string;
  /** RBM `expireTime` (RFC 3339); passed to Google. */
  expireTime?: string;
  /** Our own timer: no DELIVERED within this many ms → revoke, then SMS. */
  deliverWithinMs?: number;
  /**
   * Opt-in (users may disable READ receipts, so never a default): no READ within this many ms →
   * if not even DELIVERED, revoke then SMS like deliverWithin; if DELIVERED but unread, SMS at once
   * (a delivered message cannot be revoked).
   */
  readWithinMs?: number;
  fallbackSms?: { text: string; to?: string };
  /**
   * OTP, fraud alerts: SMS goes out alongside RCS at once (Google's RBM events guide: time-sensitive
   * messages may also go by SMS even if the user gets both).
   */
  timeSensitive?: boolean;
  /** After TTL_EXPIRATION_REVOKE_FAILED: how long to wait for a late DELIVERED before revoking explicitly. */
  revokeFailedGraceMs?: number;
  /** After the RBM ttl / expireTime passes with no receipt and no TTL server event: how long to wait for the event before acting without it. */
  ttlEventGraceMs?: number;
  /** An explicit revoke answered "not revoked": SMS or not (default `assume_delivered`). */
  ifRevokeNotConfirmed?: RevokeNotConfirmedPolicy;
}

export type OutboundStatus =
  'PENDING' | 'SENT' | 'DELIVERED' | 'READ' | 'EXPIRED' | 'REVOKED' | 'FALLBACK_SENT' | 'FAILED';

export interface OutboundMessageRequest {
  conversationKey: ConversationKey;
  content: OutboundContent;
  representative: Representative;
  policy?: DeliveryPolicy;
}

/**
 * What to do when an explicit revoke answers "not revoked" (RBM 404: already delivered, or gone).
 * - `assume_delivered` (default): no SMS. Google's current docs say a 404 on revoke means the
 *   message already reached the phone, so an SMS would most likely be a duplicate.
 * - `send_sms`: send the fallback anyway (Google's RBM events guide: time-sensitive messages such
 *   as OTPs may also go by SMS even if the user gets both).
 */
export type RevokeNotConfirmedPolicy = 'assume_delivered' | 'send_sms';

/** ApplicationFailure type of a send request the workflow refuses (its update validator); the API maps it to 400. */
export const INVALID_OUTBOUND_MESSAGE = 'InvalidOutboundMessage';

/** Google's limit for `ttl` and `expireTime`: 15 days after submission. */
const MAX_RBM_TTL_MS = 15 * 24 * 60 * 60 * 1000;
/** RBM: a text message may hold at most 3072 characters. */
const MAX_RBM_TEXT_LENGTH = 3072;
/** Suggestions per message: RBM allows 11, Business Messages 13. */
const MAX_SUGGESTIONS = { rbm: 11, bm: 13 } as const;
/** Our own timers (deliverWithin, readWithin, graces) are capped: Google stores undelivered RBM messages for 30 days. */
const MAX_DELIVERY_TIMER_MS = 30 * 24 * 60 * 60 * 1000;

const E164 = /^\+[1-9]\d{6,14}$/;
const GOOGLE_DURATION = /^(\d+)(?:\.(\d{1,9}))?s$/;
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** Parses Google's protobuf Duration JSON form ("86400s", "3.5s") into ms; undefined when malformed. */
export function parseGoogleDuration(value: string): number | undefined {
  const match = GOOGLE_DURATION.exec(value);
  if (!match) return undefined;
  const fraction = match[2] ? Number(`0.${match[2]}`) : 0;
  return Math.round((Number(match[1]) + fraction) * 1000);
}

/** Parses the API's compact durations ("500ms", "90s", "10m", "2h", "1d"; Google's "86400s" too) into ms. */
export function parseDuration(value: string): number | undefined {
  const match = DURATION.exec(value.trim());
  if (!match) return undefined;
  return Math.round(Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]);
}

/** True for an E.164 number such as +14155550100. */
export function isE164(value: string): boolean {
  return E164.test(value);
}

/** One problem with an outbound request, named by its path in the API body (e.g. `delivery.ttl`). */
export interface OutboundRequestIssue {
  path: string;
  message: string;
}

/**
 * The channel-specific rules of an outbound request that a schema alone cannot express. Shared by
 * the API (400 naming the field) and the workflow's update validator (so a request that bypasses
 * the API is rejected the same way). Pure and deterministic: `nowMs` is the caller's clock
 * (wall clock in the API, workflow time in the workflow).
 */
export function validateOutboundRequest(
  channel: 'rbm' | 'bm',
  request: { content: OutboundContent; policy?: DeliveryPolicy },
  nowMs: number,
): OutboundRequestIssue[] {
  const issues: OutboundRequestIssue[] = [];
  const { content } = request;
  const policy = request.policy ?? {};
  const hasText = typeof content.text === 'string' && content.text.length > 0;
  const hasCard = content.richCard !== undefined;
  if (hasText === hasCard)
    issues.push({ path: hasCard ? 'richCard' : 'text', message: 'exactly one of text and richCard is required' });
  if (channel === 'rbm' && hasText && (content.text?.length ?? 0) > MAX_RBM_TEXT_LENGTH)
    issues.push({ path: 'text', message: `at most ${MAX_RBM_TEXT_LENGTH} characters on RBM` });
  if ((content.suggestions?.length ?? 0) > MAX_SUGGESTIONS[channel])
    issues.push({ path: 'suggestions', message: `at most ${MAX_SUGGESTIONS[channel]} suggestions on ${channel}` });

  if (policy.ttl !== undefined && policy.expireTime !== undefined)
    issues.push({ path: 'delivery.expireTime', message: 'ttl and expireTime are mutually exclusive' });
  if (policy.ttl !== undefined) {
    const ms = parseGoogleDuration(policy.ttl);
    if (channel !== 'rbm')
      issues.push({
        path: 'delivery.ttl',
        message: 'only RBM conversations have a ttl (Business Messages has no TTL)',
      });
    else if (ms === undefined || ms <= 0)
      issues.push({ path: 'delivery.ttl', message: 'must be a positive duration in seconds, e.g. "86400s"' });
    else if (ms > MAX_RBM_TTL_MS) issues.push({ path: 'delivery.ttl', message: 'at most 15 days ("1296000s")' });
  }
  if (policy.expireTime !== undefined) {
    const at = Date.parse(policy.expireTime);
    if (channel !== 'rbm')
      issues.push({
        path: 'delivery.expireTime',
        message: 'only RBM conversations have an expireTime (Business Messages has no TTL)',
      });
    else if (Number.isNaN(at)) issues.push({ path: 'delivery.expireTime', message: 'must be an RFC 3339 timestamp' });
    else if (at <= nowMs) issues.push({ path: 'delivery.expireTime', message: 'must be in the future' });
    else if (at - nowMs > MAX_RBM_TTL_MS)
      issues.push({ path: 'delivery.expireTime', message: 'at most 15 days from now' });
  }
  const timers: [keyof DeliveryPolicy, string][] = [
    ['deliverWithinMs', 'delivery.deliverWithin'],
    ['readWithinMs', 'delivery.readWithin'],
    ['revokeFailedGraceMs', 'delivery.revokeFailedGrace'],
    ['ttlEventGraceMs', 'delivery.ttlEventGrace'],
  ];
  for (const [field, path] of timers) {
    const value = policy[field];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
      issues.push({ path, message: 'must be a positive duration' });
    else if (value > MAX_DELIVERY_TIMER_MS) issues.push({ path, message: 'at most 30 days' });
  }
  const sms = policy.fallbackSms;
  if (sms !== undefined) {
    if (sms.text.trim().length === 0) issues.push({ path: 'delivery.fallbackSms.text', message: 'must not be empty' });
    if (sms.to !== undefined && !isE164(sms.to))
      issues.push({ path: 'delivery.fallbackSms.to', message: 'must be an E.164 number such as +14155550100' });
    if (sms.to === undefined && channel === 'bm')
      issues.push({
        path: 'delivery.fallbackSms.to',
        message: 'required on Business Messages conversations (they carry no phone number)',
      });
  }
  if (policy.timeSensitive === true && sms === undefined)
    issues.push({
      path: 'delivery.fallbackSms',
      message: 'required when timeSensitive is true (the SMS goes out alongside the message)',
    });
  return issues;
}
