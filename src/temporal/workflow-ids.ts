import { createHmac } from 'node:crypto';

import { type ConversationKey, maskPhone, parseConversationKey } from '../domain/conversation-key';

export interface WorkflowIdOptions {
  /** Put the full phone number in the ID (readable, but it then shows in the Temporal UI). */
  revealPhoneNumbers: boolean;
  /** Key for the hash that keeps masked IDs unique per number. */
  secret: string;
}

/**
 * The workflow ID of a conversation. RBM IDs carry a masked number plus a keyed hash, so the
 * Temporal UI stays readable without exposing the number unless configured.
 */
export function workflowIdFor(key: ConversationKey, options: WorkflowIdOptions): string {
  const parsed = parseConversationKey(key);
  if (parsed.channel === 'bm') return `conv-bm-${parsed.conversationId}`;
  if (options.revealPhoneNumbers) return `conv-rbm-${parsed.agentId}-${parsed.msisdn}`;
  const digest = createHmac('sha256', options.secret).update(key).digest('hex').slice(0, 12);
  return `conv-rbm-${parsed.agentId}-${maskPhone(parsed.msisdn)}-${digest}`;
}
