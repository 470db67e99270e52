/**
 * The ports of the outbound side: what the workflow's activities need from Google's channels, the
 * SMS provider and the handoff desk. Declared here, in the domain, so that src/channels implements
 * them without importing from src/activities.
 */
import { type ConversationKey } from './conversation-key';
import { type OutboundContent, type Representative } from './outbound';

export interface SendMessageArgs {
  conversationKey: ConversationKey;
  /** Chosen by the workflow (deterministic), so a retried call is the same call. */
  messageId: string;
  content: OutboundContent;
  representative: Representative;
  /** RBM only: "86400s". Exclusive with expireTime. */
  ttl?: string;
  /** RBM only: RFC 3339. */
  expireTime?: string;
  /** RBM only: `messageTrafficType` (e.g. TRANSACTION); default RBM_MESSAGE_TRAFFIC_TYPE. */
  messageTrafficType?: string;
}

export interface SendReadReceiptArgs {
  conversationKey: ConversationKey;
  /** The user's message being marked READ. */
  messageId: string;
  /** RBM agent event id (deterministic, e.g. `read-{messageId}`); BM receipts need none. */
  eventId: string;
}

export interface SendTypingArgs {
  conversationKey: ConversationKey;
  eventId: string;
  /** RBM has only IS_TYPING (start); stop is a no-op there. BM: TYPING_STARTED / TYPING_STOPPED. */
  typing: 'start' | 'stop';
  representative: Representative;
}

export interface SendRepresentativeEventArgs {
  conversationKey: ConversationKey;
  eventId: string;
  /** BM: REPRESENTATIVE_JOINED / REPRESENTATIVE_LEFT. RBM has no such event (no-op). */
  event: 'joined' | 'left';
  representative: Representative;
}

export interface RevokeArgs {
  conversationKey: ConversationKey;
  messageId: string;
}

/** 200 → revoked; 404 → too late (already delivered or gone). */
export type RevokeOutcome = 'revoked' | 'not_revoked';

export interface SendSmsArgs {
  /** E.164 */
  to: string;
  body: string;
  /** Deterministic per fallback (e.g. `sms-{messageId}`), so a retried activity is the same SMS. */
  idempotencyKey: string;
  conversationKey: ConversationKey;
}

export interface NotifyHandoffArgs {
  conversationKey: ConversationKey;
  /** Deterministic per handoff, for the desk to dedupe. */
  handoffId: string;
  queue: string;
  reason: string;
  locale?: string;
  displayName?: string;
  /** Recent history lines (no full phone numbers). */
  summary: string[];
}

/** The outbound side of Google's channels (RBM, Business Messages). Implemented in src/channels. */
export interface ChannelGateway {
  sendMessage(args: SendMessageArgs): Promise<{ sentAt: string }>;
  sendReadReceipt(args: SendReadReceiptArgs): Promise<void>;
  sendTyping(args: SendTypingArgs): Promise<void>;
  sendRepresentativeEvent(args: SendRepresentativeEventArgs): Promise<void>;
  revokeMessage(args: RevokeArgs): Promise<RevokeOutcome>;
}

export interface SmsGateway {
  sendSms(args: SendSmsArgs): Promise<{ providerMessageId: string }>;
}

export interface HandoffNotifier {
  notify(args: NotifyHandoffArgs): Promise<void>;
}
