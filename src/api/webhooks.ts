/**
 * POST /webhooks/rbm and POST /webhooks/bm: Google's deliveries. The body is read once, as bytes,
 * and never past WEBHOOK_BODY_LIMIT_BYTES; everything else is the WebhookProcessor's (see its
 * header for the status contract). The setup handshake ({clientToken, secret}) is answered on the
 * same routes: the secret as text/plain by default, `{"secret": …}` when Accept prefers JSON.
 */
import { type Context, Hono } from 'hono';

import { createAuthCodeConsumer } from '../channels/auth-codes';
import { type Config } from '../config';
import { type Channel } from '../domain/conversation-key';
import { WEBHOOK_OUTCOME_VARIABLE } from '../observability/http-metrics';
import { createLazyClient } from '../temporal/connections';
import { UnrecognizedPayloadStore } from '../temporal-client/unrecognized-payload-store';
import { type AppDeps } from './deps';
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

  app.post('/rbm', handler('rbm'));
  app.post('/bm', handler('bm'));
  return app;
}

/** Turns a processor result into the HTTP answer; the outcome goes to the metrics middleware (stored and accepted are both 200). */
export function respond(c: Context, result: WebhookResult): Response {
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
