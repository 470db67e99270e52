/**
 * Shapes of outbound tracking shared by the workflow, the API and tests: the update's input and
 * result, the per-message record (also the query's view of a message), the continue-as-new
 * snapshot. Plain JSON data only, so every shape survives Temporal's payload converter unchanged.
 */
import { type Channel, type ConversationKey } from '../../domain/conversation-key';
import {
  type DeliveryPolicy,
  type OutboundContent,
  type OutboundStatus,
  type Representative,
  type RevokeNotConfirmedPolicy,
} from '../../domain/outbound';

/** Input of `sendMessageUpdate` and of `OutboundTracker.send` (automation). */
export interface OutboundSendInput {
  conversationKey: ConversationKey;
  content: OutboundContent;
  representative?: Representative;
  policy?: DeliveryPolicy;
  /** The API's Idempotency-Key: the same key in the same conversation is the same message, across continue-as-new too. */
  idempotencyKey?: string;
  /** Who asked: shown in the state, not used for decisions. */
  origin?: 'operator' | 'automation';
}

/** Answer of `sendMessageUpdate`: returned once the send activity settled (plus an immediate SMS, if any). */
export interface OutboundSendResult {
  messageId: string;
  status: OutboundStatus;
  /** True when the idempotency key matched an earlier message: nothing new was sent. */
  duplicate: boolean;
  /** The message as tracked now; absent only when an old duplicate's record was already evicted. */
  message?: OutboundMessageView;
}

/** A user message's READ receipt sent by the same activity as automation's reply to it. */
export interface ReadReceiptInReply {
  /** The user's message. */
  messageId: string;
  /** 'pending' until the send ran; 'not_sent' when it failed, hung or the send never ran (send it on its own then). */
  state: 'pending' | 'sent' | 'not_sent';
}

/** Why a message reached EXPIRED. */
export type ExpiryReason = 'ttl_revoked' | 'ttl_revoke_failed' | 'deliver_within' | 'read_within' | 'ttl_event_missing';

/** The policy of one message with defaults applied and every deadline made absolute (workflow ms). */
export interface ResolvedPolicy {
  ttl?: string;
  expireTime?: string;
  deliverWithinMs?: number;
  readWithinMs?: number;
  revokeFailedGraceMs: number;
  ttlEventGraceMs: number;
  ifRevokeNotConfirmed: RevokeNotConfirmedPolicy;
  timeSensitive: boolean;
  /** Resolved target: RBM defaults to the conversation's number; absent = no SMS fallback. */
  fallbackSms?: { text: string; to: string };
  /** Set when a fallback was asked for but cannot happen (e.g. Business Messages without a number). */
  fallbackUnavailable?: string;
  /**
   * readWithin's SMS after DELIVERED only for a user who has sent a READ receipt in this
   * conversation before (users can turn READ receipts off). Absent on records of older runs.
   */
  readWithinNeedsReadReceipts?: boolean;
}

/** Absolute workflow times (ms since epoch) at which the lifecycle acts unless a receipt comes first. */
export interface Deadlines {
  deliverBy?: number;
  readBy?: number;
  /** When the RBM ttl / expireTime passes (known once the send succeeded). */
  expiresAt?: number;
  /** expiresAt + ttlEventGrace: act without Google's TTL server event. */
  ttlEventDueBy?: number;
  /** TTL_EXPIRATION_REVOKE_FAILED + revokeFailedGrace: revoke explicitly unless DELIVERED. */
  graceUntil?: number;
}

export interface SendOutcome {
  state: 'pending' | 'sent' | 'failed';
  atMs?: number;
  failureType?: string;
  failureMessage?: string;
}

export interface RevokeRecord {
  /** `in_flight` only while the revoke activity runs; `skipped` where the channel has no revoke (Business Messages). */
  state: 'in_flight' | 'revoked' | 'not_revoked' | 'error' | 'skipped';
  /** `ttl`: Google revoked it (TTL_EXPIRATION_REVOKED); `explicit`: our revoke call. */
  source: 'ttl' | 'explicit';
  atMs: number;
  detail?: string;
}

export interface SmsRecord {
  /** `in_flight` only while the SMS activity runs; `skipped` when no fallback is possible. */
  state: 'in_flight' | 'sent' | 'failed' | 'skipped';
  reason: string;
  atMs: number;
  to?: string;
  providerMessageId?: string;
  error?: string;
}

/** One line of a message's own log (bounded), for operators and tests. */
export interface OutboundLogEntry {
  atMs: number;
  event: string;
  detail?: string;
}

/** Everything the workflow knows about one outbound message. Also the query's view of it. */
export interface OutboundRecord {
  messageId: string;
  idempotencyKey?: string;
  origin: 'operator' | 'automation';
  channel: Channel;
  agent: string;
  /** Short text for operators (first 200 characters of the text, or "[rich card]"). */
  summary: string;
  /** Kept only until the send settled (needed again only to resend after a restore). */
  content?: OutboundContent;
  representative: Representative;
  policy: ResolvedPolicy;
  status: OutboundStatus;
  /** When each status was first reached (ISO 8601, workflow time). */
  timestamps: Partial<Record<OutboundStatus, string>>;
  acceptedAtMs: number;
  sentAtMs?: number;
  deliveredAtMs?: number;
  readAtMs?: number;
  deadlines: Deadlines;
  send: SendOutcome;
  ttlEvent?: { revoked: boolean; atMs: number };
  expiry?: { reason: ExpiryReason; atMs: number };
  revoke?: RevokeRecord;
  sms?: SmsRecord;
  /** True once the send and any immediate SMS settled: the update handler answers then. */
  initialSettled: boolean;
  /** True once the lifecycle has nothing left to do (receipts are still recorded afterwards). */
  finished: boolean;
  /** Bumped on every receipt / TTL event: wakes the lifecycle's timers. */
  version: number;
  log: OutboundLogEntry[];
}

export type OutboundMessageView = OutboundRecord;

/** A receipt or TTL event for a message this conversation does not track (recorded, never fatal). */
export interface UnmatchedOutboundEvent {
  messageId: string;
  type: 'receipt' | 'ttl_expired';
  detail: string;
  atMs: number;
}

/** Receipt metrics of one conversation (one channel, one agent). Counts are per message, never per redelivery. */
export interface OutboundMetricsState {
  channel: Channel;
  agent: string;
  accepted: number;
  sent: number;
  sendFailed: number;
  notRcsReachable: number;
  delivered: number;
  read: number;
  expired: number;
  /** TTL_EXPIRATION_REVOKED server events. */
  ttlRevoked: number;
  /** TTL_EXPIRATION_REVOKE_FAILED server events. */
  ttlRevokeFailed: number;
  /** Explicit revokes that Google confirmed. */
  revoked: number;
  /** Explicit revokes that Google did not confirm (404 / error). */
  revokeNotConfirmed: number;
  fallbackSms: number;
  fallbackSmsFailed: number;
  /** DELIVERED / READ that arrived after the SMS fallback went out (the user got both). */
  deliveredAfterFallback: number;
  unmatchedEvents: number;
  timeToDeliverMs: { count: number; sum: number; max: number };
  timeToReadMs: { count: number; sum: number; max: number };
}

/** The metrics as the query shows them: the counters plus derived rates. */
export interface OutboundMetricsView extends OutboundMetricsState {
  /** delivered / sent (null before anything was sent). */
  deliveryRate: number | null;
  /** read / delivered (null before anything was delivered). */
  readRate: number | null;
  /** revokeNotConfirmed + ttlRevokeFailed. */
  revokeFailed: number;
  avgTimeToDeliverMs: number | null;
  avgTimeToReadMs: number | null;
}

/** Answer of `outboundMessagesQuery`. */
export interface OutboundMessagesView {
  conversationKey?: ConversationKey;
  /** Oldest first (bounded: finished messages are evicted first). */
  messages: OutboundMessageView[];
  unmatched: UnmatchedOutboundEvent[];
  metrics: OutboundMetricsView;
}

/** Everything a new run needs to carry on tracking (continue-as-new, or a reopened conversation). */
export interface OutboundSnapshot {
  version: 1;
  conversationKey?: ConversationKey;
  messages: OutboundRecord[];
  idempotency: IdempotencyEntry[];
  unmatched: UnmatchedOutboundEvent[];
  metrics?: OutboundMetricsState;
}

/** Idempotency-Key → messageId, kept longer than the records themselves. */
export interface IdempotencyEntry {
  key: string;
  messageId: string;
  /** Filled when the record is evicted, so a very late retry still gets an answer. */
  lastStatus?: OutboundStatus;
}

/** Per-conversation defaults for the lifecycle's own timers. */
export interface OutboundTrackerOptions {
  /** Default wait for a late DELIVERED after TTL_EXPIRATION_REVOKE_FAILED (default 10 minutes). */
  revokeFailedGraceMs?: number;
  /** Default wait for Google's TTL server event after the ttl passed (default 10 minutes). */
  ttlEventGraceMs?: number;
  /** Records kept in state (default 100); finished ones are evicted oldest first. */
  maxMessages?: number;
  /** Idempotency keys kept (default 1000); they outlive their records. */
  maxIdempotencyKeys?: number;
  /**
   * Called once per new message, right after it was accepted (before the send): e.g. to add it to
   * the conversation's history. Must be synchronous and deterministic (workflow code).
   */
  onAccepted?: (message: OutboundMessageView) => void;
  /**
   * New records get `readWithinNeedsReadReceipts` (see ResolvedPolicy): no readWithin SMS to users
   * who turned READ receipts off.
   */
  readWithinNeedsReadReceipts?: boolean;
  /**
   * The representative of a message whose request names none (e.g. the assigned human, so that a
   * conversation in human hands does not speak as the BOT). Default BOT.
   */
  defaultRepresentative?: () => Representative;
  /**
   * A run that may be a reopened conversation: hold sends and receipts until `absorbPrevious()`
   * has merged the previous run's snapshot (its idempotency keys and records). Default false.
   */
  waitForPrevious?: boolean;
}
