/**
 * Messages, queries, updates and search attributes of the conversation workflow: imported by the
 * workflow and by the API alike, so both sides agree on names and types.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal } from '@temporalio/workflow';
import { type ConversationKey, type Channel } from '../domain/conversation-key';
import { type InboundEvent, type MessageKind } from '../domain/inbound';

/** Every event of one webhook request that belongs to one conversation, in one signal. */
export const inboundEventsSignal = defineSignal<[InboundEvent[]]>('inboundEvents');

/** The conversation's current state, for operators and tests. */
export const conversationStateQuery = defineQuery<ConversationView>('conversationState');

/** Search attributes the workflow keeps current; registered on the namespace at start-up. */
export const searchAttributes = {
  channel: defineSearchAttributeKey('SwitchboardChannel', SearchAttributeType.KEYWORD),
  status: defineSearchAttributeKey('SwitchboardStatus', SearchAttributeType.KEYWORD),
  lastInboundAt: defineSearchAttributeKey('SwitchboardLastInboundAt', SearchAttributeType.DATETIME),
} as const;

export interface ConversationInput {
  key: ConversationKey;
  /** How long a conversation may stay quiet before its workflow completes; a new message starts a new run. */
  idleTimeout?: string | number;
}

export interface HistoryEntry {
  direction: 'inbound' | 'outbound';
  messageId: string;
  kind: MessageKind;
  /** Text, URL or postback data: what an operator needs to read the conversation. */
  summary: string;
  at: string;
}

export interface ConversationView {
  key: ConversationKey;
  channel: Channel;
  status: 'open' | 'closed';
  history: HistoryEntry[];
  /** Every event the workflow accepted, newest last (bounded). */
  events: InboundEvent[];
  /** User messages we marked READ. */
  readReceiptsSent: string[];
  lastInboundAt?: string;
}
