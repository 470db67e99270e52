/**
 * The decision at the heart of the lifecycle: given a message's record and the workflow time, what
 * happens next. Pure, so every branch is unit-testable, and re-evaluated after EVERY await of the
 * lifecycle (timer, receipt wake-up, activity) — which is what makes receipts win ties:
 *
 * Tie-break (also in docs/delivery.md): a receipt wins against a deadline that fires in the same
 * workflow task. Receipts and TTL events arrive as signals; Temporal's core sorts signal jobs
 * before timer firings within one activation, and the SDK re-checks blocked conditions after
 * each job. So the signal handler has applied the DELIVERED to the record (and the lifecycle's
 * `condition` has already resolved on it) before the timer's firing is even looked at. On top of
 * that the lifecycle never trusts *why* it woke up — it asks `nextStep` again after every await,
 * and `nextStep` checks receipts before any deadline. A receipt that lands while a revoke or SMS
 * activity runs is likewise seen before the next action: no revoke or SMS is started after a
 * DELIVERED (an SMS already on its way cannot be called back).
 */
import { type ExpiryReason, type OutboundRecord } from './types';

export type Step =
  /** The RCS send has not settled (only after a restore from a snapshot taken mid-send). */
  | { kind: 'send' }
  /** Sleep until `untilMs` unless a receipt / TTL event bumps the record first. */
  | { kind: 'wait'; untilMs: number; reason: string }
  /** Revoke the RCS copy (marking EXPIRED first with `expiry` if not yet expired). */
  | { kind: 'revoke'; expiry: ExpiryReason; reason: string }
  /** Send the one SMS fallback (or record why there is none). */
  | { kind: 'sms'; reason: string }
  /** Nothing left to do; later receipts are still recorded. */
  | { kind: 'finish'; reason: string };

/** What the conversation knows about its user beyond this message. */
export interface PlanContext {
  /** The user has sent a READ receipt for some message of ours (READ receipts are on). */
  userSendsReadReceipts?: boolean;
}

/** What the lifecycle of `rec` does next at workflow time `nowMs`. */
export function nextStep(rec: OutboundRecord, nowMs: number, context: PlanContext = {}): Step {
  if (rec.send.state === 'pending') return { kind: 'send' };
  // An SMS caught in flight by a snapshot is resumed with the same idempotency key.
  if (rec.sms?.state === 'in_flight') return { kind: 'sms', reason: rec.sms.reason };
  const smsDone = rec.sms !== undefined;

  if (rec.send.state === 'failed')
    return smsDone
      ? { kind: 'finish', reason: 'send failed; fallback settled' }
      : { kind: 'sms', reason: 'send_failed' };

  // Receipts first: DELIVERED / READ cancel every pending fallback.
  if (rec.readAtMs !== undefined) return { kind: 'finish', reason: 'read' };
  if (rec.deliveredAtMs !== undefined) {
    const readBy = rec.deadlines.readBy;
    if (readBy === undefined || smsDone) return { kind: 'finish', reason: 'delivered' };
    if (nowMs < readBy) return { kind: 'wait', untilMs: readBy, reason: 'read_within' };
    // A user who never sent READ may have receipts turned off: an unread-looking message proves nothing.
    if (rec.policy.readWithinNeedsReadReceipts === true && context.userSendsReadReceipts !== true)
      return { kind: 'finish', reason: 'delivered; readWithin not applied: the user has never sent a READ receipt' };
    // Delivered but unread: a delivered message cannot be revoked, so the opt-in readWithin goes straight to SMS.
    return { kind: 'sms', reason: 'read_within' };
  }

  // Not delivered. A settled revoke (ours or Google's TTL revoke) decides the fallback.
  const revoke = rec.revoke;
  if (revoke !== undefined && revoke.state !== 'in_flight') {
    if (smsDone) return { kind: 'finish', reason: 'fallback settled' };
    switch (revoke.state) {
      case 'revoked':
        return { kind: 'sms', reason: revoke.source === 'ttl' ? 'ttl_revoked' : 'revoked' };
      case 'skipped':
        return { kind: 'sms', reason: 'no_revoke_on_channel' };
      case 'not_revoked':
      case 'error':
        return rec.policy.ifRevokeNotConfirmed === 'send_sms'
          ? { kind: 'sms', reason: 'revoke_not_confirmed' }
          : { kind: 'finish', reason: 'revoke not confirmed: assumed delivered (policy)' };
    }
  }

  // TTL_EXPIRATION_REVOKE_FAILED: delivery may still happen, so give DELIVERED a grace, then revoke ourselves.
  if (rec.ttlEvent !== undefined && !rec.ttlEvent.revoked) {
    const graceUntil = rec.deadlines.graceUntil ?? rec.ttlEvent.atMs;
    if (nowMs < graceUntil) return { kind: 'wait', untilMs: graceUntil, reason: 'revoke_failed_grace' };
    return {
      kind: 'revoke',
      expiry: 'ttl_revoke_failed',
      reason: 'no DELIVERED within the grace after TTL_EXPIRATION_REVOKE_FAILED',
    };
  }

  // Our own deadlines, earliest first.
  const { deliverBy, readBy, ttlEventDueBy } = rec.deadlines;
  const candidates: [number | undefined, ExpiryReason, string][] = [
    [deliverBy, 'deliver_within', 'deliverWithin passed without DELIVERED'],
    [readBy, 'read_within', 'readWithin passed without DELIVERED'],
    [ttlEventDueBy, 'ttl_event_missing', 'ttl passed and no TTL server event arrived'],
  ];
  let next: number | undefined;
  for (const [at, expiry, reason] of candidates) {
    if (at === undefined) continue;
    if (nowMs >= at) return { kind: 'revoke', expiry, reason };
    next = next === undefined ? at : Math.min(next, at);
  }
  if (next !== undefined) return { kind: 'wait', untilMs: next, reason: 'deadline' };
  return { kind: 'finish', reason: 'no deadline left to watch' };
}
