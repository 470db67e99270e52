/**
 * The API's OpenAPI 3.1 document, built from the zod schemas the routes validate with (zod's
 * toJSONSchema; JSON Schema 2020-12 is OpenAPI 3.1's schema dialect), served at GET /openapi.json
 * and rendered as a self-contained page at GET /docs.
 *
 * Every route createApp mounts has an entry in OPERATIONS; test/ops/openapi.test.ts walks the app's
 * routes and fails when one is missing or an entry has no route.
 */
import { type Hono } from 'hono';
import { z } from 'zod';

import {
  bmAuthenticationResponseSchema,
  bmCommonSchema,
  bmMessageSchema,
  bmReceiptsSchema,
  bmSuggestionResponseSchema,
  bmSurveyResponseSchema,
  bmUserStatusSchema,
} from '../channels/bm/inbound-schema';
import {
  rbmEnvelopeSchema,
  rbmServerEventSchema,
  rbmUserEventSchema,
  rbmUserMessageSchema,
} from '../channels/rbm/inbound-schema';
import { payloadsJson } from './codec-server';
import { assignBody, listQuery, markReadBody, typingBody } from './conversations';
import { idempotencyKeyHeader, sendMessageBody } from './messages';
import { bulkDismissBody } from './unrecognized-payloads';
import { CONVERSATION_KEY_MAX_LENGTH, CONVERSATION_KEY_PATTERN, OPERATOR_BODY_LIMIT_BYTES } from './validation';

// ---------------------------------------------------------------------------------------------
// Schemas of the document. Request schemas are the routes' own; response shapes that are plain
// TypeScript types elsewhere are described here.

const errorBody = z
  .object({
    error: z.looseObject({
      code: z.string().meta({
        description: 'Machine-readable error code, e.g. invalid_signature, invalid_body, temporal_unavailable',
      }),
      message: z.string(),
      field: z.string().optional().meta({ description: 'The offending field, for 400s about one field' }),
      requestId: z.string().optional(),
    }),
  })
  .meta({ description: 'Every non-2xx answer' });

const handshakeBody = z.object({ clientToken: z.string(), secret: z.string() }).meta({
  description:
    'Google\'s webhook setup handshake: answered 200 with the secret (text/plain, or {"secret": …} when Accept prefers JSON)',
});

/** Business Messages: the common fields plus exactly one payload field. */
const bmDelivery = bmCommonSchema.extend({
  message: bmMessageSchema.optional(),
  suggestionResponse: bmSuggestionResponseSchema.optional(),
  authenticationResponse: bmAuthenticationResponseSchema.optional(),
  receipts: bmReceiptsSchema.optional(),
  userStatus: bmUserStatusSchema.optional(),
  surveyResponse: bmSurveyResponseSchema.optional(),
});

const webhookAccepted = z.object({
  status: z.literal('accepted'),
  events: z.number().int().meta({ description: 'Events handed to the conversations (0 for an agent launch event)' }),
  kind: z
    .string()
    .optional()
    .meta({ description: 'Set for kinds that concern no conversation, e.g. rbm.agent_launch_event' }),
  requestId: z.string().optional(),
});
const webhookStored = z.object({
  status: z.literal('stored'),
  id: z.string().meta({ description: 'Id of the kept payload: GET /v1/unrecognized-payloads/{id}' }),
  kind: z.string(),
  reason: z.string(),
  requestId: z.string().optional(),
});

const healthBody = z.object({
  status: z.literal('ok'),
  temporal: z.object({ reachable: z.boolean(), namespace: z.string() }),
});
const readyBody = z.object({ ready: z.boolean() });
const anyObject = (description: string) => z.looseObject({}).meta({ description });
const unrecognizedListQuery = z.object({
  status: z.enum(['pending', 'all']).default('pending'),
  limit: z.number().int().min(1).max(1000).default(100),
});

const SCHEMAS = {
  Error: errorBody,
  WebhookHandshake: handshakeBody,
  RbmWebhookEnvelope: rbmEnvelopeSchema,
  RbmUserMessage: rbmUserMessageSchema,
  RbmUserEvent: rbmUserEventSchema,
  RbmServerEvent: rbmServerEventSchema,
  BmWebhookBody: bmDelivery,
  WebhookAccepted: webhookAccepted,
  WebhookHandshakeReply: z
    .object({ secret: z.string() })
    .meta({ description: 'The setup handshake answered as JSON (Accept prefers application/json)' }),
  WebhookStored: webhookStored,
  Health: healthBody,
  Ready: readyBody,
  MarkReadBody: markReadBody,
  TypingBody: typingBody,
  AssignBody: assignBody,
  SendMessageBody: sendMessageBody,
  Payloads: payloadsJson.meta({
    description: 'temporal.api.common.v1.Payloads in protobuf JSON (metadata values and data in base64)',
  }),
} as const;
type SchemaName = keyof typeof SCHEMAS;

// ---------------------------------------------------------------------------------------------
// Operations.

type Auth = 'none' | 'bearer' | 'codec';
interface ResponseSpec {
  description: string;
  /** A component schema, or an inline description of a body without one. */
  schema?: SchemaName | z.ZodType;
  /** Default application/json. */
  contentType?: string;
  /** More than one body (e.g. the handshake's text or JSON). */
  alternatives?: { contentType: string; schema?: SchemaName | z.ZodType }[];
  /** The JSON body is one of these component schemas (instead of `schema`). */
  oneOf?: SchemaName[];
  /** Response headers: name → description. */
  headers?: Record<string, string>;
}
interface Operation {
  method: 'get' | 'post' | 'delete';
  /** OpenAPI form: `{key}`. */
  path: string;
  summary: string;
  description?: string;
  tag: string;
  auth: Auth;
  /** Path parameters: name → description, or description and the constraints the route enforces. */
  pathParams?: Record<string, string | { description: string; schema: Json }>;
  /** Query parameters: the fields of a zod object. */
  query?: z.ZodObject;
  headers?: { name: string; schema: z.ZodType; required: boolean; description: string }[];
  body?: { schema: SchemaName | z.ZodType; required?: boolean; description?: string; oneOf?: SchemaName[] };
  responses: Record<number, ResponseSpec>;
}

const KEY_PARAM = {
  key: {
    description:
      'Conversation key, URL-encoded: rbm:{agentId}:{E.164} (agentId 1 to 256 printable ASCII characters without spaces) or bm:{conversationId} (1 to 256 printable ASCII characters without "/" or spaces), e.g. rbm%3Aagent%40rbm.goog%3A%2B14155550100',
    schema: { type: 'string', pattern: CONVERSATION_KEY_PATTERN, minLength: 4, maxLength: CONVERSATION_KEY_MAX_LENGTH },
  },
};
const PAYLOAD_ID_PARAM = {
  id: {
    description: "Payload id (from the webhook's `stored` answer)",
    schema: { type: 'string', pattern: '^[0-9a-f]{32}$' },
  },
};
const err = (description: string): ResponseSpec => ({ description, schema: 'Error' });
const V1_ERRORS = {
  401: {
    ...err('Missing or wrong bearer token (the scheme in any case: Bearer, bearer)'),
    headers: { 'WWW-Authenticate': 'Bearer' },
  },
  413: err(`Body larger than ${OPERATOR_BODY_LIMIT_BYTES} bytes`),
  503: { ...err('API_TOKEN not configured, or Temporal unavailable'), headers: { 'Retry-After': 'Seconds to wait' } },
};
const CONVERSATION_ERRORS = {
  ...V1_ERRORS,
  400: err('Invalid conversation key or body (names the field)'),
  404: err('No conversation for this key'),
};

const CODEC_DESCRIPTION =
  "Temporal's remote codec protocol (the Web UI's and `temporal workflow show --codec-endpoint`'s): Payloads in, Payloads out, through the AES-256-GCM payload codec. X-Namespace, when sent, must be this deployment's namespace. CORS for CODEC_SERVER_CORS_ORIGINS.";

function codecOperation(op: 'encode' | 'decode', tokenIn: 'header' | 'path'): Operation {
  return {
    method: 'post',
    path: tokenIn === 'header' ? `/codec/${op}` : `/codec/{token}/${op}`,
    tag: 'codec',
    auth: tokenIn === 'header' ? 'codec' : 'none',
    summary:
      op === 'decode'
        ? 'Decrypt payloads (encrypted ones; others come back as they are)'
        : 'Encrypt payloads with the current key (as they are when encryption is off)',
    description: `${CODEC_DESCRIPTION}${tokenIn === 'path' ? " The token is part of the path, for a browser UI that cannot send an Authorization header (the dev server's UI): keep that URL secret." : ''}`,
    ...(tokenIn === 'path' ? { pathParams: { token: 'CODEC_SERVER_TOKEN' } } : {}),
    headers: [
      { name: 'X-Namespace', schema: z.string(), required: false, description: 'The namespace the payloads belong to' },
    ],
    body: { schema: 'Payloads' },
    responses: {
      200: { description: op === 'decode' ? 'Decoded payloads' : 'Encoded payloads', schema: 'Payloads' },
      400: err('Malformed body, another namespace, or a payload no configured key decrypts'),
      401: err('Missing or wrong codec token'),
      413: err('Body larger than 8 MiB'),
      503: err('CODEC_SERVER_TOKEN not configured'),
    },
  };
}

function webhookOperation(channel: 'rbm' | 'bm'): Operation {
  const name = channel === 'rbm' ? 'RCS Business Messaging' : 'Business Messages';
  return {
    method: 'post',
    path: `/webhooks/${channel}`,
    tag: 'webhooks',
    auth: 'none',
    summary: `${name} webhook (Google posts user messages, receipts and events here)`,
    description:
      (channel === 'rbm'
        ? "A Pub/Sub-style envelope whose message.data is the base64 of one event (RbmUserMessage, RbmUserEvent or RbmServerEvent). X-Goog-Signature is base64 HMAC-SHA512 of the decoded data bytes with the agent's client token."
        : "A Business Messages delivery (BmWebhookBody). X-Goog-Signature is base64 HMAC-SHA512 of the raw body with the agent's client token.") +
      " Google counts only 200 as delivered (anything else is retried for 7 days and slows the partner's other agents), so a request whose signature verifies gets 200 once it is durable, whatever it holds: its events accepted by the conversations, or the raw bytes kept for an operator (an unknown kind, a schema violation, data that is not JSON or cannot be read, events Temporal refused). Only an unverifiable request (401), an oversized body (413) and Temporal not accepting in time (503) get anything else. X-Goog-Signature must be sent once, as exactly the standard base64 of 64 bytes. Bodies are read up to WEBHOOK_BODY_LIMIT_BYTES.",
    headers: [
      {
        name: 'X-Goog-Signature',
        schema: z.string().regex(/^[A-Za-z0-9+/]{85}[AQgw]==$/),
        required: false,
        description:
          'base64 HMAC-SHA512 (88 characters ending in ==); required for deliveries, absent on the setup handshake',
      },
    ],
    body: {
      schema: channel === 'rbm' ? 'RbmWebhookEnvelope' : 'BmWebhookBody',
      required: true,
      oneOf: [channel === 'rbm' ? 'RbmWebhookEnvelope' : 'BmWebhookBody', 'WebhookHandshake'],
    },
    responses: {
      200: {
        description:
          'Signed and durable: accepted by the conversations (WebhookAccepted), or kept for an operator under /v1/unrecognized-payloads (WebhookStored); or the setup handshake answered ({"secret": …} or text/plain)',
        oneOf: ['WebhookAccepted', 'WebhookStored', 'WebhookHandshakeReply'],
        alternatives: [{ contentType: 'text/plain', schema: z.string().meta({ description: 'The handshake secret' }) }],
      },
      401: err(
        'No verifiable signature: X-Goog-Signature missing, malformed, sent twice or not matching, no client token for the agent, no signed bytes in the body, or a body that broke off',
      ),
      413: err('Body larger than WEBHOOK_BODY_LIMIT_BYTES'),
      503: {
        ...err(
          'Temporal unreachable, rate limiting (RESOURCE_EXHAUSTED), failing under its database (INTERNAL, CANCELLED, UNKNOWN, ABORTED, DATA_LOSS, NamespaceNotFound) or slower than TEMPORAL_SIGNAL_TIMEOUT_MS (temporal_unavailable); or the delivery could be neither delivered nor kept, e.g. PERMISSION_DENIED (not_accepted, logged as an error). Google retries the delivery',
        ),
        headers: { 'Retry-After': 'Seconds to wait' },
      },
    },
  };
}

/** Every route of the app, documented. */
export const OPERATIONS: readonly Operation[] = [
  {
    method: 'get',
    path: '/healthz',
    tag: 'operations',
    auth: 'none',
    summary: 'Liveness, with whether Temporal is reachable',
    responses: { 200: { description: 'The API is up', schema: 'Health' } },
  },
  {
    method: 'get',
    path: '/readyz',
    tag: 'operations',
    auth: 'none',
    summary: 'Readiness: 503 while Temporal is unreachable',
    responses: {
      200: { description: 'Ready', schema: 'Ready' },
      503: { description: 'Temporal unreachable', schema: 'Ready' },
    },
  },
  {
    method: 'get',
    path: '/metrics',
    tag: 'operations',
    auth: 'none',
    summary: 'Prometheus metrics of the API (HTTP latency and status by route, webhook outcomes)',
    responses: {
      200: { description: 'Prometheus text exposition format', contentType: 'text/plain', schema: z.string() },
    },
  },
  {
    method: 'get',
    path: '/openapi.json',
    tag: 'operations',
    auth: 'none',
    summary: 'This document',
    responses: { 200: { description: 'OpenAPI 3.1', schema: anyObject('OpenAPI document') } },
  },
  {
    method: 'get',
    path: '/docs',
    tag: 'operations',
    auth: 'none',
    summary: 'This document as an HTML page',
    responses: { 200: { description: 'HTML', contentType: 'text/html', schema: z.string() } },
  },
  webhookOperation('rbm'),
  webhookOperation('bm'),
  {
    method: 'get',
    path: '/v1/conversations',
    tag: 'conversations',
    auth: 'bearer',
    summary: "List conversations from Temporal visibility, filtered by Switchboard's search attributes",
    query: listQuery,
    responses: {
      200: {
        description: 'Newest first',
        schema: z.object({ conversations: z.array(anyObject('A conversation summary')) }),
      },
      400: err('Invalid query'),
      ...V1_ERRORS,
    },
  },
  {
    method: 'get',
    path: '/v1/conversations/{key}',
    tag: 'conversations',
    auth: 'bearer',
    summary: "A conversation's state (history, routing decisions, assignment, receipts)",
    pathParams: KEY_PARAM,
    responses: {
      200: {
        description: 'The conversation state query',
        schema: anyObject('ConversationView (src/workflows/definitions.ts)'),
      },
      ...CONVERSATION_ERRORS,
    },
  },
  {
    method: 'delete',
    path: '/v1/conversations/{key}',
    tag: 'conversations',
    auth: 'bearer',
    summary: 'Erase the conversation: terminate its open run and delete every run from Temporal',
    description:
      "Answers once Temporal accepted the deletion of every run (Temporal deletes asynchronously, within seconds). Runs are found through visibility and through the latest run's continue-as-new chain; a run a racing webhook starts during the erasure is deleted too. Idempotent: 202 again when nothing is left. A message that arrives after the answer starts a new conversation.",
    pathParams: KEY_PARAM,
    responses: {
      202: {
        description: 'Deletion of every run accepted',
        schema: z.object({
          key: z.string(),
          workflowId: z.string(),
          status: z.literal('deletion_accepted'),
          deletedRuns: z.number().int(),
          runIds: z.array(z.string()),
          terminatedRunIds: z.array(z.string()),
        }),
      },
      ...V1_ERRORS,
      400: err('Invalid conversation key'),
      409: err('New runs kept starting during the erasure (those found are deleted): retry'),
    },
  },
  {
    method: 'get',
    path: '/v1/conversations/{key}/history',
    tag: 'conversations',
    auth: 'bearer',
    summary: "The conversation's full transcript across every run, read from Temporal's own workflow histories",
    pathParams: KEY_PARAM,
    responses: {
      200: {
        description: 'The transcript, oldest first',
        schema: z.object({ key: z.string(), entries: z.array(anyObject('A transcript entry')) }),
      },
      ...CONVERSATION_ERRORS,
    },
  },
  {
    method: 'post',
    path: '/v1/conversations/{key}/read',
    tag: 'conversations',
    auth: 'bearer',
    summary: "Mark the user's messages READ (all unread human-handled ones without messageIds)",
    pathParams: KEY_PARAM,
    body: { schema: 'MarkReadBody' },
    responses: {
      200: { description: 'Marked', schema: z.object({ marked: z.array(z.string()) }) },
      ...CONVERSATION_ERRORS,
      422: err('Rejected by the conversation'),
    },
  },
  {
    method: 'post',
    path: '/v1/conversations/{key}/typing',
    tag: 'conversations',
    auth: 'bearer',
    summary: 'A human agent starts or stops typing',
    pathParams: KEY_PARAM,
    body: { schema: 'TypingBody' },
    responses: {
      200: { description: 'Applied', schema: z.object({ typing: z.boolean() }) },
      ...CONVERSATION_ERRORS,
      422: err('Rejected by the conversation'),
    },
  },
  {
    method: 'post',
    path: '/v1/conversations/{key}/assign',
    tag: 'conversations',
    auth: 'bearer',
    summary: 'Hand the conversation to a human agent, or back to automation',
    pathParams: KEY_PARAM,
    body: { schema: 'AssignBody' },
    responses: {
      200: { description: 'Assigned', schema: z.object({ assignedTo: anyObject('Assignment') }) },
      ...CONVERSATION_ERRORS,
      422: err('Rejected by the conversation'),
    },
  },
  {
    method: 'post',
    path: '/v1/conversations/{key}/messages',
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
    body: { schema: 'SendMessageBody' },
    responses: {
      201: {
        description: 'Sent (Location names the message)',
        schema: anyObject('{ messageId, status, duplicate, message }'),
      },
      200: {
        description: 'Duplicate of an earlier request with the same Idempotency-Key',
        schema: anyObject('{ messageId, status, duplicate: true, message }'),
      },
      ...CONVERSATION_ERRORS,
      422: err('Rejected by the conversation'),
    },
  },
  {
    method: 'get',
    path: '/v1/conversations/{key}/messages',
    tag: 'messages',
    auth: 'bearer',
    summary: 'Every tracked outbound message of the conversation, with receipt metrics',
    pathParams: KEY_PARAM,
    responses: {
      200: { description: 'Messages', schema: anyObject('{ conversationKey, messages, unmatched, metrics }') },
      ...CONVERSATION_ERRORS,
    },
  },
  {
    method: 'get',
    path: '/v1/conversations/{key}/messages/{messageId}',
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
    responses: { 200: { description: 'The message', schema: anyObject('A tracked message') }, ...CONVERSATION_ERRORS },
  },
  {
    method: 'get',
    path: '/v1/unrecognized-payloads',
    tag: 'unrecognized payloads',
    auth: 'bearer',
    summary:
      'Signed webhook payloads the conversations did not take (unknown kind, schema violation, not JSON, refused by Temporal), newest first',
    query: unrecognizedListQuery,
    responses: {
      200: { description: 'Payloads', schema: z.object({ items: z.array(anyObject('An unrecognized payload')) }) },
      400: err('Invalid query'),
      ...V1_ERRORS,
    },
  },
  {
    method: 'get',
    path: '/v1/unrecognized-payloads/{id}',
    tag: 'unrecognized payloads',
    auth: 'bearer',
    summary: 'One payload with its exact body (base64) and the headers a replay needs',
    pathParams: PAYLOAD_ID_PARAM,
    responses: {
      200: { description: 'The payload', schema: anyObject('UnrecognizedPayloadView') },
      404: err('No such payload'),
      ...V1_ERRORS,
    },
  },
  {
    method: 'post',
    path: '/v1/unrecognized-payloads/{id}/replay',
    tag: 'unrecognized payloads',
    auth: 'bearer',
    summary: 'Re-run the stored request through the webhook path (signature included); a 200 there resolves it',
    pathParams: PAYLOAD_ID_PARAM,
    responses: {
      200: {
        description: 'What the webhook path answered',
        schema: anyObject('{ id, resolved, webhook: { status, body } }'),
      },
      404: err('No such payload'),
      409: err('Already replayed or dismissed'),
      ...V1_ERRORS,
    },
  },
  {
    method: 'post',
    path: '/v1/unrecognized-payloads/{id}/dismiss',
    tag: 'unrecognized payloads',
    auth: 'bearer',
    summary: 'Close the entry without replaying it',
    pathParams: PAYLOAD_ID_PARAM,
    responses: {
      200: { description: 'Dismissed', schema: z.object({ id: z.string(), status: z.literal('dismissed') }) },
      404: err('No such payload'),
      409: err('Already replayed or dismissed'),
      ...V1_ERRORS,
    },
  },
  {
    method: 'post',
    path: '/v1/unrecognized-payloads/dismiss',
    tag: 'unrecognized payloads',
    auth: 'bearer',
    summary:
      'Close every pending entry that matches (channel, kind, first received before), at most `limit` (default 100)',
    body: { schema: bulkDismissBody },
    responses: {
      200: {
        description: 'What was dismissed; `more` when others may still match',
        schema: z.object({ dismissed: z.number().int(), ids: z.array(z.string()), more: z.boolean() }),
      },
      400: err('Invalid body'),
      ...V1_ERRORS,
    },
  },
  codecOperation('decode', 'header'),
  codecOperation('encode', 'header'),
  codecOperation('decode', 'path'),
  codecOperation('encode', 'path'),
];

// ---------------------------------------------------------------------------------------------
// Document.

type Json = Record<string, unknown>;
const JSON_SCHEMA_OPTIONS = { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' } as const;

/** A JSON Schema for a zod schema, without the `$schema` key (the document's dialect applies). */
function inlineSchema(schema: z.ZodType): Json {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, JSON_SCHEMA_OPTIONS) as Json;
  return rest;
}

function schemaRef(schema: SchemaName | z.ZodType): Json {
  return typeof schema === 'string' ? { $ref: `#/components/schemas/${schema}` } : inlineSchema(schema);
}

/** The component schemas: one registry, so shared pieces get one definition and refs point into components. */
function componentSchemas(): Record<string, Json> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(SCHEMAS)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    ...JSON_SCHEMA_OPTIONS,
    uri: (id) => `#/components/schemas/${id}`,
  }) as { schemas: Record<string, Json> };
  return Object.fromEntries(
    Object.entries(schemas).map(([id, { $schema: _dialect, $id: _id, ...rest }]) => [id, rest]),
  );
}

function operationObject(op: Operation): Json {
  const parameters: Json[] = [];
  for (const [name, param] of Object.entries(op.pathParams ?? {})) {
    const { description, schema } =
      typeof param === 'string' ? { description: param, schema: { type: 'string' } } : param;
    parameters.push({ name, in: 'path', required: true, description, schema });
  }
  for (const [name, field] of Object.entries(op.query?.shape ?? {})) {
    const schema = field as z.ZodType;
    parameters.push({
      name,
      in: 'query',
      required: !schema.safeParse(undefined).success,
      schema: inlineSchema(schema),
    });
  }
  for (const h of op.headers ?? [])
    parameters.push({
      name: h.name,
      in: 'header',
      required: h.required,
      description: h.description,
      schema: inlineSchema(h.schema),
    });

  const responses: Json = {};
  for (const [status, r] of Object.entries(op.responses)) {
    const content: Json = {};
    if (r.schema !== undefined) content[r.contentType ?? 'application/json'] = { schema: schemaRef(r.schema) };
    if (r.oneOf !== undefined)
      content['application/json'] = { schema: { oneOf: r.oneOf.map((name) => schemaRef(name)) } };
    for (const alt of r.alternatives ?? [])
      content[alt.contentType] = alt.schema !== undefined ? { schema: schemaRef(alt.schema) } : {};
    const headers = r.headers
      ? Object.fromEntries(
          Object.entries(r.headers).map(([name, description]) => [name, { description, schema: { type: 'string' } }]),
        )
      : undefined;
    responses[status] = {
      description: r.description,
      ...(headers ? { headers } : {}),
      ...(Object.keys(content).length > 0 ? { content } : {}),
    };
  }

  return {
    operationId: `${op.method}${op.path.replace(/\{(\w+)\}/g, 'By_$1').replace(/[^A-Za-z0-9]+(\w)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    tags: [op.tag],
    security: op.auth === 'bearer' ? [{ bearerAuth: [] }] : op.auth === 'codec' ? [{ codecToken: [] }] : [],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(op.body
      ? {
          requestBody: {
            required: op.body.required ?? true,
            ...(op.body.description ? { description: op.body.description } : {}),
            content: {
              'application/json': {
                schema: op.body.oneOf ? { oneOf: op.body.oneOf.map((s) => schemaRef(s)) } : schemaRef(op.body.schema),
              },
            },
          },
        }
      : {}),
    responses,
  };
}

/** Options of buildOpenApiDocument. */
export interface OpenApiOptions {
  /** `info.version`; default the package version. */
  version?: string;
}

/** The OpenAPI 3.1 document of the API. */
export function buildOpenApiDocument(options: OpenApiOptions = {}): Json {
  const paths: Record<string, Json> = {};
  for (const op of OPERATIONS) (paths[op.path] ??= {})[op.method] = operationObject(op);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Switchboard API',
      version: options.version ?? '0.1.0',
      description:
        "Google's business messaging webhooks (RCS Business Messaging, Business Messages) and the operator API of Switchboard, a conversation orchestrator on Temporal. The /v1 routes need `Authorization: Bearer <API_TOKEN>`; the webhooks are authenticated by X-Goog-Signature.",
    },
    tags: [
      { name: 'webhooks', description: "Google's deliveries: 2xx only once Temporal accepted them" },
      { name: 'conversations', description: 'Conversation state and operator actions' },
      { name: 'messages', description: 'Outbound messages and their delivery tracking' },
      { name: 'unrecognized payloads', description: 'Signed payloads of unknown kinds, kept for an operator' },
      { name: 'operations', description: 'Health, metrics and this documentation' },
      {
        name: 'codec',
        description:
          "Temporal's remote codec protocol: the Web UI and the CLI decode the encrypted payloads through it",
      },
    ],
    paths,
    components: {
      schemas: componentSchemas(),
      securitySchemes: {
        bearerAuth: { type: 'http', scheme: 'bearer', description: 'API_TOKEN' },
        codecToken: { type: 'http', scheme: 'bearer', description: 'CODEC_SERVER_TOKEN' },
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// HTML page: no scripts, no external resources, so it works offline and under a strict CSP.

const escapeHtml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The document as one HTML page: every operation with its parameters, body schema and responses. */
export function renderDocsPage(doc: Json): string {
  const info = doc.info as { title: string; version: string; description: string };
  const sections = OPERATIONS.map((op) => {
    const o = (doc.paths as Record<string, Record<string, Json>>)[op.path]?.[op.method] ?? {};
    const params = ((o.parameters as Json[] | undefined) ?? [])
      .map(
        (p) =>
          `<li><code>${escapeHtml(String(p.name))}</code> (${escapeHtml(String(p.in))}${p.required ? ', required' : ''})${p.description ? ` — ${escapeHtml(String(p.description))}` : ''}</li>`,
      )
      .join('');
    const body = o.requestBody
      ? `<details><summary>Request body</summary><pre>${escapeHtml(JSON.stringify((o.requestBody as Json).content, null, 2))}</pre></details>`
      : '';
    const responses = Object.entries(op.responses)
      .map(([status, r]) => `<tr><td><code>${status}</code></td><td>${escapeHtml(r.description)}</td></tr>`)
      .join('');
    return `<section id="${escapeHtml(String(o.operationId ?? ''))}"><h3><span class="m ${op.method}">${op.method.toUpperCase()}</span> <code>${escapeHtml(op.path)}</code>${op.auth === 'bearer' ? ' <small>bearer</small>' : op.auth === 'codec' ? ' <small>codec token</small>' : ''}</h3><p>${escapeHtml(op.summary)}</p>${op.description ? `<p>${escapeHtml(op.description)}</p>` : ''}${params ? `<ul>${params}</ul>` : ''}${body}<table>${responses}</table></section>`;
  }).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(info.title)}</title>
<style>body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}section{border-top:1px solid #ddd;padding:.5rem 0}.m{display:inline-block;min-width:3.5rem;font-size:.8em;color:#fff;border-radius:3px;text-align:center;padding:1px 4px}.get{background:#2a7}.post{background:#27c}.delete{background:#c33}pre{background:#f6f6f6;padding:.5rem;overflow:auto;font-size:12px}table{border-collapse:collapse}td{padding:2px 8px;vertical-align:top}small{color:#a50}</style>
</head><body><h1>${escapeHtml(info.title)} <small>${escapeHtml(info.version)}</small></h1><p>${escapeHtml(info.description)}</p><p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI ${escapeHtml(String(doc.openapi))}).</p>
${sections}
</body></html>`;
}

/** GET /openapi.json and GET /docs on the app; the document is built once, on first request. */
export function mountApiDocs(app: Hono, options: OpenApiOptions = {}): void {
  let doc: Json | undefined;
  let page: string | undefined;
  const document = () => (doc ??= buildOpenApiDocument(options));
  app.get('/openapi.json', (c) => c.json(document()));
  app.get('/docs', (c) => {
    page ??= renderDocsPage(document());
    return c.html(page, 200, { 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'" });
  });
}
