/**
 * The floor of `npm run bench`'s worker-CPU target: the least a workflow on the same SDK does for
 * the benchmark's traffic. It takes the same `inboundEvents` signals (raw signalWithStart, the
 * same start input), and for each user text message runs the same activities as automation's
 * answer (READ receipt, then the reply through `sendMessage`), with the same activity options.
 * Nothing else: no routing, no dedupe, no idle timer, no search attributes, no tracker, no
 * interceptors. It answers the conversation-state query with just what the bench's drain reads.
 */
import { condition, setHandler, uuid4 } from '@temporalio/workflow';

import { type InboundEvent } from '../../src/domain/inbound';
import { channelActivities } from '../../src/workflows/activity-proxies';
import {
  type ConversationInput,
  conversationStateQuery,
  type ConversationView,
  inboundEventsSignal,
} from '../../src/workflows/definitions';

/** The reply the floor sends to every question (automation's FAQ answer has the same shape: text only). */
const FLOOR_REPLY = { text: 'We are open Monday to Saturday, 9:00 to 18:00.' };

/** One conversation of the floor phase; runs until the run is terminated with the dev server. */
export async function floorWorkflow(input: ConversationInput): Promise<void> {
  const queue: string[] = [];
  const view: ConversationView = {
    key: input.key,
    channel: 'rbm',
    status: 'automation',
    assignment: { kind: 'automation' },
    history: [],
    events: [],
    routingDecisions: [],
    readReceiptsSent: [],
    unreadByAgent: [],
    userTyping: { isTyping: false, changes: 0 },
    participants: { bot: true, humans: [] },
    generation: 0,
  };
  setHandler(inboundEventsSignal, (events: InboundEvent[]) => {
    for (const event of events) {
      if (event.type === 'message' && event.content.kind === 'text') queue.push(event.messageId);
      else if (event.type === 'typing')
        view.userTyping = { isTyping: event.isTyping, changes: view.userTyping.changes + 1 };
      else if (event.type === 'receipt') view.events.push(event);
    }
  });
  setHandler(conversationStateQuery, () => view);
  for (;;) {
    await condition(() => queue.length > 0);
    const messageId = queue.shift() as string;
    await channelActivities.sendReadReceipt({ conversationKey: input.key, messageId, eventId: `read-${messageId}` });
    view.readReceiptsSent.push(messageId);
    const replyId = uuid4();
    await channelActivities.sendMessage({
      conversationKey: input.key,
      messageId: replyId,
      content: FLOOR_REPLY,
      representative: { type: 'BOT' },
    });
    view.history.push({
      direction: 'outbound',
      messageId: replyId,
      kind: 'text',
      summary: FLOOR_REPLY.text,
      at: new Date().toISOString(),
    });
  }
}
