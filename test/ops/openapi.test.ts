/**
 * GET /openapi.json is a valid OpenAPI 3.1 document (checked with @apidevtools/swagger-parser
 * against the official schema plus its semantic checks), documents every route the app mounts
 * (walking app.routes) and nothing else, and is generated from the routes' own descriptions and zod
 * schemas, every response typed.
 */
import SwaggerParser from '@apidevtools/swagger-parser';
import { z } from 'zod';

import { createApp } from '../../src/api/app';
import { listQuery } from '../../src/api/conversations';
import { sendMessageBody } from '../../src/api/messages';
import { loadConfig } from '../../src/config';
import { silentLogger } from '../../src/logger';
import { createLazyClient } from '../../src/temporal/connections';
import { ConversationsClient } from '../../src/temporal-client/conversations';

type Doc = {
  openapi: string;
  paths: Record<
    string,
    Record<
      string,
      {
        responses: Record<string, unknown>;
        security?: unknown[];
        parameters?: { name: string; in: string; schema: Record<string, unknown> }[];
      }
    >
  >;
  components: { schemas: Record<string, unknown> };
};

// A lazy client never connects unless a route uses it; these tests only read the documentation.
const config = loadConfig({ TEMPORAL_ADDRESS: '127.0.0.1:1', API_TOKEN: 'openapi-test-token-0123456789' });
const app = createApp({
  config,
  conversations: new ConversationsClient({
    client: createLazyClient(config.temporal),
    taskQueue: 'unused',
    timeoutMs: 100,
    workflowIds: { revealPhoneNumbers: false, secret: 'x' },
  }),
  logger: silentLogger,
});

async function document(): Promise<Doc> {
  const res = await app.request('/openapi.json');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('application/json');
  return (await res.json()) as Doc;
}

/** Hono's `/v1/conversations/:key` → OpenAPI's `/v1/conversations/{key}`. */
const toOpenApiPath = (p: string) => p.replace(/:(\w+)/g, '{$1}');

describe('OpenAPI document', () => {
  test('validates as OpenAPI 3.1', async () => {
    const doc = await document();
    expect(doc.openapi).toBe('3.1.0');
    // validate() dereferences in place: give it a copy.
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeDefined();
  });

  test('the validator does reject a broken document (so the check above means something)', async () => {
    const doc = await document();
    const broken = structuredClone(doc);
    (broken.paths['/healthz'] as Record<string, unknown>).get = {
      responses: {
        200: { description: 'x', content: { 'application/json': { schema: { $ref: '#/components/schemas/Nope' } } } },
      },
    };
    await expect(SwaggerParser.validate(broken as never)).rejects.toThrow();
  });

  test('covers every route the app mounts, and documents no route the app lacks', async () => {
    const doc = await document();
    const mounted = app.routes
      .filter((r) => r.method !== 'ALL')
      .map((r) => `${r.method.toLowerCase()} ${toOpenApiPath(r.path)}`);
    const documented = Object.entries(doc.paths).flatMap(([p, ops]) => Object.keys(ops).map((m) => `${m} ${p}`));
    expect(mounted.length).toBeGreaterThanOrEqual(15);
    expect({
      undocumented: mounted.filter((r) => !documented.includes(r)),
      stale: documented.filter((d) => !mounted.includes(d)),
    }).toEqual({ undocumented: [], stale: [] });
    for (const route of [
      'get /healthz',
      'get /readyz',
      'get /metrics',
      'post /webhooks/rbm',
      'post /webhooks/bm',
      'post /v1/conversations/{key}/messages',
      'get /v1/unrecognized-payloads',
    ]) {
      expect(documented).toContain(route);
    }
  });

  test('webhooks are documented with their status contract and no bearer auth; /v1 needs the bearer token', async () => {
    const doc = await document();
    for (const channel of ['rbm', 'bm']) {
      const op = doc.paths[`/webhooks/${channel}`]?.post;
      expect(Object.keys(op?.responses ?? {}).sort()).toEqual(['200', '401', '413', '503']);
      expect(op?.security).toEqual([]);
    }
    for (const [p, ops] of Object.entries(doc.paths)) {
      for (const op of Object.values(ops)) {
        if (p.startsWith('/v1/')) {
          expect(op.security).toEqual([{ bearerAuth: [] }]);
          expect(Object.keys(op.responses)).toContain('401');
        }
      }
    }
  });

  test("schemas are the routes' own zod schemas", async () => {
    const doc = await document();
    const { $schema: _d, ...sendBody } = z.toJSONSchema(sendMessageBody, {
      target: 'draft-2020-12',
      io: 'input',
      unrepresentable: 'any',
    }) as Record<string, unknown>;
    const documentedBody = (
      doc.paths['/v1/conversations/{key}/messages']?.post as unknown as {
        requestBody: { content: Record<string, { schema: unknown }> };
      }
    ).requestBody.content['application/json']?.schema;
    expect(documentedBody).toEqual(sendBody);
    // Strict: an unknown field is a 400 at the route, and the document says so.
    expect(documentedBody).toMatchObject({ additionalProperties: false });
    const limit = doc.paths['/v1/conversations']?.get?.parameters?.find((p) => p.name === 'limit');
    expect(limit).toMatchObject({ in: 'query', schema: { type: 'integer', maximum: 500, default: 50 } });
    expect(listQuery.shape.limit.parse(undefined)).toBe(50);
  });

  test('every response with a body is typed: a named error, a schema with fields, a union, or a scalar', async () => {
    const doc = await document();
    type Schema = { $ref?: string; type?: string; properties?: object; oneOf?: unknown[]; anyOf?: unknown[] };
    const untyped: string[] = [];
    let bodies = 0;
    for (const [p, ops] of Object.entries(doc.paths))
      for (const [method, op] of Object.entries(ops))
        for (const [status, response] of Object.entries(op.responses)) {
          const content = (response as { content?: Record<string, { schema?: Schema }> }).content ?? {};
          for (const [media, { schema }] of Object.entries(content)) {
            bodies += 1;
            const typed =
              schema !== undefined &&
              (schema.$ref !== undefined ||
                schema.oneOf !== undefined ||
                schema.anyOf !== undefined ||
                (schema.type !== undefined && schema.type !== 'object') ||
                (schema.type === 'object' && Object.keys(schema.properties ?? {}).length > 0));
            if (!typed) untyped.push(`${method} ${p} ${status} ${media}`);
          }
        }
    expect(bodies).toBeGreaterThan(60);
    expect(untyped).toEqual([]);
  });

  test('the constraints the document states are the ones the routes enforce: conversation keys and list filters', async () => {
    const doc = await document();
    const keySchema = doc.paths['/v1/conversations/{key}']?.get?.parameters?.find((p) => p.name === 'key')?.schema as {
      pattern: string;
      minLength: number;
      maxLength: number;
    };
    const placeSchema = doc.paths['/v1/conversations']?.get?.parameters?.find((p) => p.name === 'place')?.schema as {
      pattern: string;
      maxLength?: number;
    };
    expect(keySchema).toMatchObject({ pattern: expect.any(String), maxLength: 277 });
    expect(placeSchema).toMatchObject({ pattern: expect.any(String) });
    const documented = (value: string, schema: { pattern: string; minLength?: number; maxLength?: number }) =>
      new RegExp(schema.pattern, 'u').test(value) &&
      value.length >= (schema.minLength ?? 0) &&
      value.length <= (schema.maxLength ?? Infinity);
    const auth = { authorization: 'Bearer openapi-test-token-0123456789' };
    // A value the document allows gets past validation (here to Temporal at a closed port: 503); one it forbids is a 400.
    const keys = [
      'rbm:agent@rbm.goog:+14155550100',
      'bm:conversation-1',
      `bm:${'c'.repeat(256)}`,
      `bm:${'c'.repeat(257)}`,
      `rbm:${'a'.repeat(256)}:+14155550100`,
      'bm:a/b',
      'rbm:agent with space:+14155550100',
      'rbm:agent@rbm.goog:14155550100',
      'bm:',
      'bm:x\u0000y',
      'sms:+14155550100',
    ];
    for (const key of keys) {
      const res = await app.request(`/v1/conversations/${encodeURIComponent(key)}`, { headers: auth });
      expect({ key, status: res.status === 400 ? 400 : 'past validation' }).toEqual({
        key,
        status: documented(key, keySchema) ? 'past validation' : 400,
      });
    }
    for (const place of ['ChIJ-place', "o'brien\\x", 'abc\u0000def', 'tab\there', 'p'.repeat(200)]) {
      const res = await app.request(`/v1/conversations?place=${encodeURIComponent(place)}`, { headers: auth });
      expect({ place, status: res.status === 400 ? 400 : 'past validation' }).toEqual({
        place,
        status: documented(place, placeSchema) ? 'past validation' : 400,
      });
    }
  }, 30_000);
});

describe('GET /docs', () => {
  test('renders every operation without scripts or external resources', async () => {
    const res = await app.request('/docs');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).not.toMatch(/<script|<link|src=|https?:\/\/(?!www\.)/i);
    const doc = await document();
    for (const p of Object.keys(doc.paths)) expect(html).toContain(`<code>${p.replace(/&/g, '&amp;')}</code>`);
    expect(html).toContain('e.g. PERMISSION_DENIED (not_accepted, logged as an error). Google retries');
  });
});
