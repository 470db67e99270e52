/**
 * Shapes of the operator API's answers as zod schemas, for the routes' OpenAPI descriptions. The
 * bodies themselves are built from TypeScript types of the workflow and the Temporal client; the
 * `Describes` checks at the end (and in messages.ts) make tsc fail when such a type drifts from its schema. Objects
 * are open (extra fields allowed): a newer field is never a broken contract.
 */
import { z } from 'zod';

import { type ConversationSummary } from '../temporal-client/conversations';
import { type TranscriptEntry } from '../temporal-client/transcript';
import { type UnrecognizedPayloadSummary } from '../temporal-client/unrecognized-payload-store';
import { type ConversationView, type UnrecognizedPayloadView } from '../workflows/definitions';

const channel = z.enum(['rbm', 'bm']);
const isoTime = z.string().meta({ description: 'RFC 3339 time' });

export const assignmentSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('automation') }),
  z.object({ kind: z.literal('queue'), queue: z.string() }),
  z.object({
    kind: z.literal('human'),
    agentId: z.string(),
    displayName: z.string().optional(),
    queue: z.string().optional(),
  }),
]);

export const conversationSummarySchema = z
  .object({
    workflowId: z.string(),
    runId: z.string(),
    status: z.string().meta({ description: "The workflow's execution status, e.g. RUNNING" }),
    channel: z.string().optional(),
    conversationStatus: z.string().optional(),
    locale: z.string().optional(),
    place: z.string().optional(),
    queue: z.string().optional(),
    lastInboundAt: z.string().optional(),
    startTime: isoTime,
    closeTime: isoTime.optional(),
    displayName: z.string().optional(),
  })
  .meta({ description: 'A conversation as Temporal visibility lists it' });

const historyEntry = z.object({
  direction: z.enum(['inbound', 'outbound']),
  messageId: z.string(),
  kind: z.string(),
  summary: z.string(),
  at: isoTime,
});

export const conversationViewSchema = z
  .object({
    key: z.string(),
    channel,
    status: z.enum(['automation', 'waiting_for_agent', 'with_agent', 'closed']),
    assignment: assignmentSchema,
    locale: z.string().optional(),
    displayName: z.string().optional(),
    placeId: z.string().optional(),
    history: z.array(historyEntry),
    events: z
      .array(z.object({ type: z.string(), channel, conversationKey: z.string(), dedupeKey: z.string() }))
      .meta({ description: 'Every event the workflow accepted, newest last (bounded)' }),
    routingDecisions: z.array(
      z.object({ messageId: z.string(), action: z.string(), detail: z.string().optional(), at: isoTime }),
    ),
    readReceiptsSent: z.array(z.string()),
    unreadByAgent: z.array(z.string()),
    userTyping: z.object({ isTyping: z.boolean(), since: isoTime.optional(), changes: z.number().int() }),
    activityFailures: z
      .array(z.object({ kind: z.string(), message: z.string(), at: isoTime, messageId: z.string().optional() }))
      .optional(),
    unsentReceipts: z.array(z.string()).optional(),
    dormant: z.boolean().optional(),
    participants: z.object({
      bot: z.boolean(),
      humans: z.array(z.object({ agentId: z.string(), displayName: z.string().optional() })),
    }),
    lastInboundAt: isoTime.optional(),
    generation: z.number().int(),
  })
  .meta({ description: "The conversation's state (the workflow's conversationState query)" });

export const transcriptEntrySchema = historyEntry.extend({ runId: z.string() });

const representative = z.object({ type: z.enum(['BOT', 'HUMAN']), displayName: z.string().optional() });
const outboundStatus = z.enum([
  'PENDING',
  'SENT',
  'DELIVERED',
  'READ',
  'EXPIRED',
  'REVOKED',
  'FALLBACK_SENT',
  'FAILED',
]);

export const trackedMessageSchema = z
  .object({
    messageId: z.string(),
    status: outboundStatus,
    channel,
    origin: z.enum(['operator', 'automation']),
    summary: z.string(),
    representative,
    idempotencyKey: z.string().optional(),
    timestamps: z.partialRecord(outboundStatus, isoTime),
    acceptedAt: isoTime.optional(),
    sentAt: isoTime.optional(),
    deliveredAt: isoTime.optional(),
    readAt: isoTime.optional(),
    delivery: z
      .object({ revokeFailedGraceMs: z.number(), ttlEventGraceMs: z.number(), timeSensitive: z.boolean() })
      .meta({ description: 'The delivery policy with defaults applied' }),
    deadlines: z.record(z.string(), isoTime.optional()),
    send: z.object({
      state: z.enum(['pending', 'sent', 'failed']),
      at: isoTime.optional(),
      failureType: z.string().optional(),
      failureMessage: z.string().optional(),
    }),
    ttlEvent: z.object({ revoked: z.boolean(), at: isoTime.optional() }).optional(),
    expiry: z.object({ reason: z.string(), at: isoTime.optional() }).optional(),
    revoke: z
      .object({
        state: z.string(),
        source: z.enum(['ttl', 'explicit']),
        at: isoTime.optional(),
        detail: z.string().optional(),
      })
      .optional(),
    sms: z
      .object({
        state: z.enum(['in_flight', 'sent', 'failed', 'skipped']),
        reason: z.string(),
        at: isoTime.optional(),
        to: z.string().optional(),
        providerMessageId: z.string().optional(),
        error: z.string().optional(),
      })
      .optional(),
    finished: z.boolean(),
    log: z.array(z.object({ at: isoTime.optional(), event: z.string(), detail: z.string().optional() })),
  })
  .meta({ description: 'A tracked outbound message' });

const nullableNumber = z.number().nullable();
export const outboundMessagesSchema = z.object({
  conversationKey: z.string().optional(),
  messages: z.array(trackedMessageSchema),
  unmatched: z.array(
    z.object({
      messageId: z.string(),
      type: z.enum(['receipt', 'ttl_expired']),
      detail: z.string(),
      at: isoTime.optional(),
    }),
  ),
  metrics: z
    .object({
      channel,
      agent: z.string(),
      accepted: z.number().int(),
      sent: z.number().int(),
      delivered: z.number().int(),
      read: z.number().int(),
      expired: z.number().int(),
      fallbackSms: z.number().int(),
      deliveryRate: nullableNumber,
      readRate: nullableNumber,
      avgTimeToDeliverMs: nullableNumber,
      avgTimeToReadMs: nullableNumber,
    })
    .meta({ description: 'Receipt metrics of the conversation: counts per message, never per redelivery' }),
});

export const sendMessageResultSchema = z.object({
  messageId: z.string(),
  status: outboundStatus,
  duplicate: z.boolean(),
  message: trackedMessageSchema.optional(),
});

const unrecognizedStatus = z.enum(['pending', 'replayed', 'dismissed', 'expired']);

export const unrecognizedSummarySchema = z.object({
  id: z.string(),
  channel,
  kind: z.string(),
  reason: z.string(),
  receivedAt: isoTime,
  bytes: z.number().int(),
  status: unrecognizedStatus,
  closedAt: isoTime.optional(),
});

export const unrecognizedViewSchema = z
  .object({
    id: z.string(),
    channel,
    kind: z.string(),
    reason: z.string(),
    receivedAt: isoTime,
    bodyBase64: z
      .string()
      .meta({ description: 'The exact request body (gzip-compressed first when bodyEncoding says so)' }),
    bodyEncoding: z.literal('gzip').optional(),
    bodyChunks: z.number().int().optional(),
    headers: z.record(z.string(), z.string()),
    credentialsRemoved: z.literal(true).optional(),
    requestId: z.string().optional(),
    status: unrecognizedStatus,
    deliveries: z.object({ count: z.number().int(), firstAt: isoTime.optional(), lastAt: isoTime.optional() }),
    replays: z.array(z.object({ at: isoTime, status: z.number().int(), resolved: z.boolean() })),
    dismissedAt: isoTime.optional(),
  })
  .meta({ description: 'One kept payload, with the headers a replay needs' });

/** Compile-time check that a TypeScript type (an answer's) is assignable to a schema's type. */
export type Describes<Schema extends z.ZodType, T extends z.output<Schema>> = T;
type _DescribesConversationView = Describes<typeof conversationViewSchema, ConversationView>;
type _DescribesConversationSummary = Describes<typeof conversationSummarySchema, ConversationSummary>;
type _DescribesTranscriptEntry = Describes<typeof transcriptEntrySchema, TranscriptEntry>;
type _DescribesUnrecognizedSummary = Describes<typeof unrecognizedSummarySchema, UnrecognizedPayloadSummary>;
type _DescribesUnrecognizedView = Describes<typeof unrecognizedViewSchema, UnrecognizedPayloadView>;
