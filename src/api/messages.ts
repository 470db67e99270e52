/**
 * Operator API for outbound messages (issue 6), mounted under /v1 behind bearer auth by app.ts:
 *
 * - POST /conversations/{key}/messages           send one message (update-with-start), 201 / 200
 * - GET  /conversations/{key}/messages           every tracked message + receipt metrics
 * - GET  /conversations/{key}/messages/{id}      one message
 *
 * `{key}` is the URL-encoded conversation key (`rbm%3Aagent%40rbm.goog%3A%2B14155550100`).
 * An `Idempotency-Key` header makes a retried POST the same message (same messageId, nothing sent
 * twice), also after the conversation's workflow continued-as-new.
 */
import { createHash, randomUUID } from 'node:crypto';

import { type ApplicationFailure } from '@temporalio/common';
import { Hono } from 'hono';
import { z } from 'zod';

import { type Channel, type ConversationKey } from '../domain/conversation-key';
import {
  type DeliveryPolicy,
  INVALID_OUTBOUND_MESSAGE,
  isE164,
  type OutboundContent,
  parseDuration,
  validateOutboundRequest,
} from '../domain/outbound';
import { sendMessageUpdateId } from '../workflows/definitions';
import {
  type OutboundMessagesView,
  type OutboundRecord,
  type OutboundSendInput,
  type OutboundSendResult,
} from '../workflows/outbound/types';
import { type AppDeps } from './deps';
import { ApiError, onConversation } from './errors';
import { CONVERSATION_ERRORS, documented, errorResponse, KEY_PARAM } from './openapi';
import {
  type Describes,
  outboundMessagesSchema,
  sendMessageResultSchema,
  trackedMessageSchema,
} from './response-schemas';
import { conversationKeyParam, parseJsonBody } from './validation';

const duration = z
  .string()
  .refine((v) => parseDuration(v) !== undefined, { message: 'a duration such as "90s", "10m", "2h" or "1d"' });

/** What an openUrl action may open: https pages, and the tel: and geo: links Google's clients hand to the dialer and maps. */
const OPEN_URL_PATTERN =
  '^(https://[^\\s]{1,2040}|tel:\\+?[0-9*#,;()./-]{1,64}|geo:-?[0-9.]{1,20},-?[0-9.]{1,20}([;?][^\\s]{0,200})?)$';
/** Media a message shows (file, thumbnail): https only. */
const MEDIA_URL_PATTERN = '^https://[^\\s]{1,2040}$';
const openUrl = z
  .string()
  .regex(new RegExp(OPEN_URL_PATTERN), { message: 'must be an https URL (or a tel: or geo: link)' })
  .refine(parsesAsUrl, { message: 'must be a URL' });
const mediaUrl = z
  .string()
  .regex(new RegExp(MEDIA_URL_PATTERN), { message: 'must be an https URL' })
  .refine(parsesAsUrl, { message: 'must be a URL' });

function parsesAsUrl(value: string): boolean {
  return URL.canParse(value);
}

const suggestionSchema = z.strictObject({
  kind: z.enum(['reply', 'action']),
  // Both channels cut suggestion chips at 25 characters.
  text: z.string().min(1).max(25),
  postbackData: z.string().min(1).max(2048),
  openUrl: openUrl.optional(),
  dialPhoneNumber: z.string().refine(isE164, { message: 'must be an E.164 number' }).optional(),
});

/** Nesting of a rich card: Google's deepest (carousel → card → content → media → contentInfo) is well inside it. */
const RICH_CARD_MAX_DEPTH = 12;

/**
 * A rich card is passed to Google as it is, so it is checked here for what would hurt on the way:
 * nesting (a deep object overflows the JSON encoder), and every URL in it (`url` of an openUrl
 * action: https, tel: or geo:; `fileUrl`, `thumbnailUrl` and other `…Url`/`…Uri` fields: https).
 */
const richCard = z.record(z.string(), z.unknown()).superRefine((card, ctx) => {
  const walk = (value: unknown, path: (string | number)[], depth: number): void => {
    if (depth > RICH_CARD_MAX_DEPTH) {
      ctx.addIssue({ code: 'custom', path, message: `nests deeper than ${RICH_CARD_MAX_DEPTH} levels` });
      return;
    }
    if (Array.isArray(value)) value.forEach((v, i) => walk(v, [...path, i], depth + 1));
    else if (typeof value === 'object' && value !== null) {
      for (const [k, v] of Object.entries(value)) {
        if (typeof v === 'string' && (k === 'url' || /(Url|Uri)$/.test(k))) {
          const ok = (k === 'url' ? openUrl : mediaUrl).safeParse(v).success;
          if (!ok)
            ctx.addIssue({
              code: 'custom',
              path: [...path, k],
              message: k === 'url' ? 'must be an https URL (or a tel: or geo: link)' : 'must be an https URL',
            });
        } else walk(v, [...path, k], depth + 1);
      }
    }
  };
  walk(card, [], 1);
});

/** The POST body. Strict: an unknown field (a typo such as `deliveryWithin`) is a 400, not silently ignored. */
export const sendMessageBody = z.strictObject({
  text: z.string().min(1).optional(),
  richCard: richCard.optional(),
  suggestions: z.array(suggestionSchema).optional(),
  /** Business Messages: shown when the device cannot render the content. */
  fallbackText: z.string().min(1).optional(),
  representative: z
    .strictObject({ type: z.enum(['BOT', 'HUMAN']), displayName: z.string().min(1).max(100).optional() })
    .optional(),
  delivery: z
    .strictObject({
      /** RBM, passed to Google: seconds with an "s" suffix, at most 15 days. */
      ttl: z
        .string()
        .regex(/^\d+(\.\d{1,9})?s$/, { message: 'seconds with an "s" suffix, e.g. "86400s"' })
        .optional(),
      /** RBM, passed to Google: RFC 3339, at most 15 days ahead. */
      expireTime: z.iso.datetime({ offset: true }).optional(),
      /** Our own timer: no DELIVERED within it → revoke, then SMS. */
      deliverWithin: duration.optional(),
      /** Opt-in (users may disable READ receipts): no READ within it → fallback. */
      readWithin: duration.optional(),
      /** After TTL_EXPIRATION_REVOKE_FAILED: wait this long for DELIVERED before revoking (default 10m). */
      revokeFailedGrace: duration.optional(),
      /** After the ttl passed without any TTL server event: wait this long before acting without it (default 10m). */
      ttlEventGrace: duration.optional(),
      fallbackSms: z
        .strictObject({
          text: z.string().min(1).max(1600),
          to: z.string().refine(isE164, { message: 'must be an E.164 number such as +14155550100' }).optional(),
        })
        .optional(),
      ifRevokeNotConfirmed: z.enum(['assume_delivered', 'send_sms']).optional(),
      timeSensitive: z.boolean().optional(),
    })
    .optional(),
});

export type SendMessageBody = z.infer<typeof sendMessageBody>;

/** The Idempotency-Key header; exported for the OpenAPI document (src/api/openapi.ts). */
const idempotencyKeyHeader = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, { message: 'printable ASCII without spaces' });

/** A messageId path parameter: what the POST returned (an id Switchboard made), bounded. */
const messageIdParam = z.string().min(1).max(512);

/**
 * The idempotency key the workflow keeps: the caller's key plus a digest of the request, so the
 * same key with another body is told apart (422) instead of answered with the first message. A
 * space separates them (caller keys cannot contain one).
 */
function keyedRequest(idempotencyKey: string, input: OutboundSendInput): string {
  const { content, representative, policy } = input;
  return `${idempotencyKey} sha256:${createHash('sha256').update(JSON.stringify({ content, representative, policy })).digest('hex').slice(0, 32)}`;
}

/** The caller's part of a kept idempotency key (records made before the digest existed hold the caller's key alone). */
function callerKey(kept: string): string {
  const space = kept.indexOf(' ');
  return space < 0 ? kept : kept.slice(0, space);
}

function keyReused(idempotencyKey: string): ApiError {
  return new ApiError(
    422,
    'idempotency_key_reused',
    `Idempotency-Key ${JSON.stringify(idempotencyKey)} was already used for a different request in this conversation; nothing was sent`,
    { field: 'Idempotency-Key' },
  );
}

/** Body → the workflow's input. Durations become ms; the channel rules run here so the caller gets a 400 naming the field. */
function toSendInput(
  key: ConversationKey,
  channel: Channel,
  body: SendMessageBody,
  idempotencyKey: string | undefined,
  nowMs: number,
): OutboundSendInput {
  const content: OutboundContent = {};
  if (body.text !== undefined) content.text = body.text;
  if (body.richCard !== undefined) content.richCard = body.richCard;
  if (body.suggestions !== undefined) content.suggestions = body.suggestions;
  if (body.fallbackText !== undefined) content.fallbackText = body.fallbackText;
  const d = body.delivery;
  const policy: DeliveryPolicy = {};
  if (d !== undefined) {
    if (d.ttl !== undefined) policy.ttl = d.ttl;
    if (d.expireTime !== undefined) policy.expireTime = d.expireTime;
    if (d.deliverWithin !== undefined) policy.deliverWithinMs = parseDuration(d.deliverWithin);
    if (d.readWithin !== undefined) policy.readWithinMs = parseDuration(d.readWithin);
    if (d.revokeFailedGrace !== undefined) policy.revokeFailedGraceMs = parseDuration(d.revokeFailedGrace);
    if (d.ttlEventGrace !== undefined) policy.ttlEventGraceMs = parseDuration(d.ttlEventGrace);
    if (d.fallbackSms !== undefined)
      policy.fallbackSms =
        d.fallbackSms.to !== undefined
          ? { text: d.fallbackSms.text, to: d.fallbackSms.to }
          : { text: d.fallbackSms.text };
    if (d.ifRevokeNotConfirmed !== undefined) policy.ifRevokeNotConfirmed = d.ifRevokeNotConfirmed;
    if (d.timeSensitive !== undefined) policy.timeSensitive = d.timeSensitive;
  }
  const issues = validateOutboundRequest(channel, { content, policy }, nowMs);
  const first = issues[0];
  if (first !== undefined)
    throw new ApiError(400, 'invalid_body', `${first.path}: ${first.message}`, { field: first.path, issues });
  const input: OutboundSendInput = {
    conversationKey: key,
    content,
    representative: body.representative ?? { type: 'BOT' },
    policy,
    origin: 'operator',
  };
  if (idempotencyKey !== undefined) input.idempotencyKey = idempotencyKey;
  return input;
}

const isoOrUndefined = (ms: number | undefined): string | undefined =>
  ms === undefined ? undefined : new Date(ms).toISOString();

/** A tracked message as the API shows it: workflow times as ISO 8601, internals (content, version) left out. */
function presentMessage(rec: OutboundRecord) {
  return {
    messageId: rec.messageId,
    status: rec.status,
    channel: rec.channel,
    origin: rec.origin,
    summary: rec.summary,
    representative: rec.representative,
    idempotencyKey: rec.idempotencyKey !== undefined ? callerKey(rec.idempotencyKey) : undefined,
    timestamps: rec.timestamps,
    acceptedAt: isoOrUndefined(rec.acceptedAtMs),
    sentAt: isoOrUndefined(rec.sentAtMs),
    deliveredAt: isoOrUndefined(rec.deliveredAtMs),
    readAt: isoOrUndefined(rec.readAtMs),
    delivery: rec.policy,
    deadlines: Object.fromEntries(
      Object.entries(rec.deadlines).map(([k, v]) => [k, isoOrUndefined(v as number | undefined)]),
    ),
    send: { ...rec.send, atMs: undefined, at: isoOrUndefined(rec.send.atMs) },
    ttlEvent: rec.ttlEvent && { revoked: rec.ttlEvent.revoked, at: isoOrUndefined(rec.ttlEvent.atMs) },
    expiry: rec.expiry && { reason: rec.expiry.reason, at: isoOrUndefined(rec.expiry.atMs) },
    revoke: rec.revoke && { ...rec.revoke, atMs: undefined, at: isoOrUndefined(rec.revoke.atMs) },
    sms: rec.sms && { ...rec.sms, atMs: undefined, at: isoOrUndefined(rec.sms.atMs) },
    finished: rec.finished,
    log: rec.log.map((l) => ({ at: isoOrUndefined(l.atMs), event: l.event, detail: l.detail })),
  };
}

// tsc fails when the answer drifts from the schema its routes are documented with.
type _DescribesTrackedMessage = Describes<typeof trackedMessageSchema, ReturnType<typeof presentMessage>>;
type _DescribesSendResult = Describes<typeof sendMessageResultSchema, ReturnType<typeof presentResult>>;
type _DescribesOutboundMessages = Describes<typeof outboundMessagesSchema, ReturnType<typeof presentView>>;

function presentResult(result: OutboundSendResult) {
  return {
    messageId: result.messageId,
    status: result.status,
    duplicate: result.duplicate,
    message: result.message && presentMessage(result.message),
  };
}

function presentView(view: OutboundMessagesView) {
  return {
    conversationKey: view.conversationKey,
    messages: view.messages.map(presentMessage),
    unmatched: view.unmatched.map((u) => ({
      messageId: u.messageId,
      type: u.type,
      detail: u.detail,
      at: isoOrUndefined(u.atMs),
    })),
    metrics: view.metrics,
  };
}

/** The workflow's refusal of a message it finds invalid is the caller's 400, naming the field. */
function invalidMessage(failure: ApplicationFailure): ApiError | undefined {
  if (failure.type !== INVALID_OUTBOUND_MESSAGE) return undefined;
  const issues = (failure.details?.[0] ?? []) as unknown;
  const field = Array.isArray(issues) && typeof issues[0]?.path === 'string' ? (issues[0].path as string) : undefined;
  return new ApiError(400, 'invalid_body', failure.message, field !== undefined ? { field } : undefined);
}

/** /v1/conversations/{key}/messages. Mount with `app.route('/v1', createMessagesApp(deps))`. */
export function createMessagesApp(deps: AppDeps) {
  const app = new Hono();

  app.post(
    '/conversations/:key/messages',
    documented({
      tag: 'messages',
      auth: 'bearer',
      summary:
        'Send a message (starts an RBM conversation if needed; a Business Messages one must have been opened by its user, else 404); tracked until DELIVERED / READ, with SMS fallback',
      pathParams: KEY_PARAM,
      headers: [
        {
          name: 'Idempotency-Key',
          schema: idempotencyKeyHeader,
          required: false,
          description: 'A retried POST with the same key is the same message (nothing sent twice)',
        },
      ],
      body: { schema: sendMessageBody },
      responses: {
        201: {
          description: 'Sent (Location names the message)',
          schema: sendMessageResultSchema,
          headers: { Location: 'The tracked message: /v1/conversations/{key}/messages/{messageId}' },
        },
        200: {
          description: 'Duplicate of an earlier request with the same Idempotency-Key',
          schema: sendMessageResultSchema,
        },
        ...CONVERSATION_ERRORS,
        422: errorResponse('Rejected by the conversation, or the Idempotency-Key reused for another request'),
      },
    }),
    async (c) => {
      const { key, channel } = conversationKeyParam(c.req.param('key'));
      const rawIdempotencyKey = c.req.header('idempotency-key');
      let idempotencyKey: string | undefined;
      if (rawIdempotencyKey !== undefined) {
        const parsed = idempotencyKeyHeader.safeParse(rawIdempotencyKey);
        if (!parsed.success)
          throw new ApiError(
            400,
            'invalid_header',
            `Idempotency-Key: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
            {
              field: 'Idempotency-Key',
            },
          );
        idempotencyKey = parsed.data;
      }
      const body = await parseJsonBody(c, sendMessageBody);
      const input = toSendInput(key, channel, body, idempotencyKey, Date.now());
      let earlier: OutboundRecord | undefined;
      if (idempotencyKey !== undefined) {
        const keyed = keyedRequest(idempotencyKey, input);
        // The key seen before: the same request (a retry) or a different one (422). Records from before the digest carry the bare key.
        earlier = (await deps.conversations.getOutboundMessages(key))?.messages.find(
          (m) => m.idempotencyKey !== undefined && callerKey(m.idempotencyKey) === idempotencyKey,
        );
        if (
          earlier?.idempotencyKey !== undefined &&
          earlier.idempotencyKey !== idempotencyKey &&
          earlier.idempotencyKey !== keyed
        )
          throw keyReused(idempotencyKey);
        input.idempotencyKey = earlier?.idempotencyKey === idempotencyKey ? idempotencyKey : keyed;
      }
      // Without a key every request is a new message; with one, the update id makes Temporal attach a retry to the same update.
      const updateId =
        idempotencyKey !== undefined ? sendMessageUpdateId(idempotencyKey) : `send-message-${randomUUID()}`;
      const sent = await onConversation(
        key,
        () => deps.conversations.sendMessage(key, input, updateId),
        invalidMessage,
      );
      // Two different requests racing with one key attach to one update: the loser sees the winner's message.
      const kept = sent.message?.idempotencyKey;
      if (
        idempotencyKey !== undefined &&
        kept !== undefined &&
        kept !== input.idempotencyKey &&
        kept !== idempotencyKey
      )
        throw keyReused(idempotencyKey);
      // A retry within the same run gets the first update's own answer back (duplicate: false): it is still a duplicate.
      const result =
        earlier !== undefined && earlier.messageId === sent.messageId ? { ...sent, duplicate: true } : sent;
      c.header(
        'Location',
        `/v1/conversations/${encodeURIComponent(key)}/messages/${encodeURIComponent(result.messageId)}`,
      );
      return c.json(presentResult(result), result.duplicate ? 200 : 201);
    },
  );

  app.get(
    '/conversations/:key/messages',
    documented({
      tag: 'messages',
      auth: 'bearer',
      summary: 'Every tracked outbound message of the conversation, with receipt metrics',
      pathParams: KEY_PARAM,
      responses: { 200: { description: 'Messages', schema: outboundMessagesSchema }, ...CONVERSATION_ERRORS },
    }),
    async (c) => {
      const { key } = conversationKeyParam(c.req.param('key'));
      const view = await onConversation(key, () => deps.conversations.getOutboundMessages(key));
      if (view === undefined) throw new ApiError(404, 'conversation_not_found', `no conversation for ${key}`);
      return c.json(presentView(view));
    },
  );

  app.get(
    '/conversations/:key/messages/:messageId',
    documented({
      tag: 'messages',
      auth: 'bearer',
      summary: 'One tracked outbound message',
      pathParams: {
        ...KEY_PARAM,
        messageId: {
          description: 'The message id returned by the POST',
          schema: { type: 'string', minLength: 1, maxLength: 512 },
        },
      },
      responses: { 200: { description: 'The message', schema: trackedMessageSchema }, ...CONVERSATION_ERRORS },
    }),
    async (c) => {
      const { key } = conversationKeyParam(c.req.param('key'));
      const parsedId = messageIdParam.safeParse(c.req.param('messageId'));
      if (!parsedId.success)
        throw new ApiError(400, 'invalid_message_id', 'messageId must be 1 to 512 characters', { field: 'messageId' });
      const messageId = parsedId.data;
      const view = await onConversation(key, () => deps.conversations.getOutboundMessages(key));
      if (view === undefined) throw new ApiError(404, 'conversation_not_found', `no conversation for ${key}`);
      const rec = view.messages.find((m) => m.messageId === messageId);
      if (rec === undefined) throw new ApiError(404, 'message_not_found', `no tracked message ${messageId} in ${key}`);
      return c.json(presentMessage(rec));
    },
  );

  return app;
}
