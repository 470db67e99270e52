/**
 * The API's OpenAPI 3.1 document, generated from the routes themselves: each route carries its
 * description (`documented(...)`, next to its handler, with the zod schemas the handler validates
 * and answers with), and hono-openapi walks the app's routes to assemble the document. Served at
 * GET /openapi.json and rendered as a self-contained page at GET /docs.
 *
 * Schemas go through zod's toJSONSchema (JSON Schema 2020-12 is OpenAPI 3.1's schema dialect).
 */
import { type Hono, type MiddlewareHandler } from 'hono';
import { describeRoute, generateSpecs } from 'hono-openapi';
import { z } from 'zod';

import { CONVERSATION_KEY_MAX_LENGTH, CONVERSATION_KEY_PATTERN, OPERATOR_BODY_LIMIT_BYTES } from './validation';

type Json = Record<string, unknown>;

/** The document's tags, one per part of the API. */
const TAGS = {
  webhooks: "Google's deliveries: 2xx only once Temporal accepted them",
  conversations: 'Conversation state and operator actions',
  messages: 'Outbound messages and their delivery tracking',
  'unrecognized payloads': 'Signed payloads of unknown kinds, kept for an operator',
  operations: 'Health, metrics and this documentation',
  codec: "Temporal's remote codec protocol: the Web UI and the CLI decode the encrypted payloads through it",
} as const;

/** Every non-2xx answer of the API (one shared component). */
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

/** A response body: a zod schema, or 'Error' for the shared error component. */
type BodySchema = z.ZodType | 'Error';

/** One documented answer of a route. */
export interface ResponseDoc {
  description: string;
  schema?: BodySchema;
  /** Default application/json. */
  contentType?: string;
  /** More than one body (e.g. the handshake's text or JSON). */
  alternatives?: { contentType: string; schema: z.ZodType }[];
  /** The JSON body is one of these (instead of `schema`). */
  oneOf?: z.ZodType[];
  /** Response headers: name → description. */
  headers?: Record<string, string>;
}

/** A path parameter: its description and the constraints the route enforces (a plain string by default). */
export interface PathParamDoc {
  description: string;
  schema?: Json;
}

/** What a route documents about itself; its method and path come from where it is mounted. */
export interface RouteDoc {
  summary: string;
  description?: string;
  tag: keyof typeof TAGS;
  auth: 'none' | 'bearer' | 'codec';
  pathParams?: Record<string, PathParamDoc>;
  /** Query parameters: the fields of the zod object the route parses the query with. */
  query?: z.ZodObject;
  headers?: { name: string; schema: z.ZodType; required: boolean; description: string }[];
  body?: { schema: z.ZodType; required?: boolean; oneOf?: z.ZodType[] };
  responses: Record<number, ResponseDoc>;
}

const JSON_SCHEMA_OPTIONS = { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' } as const;

/** A JSON Schema for a zod schema, without the `$schema` key (the document's dialect applies). */
function jsonSchema(schema: z.ZodType): Json {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, JSON_SCHEMA_OPTIONS) as Json;
  return rest;
}

function bodySchema(schema: BodySchema): Json {
  return schema === 'Error' ? { $ref: '#/components/schemas/Error' } : jsonSchema(schema);
}

function responseObject(r: ResponseDoc): Json {
  const content: Json = {};
  if (r.schema !== undefined) content[r.contentType ?? 'application/json'] = { schema: bodySchema(r.schema) };
  if (r.oneOf !== undefined) content['application/json'] = { schema: { oneOf: r.oneOf.map(jsonSchema) } };
  for (const alt of r.alternatives ?? []) content[alt.contentType] = { schema: jsonSchema(alt.schema) };
  const headers = r.headers
    ? Object.fromEntries(
        Object.entries(r.headers).map(([name, description]) => [name, { description, schema: { type: 'string' } }]),
      )
    : undefined;
  return {
    description: r.description,
    ...(headers ? { headers } : {}),
    ...(Object.keys(content).length > 0 ? { content } : {}),
  };
}

/** The route's OpenAPI operation object, minus what its mounting says (method, path, operationId). */
function operationObject(doc: RouteDoc): Json {
  const parameters: Json[] = [];
  for (const [name, param] of Object.entries(doc.pathParams ?? {}))
    parameters.push({
      name,
      in: 'path',
      required: true,
      description: param.description,
      schema: param.schema ?? { type: 'string' },
    });
  for (const [name, field] of Object.entries(doc.query?.shape ?? {})) {
    const schema = field as z.ZodType;
    parameters.push({ name, in: 'query', required: !schema.safeParse(undefined).success, schema: jsonSchema(schema) });
  }
  for (const h of doc.headers ?? [])
    parameters.push({
      name: h.name,
      in: 'header',
      required: h.required,
      description: h.description,
      schema: jsonSchema(h.schema),
    });
  return {
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    tags: [doc.tag],
    security: doc.auth === 'bearer' ? [{ bearerAuth: [] }] : doc.auth === 'codec' ? [{ codecToken: [] }] : [],
    ...(parameters.length > 0 ? { parameters } : {}),
    ...(doc.body
      ? {
          requestBody: {
            required: doc.body.required ?? true,
            content: {
              'application/json': {
                schema: doc.body.oneOf ? { oneOf: doc.body.oneOf.map(jsonSchema) } : jsonSchema(doc.body.schema),
              },
            },
          },
        }
      : {}),
    responses: Object.fromEntries(Object.entries(doc.responses).map(([status, r]) => [status, responseObject(r)])),
  };
}

/**
 * Middleware that documents the route it is mounted on (and does nothing else): put it first in
 * the route's handlers, e.g. `app.get('/healthz', documented({...}), handler)`.
 */
export function documented(doc: RouteDoc): MiddlewareHandler {
  return describeRoute(operationObject(doc) as Parameters<typeof describeRoute>[0]);
}

// ---------------------------------------------------------------------------------------------
// Pieces the routes share.

/** An error answer with the shared error body. */
export const errorResponse = (description: string, headers?: Record<string, string>): ResponseDoc => ({
  description,
  schema: 'Error',
  ...(headers ? { headers } : {}),
});

/** What every /v1 route can answer besides its own. */
export const V1_ERRORS: Record<number, ResponseDoc> = {
  401: errorResponse('Missing or wrong bearer token (the scheme in any case: Bearer, bearer)', {
    'WWW-Authenticate': 'Bearer',
  }),
  413: errorResponse(`Body larger than ${OPERATOR_BODY_LIMIT_BYTES} bytes`),
  503: errorResponse('API_TOKEN not configured, or Temporal unavailable', { 'Retry-After': 'Seconds to wait' }),
};

/** What every /v1/conversations/{key}… route can answer besides its own. */
export const CONVERSATION_ERRORS: Record<number, ResponseDoc> = {
  ...V1_ERRORS,
  400: errorResponse('Invalid conversation key or body (names the field)'),
  404: errorResponse('No conversation for this key'),
};

/** The `{key}` path parameter of the conversation routes. */
export const KEY_PARAM: Record<string, PathParamDoc> = {
  key: {
    description:
      'Conversation key, URL-encoded: rbm:{agentId}:{E.164} (agentId 1 to 256 printable ASCII characters without spaces) or bm:{conversationId} (1 to 256 printable ASCII characters without "/" or spaces), e.g. rbm%3Aagent%40rbm.goog%3A%2B14155550100',
    schema: { type: 'string', pattern: CONVERSATION_KEY_PATTERN, minLength: 4, maxLength: CONVERSATION_KEY_MAX_LENGTH },
  },
};

// ---------------------------------------------------------------------------------------------
// Document.

/** Options of buildOpenApiDocument. */
export interface OpenApiOptions {
  /** `info.version`; default the package version. */
  version?: string;
}

/** The OpenAPI 3.1 document of every documented route of `app`. */
async function buildOpenApiDocument(app: Hono, options: OpenApiOptions = {}): Promise<Json> {
  return (await generateSpecs(app, {
    // Routes are documented one by one; /openapi.json is one of them, not a static file.
    excludeStaticFile: false,
    documentation: {
      openapi: '3.1.0',
      info: {
        title: 'Switchboard API',
        version: options.version ?? '0.1.0',
        description:
          "Google's business messaging webhooks (RCS Business Messaging, Business Messages) and the operator API of Switchboard, a conversation orchestrator on Temporal. The /v1 routes need `Authorization: Bearer <API_TOKEN>`; the webhooks are authenticated by X-Goog-Signature.",
      },
      tags: Object.entries(TAGS).map(([name, description]) => ({ name, description })),
      components: {
        schemas: { Error: jsonSchema(errorBody) as never },
        securitySchemes: {
          bearerAuth: { type: 'http', scheme: 'bearer', description: 'API_TOKEN' },
          codecToken: { type: 'http', scheme: 'bearer', description: 'CODEC_SERVER_TOKEN' },
        },
      },
    },
  })) as unknown as Json;
}

// ---------------------------------------------------------------------------------------------
// HTML page: no scripts, no external resources, so it works offline and under a strict CSP.

const escapeHtml = (s: string) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

interface OperationView {
  operationId?: string;
  summary?: string;
  description?: string;
  security?: Record<string, unknown>[];
  parameters?: { name: string; in: string; required?: boolean; description?: string }[];
  requestBody?: { content?: unknown };
  responses?: Record<string, { description?: string }>;
}

function authLabel(op: OperationView): string {
  const scheme = Object.keys(op.security?.[0] ?? {})[0];
  return scheme === 'bearerAuth'
    ? ' <small>bearer</small>'
    : scheme === 'codecToken'
      ? ' <small>codec token</small>'
      : '';
}

function operationSection(method: string, path: string, op: OperationView): string {
  const params = (op.parameters ?? [])
    .map(
      (p) =>
        `<li><code>${escapeHtml(p.name)}</code> (${escapeHtml(p.in)}${p.required ? ', required' : ''})${p.description ? ` — ${escapeHtml(p.description)}` : ''}</li>`,
    )
    .join('');
  const body = op.requestBody
    ? `<details><summary>Request body</summary><pre>${escapeHtml(JSON.stringify(op.requestBody.content, null, 2))}</pre></details>`
    : '';
  const responses = Object.entries(op.responses ?? {})
    .map(([status, r]) => `<tr><td><code>${status}</code></td><td>${escapeHtml(r.description ?? '')}</td></tr>`)
    .join('');
  return `<section id="${escapeHtml(op.operationId ?? '')}"><h3><span class="m ${method}">${method.toUpperCase()}</span> <code>${escapeHtml(path)}</code>${authLabel(op)}</h3><p>${escapeHtml(op.summary ?? '')}</p>${op.description ? `<p>${escapeHtml(op.description)}</p>` : ''}${params ? `<ul>${params}</ul>` : ''}${body}<table>${responses}</table></section>`;
}

/** The document as one HTML page: every operation with its parameters, body schema and responses. */
function renderDocsPage(doc: Json): string {
  const info = doc.info as { title: string; version: string; description: string };
  const paths = doc.paths as Record<string, Record<string, OperationView>>;
  const sections = Object.entries(paths)
    .flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => operationSection(method, path, op)))
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(info.title)}</title>
<style>body{font:15px/1.45 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}section{border-top:1px solid #ddd;padding:.5rem 0}.m{display:inline-block;min-width:3.5rem;font-size:.8em;color:#fff;border-radius:3px;text-align:center;padding:1px 4px}.get{background:#2a7}.post{background:#27c}.delete{background:#c33}pre{background:#f6f6f6;padding:.5rem;overflow:auto;font-size:12px}table{border-collapse:collapse}td{padding:2px 8px;vertical-align:top}small{color:#a50}</style>
</head><body><h1>${escapeHtml(info.title)} <small>${escapeHtml(info.version)}</small></h1><p>${escapeHtml(info.description)}</p><p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI ${escapeHtml(String(doc.openapi))}).</p>
${sections}
</body></html>`;
}

/**
 * GET /openapi.json and GET /docs on the app. The document is generated on the first request,
 * once every route is mounted, and kept.
 */
export function mountApiDocs(app: Hono, options: OpenApiOptions = {}): void {
  let doc: Promise<Json> | undefined;
  let page: string | undefined;
  const document = () =>
    (doc ??= buildOpenApiDocument(app, options).catch((err: unknown) => {
      doc = undefined;
      throw err;
    }));
  app.get(
    '/openapi.json',
    documented({
      tag: 'operations',
      auth: 'none',
      summary: 'This document',
      responses: {
        200: { description: 'OpenAPI 3.1', schema: z.looseObject({ openapi: z.string(), paths: z.looseObject({}) }) },
      },
    }),
    async (c) => c.json(await document()),
  );
  app.get(
    '/docs',
    documented({
      tag: 'operations',
      auth: 'none',
      summary: 'This document as an HTML page',
      responses: { 200: { description: 'HTML', contentType: 'text/html', schema: z.string() } },
    }),
    async (c) => {
      page ??= renderDocsPage(await document());
      return c.html(page, 200, { 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'" });
    },
  );
}
