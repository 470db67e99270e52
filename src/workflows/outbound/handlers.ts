import { setHandler } from '@temporalio/workflow';

import { outboundMessagesQuery, sendMessageUpdate } from '../definitions';
import { type OutboundTracker } from './tracker';

/**
 * Registers the outbound update (send a message) and query (messages + metrics) on the running
 * workflow. The validator rejects a bad request before it reaches history, with an
 * ApplicationFailure of type InvalidOutboundMessage naming the field. `onSend` hears of every
 * accepted request (the conversation counts it as activity).
 */
export function registerOutboundHandlers(tracker: OutboundTracker, onSend?: () => void): void {
  setHandler(
    sendMessageUpdate,
    (input) => {
      onSend?.();
      return tracker.send(input);
    },
    { validator: (input) => tracker.assertValid(input) },
  );
  setHandler(outboundMessagesQuery, () => tracker.view());
}
