import { type InboundEvent } from '../domain/inbound';

/** A "still typing" within this long of the last one forwarded for the conversation is not signalled again. */
export const TYPING_REFRESH_MS = 10_000;
const MAX_CONVERSATIONS = 10_000;

/**
 * Coalesces a user's repeated IS_TYPING events before they cost a signal and a workflow task each
 * (issue 14): the conversation's state needs the latest value, not every event. A "typing" that
 * repeats the last forwarded one within TYPING_REFRESH_MS is dropped; a change of value and every
 * other event always go through (and a message or receipt resets the memory, since the workflow
 * clears typing on a message). Per API process and best effort: another replica forwarding the
 * same refresh costs a signal, never a wrong state. Keyed by the caller's masked id of the conversation (never a phone number), bounded in size.
 */
export class TypingCoalescer {
  private readonly lastTypingAt = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The events of one delivery to signal; the rest were coalesced. */
  filter(conversation: string, events: InboundEvent[]): InboundEvent[] {
    const at = this.now();
    const kept: InboundEvent[] = [];
    for (const event of events) {
      if (event.type !== 'typing') {
        this.lastTypingAt.delete(conversation);
        kept.push(event);
        continue;
      }
      if (!event.isTyping) {
        this.lastTypingAt.delete(conversation);
        kept.push(event);
        continue;
      }
      const last = this.lastTypingAt.get(conversation);
      if (last !== undefined && at - last < TYPING_REFRESH_MS) continue;
      this.remember(conversation, at);
      kept.push(event);
    }
    return kept;
  }

  /**
   * The events were not accepted after all (the signal failed): forget what `filter` remembered
   * for the conversation, so Google's redelivery is not coalesced against a signal that never happened.
   */
  forget(conversation: string): void {
    this.lastTypingAt.delete(conversation);
  }

  private remember(conversation: string, at: number): void {
    this.lastTypingAt.delete(conversation);
    this.lastTypingAt.set(conversation, at);
    if (this.lastTypingAt.size > MAX_CONVERSATIONS) {
      const oldest = this.lastTypingAt.keys().next().value;
      if (oldest !== undefined) this.lastTypingAt.delete(oldest);
    }
  }
}
