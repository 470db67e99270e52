import { ActivityFailure, ApplicationFailure, log } from '@temporalio/workflow';

import { type OutboundContent, type Representative } from '../domain/outbound';
import { type ConversationState } from './conversation-state';
import { type OutboundTracker } from './outbound';
import { type ReadReceiptInReply } from './outbound/types';

/**
 * Sends a reply of automation or of the workflow itself (acknowledgements, holding message)
 * through the outbound tracker, so it is tracked to DELIVERED / READ like an operator's message
 * and appears in history (the tracker's onAccepted). A reply that cannot be sent for good is
 * recorded, not fatal: the conversation goes on. With `readReceiptFor` the user message's READ
 * receipt goes out in the same activity as the reply; the result says whether it did.
 */
export async function sendReply(
  state: ConversationState,
  outbound: OutboundTracker,
  content: OutboundContent,
  options: { representative?: Representative; readReceiptFor?: string } = {},
): Promise<{ messageId: string; readReceipt?: ReadReceiptInReply['state'] } | undefined> {
  try {
    const result = await outbound.send(
      {
        conversationKey: state.key,
        content,
        representative: options.representative ?? { type: 'BOT' },
        origin: 'automation',
      },
      options.readReceiptFor !== undefined ? { readReceiptFor: options.readReceiptFor } : {},
    );
    return {
      messageId: result.messageId,
      ...(result.readReceipt !== undefined ? { readReceipt: result.readReceipt } : {}),
    };
  } catch (err) {
    if (!(err instanceof ApplicationFailure || err instanceof ActivityFailure)) throw err;
    state.recordDecision('-', 'reply_failed', new Date().toISOString(), err.message);
    log.warn('automation reply not sent', { error: err.message });
    return undefined;
  }
}
