/**
 * The per-message record and every rule that changes it. Pure functions of (record, fact, now):
 * no Temporal calls, so they are unit-testable and trivially deterministic. The lifecycle
 * (lifecycle.ts) and the tracker (tracker.ts) are the only callers.
 */
import { type Channel, type ConversationKey, parseConversationKey } from '../../domain/conversation-key';
import { type OutboundStatus, parseGoogleDuration } from '../../domain/outbound';
import { type OutboundMetrics } from './metrics';
import {
  type ExpiryReason,
  type OutboundRecord,
  type OutboundSendInput,
  type ResolvedPolicy,
  type RevokeRecord,
  type SmsRecord,
} from './types';

/** Defaults of the lifecycle's own timers. */
export const DEFAULT_REVOKE_FAILED_GRACE_MS = 10 * 60 * 1000;
export const DEFAULT_TTL_EVENT_GRACE_MS = 10 * 60 * 1000;

const MAX_LOG = 25;
const SUMMARY_LENGTH = 200;

/** Channel, agent and (RBM) phone number of a conversation key. */
export function conversationParts(key: ConversationKey): { channel: Channel; agent: string; msisdn?: string } {
  const parsed = parseConversationKey(key);
  // Business Messages keys carry no agent; metrics still need a value for the tag.
  return parsed.channel === 'rbm'
    ? { channel: 'rbm', agent: parsed.agentId, msisdn: parsed.msisdn }
    : { channel: 'bm', agent: 'unknown' };
}

/** ISO 8601 of a workflow time. */
function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** Applies defaults and resolves the SMS target; deadlines that depend on the send come later. */
function resolvePolicy(
  input: OutboundSendInput,
  defaults: { revokeFailedGraceMs: number; ttlEventGraceMs: number },
): ResolvedPolicy {
  const policy = input.policy ?? {};
  const { channel, msisdn } = conversationParts(input.conversationKey);
  const resolved: ResolvedPolicy = {
    ttl: policy.ttl,
    expireTime: policy.expireTime,
    deliverWithinMs: policy.deliverWithinMs,
    readWithinMs: policy.readWithinMs,
    revokeFailedGraceMs: policy.revokeFailedGraceMs ?? defaults.revokeFailedGraceMs,
    ttlEventGraceMs: policy.ttlEventGraceMs ?? defaults.ttlEventGraceMs,
    ifRevokeNotConfirmed: policy.ifRevokeNotConfirmed ?? 'assume_delivered',
    timeSensitive: policy.timeSensitive === true,
  };
  if (policy.fallbackSms !== undefined) {
    // RBM: the conversation's own number by default. Business Messages has no number: only an explicit one.
    const to = policy.fallbackSms.to ?? (channel === 'rbm' ? msisdn : undefined);
    if (to !== undefined) resolved.fallbackSms = { text: policy.fallbackSms.text, to };
    else resolved.fallbackUnavailable = 'no phone number for the SMS fallback';
  }
  return resolved;
}

/** A new record in PENDING, with the deadlines that count from acceptance. */
export function createRecord(args: {
  messageId: string;
  input: OutboundSendInput;
  nowMs: number;
  defaults: { revokeFailedGraceMs: number; ttlEventGraceMs: number };
}): OutboundRecord {
  const { messageId, input, nowMs } = args;
  const { channel, agent } = conversationParts(input.conversationKey);
  const policy = resolvePolicy(input, args.defaults);
  const text = input.content.text;
  const rec: OutboundRecord = {
    messageId,
    idempotencyKey: input.idempotencyKey,
    origin: input.origin ?? 'operator',
    channel,
    agent,
    summary: text !== undefined && text.length > 0 ? text.slice(0, SUMMARY_LENGTH) : '[rich card]',
    content: input.content,
    representative: input.representative ?? { type: 'BOT' },
    policy,
    status: 'PENDING',
    timestamps: { PENDING: iso(nowMs) },
    acceptedAtMs: nowMs,
    // deliverWithin / readWithin count from acceptance: the operator's promise is about their request, not our retries.
    deadlines: {
      deliverBy: policy.deliverWithinMs !== undefined ? nowMs + policy.deliverWithinMs : undefined,
      readBy: policy.readWithinMs !== undefined ? nowMs + policy.readWithinMs : undefined,
    },
    send: { state: 'pending' },
    initialSettled: false,
    finished: false,
    version: 0,
    log: [],
  };
  addLog(
    rec,
    nowMs,
    'accepted',
    rec.idempotencyKey !== undefined ? `idempotency key ${rec.idempotencyKey}` : undefined,
  );
  return rec;
}

export function addLog(rec: OutboundRecord, nowMs: number, event: string, detail?: string): void {
  rec.log.push(detail === undefined ? { atMs: nowMs, event } : { atMs: nowMs, event, detail });
  if (rec.log.length > MAX_LOG) rec.log.splice(0, rec.log.length - MAX_LOG);
}

/**
 * The one rule for `status`: it shows the latest step of the message's life, except that once the
 * user has the RCS message (DELIVERED / READ) only READ may replace it — a revoke, expiry or SMS
 * after that is recorded in the record and its timestamps but does not hide the delivery — and
 * SENT never replaces anything but PENDING (a receipt may overtake the send's completion).
 */
export function setStatus(rec: OutboundRecord, status: OutboundStatus, nowMs: number): void {
  rec.timestamps[status] ??= iso(nowMs);
  const current = rec.status;
  if (status === 'SENT' && current !== 'PENDING') return;
  if (current === 'READ') return;
  if (current === 'DELIVERED' && status !== 'READ') return;
  rec.status = status;
}

/** The send activity succeeded: SENT, and the RBM ttl / expireTime becomes an absolute deadline. */
export function markSent(rec: OutboundRecord, nowMs: number, metrics: OutboundMetrics): void {
  rec.send = { state: 'sent', atMs: nowMs };
  rec.sentAtMs = nowMs;
  rec.content = undefined;
  setStatus(rec, 'SENT', nowMs);
  metrics.sent();
  const expiresAt =
    rec.policy.ttl !== undefined
      ? nowMs + (parseGoogleDuration(rec.policy.ttl) ?? 0)
      : rec.policy.expireTime !== undefined
        ? Date.parse(rec.policy.expireTime)
        : undefined;
  if (expiresAt !== undefined && !Number.isNaN(expiresAt)) {
    rec.deadlines.expiresAt = expiresAt;
    rec.deadlines.ttlEventDueBy = expiresAt + rec.policy.ttlEventGraceMs;
  }
  addLog(rec, nowMs, 'sent');
}

/** The send activity failed for good (NotRcsReachable, invalid request, retries exhausted). */
export function markSendFailed(
  rec: OutboundRecord,
  nowMs: number,
  failureType: string,
  message: string,
  metrics: OutboundMetrics,
): void {
  rec.send = { state: 'failed', atMs: nowMs, failureType, failureMessage: message };
  rec.content = undefined;
  setStatus(rec, 'FAILED', nowMs);
  metrics.sendFailed(failureType);
  addLog(rec, nowMs, 'send_failed', `${failureType}: ${message}`);
}

/** A DELIVERED or READ receipt. READ implies DELIVERED. Redeliveries change nothing. */
export function applyReceipt(
  rec: OutboundRecord,
  receipt: 'DELIVERED' | 'READ',
  nowMs: number,
  metrics: OutboundMetrics,
): void {
  const base = rec.sentAtMs ?? rec.acceptedAtMs;
  const fallbackOut = rec.sms?.state === 'sent';
  if (rec.deliveredAtMs === undefined) {
    rec.deliveredAtMs = nowMs;
    setStatus(rec, 'DELIVERED', nowMs);
    metrics.delivered(nowMs - base, fallbackOut);
    addLog(rec, nowMs, 'delivered', receipt === 'READ' ? 'implied by READ' : undefined);
  }
  if (receipt === 'READ' && rec.readAtMs === undefined) {
    rec.readAtMs = nowMs;
    setStatus(rec, 'READ', nowMs);
    metrics.read(nowMs - base);
    addLog(rec, nowMs, 'read');
  }
  rec.version++;
}

/** TTL_EXPIRATION_REVOKED / _REVOKE_FAILED. The first one counts; a contradicting later one is only logged. */
export function applyTtlEvent(rec: OutboundRecord, revoked: boolean, nowMs: number, metrics: OutboundMetrics): void {
  const name = revoked ? 'TTL_EXPIRATION_REVOKED' : 'TTL_EXPIRATION_REVOKE_FAILED';
  if (rec.ttlEvent !== undefined) {
    addLog(rec, nowMs, 'ttl_event_ignored', `${name} after an earlier TTL event`);
    return;
  }
  rec.ttlEvent = { revoked, atMs: nowMs };
  metrics.ttlEvent(revoked);
  addLog(rec, nowMs, 'ttl_event', name);
  markExpired(rec, revoked ? 'ttl_revoked' : 'ttl_revoke_failed', nowMs, metrics);
  if (revoked) {
    // Google already revoked it: that is as good as our own confirmed revoke, unless we settled one first.
    if (rec.revoke === undefined || rec.revoke.state === 'in_flight') {
      rec.revoke = { state: 'revoked', source: 'ttl', atMs: nowMs };
      setStatus(rec, 'REVOKED', nowMs);
    }
  } else {
    rec.deadlines.graceUntil = nowMs + rec.policy.revokeFailedGraceMs;
  }
  rec.version++;
}

/** EXPIRED, once per message (the first reason wins). */
export function markExpired(rec: OutboundRecord, reason: ExpiryReason, nowMs: number, metrics: OutboundMetrics): void {
  if (rec.expiry !== undefined) return;
  rec.expiry = { reason, atMs: nowMs };
  setStatus(rec, 'EXPIRED', nowMs);
  metrics.expired(reason);
  addLog(rec, nowMs, 'expired', reason);
}

/** The settled outcome of an explicit revoke (or `skipped` where the channel cannot revoke). */
export function recordRevoke(
  rec: OutboundRecord,
  outcome: Exclude<RevokeRecord['state'], 'in_flight'>,
  nowMs: number,
  metrics: OutboundMetrics,
  detail?: string,
): void {
  if (rec.revoke !== undefined && rec.revoke.state !== 'in_flight') {
    // A TTL_EXPIRATION_REVOKED landed while our call was in flight: Google's word stands, ours is logged.
    addLog(rec, nowMs, 'revoke_result_ignored', `${outcome} after ${rec.revoke.source} ${rec.revoke.state}`);
    return;
  }
  rec.revoke =
    detail === undefined
      ? { state: outcome, source: 'explicit', atMs: nowMs }
      : { state: outcome, source: 'explicit', atMs: nowMs, detail };
  if (outcome === 'revoked') setStatus(rec, 'REVOKED', nowMs);
  if (outcome === 'revoked' || outcome === 'not_revoked' || outcome === 'error')
    metrics.explicitRevoke(outcome === 'revoked');
  addLog(rec, nowMs, `revoke_${outcome}`, detail);
}

/** The settled outcome of the (single) SMS fallback. */
export function recordSms(
  rec: OutboundRecord,
  sms: Omit<SmsRecord, 'atMs'>,
  nowMs: number,
  metrics: OutboundMetrics,
): void {
  rec.sms = { ...sms, atMs: nowMs };
  if (sms.state === 'sent') {
    setStatus(rec, 'FALLBACK_SENT', nowMs);
    metrics.fallbackSms('sent', sms.reason);
  } else if (sms.state === 'failed') {
    // FAILED only when the RCS copy surely did not reach the user either (send failed, or revoked);
    // a time-sensitive SMS that failed next to a live RCS message leaves the status alone.
    if (rec.send.state === 'failed' || rec.revoke?.state === 'revoked') setStatus(rec, 'FAILED', nowMs);
    metrics.fallbackSms('failed', sms.reason);
  }
  addLog(rec, nowMs, `sms_${sms.state}`, sms.error ?? sms.reason);
}
