/**
 * Messages, queries, updates and search attributes of the conversation workflow: imported by the
 * workflow and by the API alike, so both sides agree on names and types.
 */
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';

import { type Channel, type ConversationKey } from '../domain/conversation-key';
import { type InboundContext, type InboundEvent, type MessageKind } from '../domain/inbound';
import { type Representative } from '../domain/outbound';
import { type RoutingConfig, type RoutingContext } from '../routing';
import {
  type OutboundMessagesView,
  type OutboundSendInput,
  type OutboundSendResult,
  type OutboundSnapshot,
} from './outbound/types';

/** Every event of one webhook request that belongs to one conversation, in one signal. */
export const inboundEventsSignal = defineSignal<[InboundEvent[]]>('inboundEvents');

/** The conversation's current state, for operators and tests. */
export const conversationStateQuery = defineQuery<ConversationView>('conversationState');

/** Operator: mark the user's messages READ (all unread human-handled ones when messageIds is omitted). */
export const markReadUpdate = defineUpdate<
  { marked: string[]; failed?: string[] },
  [{ agentId: string; messageIds?: string[] }]
>('markRead');

/** Operator: a human agent starts or stops typing; the workflow keeps the channel's indicator alive. */
export const agentTypingUpdate = defineUpdate<{ typing: boolean }, [{ agentId: string; typing: boolean }]>(
  'agentTyping',
);

/** Operator: hand the conversation to a human agent (join) or release it back to automation. */
export const assignUpdate = defineUpdate<{ assignedTo: Assignment }, [AssignRequest]>('assign');

export type AssignRequest = { to: 'human'; agentId: string; displayName?: string } | { to: 'automation' };
export type Assignment =
  | { kind: 'automation' }
  | { kind: 'queue'; queue: string }
  | { kind: 'human'; agentId: string; displayName?: string; queue?: string };

/** Search attributes the workflow keeps current; registered on the namespace at start-up. */
export const searchAttributes = {
  channel: defineSearchAttributeKey('SwitchboardChannel', SearchAttributeType.KEYWORD),
  status: defineSearchAttributeKey('SwitchboardStatus', SearchAttributeType.KEYWORD),
  locale: defineSearchAttributeKey('SwitchboardLocale', SearchAttributeType.KEYWORD),
  place: defineSearchAttributeKey('SwitchboardPlace', SearchAttributeType.KEYWORD),
  queue: defineSearchAttributeKey('SwitchboardQueue', SearchAttributeType.KEYWORD),
  lastInboundAt: defineSearchAttributeKey('SwitchboardLastInboundAt', SearchAttributeType.DATETIME),
} as const;

/**
 * SwitchboardLastInboundAt holds the hour of the last inbound event, not its instant: one upsert per
 * hour of activity instead of one per event (every upsert is a history event and an action).
 */
export function lastInboundHour(receivedAt: string): Date {
  const hourMs = 3_600_000;
  return new Date(Math.floor(Date.parse(receivedAt) / hourMs) * hourMs);
}

/**
 * RBM's typing indicator fades after about 20 s (Google's RBM events guide): a user's typing state
 * without a fresh event clears then.
 */
export const USER_TYPING_FADES_AFTER_MS = 20_000;

/**
 * The user's typing state as of `nowMs`: a "typing" older than the fade time has cleared. The
 * workflow arms no timer for the fade (COST_PATCHES.typingFadeByReader): a query answers with the
 * workflow's clock of its last task, so whoever reads the view applies the fade with its own clock.
 */
export function userTypingAsOf(typing: ConversationView['userTyping'], nowMs: number): ConversationView['userTyping'] {
  if (!typing.isTyping || typing.since === undefined) return typing;
  return nowMs - Date.parse(typing.since) >= USER_TYPING_FADES_AFTER_MS ? { ...typing, isTyping: false } : typing;
}

/** Tunables of one conversation; defaults in conversation-settings.ts. */
export interface ConversationSettings {
  /**
   * Quiet period after which the conversation goes dormant: it continues as new into a run that
   * carries its memory and waits for the next event (status `closed`). Runs started before that
   * change complete instead.
   */
  idleTimeout: string | number;
  /** No human joined within this → a localized holding message, once per handoff. */
  handoffSla: string | number;
  /** Re-send the typing indicator this often while someone composes (RBM's fades after ~20 s). */
  typingKeepAlive: string | number;
  /** Continue-as-new after this many history events even if the server has not suggested it (tests force it low). */
  continueAsNewAfterEvents: number;
  maxHistory: number;
  /** Dedupe keys kept of typing and subscription events (a window of their own: they never evict a message id). */
  dedupeWindow: number;
  /** How long message, receipt, TTL-event and request ids are recognised (at least Google's 7-day redelivery period). */
  dedupeRetention: string | number;
  /** At most this many message / receipt ids are kept, however recent. */
  dedupeMaxKeys: number;
  /** The agent's typing keep-alive ends after this long without a fresh typing=true from the desk. */
  typingMaxDuration: string | number;
}

export interface ConversationInput {
  key: ConversationKey;
  settings?: Partial<ConversationSettings>;
  /**
   * Validated routing file (src/routing), as starts carried it before routing versions; when
   * neither it nor `routingVersion` is given, the conversation hands every message to humans.
   */
  routing?: RoutingConfig;
  /** The routing file's version (routingVersionOf): the worker holds the file (routing-version.ts). */
  routingVersion?: string;
  /** State handed over by continue-as-new (or by the previous run of a reopened conversation). */
  carried?: CarriedConversation;
}

export interface HistoryEntry {
  direction: 'inbound' | 'outbound';
  messageId: string;
  kind: MessageKind;
  /** Text, URL or postback data: what an operator needs to read the conversation. */
  summary: string;
  at: string;
}

/** Everything a new run needs from the previous one. */
export interface CarriedConversation {
  conversation: ConversationSnapshot;
  outbound?: OutboundSnapshot;
}

export type ConversationStatus = 'automation' | 'waiting_for_agent' | 'with_agent' | 'closed';

export interface ConversationView {
  key: ConversationKey;
  channel: Channel;
  status: ConversationStatus;
  /** Who handles the user's messages now. */
  assignment: Assignment;
  locale?: string;
  displayName?: string;
  placeId?: string;
  history: HistoryEntry[];
  /** Every event the workflow accepted, newest last (bounded). */
  events: InboundEvent[];
  /** Routing decisions, newest last (bounded). */
  routingDecisions: { messageId: string; action: string; detail?: string; at: string }[];
  /** User messages we marked READ (exactly once each). */
  readReceiptsSent: string[];
  /** Human-handled user messages no agent has read yet. */
  unreadByAgent: string[];
  /** The user's typing state; `isTyping` clears by itself ~20 s after the last typing event (RBM's indicator fades then). */
  userTyping: { isTyping: boolean; since?: string; changes: number };
  /** Activity failures the conversation recorded and carried on from, newest last (bounded). */
  activityFailures?: ActivityFailureRecord[];
  /** User messages whose READ receipt failed and will be tried again when the user next writes. */
  unsentReceipts?: string[];
  /** True while the conversation is idle and dormant (continued as new, waiting for the next event). */
  dormant?: boolean;
  participants: { bot: boolean; humans: { agentId: string; displayName?: string }[] };
  lastInboundAt?: string;
  /** How many runs (continue-as-new / reopen) this conversation has had before the current one. */
  generation: number;
}

// ---------------------------------------------------------------------------------------------
// Unrecognized webhook payloads: one small workflow per correctly signed payload of a kind this
// build does not know (src/workflows/unrecognized-payloads.ts), so nothing Google sends is dropped
// and an operator can list, replay or dismiss it (src/api/unrecognized-payloads.ts).

/** A correctly signed webhook payload of a kind this build does not know, kept for an operator. */
export interface UnrecognizedPayload {
  /** Hex digest of channel and signed bytes: every redelivery of one payload has the same id. */
  id: string;
  channel: Channel;
  /** What it looked like, e.g. `rbm.agent_launch_event` or `bm.unknown`. */
  kind: string;
  reason: string;
  receivedAt: string;
  /** The exact request body, base64, so a replay verifies the very bytes Google signed (gzip-compressed first when bodyEncoding says so). */
  bodyBase64: string;
  /** `gzip`: bodyBase64 holds the gzip of the body (large bodies, so they fit Temporal's payload limit); absent: the body itself. */
  bodyEncoding?: 'gzip';
  /**
   * A body too large for one Temporal payload even compressed is kept in parts: bodyBase64 holds
   * the first of `bodyChunks` parts of the (encoded) base64 text, the others arrive by
   * unrecognizedPayloadChunkSignal. Absent: bodyBase64 is all of it.
   */
  bodyChunks?: number;
  /** The request headers a replay needs (x-goog-signature, content-type). */
  headers: Record<string, string>;
  /**
   * A Business Messages sign-in's authorization code was removed from the body before it was kept
   * (it must never reach Temporal): the body is no longer the signed one, so it cannot be replayed.
   */
  credentialsRemoved?: true;
  /** API request id of the first delivery, to find it in the logs. */
  requestId?: string;
}

/** Google delivered the payload (again). */
export interface UnrecognizedPayloadDelivery {
  at: string;
  requestId?: string;
}

/** An operator replayed the payload through the webhook path; `resolved` when it was accepted (200). */
export interface UnrecognizedPayloadReplay {
  at: string;
  status: number;
  resolved: boolean;
  requestId?: string;
  /** Error code or outcome the webhook path answered. */
  detail?: string;
}

/** `pending` until replayed successfully, dismissed, or `expired` (its workflow timed out after the retention the API started it with). */
export type UnrecognizedPayloadStatus = 'pending' | 'replayed' | 'dismissed' | 'expired';

/** What an operator sees of one kept payload. */
export interface UnrecognizedPayloadView extends UnrecognizedPayload {
  status: UnrecognizedPayloadStatus;
  deliveries: { count: number; firstAt?: string; lastAt?: string };
  /** Newest last, bounded. */
  replays: UnrecognizedPayloadReplay[];
  dismissedAt?: string;
}

/** Google delivered the payload (first time or again). */
export const unrecognizedPayloadDeliveredSignal =
  defineSignal<[UnrecognizedPayloadDelivery]>('unrecognizedPayloadDelivered');
/** An operator replayed it; see UnrecognizedPayloadReplay. */
export const unrecognizedPayloadReplayedSignal =
  defineSignal<[UnrecognizedPayloadReplay]>('unrecognizedPayloadReplayed');
/** An operator closed it without a replay. */
export const unrecognizedPayloadDismissedSignal =
  defineSignal<[{ at: string; note?: string }]>('unrecognizedPayloadDismissed');
/** The kept payload, its status, deliveries and replays. */
export const unrecognizedPayloadQuery = defineQuery<UnrecognizedPayloadView>('unrecognizedPayload');
/** One more part of a body kept in parts (UnrecognizedPayload.bodyChunks); index 1 … bodyChunks - 1. */
export const unrecognizedPayloadChunkSignal =
  defineSignal<[{ index: number; data: string }]>('unrecognizedPayloadChunk');
/** Part `index` of the body (0 is bodyBase64), or null while it has not arrived. */
export const unrecognizedPayloadChunkQuery = defineQuery<string | null, [number]>('unrecognizedPayloadChunk');

// --- Outbound messages (issue 6) -------------------------------------------------------------

/**
 * Operator / API: send one outbound message and track it until DELIVERED / READ or its fallback.
 * Answers once the send settled (see OutboundTracker.send). Send it with an updateId derived from
 * the Idempotency-Key; the key itself travels in the input, because update ids do not survive
 * continue-as-new and the workflow's own idempotency map does.
 */
export const sendMessageUpdate = defineUpdate<OutboundSendResult, [OutboundSendInput]>('sendMessage');

/** Every tracked outbound message with its status and timestamps, plus the receipt metrics. */
export const outboundMessagesQuery = defineQuery<OutboundMessagesView>('outboundMessages');

/** The updateId `sendMessageUpdate` is sent with for an Idempotency-Key (one message per key and conversation run). */
export function sendMessageUpdateId(idempotencyKey: string): string {
  return `send-message:${idempotencyKey}`;
}

/** A user message as the workflow queues it for routing. */
export type UserMessageEvent = Extract<InboundEvent, { type: 'message' }>;

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
  /**
   * Dedupe keys of messages, receipts, TTL events and requests with the workflow time they were
   * accepted: kept for `dedupeRetention` (at least Google's 7-day redelivery period), at most
   * `dedupeMaxKeys`. Absent in snapshots of older runs (their keys are all in `dedupeKeys`).
   */
  durableKeys?: [string, number][];
  /** Activity failures the conversation recorded and carried on from, newest last (bounded). */
  activityFailures?: ActivityFailureRecord[];
  /** READ receipts that failed: retried when the user writes again, given up after a few attempts. */
  unsentReceipts?: { messageId: string; attempts: number }[];
  /** The run continued as new on idle and waits, doing nothing, for the next event (status `closed`). */
  dormant?: boolean;
  /** Workflow time (ms) after which the conversation goes dormant unless something happens first. */
  idleDeadlineMs?: number;
  /** A live-agent request accepted but not handled yet (carried across continue-as-new). */
  liveAgentRequested?: boolean;
  lastInboundAt?: string;
  lastContext?: InboundContext;
  handoff?: HandoffState;
  /** A human's typing keep-alive still running when the run continued as new (typing.ts). */
  agentTyping?: AgentTypingSnapshot;
  generation: number;
  /** Counter for deterministic event ids of our own (typing, joins). */
  sequence: number;
}

/** The agent's typing keep-alive as the next run needs it: who types, since when, when it was last sent (workflow ms). */
export interface AgentTypingSnapshot {
  representative: Representative;
  refreshedAtMs: number;
  lastSentAtMs: number;
}

/** One activity failure the conversation survived. */
export interface ActivityFailureRecord {
  /** What failed: read_receipt, reply, handoff_notification, representative_event, previous_run_lookup, ... */
  kind: string;
  /** The failure's type (e.g. NotRcsReachable) and message. */
  message: string;
  at: string;
  /** The message concerned, when there is one. */
  messageId?: string;
}

export interface HandoffState {
  handoffId: string;
  queue: string;
  reason: string;
  requestedAt: string;
  holdingMessageSent: boolean;
}
