import { msToNumber } from '@temporalio/common/lib/time';

import { type Channel, type ConversationKey, parseConversationKey } from '../domain/conversation-key';
import {
  authCodeOutcomeOf,
  type InboundContext,
  type InboundEvent,
  type MessageContent,
  withoutCredentials,
} from '../domain/inbound';
import { initialRoutingContext, type RoutingContext } from '../routing';
import { DEFAULT_DEDUPE_MAX_KEYS, DEFAULT_DEDUPE_RETENTION } from './conversation-settings';
import {
  type ActivityFailureRecord,
  type AgentTypingSnapshot,
  type Assignment,
  type ConversationSettings,
  type ConversationSnapshot,
  type ConversationStatus,
  type ConversationView,
  type HandoffState,
  type HistoryEntry,
  USER_TYPING_FADES_AFTER_MS,
  type UserMessageEvent,
  userTypingAsOf,
} from './definitions';

const MAX_EVENTS = 50;
const MAX_DECISIONS = 50;
const MAX_READ_RECEIPTS = 500;
const MAX_ACTIVITY_FAILURES = 50;
const MAX_UNSENT_RECEIPTS = 50;
/** A receipt that failed this often (each time the user wrote again) is given up. */
const MAX_RECEIPT_ATTEMPTS = 3;

/**
 * Event kinds that carry no id of a message: their dedupe keys live in a small window of their
 * own, so a chatty typist never pushes a message or receipt id out of the durable window.
 */
const EPHEMERAL_KINDS: ReadonlySet<InboundEvent['type']> = new Set(['typing', 'subscription']);

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
    case 'auth': {
      // Histories recorded before the code was dropped at the API carry the code itself: never echoed.
      const outcome = authCodeOutcomeOf(content);
      if (outcome === 'none') return `auth error: ${content.error?.error ?? 'unknown'}`;
      return outcome === 'handed_over'
        ? 'authorization code handed over'
        : outcome === 'not_handed_over'
          ? 'authorization code not handed over'
          : 'authorization code received';
    }
  }
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
  /** Durable dedupe keys → accepted at (ms); insertion order is acceptance order. */
  private readonly durable = new Map<string, number>();
  /** READ receipts whose activity is running: claimed, not yet sent. */
  private readonly receiptsInFlight = new Set<string>();

  /**
   * @param windowsByKind dedupe messages and receipts by time in a window of their own, so typing
   *   and status events cannot evict their ids and a redelivery within Google's 7 days is still
   *   recognised (false only while replaying runs that started before that change).
   */
  constructor(
    key: ConversationKey,
    private readonly settings: ConversationSettings,
    snapshot?: ConversationSnapshot,
    private readonly windowsByKind = false,
  ) {
    this.key = key;
    this.channel = parseConversationKey(key).channel;
    this.data = snapshot
      ? { ...withoutCarriedCredentials(snapshot), generation: snapshot.generation + 1 }
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
    if (windowsByKind) {
      for (const [k, at] of this.data.durableKeys ?? []) this.durable.set(k, at);
      this.data.durableKeys = undefined;
    }
  }

  /** True while the run is dormant (idle, continued as new, waiting for the next event). */
  get dormant(): boolean {
    return this.data.dormant === true;
  }
  set dormant(value: boolean) {
    this.data.dormant = value || undefined;
  }
  get idleDeadlineMs(): number | undefined {
    return this.data.idleDeadlineMs;
  }
  set idleDeadlineMs(value: number | undefined) {
    this.data.idleDeadlineMs = value;
  }
  get agentTyping(): AgentTypingSnapshot | undefined {
    return this.data.agentTyping;
  }
  set agentTyping(value: AgentTypingSnapshot | undefined) {
    this.data.agentTyping = value;
  }
  get liveAgentRequested(): boolean {
    return this.data.liveAgentRequested === true;
  }
  set liveAgentRequested(value: boolean) {
    this.data.liveAgentRequested = value || undefined;
  }

  /** Records an activity failure the conversation carries on from (bounded, newest last). */
  recordActivityFailure(failure: ActivityFailureRecord): void {
    const list = (this.data.activityFailures ??= []);
    list.push(failure);
    if (list.length > MAX_ACTIVITY_FAILURES) list.splice(0, list.length - MAX_ACTIVITY_FAILURES);
  }

  get activityFailures(): readonly ActivityFailureRecord[] {
    return this.data.activityFailures ?? [];
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
    // A signal from an API older than the drop may still carry a sign-in code: it never enters state.
    for (const event of events.map(withoutCredentials)) {
      if (this.isDuplicate(event)) continue;
      this.rememberEvent(event);
      accepted.push(event);
      this.data.lastInboundAt = event.receivedAt;
      if (event.type === 'typing') {
        if (event.isTyping !== this.userTypingNow(Date.now()).isTyping) {
          // Workflow time when typing fades by the clock; the event's own time before.
          const since = this.windowsByKind ? new Date().toISOString() : (event.occurredAt ?? event.receivedAt);
          this.data.userTyping = { isTyping: event.isTyping, since, changes: this.data.userTyping.changes + 1 };
        } else if (event.isTyping && this.typingFadesFromLastEvent) {
          // Still typing: the fade counts from this event (runs with a fade timer keep its deadline).
          this.data.userTyping = { ...this.data.userTyping, since: new Date().toISOString() };
        }
        continue;
      }
      this.data.events.push(event);
      if (this.data.events.length > MAX_EVENTS) this.data.events.shift();
      if (event.type === 'message') {
        if (event.context) this.data.lastContext = { ...this.data.lastContext, ...event.context };
        if (event.context?.displayName)
          this.data.routing = { ...this.data.routing, displayName: event.context.displayName };
        this.data.userTyping = { ...this.data.userTyping, isTyping: false };
        this.addHistory({
          direction: 'inbound',
          messageId: event.messageId,
          kind: event.content.kind,
          summary: summarize(event.content),
          at: event.occurredAt ?? event.receivedAt,
        });
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

  /**
   * Claims the READ receipt of a message for a send about to start: false when it was sent or is
   * being sent. Settle the claim with {@link receiptSent} or {@link receiptFailed}.
   */
  beginReadReceipt(messageId: string): boolean {
    if (this.data.readReceiptsSent.includes(messageId) || this.receiptsInFlight.has(messageId)) return false;
    this.receiptsInFlight.add(messageId);
    return true;
  }

  /**
   * Set for runs without a typing fade timer (COST_PATCHES.typingFadeByReader): another "typing"
   * while typing moves the fade to 20 s after it. A run with the timer keeps the first event's
   * time, as its history recorded the timer's deadline.
   */
  typingFadesFromLastEvent = false;

  /** Drops a claim without an outcome (its receipt is sent another way next). */
  releaseReadReceipt(messageId: string): void {
    this.receiptsInFlight.delete(messageId);
  }

  /** The receipt's activity succeeded: it counts as sent, exactly once. */
  receiptSent(messageId: string): void {
    this.receiptsInFlight.delete(messageId);
    this.data.unsentReceipts = this.data.unsentReceipts?.filter((u) => u.messageId !== messageId);
    this.claimReadReceipt(messageId);
  }

  /** The receipt's activity failed: not sent; kept to try again when the user next writes (a few times). */
  receiptFailed(messageId: string): void {
    this.receiptsInFlight.delete(messageId);
    const list = (this.data.unsentReceipts ??= []);
    const entry = list.find((u) => u.messageId === messageId);
    if (entry) entry.attempts += 1;
    else list.push({ messageId, attempts: 1 });
    this.data.unsentReceipts = list.filter((u) => u.attempts < MAX_RECEIPT_ATTEMPTS).slice(-MAX_UNSENT_RECEIPTS);
  }

  /** True once the READ receipt of this message was sent. */
  receiptWasSent(messageId: string): boolean {
    return this.data.readReceiptsSent.includes(messageId);
  }

  /** Receipts that failed and may be tried again. */
  unsentReceipts(): readonly string[] {
    return (this.data.unsentReceipts ?? []).map((u) => u.messageId);
  }

  /** Receipt activities running now (continue-as-new waits for none). */
  get receiptsRunning(): number {
    return this.receiptsInFlight.size;
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
    if (this.closed || this.dormant) return 'closed';
    if (this.data.assignment.kind === 'human') return 'with_agent';
    if (this.data.assignment.kind === 'queue') return 'waiting_for_agent';
    return 'automation';
  }

  private isDuplicate(event: InboundEvent): boolean {
    if (this.seen.has(event.dedupeKey)) return true;
    if (!this.windowsByKind) return false;
    const at = this.durable.get(event.dedupeKey);
    return at !== undefined && Date.now() - at < msToNumber(this.settings.dedupeRetention ?? DEFAULT_DEDUPE_RETENTION);
  }

  private rememberEvent(event: InboundEvent): void {
    if (!this.windowsByKind || EPHEMERAL_KINDS.has(event.type)) {
      this.remember(event.dedupeKey);
      return;
    }
    const now = Date.now();
    this.durable.delete(event.dedupeKey);
    this.durable.set(event.dedupeKey, now);
    const retention = msToNumber(this.settings.dedupeRetention ?? DEFAULT_DEDUPE_RETENTION);
    const max = this.settings.dedupeMaxKeys ?? DEFAULT_DEDUPE_MAX_KEYS;
    for (const [k, at] of this.durable) {
      if (this.durable.size <= max && now - at < retention) break;
      this.durable.delete(k);
    }
  }

  /** When the user's "typing" fades (workflow ms), or undefined when the user is not typing. */
  userTypingFadesAt(): number | undefined {
    const t = this.data.userTyping;
    if (!this.windowsByKind || !t.isTyping || t.since === undefined) return undefined;
    return Date.parse(t.since) + USER_TYPING_FADES_AFTER_MS;
  }

  /** The user's typing state faded: no typing event for the fade time (RBM's indicator is gone by then). */
  clearUserTyping(): void {
    if (this.data.userTyping.isTyping) this.data.userTyping = { ...this.data.userTyping, isTyping: false };
  }

  /** The user's typing state as of `nowMs`: a "typing" older than the fade time has cleared. */
  private userTypingNow(nowMs: number): ConversationView['userTyping'] {
    const t = this.data.userTyping;
    return this.windowsByKind ? userTypingAsOf(t, nowMs) : t;
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
  absorbPrevious(carried: ConversationSnapshot): void {
    const previous = withoutCarriedCredentials(carried);
    const old = new Set(previous.dedupeKeys);
    this.data.events = this.data.events.filter((e) => !old.has(e.dedupeKey));
    this.data.pending = this.data.pending.filter((e) => !old.has(e.dedupeKey));
    const redelivered = new Set(
      this.data.history
        .filter((h) => h.direction === 'inbound' && previous.history.some((p) => p.messageId === h.messageId))
        .map((h) => h.messageId),
    );
    this.data.history = [...previous.history, ...this.data.history.filter((h) => !redelivered.has(h.messageId))].slice(
      -this.settings.maxHistory,
    );
    this.data.dedupeKeys = [...previous.dedupeKeys, ...this.data.dedupeKeys.filter((k) => !old.has(k))].slice(
      -this.settings.dedupeWindow,
    );
    this.seen.clear();
    for (const k of this.data.dedupeKeys) this.seen.add(k);
    this.data.readReceiptsSent = [...previous.readReceiptsSent, ...this.data.readReceiptsSent].slice(
      -MAX_READ_RECEIPTS,
    );
    this.data.routing = { ...previous.routing, isNew: false, automationFailures: 0 };
    this.data.lastContext = { ...previous.lastContext, ...this.data.lastContext };
    this.data.humans = previous.humans;
    this.data.generation = previous.generation + 1;
    this.data.sequence = previous.sequence;
  }

  /** Everything the next run needs. */
  snapshot(): ConversationSnapshot {
    const copy = structuredCloneData(this.data);
    if (this.windowsByKind) copy.durableKeys = [...this.durable.entries()];
    return copy;
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
      userTyping: this.userTypingNow(Date.now()),
      activityFailures: [...(d.activityFailures ?? [])],
      unsentReceipts: this.unsentReceipts().slice(),
      dormant: d.dormant === true,
      participants: { bot: true, humans: [...d.humans] },
      lastInboundAt: d.lastInboundAt,
      generation: d.generation,
    };
  }
}

/** A snapshot carried from a run that kept sign-in codes in its events: the same memory without them. */
function withoutCarriedCredentials(snapshot: ConversationSnapshot): ConversationSnapshot {
  return {
    ...snapshot,
    events: snapshot.events.map(withoutCredentials),
    pending: snapshot.pending.map(withoutCredentials),
  };
}

/** Deep copy of JSON data (the workflow sandbox has no structuredClone guarantee across Node versions). */
function structuredCloneData<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
