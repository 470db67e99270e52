import { randomUUID } from 'node:crypto';

import { type InboundContext, type InboundEvent, type MessageContent } from '../../src/domain/inbound';

export const RBM_KEY = 'rbm:agent@rbm.goog:+14155550100';
export const BM_KEY = 'bm:conv-123';

let counter = 0;

/** A user message event as the webhook would normalize it. */
export function userMessage(
  key: string,
  content: MessageContent | string,
  extra: {
    messageId?: string;
    context?: InboundContext;
    dialogflow?: Extract<InboundEvent, { type: 'message' }>['dialogflow'];
  } = {},
): InboundEvent {
  const messageId = extra.messageId ?? `m-${++counter}-${randomUUID().slice(0, 8)}`;
  return {
    type: 'message',
    channel: key.startsWith('bm:') ? 'bm' : 'rbm',
    conversationKey: key,
    dedupeKey: messageId,
    messageId,
    content: typeof content === 'string' ? { kind: 'text', text: content } : content,
    context: extra.context,
    dialogflow: extra.dialogflow,
    receivedAt: new Date().toISOString(),
  };
}

export function liveAgentRequest(key: string): InboundEvent {
  return {
    type: 'live_agent_requested',
    channel: 'bm',
    conversationKey: key,
    dedupeKey: `req-${randomUUID()}`,
    receivedAt: new Date().toISOString(),
  };
}
