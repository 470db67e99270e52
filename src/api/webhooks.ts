/**
 * POST /webhooks/rbm and POST /webhooks/bm: Google's deliveries. The body is read once, as bytes,
 * and never past WEBHOOK_BODY_LIMIT_BYTES; everything else is the WebhookProcessor's (see its
 * header for the status contract). The setup handshake ({clientToken, secret}) is answered on the
 * same routes: the secret as text/plain by default, `{"secret": …}` when Accept prefers JSON.
 */
import { type Context, Hono } from 'hono';
import { z } from 'zod';

import { createAuthCodeConsumer } from '../channels/auth-codes';
import {
  bmAuthenticationResponseSchema,
  bmCommonSchema,
  bmMessageSchema,
  bmReceiptsSchema,
  bmSuggestionResponseSchema,
  bmSurveyResponseSchema,
  bmUserStatusSchema,
} from '../channels/bm/inbound-schema';
import { rbmEnvelopeSchema } from '../channels/rbm/inbound-schema';
import { type Config } from '../config';
import { type Channel } from '../domain/conversation-key';
import { WEBHOOK_OUTCOME_VARIABLE } from '../observability/http-metrics';
import { createLazyClient } from '../temporal/connections';
import { UnrecognizedPayloadStore } from '../temporal-client/unrecognized-payload-store';
import { type AppDeps } from './deps';
import { documented, errorResponse, type RouteDoc } from './openapi';
import { WebhookProcessor, type WebhookProcessorOptions, type WebhookResult } from './webhook-processor';

/**
 * AppDeps plus the store for unrecognized payloads. When the store is not given, one is built on
 * its own lazy Temporal client from the configuration (tests and server.ts may pass a shared one).
 */
export interface WebhookAppDeps extends AppDeps {
  unrecognizedPayloads?: UnrecognizedPayloadStore;
}

/** Options of the webhook and operator sub-apps (the handshake reply form, test seams). */
export type WebhookAppOptions = WebhookProcessorOptions;

// One default store per configuration, so the webhook and operator sub-apps share a connection.
const defaultStores = new WeakMap<Config, UnrecognizedPayloadStore>();

/** The store the webhook and operator sub-apps use for these deps. */
export function unrecognizedPayloadStoreFor(deps: WebhookAppDeps): UnrecognizedPayloadStore {
  if (deps.unrecognizedPayloads) return deps.unrecognizedPayloads;
  let store = defaultStores.get(deps.config);
  if (!store) {
    const { temporal } = deps.config;
    store = new UnrecognizedPayloadStore({
      client: createLazyClient(temporal),
      taskQueue: temporal.taskQueue,
      timeoutMs: temporal.signalTimeoutMs,
      retentionMs: deps.config.env.UNRECOGNIZED_PAYLOAD_RETENTION_DAYS * 86_400_000,
    });
    defaultStores.set(deps.config, store);
  }
  return store;
}

/** The webhook path for these deps (shared by the routes and the operator's replay). */
export function webhookProcessorFor(deps: WebhookAppDeps, options: WebhookAppOptions = {}): WebhookProcessor {
  const authCodes = deps.config.authCodes ? createAuthCodeConsumer(deps.config.authCodes) : undefined;
  return new WebhookProcessor(
    {
      config: deps.config,
      conversations: deps.conversations,
      unrecognized: unrecognizedPayloadStoreFor(deps),
      logger: deps.logger,
      ...(authCodes ? { authCodes } : {}),
    },
    options,
  );
}

/** POST /webhooks/{rbm,bm}: verify, normalize, signal Temporal, and only then acknowledge. */
export function createWebhooksApp(deps: WebhookAppDeps, options: WebhookAppOptions = {}) {
  const processor = webhookProcessorFor(deps, options);
  const app = new Hono();

  const handler = (channel: Channel) => async (c: Context) => {
    const meta = {
      channel,
      signature: c.req.header('x-goog-signature'),
      accept: c.req.header('accept'),
      contentType: c.req.header('content-type'),
      requestId: (c.get('requestId') as string | undefined) ?? undefined,
      source: 'google' as const,
    };
    const read = await readBody(c.req.raw, processor.bodyLimit);
    if (read.outcome === 'too_large') return respond(c, processor.bodyTooLarge(meta, read.seen));
    // A body that broke off cannot have its signature verified: 401, like any unverifiable request.
    if (read.outcome === 'unreadable')
      return respond(c, {
        status: 401,
        outcome: 'unreadable_body',
        json: {
          error: {
            code: 'unreadable_body',
            message: 'the request body could not be read, so X-Goog-Signature cannot be verified',
            ...(meta.requestId ? { requestId: meta.requestId } : {}),
          },
        },
      });
    return respond(c, await processor.process({ ...meta, body: read.body }));
  };

  app.post('/rbm', documented(webhookDoc('rbm')), handler('rbm'));
  app.post('/bm', documented(webhookDoc('bm')), handler('bm'));
  return app;
}

const handshakeBody = z.object({ clientToken: z.string(), secret: z.string() }).meta({
  description:
    'Google\'s webhook setup handshake: answered 200 with the secret (text/plain, or {"secret": …} when Accept prefers JSON)',
});

/** Business Messages: the common fields plus exactly one payload field. */
const bmDelivery = bmCommonSchema
  .extend({
    message: bmMessageSchema.optional(),
    suggestionResponse: bmSuggestionResponseSchema.optional(),
    authenticationResponse: bmAuthenticationResponseSchema.optional(),
    receipts: bmReceiptsSchema.optional(),
    userStatus: bmUserStatusSchema.optional(),
    surveyResponse: bmSurveyResponseSchema.optional(),
  })
  .meta({ description: 'A Business Messages delivery' });

const rbmEnvelope = rbmEnvelopeSchema.meta({
  description:
    'A Pub/Sub-style envelope; message.data is the base64 of one RbmUserMessage, RbmUserEvent or RbmServerEvent',
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
const handshakeReply = z
  .object({ secret: z.string() })
  .meta({ description: 'The setup handshake answered as JSON (Accept prefers application/json)' });

function webhookDoc(channel: Channel): RouteDoc {
  const name = channel === 'rbm' ? 'RCS Business Messaging' : 'Business Messages';
  return {
    tag: 'webhooks',
    auth: 'none',
    summary: `${name} webhook (Google posts user messages, receipts and events here)`,
    description:
      (channel === 'rbm'
        ? "A Pub/Sub-style envelope whose message.data is the base64 of one event (RbmUserMessage, RbmUserEvent or RbmServerEvent). X-Goog-Signature is base64 HMAC-SHA512 of the decoded data bytes with the agent's client token."
        : "A Business Messages delivery. X-Goog-Signature is base64 HMAC-SHA512 of the raw body with the agent's client token.") +
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
      schema: channel === 'rbm' ? rbmEnvelope : bmDelivery,
      required: true,
      oneOf: [channel === 'rbm' ? rbmEnvelope : bmDelivery, handshakeBody],
    },
    responses: {
      200: {
        description:
          'Signed and durable: accepted by the conversations, or kept for an operator under /v1/unrecognized-payloads (stored); or the setup handshake answered ({"secret": …} or text/plain)',
        oneOf: [webhookAccepted, webhookStored, handshakeReply],
        alternatives: [{ contentType: 'text/plain', schema: z.string().meta({ description: 'The handshake secret' }) }],
      },
      401: errorResponse(
        'No verifiable signature: X-Goog-Signature missing, malformed, sent twice or not matching, no client token for the agent, no signed bytes in the body, or a body that broke off',
      ),
      413: errorResponse('Body larger than WEBHOOK_BODY_LIMIT_BYTES'),
      503: errorResponse(
        'Temporal unreachable, rate limiting (RESOURCE_EXHAUSTED), failing under its database (INTERNAL, CANCELLED, UNKNOWN, ABORTED, DATA_LOSS, NamespaceNotFound) or slower than TEMPORAL_SIGNAL_TIMEOUT_MS (temporal_unavailable); or the delivery could be neither delivered nor kept, e.g. PERMISSION_DENIED (not_accepted, logged as an error). Google retries the delivery',
        { 'Retry-After': 'Seconds to wait' },
      ),
    },
  };
}

/** Turns a processor result into the HTTP answer; the outcome goes to the metrics middleware (stored and accepted are both 200). */
function respond(c: Context, result: WebhookResult): Response {
  c.set(WEBHOOK_OUTCOME_VARIABLE as never, result.outcome as never);
  if (result.retryAfterSeconds !== undefined) c.header('Retry-After', String(result.retryAfterSeconds));
  if (result.text !== undefined)
    return c.text(result.text, result.status, { 'content-type': 'text/plain; charset=utf-8' });
  return c.json(result.json ?? {}, result.status);
}

type ReadResult =
  { outcome: 'ok'; body: Uint8Array } | { outcome: 'too_large'; seen: number } | { outcome: 'unreadable' };

/**
 * Reads the whole body once, stopping as soon as it passes `limit`: a declared Content-Length over
 * the limit is refused unread, and a chunked or lying body is cut off while streaming.
 */
async function readBody(request: Request, limit: number): Promise<ReadResult> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (Number.isFinite(declared) && declared > limit) return { outcome: 'too_large', seen: 0 };
  if (!request.body) return { outcome: 'ok', body: new Uint8Array(0) };
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => undefined);
        return { outcome: 'too_large', seen: size };
      }
      chunks.push(value);
    }
  } catch {
    return { outcome: 'unreadable' };
  }
  return { outcome: 'ok', body: Buffer.concat(chunks, size) };
}
