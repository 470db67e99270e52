import { type Channel, type ConversationKey, parseConversationKey } from '../domain/conversation-key';
import { initialRoutingContext, type RoutingContext } from '../routing';
import { type InboundContext, type InboundEvent, type MessageContent } from '../domain/inbound';
import { type Assignment, type ConversationSettings, type ConversationStatus, type ConversationView, type HistoryEntry } from './definitions';

export type UserMessageEvent = Extract<InboundEvent, { type: 'message' }>;

const MAX_EVENTS = 50;
const MAX_DECISIONS = 50;
const MAX_READ_RECEIPTS = 500;

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

/** Plain data carried across continue-as-new and into a reopened conversation. */
export interface ConversationSnapshot {
  history: HistoryEntry[];
  events: InboundEvent[];
  dedupeKeys: string[];
  readReceiptsSent: string[];
  unreadByAgent: string[];
  pending: UserMessageEvent[];
  routing: RoutingContext;
  assignment: Assignment;
  humans: { agentId: string; displayName?: string }[];
  decisions: ConversationView['routingDecisions'];
  userTyping: ConversationView['userTyping'];
  lastInboundAt?: string;
  lastContext?: InboundContext;
  handoff?: HandoffState;
  generation: number;
  /** Counter for deterministic event ids of our own (typing, joins). */
  sequence: number;
}

export interface HandoffState {
  handoffId: string;
  queue: string;
  reason: string;
  requestedAt: string;
  holdingMessageSent: boolean;
}

/**
 * The conversation's state: plain data plus the rules that change it, kept apart from Temporal
 * wiring so it can be carried across continue-as-new whole.
 */
export class ConversationState {
  readonly key: ConversationKey;
  readonly channel: Channel;
  closed = false;
  private readonly data: ConversationSnapshot;
  private readonly seen: Set<string>;

  constructor(
    key: ConversationKey,
    private readonly settings: ConversationSettings,
    snapshot?: ConversationSnapshot,
  ) {
    this.key = key;
    this.channel = parseConversationKey(key).channel;
    this.data = snapshot
      ? { ...snapshot, generation: snapshot.generation + 1 }
      : {
          history: [],
          events: [],
          dedupeKeys: [],
          readReceiptsSent: [],
          unreadByAgent: [],
          pending: [],
          routing: initialRoutingContext(),
          assignment: { kind: 'automation' },
          humans: [],
          decisions: [],
          userTyping: { isTyping: false, changes: 0 },
          generation: 0,
          sequence: 0,
        };
    this.seen = new Set(this.data.dedupeKeys);
  }

  get pending(): UserMessageEvent[] {
    return this.data.pending;
  }
  get routing(): RoutingContext {
    return this.data.routing;
  }

  /** Applies a routing decision's context update (or an operator's change). */
  set routing(next: RoutingContext) {
    this.data.routing = next;
  }
  get assignment(): Assignment {
    return this.data.assignment;
  }
  get handoff(): HandoffState | undefined {
    return this.data.handoff;
  }
  get lastContext(): InboundContext | undefined {
    return this.data.lastContext;
  }
  get lastInboundAt(): string | undefined {
    return this.data.lastInboundAt;
  }
  get history(): readonly HistoryEntry[] {
    return this.data.history;
  }

  /** A new id for an event of ours, deterministic under replay. */
  nextEventId(prefix: string): string {
    this.data.sequence += 1;
    return `${prefix}-${this.data.generation}-${this.data.sequence}`;
  }

  /**
   * Accepts a batch from one webhook request; drops redeliveries by dedupe key and returns what is
   * new. User typing only flips a flag and a counter, so a chatty typist never floods history.
   */
  accept(events: InboundEvent[]): InboundEvent[] {
    const accepted: InboundEvent[] = [];
    for (const event of events) {
      if (this.seen.has(event.dedupeKey)) continue;
      this.remember(event.dedupeKey);
      accepted.push(event);
      this.data.lastInboundAt = event.receivedAt;
      if (event.type === 'typing') {
        if (event.isTyping !== this.data.userTyping.isTyping) {
          this.data.userTyping = { isTyping: event.isTyping, since: event.occurredAt ?? event.receivedAt, changes: this.data.userTyping.changes + 1 };
        }
        continue;
      }
      this.data.events.push(event);
      if (this.data.events.length > MAX_EVENTS) this.data.events.shift();
      if (event.type === 'message') {
        if (event.context) this.data.lastContext = { ...this.data.lastContext, ...event.context };
        if (event.context?.displayName) this.data.routing = { ...this.data.routing, displayName: event.context.displayName };
        this.data.userTyping = { ...this.data.userTyping, isTyping: false };
        this.addHistory({ direction: 'inbound', messageId: event.messageId, kind: event.content.kind, summary: summarize(event.content), at: event.occurredAt ?? event.receivedAt });
        this.data.pending.push(event);
      }
    }
    return accepted;
  }

  addHistory(entry: HistoryEntry): void {
    this.data.history.push(entry);
    if (this.data.history.length > this.settings.maxHistory) this.data.history.shift();
  }

  recordDecision(messageId: string, action: string, at: string, detail?: string): void {
    this.data.decisions.push({ messageId, action, detail, at });
    if (this.data.decisions.length > MAX_DECISIONS) this.data.decisions.shift();
  }

  /** True the first time a READ receipt is due for this message: exactly one receipt per message. */
  claimReadReceipt(messageId: string): boolean {
    if (this.data.readReceiptsSent.includes(messageId)) return false;
    this.data.readReceiptsSent.push(messageId);
    if (this.data.readReceiptsSent.length > MAX_READ_RECEIPTS) this.data.readReceiptsSent.shift();
    this.data.unreadByAgent = this.data.unreadByAgent.filter((id) => id !== messageId);
    return true;
  }

  markUnreadByAgent(messageId: string): void {
    if (!this.data.unreadByAgent.includes(messageId)) this.data.unreadByAgent.push(messageId);
  }

  unreadByAgent(): readonly string[] {
    return this.data.unreadByAgent;
  }

  assign(assignment: Assignment): void {
    this.data.assignment = assignment;
    if (assignment.kind === 'human' && !this.data.humans.some((h) => h.agentId === assignment.agentId)) {
      this.data.humans.push({ agentId: assignment.agentId, displayName: assignment.displayName });
    }
  }

  startHandoff(handoff: HandoffState): void {
    this.data.handoff = handoff;
  }

  endHandoff(): void {
    this.data.handoff = undefined;
  }

  status(): ConversationStatus {
    if (this.closed) return 'closed';
    if (this.data.assignment.kind === 'human') return 'with_agent';
    if (this.data.assignment.kind === 'queue') return 'waiting_for_agent';
    return 'automation';
  }

  private remember(dedupeKey: string): void {
    this.seen.add(dedupeKey);
    this.data.dedupeKeys.push(dedupeKey);
    while (this.data.dedupeKeys.length > this.settings.dedupeWindow) {
      const oldest = this.data.dedupeKeys.shift();
      if (oldest !== undefined) this.seen.delete(oldest);
    }
  }

  /**
   * Folds in the memory of the conversation's previous (completed) run when a new message reopens
   * it: history, dedupe window, receipts and routing memory. Events this run accepted that the
   * previous run had already seen (a late redelivery) are dropped again.
   */
  absorbPrevious(previous: ConversationSnapshot): void {
    const old = new Set(previous.dedupeKeys);
    this.data.events = this.data.events.filter((e) => !old.has(e.dedupeKey));
    this.data.pending = this.data.pending.filter((e) => !old.has(e.dedupeKey));
    const redelivered = new Set(this.data.history.filter((h) => h.direction === 'inbound' && previous.history.some((p) => p.messageId === h.messageId)).map((h) => h.messageId));
    this.data.history = [...previous.history, ...this.data.history.filter((h) => !redelivered.has(h.messageId))].slice(-this.settings.maxHistory);
    this.data.dedupeKeys = [...previous.dedupeKeys, ...this.data.dedupeKeys.filter((k) => !old.has(k))].slice(-this.settings.dedupeWindow);
    this.seen.clear();
    for (const k of this.data.dedupeKeys) this.seen.add(k);
    this.data.readReceiptsSent = [...previous.readReceiptsSent, ...this.data.readReceiptsSent].slice(-MAX_READ_RECEIPTS);
    this.data.routing = { ...previous.routing, isNew: false, automationFailures: 0 };
    this.data.lastContext = { ...previous.lastContext, ...this.data.lastContext };
    this.data.humans = previous.humans;
    this.data.generation = previous.generation + 1;
    this.data.sequence = previous.sequence;
  }

  /** Everything the next run needs. */
  snapshot(): ConversationSnapshot {
    return structuredCloneData(this.data);
  }

  view(): ConversationView {
    const d = this.data;
    return {
      key: this.key,
      channel: this.channel,
      status: this.status(),
      assignment: d.assignment,
      locale: d.routing.locale,
      displayName: d.routing.displayName,
      placeId: d.routing.confirmedPlaceId ?? d.lastContext?.placeId,
      history: [...d.history],
      events: [...d.events],
      routingDecisions: [...d.decisions],
      readReceiptsSent: [...d.readReceiptsSent],
      unreadByAgent: [...d.unreadByAgent],
      userTyping: d.userTyping,
      participants: { bot: true, humans: [...d.humans] },
      lastInboundAt: d.lastInboundAt,
      generation: d.generation,
    };
  }
}

/** Deep copy of JSON data (the workflow sandbox has no structuredClone guarantee across Node versions). */
function structuredCloneData<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
