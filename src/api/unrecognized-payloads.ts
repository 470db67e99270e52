/**
 * Operator API for correctly signed webhook payloads of kinds the receiving build did not know
 * (answered 202 and kept in Temporal, one unrecognizedPayloadWorkflow each). Mount it behind the
 * operator bearer token, e.g. under /v1/unrecognized-payloads:
 *
 *   GET  /                  list, newest first (?status=pending|all, ?limit=1..1000); from Temporal visibility
 *   GET  /:id               one payload with its exact body (base64) and the headers a replay needs
 *   POST /:id/replay        re-runs the stored request through the webhook path (signature included);
 *                           a 200 there resolves the entry, anything else is recorded and it stays pending
 *   POST /:id/dismiss       closes the entry without replaying it
 *   POST /dismiss           closes every pending entry matching {channel?, kind?, receivedBefore?} (at most `limit`)
 *
 * Entries expire after UNRECOGNIZED_PAYLOAD_RETENTION_DAYS (status `expired`); Temporal's retention then removes them.
 */
import { type Context, Hono } from 'hono';
import { z } from 'zod';

import { withoutAuthCodes } from '../channels/bm/inbound';
import { UnrecognizedPayloadStore } from '../temporal-client/unrecognized-payload-store';
import { TemporalUnavailableError } from './errors';
import { documented, errorResponse, type PathParamDoc, type ResponseDoc, V1_ERRORS } from './openapi';
import { unrecognizedSummarySchema, unrecognizedViewSchema } from './response-schemas';
import { parseJsonBody } from './validation';
import { RETRY_AFTER_SECONDS } from './webhook-processor';
import {
  unrecognizedPayloadStoreFor,
  type WebhookAppDeps,
  type WebhookAppOptions,
  webhookProcessorFor,
} from './webhooks';

/** The operator sub-app; `options` must match the webhook app's so a replay behaves like a delivery. */
export function createUnrecognizedPayloadsApp(deps: WebhookAppDeps, options: WebhookAppOptions = {}) {
  const store = unrecognizedPayloadStoreFor(deps);
  const processor = webhookProcessorFor(deps, options);
  const now = options.now ?? (() => new Date());
  const app = new Hono();

  app.get(
    '/',
    documented({
      tag: 'unrecognized payloads',
      auth: 'bearer',
      summary:
        'Signed webhook payloads the conversations did not take (unknown kind, schema violation, not JSON, refused by Temporal), newest first',
      query: listQueryDoc,
      responses: {
        200: { description: 'Payloads', schema: z.object({ items: z.array(unrecognizedSummarySchema) }) },
        400: errorResponse('Invalid query'),
        ...V1_ERRORS,
      },
    }),
    (c) =>
      guarded(c, async () => {
        const status = c.req.query('status') ?? 'pending';
        if (status !== 'pending' && status !== 'all')
          return error(c, 400, 'invalid_query', 'status must be pending or all');
        const rawLimit = c.req.query('limit');
        const limit = rawLimit === undefined ? 100 : Number(rawLimit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
          return error(c, 400, 'invalid_query', 'limit must be an integer from 1 to 1000');
        return c.json({ items: await store.list({ status, limit }) });
      }),
  );

  app.post(
    '/dismiss',
    documented({
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
        400: errorResponse('Invalid body'),
        ...V1_ERRORS,
      },
    }),
    (c) =>
      guarded(c, async () => {
        const body = await parseJsonBody(c, bulkDismissBody);
        const { ids, more } = await store.dismissMatching(
          { ...body, limit: body.limit ?? 100 },
          now().toISOString(),
          body.note,
        );
        return c.json({ dismissed: ids.length, ids, more });
      }),
  );

  app.get(
    '/:id',
    documented({
      tag: 'unrecognized payloads',
      auth: 'bearer',
      summary: 'One payload with its exact body (base64) and the headers a replay needs',
      pathParams: PAYLOAD_ID_PARAM,
      responses: {
        200: { description: 'The payload', schema: unrecognizedViewSchema },
        ...ENTRY_ERRORS,
      },
    }),
    (c) =>
      guarded(c, async () => {
        const view = await find(c, store);
        if (view instanceof Response) return view;
        // Entries kept before sign-in codes were removed on the way in may still hold one: never returned (a replay still reads the kept bytes).
        const redacted =
          view.channel === 'bm' && !view.credentialsRemoved
            ? withoutAuthCodes(Buffer.from(view.bodyBase64, 'base64'))
            : undefined;
        return c.json(
          redacted ? { ...view, bodyBase64: Buffer.from(redacted).toString('base64'), credentialsRemoved: true } : view,
        );
      }),
  );

  app.post(
    '/:id/replay',
    documented({
      tag: 'unrecognized payloads',
      auth: 'bearer',
      summary: 'Re-run the stored request through the webhook path (signature included); a 200 there resolves it',
      pathParams: PAYLOAD_ID_PARAM,
      responses: {
        200: {
          description: 'What the webhook path answered',
          schema: z.object({
            id: z.string(),
            resolved: z.boolean(),
            webhook: z.object({
              status: z.number().int(),
              body: z.unknown().meta({ description: "The webhook path's answer: its JSON body, or its text" }),
            }),
          }),
        },
        ...ENTRY_ERRORS,
        409: errorResponse('Already replayed or dismissed, or a body that cannot be replayed'),
      },
    }),
    (c) =>
      guarded(c, async () => {
        const view = await findPending(c, store);
        if (view instanceof Response) return view;
        if (view.bodyIncomplete)
          return error(
            c,
            409,
            'body_incomplete',
            `payload ${view.id} was kept in parts and one never arrived, so it cannot be replayed`,
          );
        if (view.credentialsRemoved)
          return error(
            c,
            409,
            'credentials_removed',
            `payload ${view.id} held a sign-in's authorization code, removed before it was kept, so it is no longer the signed body and cannot be replayed`,
          );
        const requestId = requestIdOf(c);
        const result = await processor.process({
          channel: view.channel,
          body: Buffer.from(view.bodyBase64, 'base64'),
          signature: view.headers['x-goog-signature'],
          contentType: view.headers['content-type'],
          requestId,
          source: 'replay',
        });
        if (result.status === 503) return c.json(result.json ?? {}, 503);
        // 200 also answers a payload kept again as unrecognized; only events the conversations accepted resolve it.
        const resolved = result.outcome === 'accepted';
        await store.recordReplay(view.id, {
          at: now().toISOString(),
          status: result.status,
          resolved,
          detail: result.outcome,
          ...(requestId ? { requestId } : {}),
        });
        return c.json({ id: view.id, resolved, webhook: { status: result.status, body: result.json ?? result.text } });
      }),
  );

  app.post(
    '/:id/dismiss',
    documented({
      tag: 'unrecognized payloads',
      auth: 'bearer',
      summary: 'Close the entry without replaying it',
      pathParams: PAYLOAD_ID_PARAM,
      responses: {
        200: { description: 'Dismissed', schema: z.object({ id: z.string(), status: z.literal('dismissed') }) },
        ...ENTRY_ERRORS,
        409: errorResponse('Already replayed or dismissed'),
      },
    }),
    (c) =>
      guarded(c, async () => {
        const view = await findPending(c, store);
        if (view instanceof Response) return view;
        await store.dismiss(view.id, now().toISOString());
        return c.json({ id: view.id, status: 'dismissed' });
      }),
  );

  return app;
}

/** The list's query as the route reads it (status and limit, checked by hand for their own messages). */
const listQueryDoc = z.object({
  status: z.enum(['pending', 'all']).default('pending'),
  limit: z.number().int().min(1).max(1000).default(100),
});

const PAYLOAD_ID_PARAM: Record<string, PathParamDoc> = {
  id: {
    description: "Payload id (from the webhook's `stored` answer)",
    schema: { type: 'string', pattern: '^[0-9a-f]{32}$' },
  },
};

/** What every route about one entry can answer besides its own. */
const ENTRY_ERRORS: Record<number, ResponseDoc> = { 404: errorResponse('No such payload'), ...V1_ERRORS };

/** POST /dismiss: which pending entries to close. */
const bulkDismissBody = z.strictObject({
  channel: z.enum(['rbm', 'bm']).optional(),
  /** e.g. `rbm.user_event.SOMETHING_NEW`, as listed. */
  kind: z.string().min(1).max(200).optional(),
  /** Only entries first received before this time (RFC 3339). */
  receivedBefore: z.iso.datetime({ offset: true }).optional(),
  limit: z.number().int().min(1).max(1000).optional(),
  note: z.string().max(500).optional(),
});

/** The entry the path names if it is still pending; else the 404 or 409 answer. */
async function findPending(c: Context, store: UnrecognizedPayloadStore) {
  const view = await find(c, store);
  if (view instanceof Response || view.status === 'pending') return view;
  return error(c, 409, 'already_closed', `payload ${view.id} is already ${view.status}`);
}

async function find(c: Context, store: UnrecognizedPayloadStore) {
  const id = c.req.param('id') ?? '';
  const view = UnrecognizedPayloadStore.isId(id) ? await store.get(id) : undefined;
  return view ?? error(c, 404, 'not_found', `no unrecognized payload ${JSON.stringify(id.slice(0, 64))}`);
}

/** Temporal being down is a 503 with the same body shape as the webhooks'; anything else goes to the app's error handler. */
async function guarded(c: Context, fn: () => Promise<Response>): Promise<Response> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof TemporalUnavailableError) return error(c, 503, err.code, err.message);
    throw err;
  }
}

function error(c: Context, status: 400 | 404 | 409 | 503, code: string, message: string): Response {
  const requestId = requestIdOf(c);
  if (status === 503) c.header('Retry-After', String(RETRY_AFTER_SECONDS));
  return c.json({ error: { code, message, ...(requestId ? { requestId } : {}) } }, status);
}

function requestIdOf(c: Context): string | undefined {
  return (c.get('requestId') as string | undefined) ?? undefined;
}
