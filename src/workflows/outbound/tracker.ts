/**
 * OutboundTracker: the conversation workflow's book of outbound messages. It owns the records,
 * the idempotency map, the unmatched-event log and the metrics, starts one lifecycle per message
 * and routes receipts / TTL events to them. Everything it holds is plain data, so `snapshot()`
 * carries it across continue-as-new and the constructor resumes every pending timer.
 */
import { ApplicationFailure, CancellationScope, condition, log, uuid4 } from '@temporalio/workflow';

import { type ConversationKey, parseConversationKey } from '../../domain/conversation-key';
import { type InboundEvent } from '../../domain/inbound';
import { INVALID_OUTBOUND_MESSAGE, validateOutboundRequest } from '../../domain/outbound';
import { runLifecycle } from './lifecycle';
import { emptyMetrics, type MetricsEmitter, OutboundMetrics, workflowMetricsEmitter } from './metrics';
import {
  applyReceipt,
  applyTtlEvent,
  conversationParts,
  createRecord,
  DEFAULT_REVOKE_FAILED_GRACE_MS,
  DEFAULT_TTL_EVENT_GRACE_MS,
} from './record';
import {
  type IdempotencyEntry,
  type OutboundMessagesView,
  type OutboundMetricsState,
  type OutboundRecord,
  type OutboundSendInput,
  type OutboundSendResult,
  type OutboundSnapshot,
  type OutboundTrackerOptions,
  type ReadReceiptInReply,
  type UnmatchedOutboundEvent,
} from './types';

/** The inbound events the tracker consumes (already deduped by the conversation). */
export type OutboundInboundEvent = Extract<InboundEvent, { type: 'receipt' | 'ttl_expired' }>;

export { INVALID_OUTBOUND_MESSAGE };

const MAX_UNMATCHED = 100;
const SNAPSHOT_LOG_OF_FINISHED = 8;

export class OutboundTracker {
  private key: ConversationKey | undefined;
  private readonly records = new Map<string, OutboundRecord>();
  private readonly idempotency = new Map<string, IdempotencyEntry>();
  private readonly unmatched: UnmatchedOutboundEvent[] = [];
  private metricsImpl: OutboundMetrics | undefined;
  private carriedMetrics: OutboundSnapshot['metrics'];
  private inFlight = 0;
  /** False until absorbPrevious() when constructed with waitForPrevious: sends and events wait. */
  private ready: boolean;
  private readonly heldEvents: OutboundInboundEvent[] = [];
  private readonly defaults: { revokeFailedGraceMs: number; ttlEventGraceMs: number };
  private readonly maxMessages: number;
  private readonly maxIdempotencyKeys: number;
  private readonly onAccepted: OutboundTrackerOptions['onAccepted'];
  private readonly readWithinNeedsReadReceipts: boolean;
  private readonly defaultRepresentative: OutboundTrackerOptions['defaultRepresentative'];
  /** READ receipts riding in an automation reply's send (outbound messageId → the user's message), until the send settled. */
  private readonly readReceiptsInReply = new Map<string, ReadReceiptInReply>();

  /**
   * @param key The conversation's key. Optional for compatibility: without it the tracker learns
   *   the key from the first send request or inbound event.
   * @param snapshot What `snapshot()` returned in the previous run: records, deadlines, idempotency
   *   map and metrics are restored and every unfinished lifecycle resumes with its remaining time.
   *   Must be called in workflow context (it starts the restored lifecycles).
   */
  constructor(key?: ConversationKey, snapshot?: OutboundSnapshot, options: OutboundTrackerOptions = {}) {
    this.defaults = {
      revokeFailedGraceMs: options.revokeFailedGraceMs ?? DEFAULT_REVOKE_FAILED_GRACE_MS,
      ttlEventGraceMs: options.ttlEventGraceMs ?? DEFAULT_TTL_EVENT_GRACE_MS,
    };
    this.maxMessages = options.maxMessages ?? 100;
    this.maxIdempotencyKeys = options.maxIdempotencyKeys ?? 1000;
    this.onAccepted = options.onAccepted;
    this.readWithinNeedsReadReceipts = options.readWithinNeedsReadReceipts === true;
    this.defaultRepresentative = options.defaultRepresentative;
    this.carriedMetrics = snapshot?.metrics;
    this.ready = options.waitForPrevious !== true;
    const knownKey = key ?? snapshot?.conversationKey;
    if (knownKey !== undefined) this.learnKey(knownKey);
    if (snapshot !== undefined) this.restore(snapshot);
  }

  /** True while a lifecycle is inside an activity call: continue-as-new must wait for false. */
  get busy(): boolean {
    return this.inFlight > 0;
  }

  /**
   * True while any message still has a timer or action pending. The workflow must not complete
   * (idle close) while this is true — a completed run fires no timers — but it may continue-as-new.
   */
  get hasPendingWork(): boolean {
    for (const rec of this.records.values()) if (!rec.finished) return true;
    return false;
  }

  /**
   * Sends a message and tracks it. Resolves once the send settled (with an immediate SMS, if any):
   * `status` is then SENT, FAILED or FALLBACK_SENT (or already DELIVERED). A known idempotency key
   * returns the earlier message and sends nothing. Rejects with an ApplicationFailure of type
   * InvalidOutboundMessage for a request the validator refuses — catch it if you call this from
   * the main workflow function, or the whole conversation fails.
   */
  async send(
    input: OutboundSendInput,
    options: { readReceiptFor?: string } = {},
  ): Promise<OutboundSendResult & { readReceipt?: ReadReceiptInReply['state'] }> {
    this.assertValid(input);
    this.learnKey(input.conversationKey);
    // A reopened conversation must know the previous run's idempotency keys before it may send.
    if (!this.ready) await condition(() => this.ready);
    const known = input.idempotencyKey !== undefined ? this.idempotency.get(input.idempotencyKey) : undefined;
    if (known !== undefined) {
      const rec = this.records.get(known.messageId);
      if (rec === undefined) return { messageId: known.messageId, status: known.lastStatus ?? 'SENT', duplicate: true };
      await condition(() => rec.initialSettled);
      return { messageId: rec.messageId, status: rec.status, duplicate: true, message: copy(rec) };
    }

    // Deterministic: the workflow's seeded uuid4, never an id made up inside an activity.
    const representative = input.representative ?? this.defaultRepresentative?.();
    const rec = createRecord({
      messageId: uuid4(),
      input: representative !== undefined ? { ...input, representative } : input,
      nowMs: Date.now(),
      defaults: this.defaults,
    });
    if (this.readWithinNeedsReadReceipts) rec.policy.readWithinNeedsReadReceipts = true;
    this.records.set(rec.messageId, rec);
    if (input.idempotencyKey !== undefined)
      this.rememberIdempotencyKey({ key: input.idempotencyKey, messageId: rec.messageId });
    const read: ReadReceiptInReply | undefined =
      options.readReceiptFor !== undefined ? { messageId: options.readReceiptFor, state: 'pending' } : undefined;
    if (read) this.readReceiptsInReply.set(rec.messageId, read);
    this.metrics().accepted();
    this.onAccepted?.(copy(rec));
    this.start(rec);
    this.evict();
    try {
      await condition(() => rec.initialSettled);
    } finally {
      this.readReceiptsInReply.delete(rec.messageId);
    }
    return {
      messageId: rec.messageId,
      status: rec.status,
      duplicate: false,
      message: copy(rec),
      ...(read ? { readReceipt: read.state } : {}),
    };
  }

  /** Throws ApplicationFailure(InvalidOutboundMessage) naming the offending field. Used as the update validator. */
  assertValid(input: OutboundSendInput): void {
    let channel: 'rbm' | 'bm';
    try {
      channel = parseConversationKey(input.conversationKey).channel;
    } catch (err) {
      throw ApplicationFailure.nonRetryable((err as Error).message, INVALID_OUTBOUND_MESSAGE, [
        { path: 'conversationKey', message: (err as Error).message },
      ]);
    }
    if (this.key !== undefined && input.conversationKey !== this.key) {
      throw ApplicationFailure.nonRetryable(
        'conversationKey does not match this conversation',
        INVALID_OUTBOUND_MESSAGE,
        [{ path: 'conversationKey', message: 'does not match this conversation' }],
      );
    }
    if (input.content === undefined || typeof input.content !== 'object') {
      throw ApplicationFailure.nonRetryable('content is required', INVALID_OUTBOUND_MESSAGE, [
        { path: 'content', message: 'required' },
      ]);
    }
    const issues = validateOutboundRequest(channel, input, Date.now());
    if (issues.length > 0) {
      const first = issues[0]!;
      throw ApplicationFailure.nonRetryable(`${first.path}: ${first.message}`, INVALID_OUTBOUND_MESSAGE, issues);
    }
  }

  /** Receipts and TTL server events for our outbound messages, already deduped by the conversation. */
  onInboundEvent(event: OutboundInboundEvent): void {
    this.learnKey(event.conversationKey);
    if (!this.ready) {
      // It may well be for a message of the previous run: hold it until that run's records are in.
      this.heldEvents.push(event);
      return;
    }
    const now = Date.now();
    const rec = this.records.get(event.messageId);
    if (rec === undefined) {
      // Not ours any more (evicted), never ours, or from another system sharing the agent: record, never fail.
      this.unmatched.push({
        messageId: event.messageId,
        type: event.type,
        detail:
          event.type === 'receipt'
            ? event.receipt
            : event.revoked
              ? 'TTL_EXPIRATION_REVOKED'
              : 'TTL_EXPIRATION_REVOKE_FAILED',
        atMs: now,
      });
      if (this.unmatched.length > MAX_UNMATCHED) this.unmatched.splice(0, this.unmatched.length - MAX_UNMATCHED);
      this.metrics().unmatched();
      return;
    }
    if (event.type === 'receipt') applyReceipt(rec, event.receipt, now, this.metrics());
    else applyTtlEvent(rec, event.revoked, now, this.metrics());
  }

  /** One message as tracked now (a copy), or undefined. */
  message(messageId: string): OutboundRecord | undefined {
    const rec = this.records.get(messageId);
    return rec === undefined ? undefined : copy(rec);
  }

  /** Messages (oldest first), unmatched events and metrics: the answer of outboundMessagesQuery. */
  view(): OutboundMessagesView {
    return {
      conversationKey: this.key,
      messages: [...this.records.values()].map(copy),
      unmatched: this.unmatched.map((u) => ({ ...u })),
      metrics: this.metrics().view(),
    };
  }

  /**
   * Everything a new run needs: records with absolute deadlines, idempotency map, unmatched
   * events, metrics. Take it when `busy` is false: a lifecycle caught inside an activity redoes
   * that activity after the restore (same ids, so Google and the SMS provider dedupe it).
   */
  snapshot(): OutboundSnapshot {
    return {
      version: 1,
      conversationKey: this.key,
      // Finished messages keep only the tail of their log: the snapshot rides in the continue-as-new input.
      messages: [...this.records.values()].map((rec) =>
        rec.finished
          ? { ...copy(rec), log: rec.log.slice(-SNAPSHOT_LOG_OF_FINISHED).map((l) => ({ ...l })) }
          : copy(rec),
      ),
      idempotency: [...this.idempotency.values()].map((e) => ({ ...e })),
      unmatched: this.unmatched.map((u) => ({ ...u })),
      metrics: this.metricsImpl !== undefined ? copy(this.metricsImpl.state) : this.carriedMetrics,
    };
  }

  /**
   * A reopened conversation (new run after the previous one completed): merges what the previous
   * run returned — records, idempotency keys, unmatched events, metrics — and releases the sends
   * and events held since construction with `waitForPrevious`. Call it exactly once in that case,
   * with undefined when there was no previous run.
   */
  absorbPrevious(snapshot: OutboundSnapshot | undefined): void {
    if (snapshot !== undefined) {
      if (this.key === undefined && snapshot.conversationKey !== undefined) this.learnKey(snapshot.conversationKey);
      if (snapshot.metrics !== undefined) {
        if (this.metricsImpl !== undefined) addMetrics(this.metricsImpl.state, snapshot.metrics);
        else if (this.carriedMetrics !== undefined) addMetrics(this.carriedMetrics, snapshot.metrics);
        else this.carriedMetrics = copy(snapshot.metrics);
      }
      this.restore({ ...snapshot, metrics: undefined });
    }
    this.ready = true;
    for (const event of this.heldEvents.splice(0)) this.onInboundEvent(event);
  }

  private restore(snapshot: OutboundSnapshot): void {
    for (const entry of snapshot.idempotency)
      if (!this.idempotency.has(entry.key)) this.idempotency.set(entry.key, { ...entry });
    this.unmatched.unshift(...snapshot.unmatched.map((u) => ({ ...u })));
    // Older records first, so eviction keeps dropping the oldest.
    const current = [...this.records.entries()];
    this.records.clear();
    for (const saved of snapshot.messages) {
      const rec = copy(saved);
      this.records.set(rec.messageId, rec);
      if (!rec.finished) this.start(rec);
    }
    for (const [id, rec] of current) if (!this.records.has(id)) this.records.set(id, rec);
  }

  private start(rec: OutboundRecord): void {
    const conversationKey = this.key;
    if (conversationKey === undefined)
      throw ApplicationFailure.nonRetryable('outbound tracker has no conversation key', 'OutboundStateCorrupt');
    // A message's lifecycle belongs to no caller's scope. Started from the SLA timer's scope
    // (holding message), it must not be cancelled when a human joins and that scope is cancelled:
    // its activities run to their end and the record stays true (a cancelled send once escaped as
    // an unhandled rejection and failed every workflow task after it).
    const lifecycle = CancellationScope.nonCancellable(() =>
      runLifecycle(rec, {
        conversationKey,
        metrics: this.metrics(),
        planContext: () => ({ userSendsReadReceipts: this.metrics().state.read > 0 }),
        readReceiptInReply: () => this.readReceiptsInReply.get(rec.messageId),
        inActivity: async (fn) => {
          this.inFlight++;
          try {
            return await fn();
          } finally {
            this.inFlight--;
          }
        },
      }),
    );
    void lifecycle.catch((err: unknown) => {
      rec.finished = true;
      rec.initialSettled = true;
      log.error('outbound lifecycle ended abnormally', {
        messageId: rec.messageId,
        error: err instanceof Error ? err.message : String(err),
      });
    });
  }

  private learnKey(key: ConversationKey): void {
    if (this.key === undefined) this.key = key;
  }

  /** Created on first use: the emitter needs the workflow context and the key's channel and agent. */
  private metrics(): OutboundMetrics {
    if (this.metricsImpl === undefined) {
      let state: OutboundMetricsState;
      if (this.carriedMetrics !== undefined) state = copy(this.carriedMetrics);
      else if (this.key !== undefined) {
        const { channel, agent } = conversationParts(this.key);
        state = emptyMetrics(channel, agent);
      } else {
        // Nothing happened yet and the channel is unknown: an empty, uncached set for views.
        return new OutboundMetrics(emptyMetrics('rbm', 'unknown'));
      }
      let emitter: MetricsEmitter | undefined;
      try {
        emitter = workflowMetricsEmitter(state.channel, state.agent);
      } catch {
        // Outside a workflow (never in production): counters only.
        emitter = undefined;
      }
      this.metricsImpl = new OutboundMetrics(state, emitter);
    }
    return this.metricsImpl;
  }

  private rememberIdempotencyKey(entry: IdempotencyEntry): void {
    this.idempotency.set(entry.key, entry);
    while (this.idempotency.size > this.maxIdempotencyKeys) {
      const oldest = this.idempotency.keys().next();
      if (oldest.done === true) break;
      this.idempotency.delete(oldest.value);
    }
  }

  /** Drops the oldest finished records beyond the bound; their idempotency entries keep the last status. */
  private evict(): void {
    if (this.records.size <= this.maxMessages) return;
    for (const rec of [...this.records.values()]) {
      if (this.records.size <= this.maxMessages) break;
      if (!rec.finished) continue;
      this.records.delete(rec.messageId);
      if (rec.idempotencyKey !== undefined) {
        const entry = this.idempotency.get(rec.idempotencyKey);
        if (entry !== undefined) entry.lastStatus = rec.status;
      }
    }
  }
}

/** Adds the counters of `from` into `into` (a reopened conversation keeps counting). */
function addMetrics(into: OutboundMetricsState, from: OutboundMetricsState): void {
  for (const [name, value] of Object.entries(from) as [keyof OutboundMetricsState, unknown][]) {
    const target = into as unknown as Record<string, unknown>;
    if (typeof value === 'number' && typeof target[name] === 'number') target[name] = (target[name] as number) + value;
  }
  for (const name of ['timeToDeliverMs', 'timeToReadMs'] as const) {
    into[name].count += from[name].count;
    into[name].sum += from[name].sum;
    into[name].max = Math.max(into[name].max, from[name].max);
  }
}

/** Deep copy of plain JSON data (queries and snapshots must not alias live state). */
function copy<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
