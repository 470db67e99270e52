import { type InboundEvent } from '../domain/inbound';

/** A "still typing" within this long of the last one Temporal accepted for the conversation is not signalled again. */
export const TYPING_REFRESH_MS = 10_000;
const MAX_CONVERSATIONS = 10_000;

/** One delivery as the coalescer let it through: the events to signal, and what to call once Temporal accepted them. */
export interface CoalescedDelivery {
  events: InboundEvent[];
  /** Call after the signal was accepted (never after a failure: the redelivery must go through). */
  accepted(): void;
}

/**
 * Coalesces a user's repeated IS_TYPING events before they cost a signal and a workflow task each
 * (issue 14): the conversation's state needs the latest value, not every event. A delivery of
 * nothing but "typing" is acknowledged without a signal when a "typing" for the conversation was
 * accepted by Temporal within TYPING_REFRESH_MS and no other event has been delivered through this
 * process since. Only accepted signals count, so nothing is acknowledged on the strength of a
 * signal still in flight. Per API process: a message delivered through another replica may leave
 * the state showing "not typing" for up to TYPING_REFRESH_MS. Keyed by the caller's masked id of
 * the conversation (never a phone number); bounded in size.
 */
export class TypingCoalescer {
  private readonly conversations = new Map<string, { typingAcceptedAt?: number; epoch: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  begin(conversation: string, events: InboundEvent[]): CoalescedDelivery {
    const at = this.now();
    const entry = this.entry(conversation);
    const onlyTyping = events.length > 0 && events.every((e) => e.type === 'typing' && e.isTyping);
    if (!onlyTyping) {
      // A message, receipt or "stopped typing" is on its way: no typing accepted before it may coalesce what follows.
      entry.epoch++;
      entry.typingAcceptedAt = undefined;
      return { events, accepted: () => undefined };
    }
    if (entry.typingAcceptedAt !== undefined && at - entry.typingAcceptedAt < TYPING_REFRESH_MS)
      return { events: [], accepted: () => undefined };
    const epoch = entry.epoch;
    return {
      events,
      accepted: () => {
        const now = this.conversations.get(conversation);
        if (now !== undefined && now.epoch === epoch) now.typingAcceptedAt = at;
      },
    };
  }

  private entry(conversation: string): { typingAcceptedAt?: number; epoch: number } {
    let entry = this.conversations.get(conversation);
    if (entry === undefined) {
      entry = { epoch: 0 };
      this.conversations.set(conversation, entry);
      if (this.conversations.size > MAX_CONVERSATIONS) {
        const oldest = this.conversations.keys().next().value;
        if (oldest !== undefined) this.conversations.delete(oldest);
      }
    }
    return entry;
  }
}
