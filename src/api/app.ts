import { createHash, timingSafeEqual } from 'node:crypto';

import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import { requestId } from 'hono/request-id';
import { z } from 'zod';

import { createApiMetrics } from '../observability/http-metrics';
import { createCodecServerApp } from './codec-server';
import { createConversationsApp } from './conversations';
import { type AppDeps } from './deps';
import { ApiError } from './errors';
import { createMessagesApp } from './messages';
import { documented, mountApiDocs } from './openapi';
import { createUnrecognizedPayloadsApp } from './unrecognized-payloads';
import { OPERATOR_BODY_LIMIT_BYTES } from './validation';
import { RETRY_AFTER_SECONDS } from './webhook-processor';
import { createWebhooksApp } from './webhooks';

const healthBody = z.object({
  status: z.literal('ok'),
  temporal: z.object({ reachable: z.boolean(), namespace: z.string() }),
});
const readyBody = z.object({ ready: z.boolean() });

/**
 * `Authorization: Bearer <token>`: the scheme in any case (RFC 9110 §11.1), the token compared in
 * constant time; 401 otherwise.
 */
function checkBearer(header: string | undefined, token: string): void {
  if (header === undefined) throw new ApiError(401, 'unauthorized', 'Authorization: Bearer <API_TOKEN> required');
  const match = /^bearer +(\S+) *$/i.exec(header);
  if (!match) throw new ApiError(401, 'unauthorized', 'malformed Authorization header');
  const given = createHash('sha256')
    .update(match[1] ?? '')
    .digest();
  if (!timingSafeEqual(given, createHash('sha256').update(token).digest()))
    throw new ApiError(401, 'unauthorized', 'invalid bearer token');
}

/** The HTTP API: health, Google's webhooks and the operator API, with errors mapped in one place. */
export function createApp(deps: AppDeps) {
  const app = new Hono();
  app.use(requestId());
  const metrics = deps.metrics ?? createApiMetrics({ logger: deps.logger });
  app.use(metrics.middleware);

  app.get(
    '/healthz',
    documented({
      tag: 'operations',
      auth: 'none',
      summary: 'Liveness, with whether Temporal is reachable',
      responses: { 200: { description: 'The API is up', schema: healthBody } },
    }),
    async (c) => {
      const reachable = await deps.conversations.isReachable();
      return c.json({ status: 'ok', temporal: { reachable, namespace: deps.config.temporal.namespace } });
    },
  );
  app.get(
    '/readyz',
    documented({
      tag: 'operations',
      auth: 'none',
      summary: 'Readiness: 503 while Temporal is unreachable',
      responses: {
        200: { description: 'Ready', schema: readyBody },
        503: { description: 'Temporal unreachable', schema: readyBody },
      },
    }),
    async (c) => {
      const reachable = await deps.conversations.isReachable();
      return c.json({ ready: reachable }, reachable ? 200 : 503);
    },
  );
  app.get(
    '/metrics',
    documented({
      tag: 'operations',
      auth: 'none',
      summary: 'Prometheus metrics of the API (HTTP latency and status by route, webhook outcomes)',
      responses: {
        200: { description: 'Prometheus text exposition format', contentType: 'text/plain', schema: z.string() },
      },
    }),
    async (c) => {
      const { contentType, body } = await metrics.render();
      return c.body(body, 200, { 'content-type': contentType });
    },
  );
  // GET /openapi.json and GET /docs (src/api/openapi.ts): every route below is documented there.
  mountApiDocs(app);

  app.route('/webhooks', createWebhooksApp(deps));
  // Temporal's remote codec protocol for the Web UI and the CLI (own token, CORS): src/api/codec-server.ts.
  app.route('/codec', createCodecServerApp(deps));

  const apiToken = deps.config.apiToken;
  app.use('/v1/*', async (c, next) => {
    if (!apiToken)
      throw new ApiError(503, 'operator_api_disabled', 'the operator API needs API_TOKEN to be configured');
    checkBearer(c.req.header('authorization'), apiToken);
    await next();
  });
  app.use(
    '/v1/*',
    bodyLimit({
      maxSize: OPERATOR_BODY_LIMIT_BYTES,
      onError: () => {
        throw new ApiError(413, 'payload_too_large', `request body exceeds ${OPERATOR_BODY_LIMIT_BYTES} bytes`);
      },
    }),
  );
  app.route('/v1/conversations', createConversationsApp(deps));
  app.route('/v1/unrecognized-payloads', createUnrecognizedPayloadsApp(deps));
  app.route('/v1', createMessagesApp(deps));

  app.notFound((c) =>
    c.json({ error: { code: 'not_found', message: `no route for ${c.req.method} ${c.req.path}` } }, 404),
  );
  app.onError((err, c) => {
    const log = deps.logger.child({ requestId: c.get('requestId'), method: c.req.method, path: c.req.path });
    if (err instanceof ApiError) {
      (err.status >= 500 ? log.error : log.info)('request failed', { status: err.status, code: err.code });
      if (err.status === 503) c.header('Retry-After', String(RETRY_AFTER_SECONDS));
      if (err.status === 401) c.header('WWW-Authenticate', 'Bearer');
      return c.json({ error: { code: err.code, message: err.message, ...err.details } }, err.status);
    }
    // Hono's own middleware (bearer auth: 401 with our JSON body) throws these with the answer ready.
    if (err instanceof HTTPException) return err.getResponse();
    log.error('unhandled error', { error: err.message, name: err.name });
    return c.json({ error: { code: 'internal', message: 'internal error', requestId: c.get('requestId') } }, 500);
  });
  return app;
}
