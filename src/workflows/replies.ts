import { uuid4 } from '@temporalio/workflow';
import { type OutboundContent, type Representative } from '../domain/outbound';
import { channelActivities } from './activity-proxies';
import { type ConversationState } from './conversation-state';
import { type TypingIndicator } from './typing';

/**
 * Sends a reply of automation or of the workflow itself (holding message, acknowledgements): the
 * typing indicator stops as the message goes out, and the message is recorded in history.
 * (Workflow code: `new Date()` is the workflow's deterministic clock.)
 */
export async function sendReply(state: ConversationState, typing: TypingIndicator, content: OutboundContent, representative: Representative = { type: 'BOT' }): Promise<string> {
  const messageId = uuid4();
  await typing.stop(false);
  await channelActivities.sendMessage({ conversationKey: state.key, messageId, content, representative });
  state.addHistory({ direction: 'outbound', messageId, kind: 'text', summary: content.text ?? '[rich content]', at: new Date().toISOString() });
  return messageId;
}
