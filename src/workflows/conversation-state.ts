import { type ConversationKey, parseConversationKey } from '../domain/conversation-key';
import { type InboundEvent, type MessageContent } from '../domain/inbound';
import { type ConversationView, type HistoryEntry } from './definitions';

const MAX_EVENTS = 200;
const MAX_HISTORY = 100;
const MAX_DEDUPE_KEYS = 2000;

/** Short operator-facing text for a message. */
export function summarize(content: MessageContent): string {
  switch (content.kind) {
    case 'text':
      return content.text;
    case 'image':
      return content.url;
    case 'file':
      return content.file.fileName ?? content.file.fileUri ?? 'file';
    case 'location':
      return `${content.latitude},${content.longitude}`;
    case 'suggestion':
      return content.postbackData;
    case 'auth':
      return content.code !== undefined ? 'authorization code received' : `auth error: ${content.error?.error ?? 'unknown'}`;
  }
}

/** The conversation's state: plain data plus the rules that change it, kept apart from Temporal wiring. */
export class ConversationState {
  readonly key: ConversationKey;
  status: 'open' | 'closed' = 'open';
  readonly history: HistoryEntry[] = [];
  readonly events: InboundEvent[] = [];
  readonly readReceiptsSent: string[] = [];
  /** User messages accepted but not yet handled by the main loop. */
  readonly pending: Extract<InboundEvent, { type: 'message' }>[] = [];
  private readonly seen = new Set<string>();
  private readonly seenOrder: string[] = [];
  lastInboundAt?: string;

  constructor(key: ConversationKey) {
    this.key = key;
  }

  /** Accepts a batch from one webhook request; drops redeliveries by dedupe key and returns what is new. */
  accept(events: InboundEvent[]): InboundEvent[] {
    const accepted: InboundEvent[] = [];
    for (const event of events) {
      if (this.seen.has(event.dedupeKey)) continue;
      accepted.push(event);
      this.remember(event.dedupeKey);
      this.events.push(event);
      if (this.events.length > MAX_EVENTS) this.events.shift();
      this.lastInboundAt = event.receivedAt;
      if (event.type === 'message') {
        this.history.push({ direction: 'inbound', messageId: event.messageId, kind: event.content.kind, summary: summarize(event.content), at: event.occurredAt ?? event.receivedAt });
        if (this.history.length > MAX_HISTORY) this.history.shift();
        this.pending.push(event);
      }
    }
    return accepted;
  }

  private remember(dedupeKey: string): void {
    this.seen.add(dedupeKey);
    this.seenOrder.push(dedupeKey);
    if (this.seenOrder.length > MAX_DEDUPE_KEYS) {
      const oldest = this.seenOrder.shift();
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }

  view(): ConversationView {
    return {
      key: this.key,
      channel: parseConversationKey(this.key).channel,
      status: this.status,
      history: [...this.history],
      events: [...this.events],
      readReceiptsSent: [...this.readReceiptsSent],
      lastInboundAt: this.lastInboundAt,
    };
  }
}
