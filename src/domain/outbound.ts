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
  /** Opt-in: no READ within this many ms → revoke, then SMS (users may disable READ receipts). */
  readWithinMs?: number;
  fallbackSms?: { text: string; to?: string };
  /** OTP, fraud alerts: SMS goes out alongside RCS at once (seed 003 accepts the duplicate). */
  timeSensitive?: boolean;
}

export type OutboundStatus = 'PENDING' | 'SENT' | 'DELIVERED' | 'READ' | 'EXPIRED' | 'REVOKED' | 'FALLBACK_SENT' | 'FAILED';

export interface OutboundMessageRequest {
  conversationKey: ConversationKey;
  content: OutboundContent;
  representative: Representative;
  policy?: DeliveryPolicy;
}
