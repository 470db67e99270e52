import { condition, proxyActivities, setHandler, upsertSearchAttributes, log } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { parseConversationKey } from '../domain/conversation-key';
import { ConversationState } from './conversation-state';
import { OutboundTracker, registerOutboundHandlers } from './outbound';
import { conversationStateQuery, inboundEventsSignal, searchAttributes, type ConversationInput } from './definitions';

const { sendReadReceipt } = proxyActivities<Activities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20 },
});

const DEFAULT_IDLE_TIMEOUT = '7 days';

/** One long-lived workflow per conversation: accepts inbound events, keeps history, acknowledges messages. */
export async function conversationWorkflow(input: ConversationInput): Promise<void> {
  const state = new ConversationState(input.key);
  const channel = parseConversationKey(input.key).channel;

  const outbound = new OutboundTracker();

  setHandler(inboundEventsSignal, (events) => {
    for (const event of state.accept(events)) {
      if (event.type === 'receipt' || event.type === 'ttl_expired') outbound.onInboundEvent(event);
    }
  });
  registerOutboundHandlers(outbound);
  setHandler(conversationStateQuery, () => state.view());

  upsertSearchAttributes([
    { key: searchAttributes.channel, value: channel },
    { key: searchAttributes.status, value: 'open' },
  ]);

  for (;;) {
    const gotWork = await condition(() => state.pending.length > 0, input.idleTimeout ?? DEFAULT_IDLE_TIMEOUT);
    if (!gotWork) break;
    const message = state.pending.shift();
    if (message === undefined) continue;
    await sendReadReceipt({ conversationKey: input.key, messageId: message.messageId, eventId: `read-${message.messageId}` });
    state.readReceiptsSent.push(message.messageId);
  }

  state.status = 'closed';
  upsertSearchAttributes([{ key: searchAttributes.status, value: 'closed' }]);
  log.info('conversation idle, closing');
}
