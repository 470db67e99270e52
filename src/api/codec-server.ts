/**
 * The codec server endpoint: Temporal's remote codec protocol over the payload codec
 * (src/temporal/payload-codec.ts), so the Temporal Web UI and `temporal workflow show
 * --codec-endpoint` show operators the plaintext that Temporal itself only stores encrypted.
 *
 *   POST /codec/decode, POST /codec/encode          Authorization: Bearer <CODEC_SERVER_TOKEN>
 *   POST /codec/{token}/decode, …/{token}/encode    the token in the path, for a browser UI that
 *                                                   cannot send a header (the dev server's UI)
 *
 * Bodies are `temporal.api.common.v1.Payloads` in protobuf JSON (`{"payloads": [{"metadata":
 * {"encoding": "<base64>"}, "data": "<base64>"}]}`), in and out. `X-Namespace`, when sent, must be
 * the namespace this deployment serves. CORS answers the origins of CODEC_SERVER_CORS_ORIGINS
 * (preflight included, credentials allowed). Without CODEC_SERVER_TOKEN every route answers 503.
 *
 * Nothing here logs a path: the path may carry the token.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

import { type Payload } from '@temporalio/common';
import { type Context, Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { cors } from 'hono/cors';
import { z } from 'zod';

import { AesGcmPayloadCodec, PayloadDecryptionError } from '../temporal/payload-codec';
import { type AppDeps } from './deps';
import { documented, errorResponse, type RouteDoc } from './openapi';

/** Largest request body: a UI asks for one event's payloads at a time; Temporal caps a payload at 2 MB by default. */
const CODEC_BODY_LIMIT_BYTES = 8 * 1024 * 1024;

// Protobuf JSON writes bytes as base64, standard or URL-safe, padded or not.
const base64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, 'base64 expected');
/** A `Payloads` message in protobuf JSON. */
const payloadsJson = z.object({
  payloads: z.array(z.looseObject({ metadata: z.record(z.string(), base64).optional(), data: base64.optional() })),
});

const fromBase64 = (s: string) => new Uint8Array(Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64'));
const toBase64 = (b: Uint8Array | null | undefined) => Buffer.from(b ?? new Uint8Array()).toString('base64');

function fromJson(p: z.infer<typeof payloadsJson>['payloads'][number]): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, fromBase64(v)])),
    data: fromBase64(p.data ?? ''),
  };
}

function toJson(p: Payload): { metadata: Record<string, string>; data: string } {
  return {
    metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, toBase64(v)])),
    data: toBase64(p.data),
  };
}

/** Constant-time comparison of two tokens of any length (their digests are compared). */
function sameToken(given: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

function fail(c: Context, status: 400 | 401 | 413 | 500 | 503, code: string, message: string) {
  if (status === 401) c.header('WWW-Authenticate', 'Bearer realm="switchboard-codec"');
  return c.json({ error: { code, message } }, status);
}

/** /codec: the remote codec endpoints (mounted by app.ts). */
export function createCodecServerApp(deps: AppDeps) {
  const app = new Hono();
  const { token, corsOrigins } = deps.config.codecServer;
  const namespace = deps.config.temporal.namespace;
  const codec = new AesGcmPayloadCodec(deps.config.temporal.payloadEncryption);
  const log = deps.logger.child({ component: 'codec-server' });

  if (corsOrigins.length > 0) {
    app.use(
      '*',
      cors({
        origin: corsOrigins,
        allowMethods: ['POST', 'OPTIONS'],
        allowHeaders: ['Content-Type', 'X-Namespace', 'Authorization'],
        credentials: true,
        maxAge: 600,
      }),
    );
  }
  app.use(
    '*',
    bodyLimit({
      maxSize: CODEC_BODY_LIMIT_BYTES,
      onError: (c) => fail(c, 413, 'too_large', `bodies are limited to ${CODEC_BODY_LIMIT_BYTES} bytes`),
    }),
  );
  // Decoded payloads are message texts: never kept by a cache between the operator and us.
  app.use('*', async (c, next) => {
    await next();
    c.header('Cache-Control', 'no-store');
  });

  const handle = (op: 'encode' | 'decode', tokenFrom: 'header' | 'path') => async (c: Context) => {
    if (!token)
      return fail(c, 503, 'codec_server_disabled', 'the codec endpoint needs CODEC_SERVER_TOKEN to be configured');
    const given =
      tokenFrom === 'path'
        ? c.req.param('token')
        : /^Bearer\s+(.+)$/i.exec(c.req.header('authorization') ?? '')?.[1]?.trim();
    if (!given) return fail(c, 401, 'unauthorized', 'Authorization: Bearer <CODEC_SERVER_TOKEN> required');
    if (!sameToken(given, token)) return fail(c, 401, 'unauthorized', 'invalid codec token');
    const asked = c.req.header('x-namespace');
    if (asked !== undefined && asked !== namespace)
      return fail(c, 400, 'wrong_namespace', `this codec serves namespace ${namespace}, not ${asked}`);

    let raw: unknown;
    try {
      raw = await c.req.json();
    } catch {
      return fail(c, 400, 'invalid_json', 'the body must be JSON: {"payloads": [...]}');
    }
    const parsed = payloadsJson.safeParse(raw);
    if (!parsed.success)
      return fail(
        c,
        400,
        'invalid_body',
        parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '),
      );
    const payloads = parsed.data.payloads.map(fromJson);
    try {
      const out = op === 'encode' ? await codec.encode(payloads) : await codec.decode(payloads);
      return c.json({ payloads: out.map(toJson) });
    } catch (err) {
      if (err instanceof PayloadDecryptionError) return fail(c, 400, 'cannot_decode', err.message);
      throw err;
    }
  };

  app.post('/encode', documented(codecDoc('encode', 'header')), handle('encode', 'header'));
  app.post('/decode', documented(codecDoc('decode', 'header')), handle('decode', 'header'));
  app.post('/:token/encode', documented(codecDoc('encode', 'path')), handle('encode', 'path'));
  app.post('/:token/decode', documented(codecDoc('decode', 'path')), handle('decode', 'path'));

  // Our own error handler: the app's would log the request path, which may hold the token.
  app.onError((err, c) => {
    log.error('codec request failed', { route: c.req.routePath, error: err.name });
    return fail(c, 500, 'internal', 'internal error');
  });
  return app;
}

const payloadsDoc = payloadsJson.meta({
  description: 'temporal.api.common.v1.Payloads in protobuf JSON (metadata values and data in base64)',
});

function codecDoc(op: 'encode' | 'decode', tokenIn: 'header' | 'path'): RouteDoc {
  return {
    tag: 'codec',
    auth: tokenIn === 'header' ? 'codec' : 'none',
    summary:
      op === 'decode'
        ? 'Decrypt payloads (encrypted ones; others come back as they are)'
        : 'Encrypt payloads with the current key (as they are when encryption is off)',
    description: `Temporal's remote codec protocol (the Web UI's and \`temporal workflow show --codec-endpoint\`'s): Payloads in, Payloads out, through the AES-256-GCM payload codec. X-Namespace, when sent, must be this deployment's namespace. CORS for CODEC_SERVER_CORS_ORIGINS.${tokenIn === 'path' ? " The token is part of the path, for a browser UI that cannot send an Authorization header (the dev server's UI): keep that URL secret." : ''}`,
    ...(tokenIn === 'path' ? { pathParams: { token: { description: 'CODEC_SERVER_TOKEN' } } } : {}),
    headers: [
      { name: 'X-Namespace', schema: z.string(), required: false, description: 'The namespace the payloads belong to' },
    ],
    body: { schema: payloadsDoc },
    responses: {
      200: { description: op === 'decode' ? 'Decoded payloads' : 'Encoded payloads', schema: payloadsDoc },
      400: errorResponse('Malformed body, another namespace, or a payload no configured key decrypts'),
      401: errorResponse('Missing or wrong codec token'),
      413: errorResponse('Body larger than 8 MiB'),
      503: errorResponse('CODEC_SERVER_TOKEN not configured'),
    },
  };
}
