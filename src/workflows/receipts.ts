import { recordActivityFailure } from './activity-failures';
import { channelActivities } from './activity-proxies';
import { type ConversationState } from './conversation-state';

/**
 * READ receipts of the user's messages: a receipt counts as sent only once its activity succeeded
 * (claimed before it ran, a failed one was never sent); while it runs it is claimed, so no second
 * one starts; when it fails it is recorded (state + metric), never fails the conversation, and is
 * tried again when the user next writes.
 */
export class ReadReceipts {
  constructor(private readonly state: ConversationState) {}

  /** Activities running now: continue-as-new waits for none. */
  get inFlight(): number {
    return this.state.receiptsRunning;
  }

  /** Sends the receipt unless it was sent or is being sent; true when this call sent it. Never throws for a failed activity. */
  async send(messageId: string): Promise<boolean> {
    const { state } = this;
    if (!state.beginReadReceipt(messageId)) return false;
    try {
      await channelActivities.sendReadReceipt({ conversationKey: state.key, messageId, eventId: `read-${messageId}` });
    } catch (err) {
      state.receiptFailed(messageId);
      recordActivityFailure(state, 'read_receipt', err, messageId);
      return false;
    }
    state.receiptSent(messageId);
    return true;
  }

  /** Claims the receipt for an automation reply that carries it (false when sent or being sent already). */
  claim(messageId: string): boolean {
    return this.state.beginReadReceipt(messageId);
  }

  /** Settles a claim of {@link claim}: sent with the reply, or sent now on its own (same eventId). */
  settleInReply(messageId: string, sent: boolean): void {
    if (sent) {
      this.state.receiptSent(messageId);
      return;
    }
    this.state.releaseReadReceipt(messageId);
    void this.send(messageId);
  }

  /** Tries the receipts that failed before again (the user wrote, so they are reachable now), side by side. */
  retryUnsent(): void {
    for (const messageId of this.state.unsentReceipts()) void this.send(messageId);
  }
}
