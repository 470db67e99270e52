/**
 * Arbitrary bodies and headers at both webhook routes: only 200, 401, 413 (and 503 with
 * Retry-After while Temporal is away), never a crash, always a JSON error body (or the handshake's
 * secret); every correctly signed request gets 200. The generators mix plain
 * noise with near-valid payloads that are correctly signed, so the schema and normalization paths
 * (and Temporal, for what passes them) see hostile values too. Temporal is real: the shared dev
 * server, and a closed port for the 503 branch.
 */
import { randomUUID } from 'node:crypto';

import { type TestWorkflowEnvironment } from '@temporalio/testing';
import fc from 'fast-check';

import { createApp } from '../../src/api/app';
import { type WebhookAppDeps } from '../../src/api/webhooks';
import { computeSignature } from '../../src/channels/signature';
import { loadConfig } from '../../src/config';
import { silentLogger } from '../../src/logger';
import { createLazyClient } from '../../src/temporal/connections';
import { ConversationsClient } from '../../src/temporal-client/conversations';
import { UnrecognizedPayloadStore } from '../../src/temporal-client/unrecognized-payload-store';
import { freePort } from '../helpers/ports';
import { createDevServerEnv } from '../helpers/temporal';
import {
  BM_TOKEN,
  type Harness,
  OWN_AGENT_TOKEN,
  OWN_TOKEN_AGENT,
  RBM_TOKEN,
  startHarness,
  trackTemporalCalls,
} from './harness';

const LIMIT = 4096;

type Channel = 'rbm' | 'bm';
interface Attempt {
  channel: Channel;
  body: Uint8Array | string;
  headers: Record<string, string>;
}

const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', '\ud800', 'constructor', '__proto__', 'x'.repeat(600)),
);
const jsonValue = fc.jsonValue({ maxDepth: 3 });
const anyValue = fc.oneof(text, jsonValue, fc.double(), fc.boolean(), fc.constant(null));
const phone = fc.oneof(fc.constantFrom('+14155550100', '+447700900123'), fc.stringMatching(/^\+[1-9]\d{6,14}$/), text);
const agent = fc.oneof(fc.constantFrom('a@rbm.goog', OWN_TOKEN_AGENT, 'constructor'), text);

/** A value of the field's type most of the time, anything now and then. */
const field = <T>(good: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 12, arbitrary: good }, { weight: 1, arbitrary: anyValue });

const fileInfo = fc.record(
  {
    mimeType: field(text),
    fileSizeBytes: field(fc.oneof(fc.nat(), fc.constant('127806'))),
    fileName: field(text),
    fileUri: field(text),
  },
  { requiredKeys: [] },
);

const content = fc.oneof(
  fc.record({ text: field(text) }),
  fc.record({
    userFile: field(fc.record({ payload: field(fileInfo), thumbnail: field(fileInfo) }, { requiredKeys: ['payload'] })),
  }),
  fc.record({
    location: field(
      fc.record({ latitude: field(fc.double({ min: -90, max: 90, noNaN: true })), longitude: field(fc.double()) }),
    ),
  }),
  fc.record({
    suggestionResponse: field(
      fc.record(
        { postbackData: field(text), text: field(text), type: field(fc.constantFrom('REPLY', 'ACTION', 'UNKNOWN')) },
        { requiredKeys: ['postbackData'] },
      ),
    ),
  }),
);
const ids = fc.record({ messageId: field(text), eventId: field(text), sendTime: field(text) }, { requiredKeys: [] });
const userEventType = fc.oneof(fc.constantFrom('DELIVERED', 'READ', 'IS_TYPING', 'SUBSCRIBE', 'UNSUBSCRIBE'), text);
const serverEventType = fc.oneof(fc.constantFrom('TTL_EXPIRATION_REVOKED', 'TTL_EXPIRATION_REVOKE_FAILED'), text);

/** RBM event data: each documented kind with hostile values now and then, and a free mix of all fields. */
const rbmData = fc.oneof(
  fc
    .tuple(fc.record({ senderPhoneNumber: field(phone), agentId: field(agent) }), ids, content)
    .map(([a, b, c]) => ({ ...a, ...b, ...c })),
  fc
    .tuple(fc.record({ senderPhoneNumber: field(phone), agentId: field(agent), eventType: field(userEventType) }), ids)
    .map(([a, b]) => ({ ...a, ...b })),
  fc
    .tuple(fc.record({ phoneNumber: field(phone), agentId: field(agent), eventType: field(serverEventType) }), ids)
    .map(([a, b]) => ({ ...a, ...b })),
  fc.record(
    { eventId: field(text), agentId: field(agent), oldLaunchState: field(text), newLaunchState: field(text) },
    { requiredKeys: [] },
  ),
  fc
    .tuple(
      fc.record(
        {
          senderPhoneNumber: field(phone),
          phoneNumber: field(phone),
          agentId: field(agent),
          eventType: field(fc.oneof(userEventType, serverEventType)),
        },
        { requiredKeys: [] },
      ),
      ids,
      content,
      content,
    )
    .map(([a, b, c, d]) => ({ ...a, ...b, ...c, ...d })),
);

const messageName = fc.oneof(
  fc.constant('conversations/c/messages/m'),
  text.map((s) => `conversations/${s}/messages/${s}`),
  text,
);
const bmCommon = fc.record(
  {
    conversationId: field(fc.oneof(fc.uuid(), text)),
    requestId: field(text),
    agent: field(fc.oneof(fc.constant('brands/b/agents/a'), text)),
    sendTime: field(text),
    context: field(
      fc.record(
        {
          resolvedLocale: field(text),
          placeId: field(text),
          userInfo: field(fc.record({ displayName: field(text) }, { requiredKeys: [] })),
          widget: field(fc.record({ url: field(text) }, { requiredKeys: [] })),
        },
        { requiredKeys: [] },
      ),
    ),
    dialogflowResponse: field(
      fc.record(
        {
          autoResponded: field(fc.boolean()),
          faqResponse: field(
            fc.record(
              {
                answers: field(
                  fc.array(
                    fc.record({ faqAnswer: field(text), matchConfidence: field(fc.double()) }, { requiredKeys: [] }),
                  ),
                ),
              },
              { requiredKeys: [] },
            ),
          ),
        },
        { requiredKeys: [] },
      ),
    ),
  },
  { requiredKeys: ['conversationId'] },
);
const bmMember = fc.oneof(
  fc.record({
    message: field(
      fc.record({ messageId: field(text), name: field(messageName), text: field(text) }, { requiredKeys: ['text'] }),
    ),
  }),
  fc.record({
    receipts: field(
      fc.record({
        receipts: field(
          fc.array(
            fc.record({
              message: field(messageName),
              receiptType: field(fc.constantFrom('DELIVERED', 'READ', 'SEEN')),
            }),
            { maxLength: 5 },
          ),
        ),
      }),
    ),
  }),
  fc.record({
    userStatus: field(
      fc.record({ isTyping: field(fc.boolean()), requestedLiveAgent: field(fc.boolean()) }, { requiredKeys: [] }),
    ),
  }),
  fc.record({
    suggestionResponse: field(
      fc.record(
        { postbackData: field(text), message: field(messageName), suggestionType: field(text) },
        { requiredKeys: ['postbackData'] },
      ),
    ),
  }),
  fc.record({
    authenticationResponse: field(
      fc.record(
        { code: field(text), errorDetails: field(fc.record({ error: field(text) }, { requiredKeys: [] })) },
        { requiredKeys: [] },
      ),
    ),
  }),
  fc.record({
    surveyResponse: field(
      fc.record({ survey: field(text), questionIndex: field(fc.integer()), rating: field(text) }, { requiredKeys: [] }),
    ),
  }),
  fc.record({ reaction: jsonValue }),
);
/** Business Messages deliveries: one member (as documented) or two (a union violation). */
const bmPayload = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(bmCommon, bmMember).map(([c, m]) => ({ ...c, ...m })) },
  { weight: 1, arbitrary: fc.tuple(bmCommon, bmMember, bmMember).map(([c, m, n]) => ({ ...c, ...m, ...n })) },
);

/** With extra top-level fields Google might add. */
const withExtras = <T extends object>(arb: fc.Arbitrary<T>) =>
  fc
    .tuple(arb, fc.dictionary(fc.string({ maxLength: 8 }), jsonValue, { maxKeys: 2 }))
    .map(([p, extra]) => ({ ...extra, ...p }));

type SignatureChoice = 'good' | 'bad' | 'none' | 'other-agent';
const signature = fc.constantFrom<SignatureChoice>('good', 'good', 'bad', 'none', 'other-agent');
const sign = (
  choice: SignatureChoice,
  token: string,
  bytes: Uint8Array | string,
  noise: string,
): Record<string, string> =>
  choice === 'none'
    ? {}
    : {
        'x-goog-signature':
          choice === 'good'
            ? computeSignature(token, bytes)
            : choice === 'other-agent'
              ? computeSignature(OWN_AGENT_TOKEN, bytes)
              : noise,
      };

const headerValue = fc.string({ unit: 'grapheme-ascii', maxLength: 60 });
const noiseHeaders = fc.dictionary(
  fc.constantFrom('x-goog-signature', 'content-type', 'accept', 'content-length', 'x-request-id', 'x-forwarded-for'),
  headerValue,
  { maxKeys: 4 },
);

const signedRbm = fc
  .tuple(
    withExtras(rbmData),
    fc.oneof(fc.constant('json'), fc.constant('bytes')),
    fc.uint8Array({ maxLength: 64 }),
    signature,
    headerValue,
    fc.option(fc.dictionary(fc.constantFrom('type', 'product'), fc.constantFrom('agent_launch_event', 'RBM'))),
  )
  .map(([data, form, bytes, choice, noise, attributes]): Attempt => {
    const raw = form === 'json' ? Buffer.from(JSON.stringify(data)) : Buffer.from(bytes);
    const body = JSON.stringify({
      message: { data: raw.toString('base64'), messageId: randomUUID(), ...(attributes ? { attributes } : {}) },
      subscription: 's',
    });
    return {
      channel: 'rbm',
      body,
      headers: { 'content-type': 'application/json', ...sign(choice, RBM_TOKEN, raw, noise) },
    };
  });

const signedBm = fc.tuple(withExtras(bmPayload), signature, headerValue).map(([payload, choice, noise]): Attempt => {
  const body = JSON.stringify(payload);
  return {
    channel: 'bm',
    body,
    headers: { 'content-type': 'application/json', ...sign(choice, BM_TOKEN, body, noise) },
  };
});

const handshake = fc
  .tuple(
    fc.constantFrom<Channel>('rbm', 'bm'),
    fc.oneof(fc.constantFrom(RBM_TOKEN, BM_TOKEN, OWN_AGENT_TOKEN), text),
    field(text),
    fc.option(fc.constantFrom('application/json', 'text/plain', 'application/json;q=0', '*/*')),
  )
  .map(([channel, clientToken, secret, accept]): Attempt => ({
    channel,
    body: JSON.stringify({ clientToken, secret }),
    headers: accept ? { accept } : {},
  }));

/** Bodies around the limit (fast-check favours small sizes, so these are drawn on purpose). */
const nearLimit = fc
  .tuple(fc.integer({ min: LIMIT - 64, max: LIMIT + 64 }), fc.constantFrom(' ', 'a', '{'))
  .map(([n, c]) => c.repeat(n));
const noise = fc
  .tuple(
    fc.constantFrom<Channel>('rbm', 'bm'),
    fc.oneof(
      fc.string(),
      fc.string({ unit: 'binary' }),
      fc.uint8Array({ maxLength: 256 }),
      nearLimit,
      jsonValue.map((v) => JSON.stringify(v)),
    ),
    noiseHeaders,
  )
  .map(([channel, body, headers]): Attempt => ({ channel, body, headers }));

/** Correctly signed pathological payloads: deep nesting, long arrays, huge numbers, lone surrogates. */
const nested = (depth: number, open: string, close: string, inner: string) =>
  open.repeat(depth) + inner + close.repeat(depth);
const pathological = fc
  .tuple(
    fc.constantFrom<Channel>('rbm', 'bm'),
    fc.integer({ min: 1, max: 400 }),
    fc.constantFrom('array', 'object', 'text-object', 'numbers', 'surrogates'),
  )
  .map(([channel, depth, shape]): Attempt => {
    const deep =
      shape === 'array'
        ? nested(depth, '[', ']', '1')
        : shape === 'object'
          ? nested(depth, '{"a":', '}', '1')
          : shape === 'text-object'
            ? nested(depth, '{"text":', '}', '"x"')
            : shape === 'numbers'
              ? `[${'1e999,'.repeat(depth)}-0]`
              : JSON.stringify('\ud800'.repeat(depth));
    const json =
      channel === 'rbm'
        ? `{"senderPhoneNumber":"+14155550100","agentId":"a@rbm.goog","messageId":"m","text":${deep}}`
        : `{"conversationId":"c-${depth}","requestId":"r","message":{"messageId":"m","text":${deep}},"context":${deep}}`;
    const bytes = Buffer.from(json);
    const body = channel === 'rbm' ? JSON.stringify({ message: { data: bytes.toString('base64') } }) : json;
    return {
      channel,
      body,
      headers: { 'x-goog-signature': computeSignature(channel === 'rbm' ? RBM_TOKEN : BM_TOKEN, bytes) },
    };
  });

const attempt = fc.oneof(signedRbm, signedBm, handshake, noise, pathological);

async function send(
  app: { request: (path: string, init: RequestInit) => Response | Promise<Response> },
  a: Attempt,
): Promise<Response> {
  let request: RequestInit;
  try {
    request = { method: 'POST', body: a.body, headers: a.headers };
    new Headers(a.headers);
  } catch {
    request = { method: 'POST', body: a.body };
  }
  return app.request(`/webhooks/${a.channel}`, request);
}

/** The contract every answer keeps, whatever came in. */
async function expectContract(res: Response, allow503: boolean, a: Attempt): Promise<void> {
  const allowed = [200, 401, 413, ...(allow503 ? [503] : [])];
  const raw = await res.text();
  if (!allowed.includes(res.status)) throw new Error(`status ${res.status}: ${raw.slice(0, 500)}`);
  if ((res.headers.get('content-type') ?? '').startsWith('text/plain')) {
    if (res.status !== 200) throw new Error(`plain text only for a handshake, got ${res.status}`);
    return;
  }
  const json = JSON.parse(raw) as { error?: { code?: unknown; message?: unknown }; status?: unknown };
  if (res.status >= 400 && (typeof json.error?.code !== 'string' || typeof json.error.message !== 'string'))
    throw new Error(`error body without code and message: ${raw.slice(0, 500)}`);
  if (res.status === 503 && json.error?.code !== 'temporal_unavailable')
    throw new Error(`503 must be temporal_unavailable: ${raw}`);
  if (res.status === 503 && res.headers.get('retry-after') === null) throw new Error('503 without Retry-After');
  if (
    res.status === 200 &&
    !['accepted', 'stored'].includes(String(json.status)) &&
    json.error === undefined &&
    !('secret' in json)
  )
    throw new Error(`200 must say accepted or stored: ${raw.slice(0, 300)}`);
  if (res.status === 401 && signedAsGoogle(a))
    throw new Error(`a correctly signed request got 401: ${raw.slice(0, 300)}`);
}

/** True when the attempt carries the signature of the agent's token (the one the API picks) over the bytes it covers. */
function signedAsGoogle(a: Attempt): boolean {
  const header = a.headers['x-goog-signature'];
  if (header === undefined || typeof a.body !== 'string') return false;
  if (a.channel === 'bm') return computeSignature(BM_TOKEN, a.body) === header;
  try {
    const data = (JSON.parse(a.body) as { message?: { data?: unknown } }).message?.data;
    if (typeof data !== 'string') return false;
    const bytes = Buffer.from(data, 'base64');
    let agentId: unknown;
    try {
      agentId = (JSON.parse(bytes.toString('utf8')) as { agentId?: unknown }).agentId;
    } catch {
      agentId = undefined;
    }
    return computeSignature(agentId === OWN_TOKEN_AGENT ? OWN_AGENT_TOKEN : RBM_TOKEN, bytes) === header;
  } catch {
    return false;
  }
}

describe('property: arbitrary bodies and headers', () => {
  let env: TestWorkflowEnvironment;
  let h: Harness;
  beforeAll(async () => {
    env = await createDevServerEnv();
    // No worker: the signals are accepted (durable) and that is all this test is about.
    h = await startHarness(env, { env: { WEBHOOK_BODY_LIMIT_BYTES: String(LIMIT) }, worker: false });
  });
  afterAll(async () => {
    await h?.stop();
    await env?.teardown();
  });

  test('with Temporal up: 200, 401 or 413, each with its body; every correctly signed request 200', async () => {
    const seen = new Set<number>();
    const outcomes: Record<string, number> = {};
    await fc.assert(
      fc.asyncProperty(attempt, async (a) => {
        const res = await send(h.app, a);
        seen.add(res.status);
        const copy = res.clone();
        await expectContract(res, false, a);
        if (res.status === 200 && (copy.headers.get('content-type') ?? '').startsWith('application/json')) {
          const status = String(((await copy.json()) as { status?: unknown }).status);
          outcomes[status] = (outcomes[status] ?? 0) + 1;
        }
      }),
      { numRuns: 600 },
    );
    // The generators must reach every branch, often, or the property proves little.
    expect([...seen].sort()).toEqual([200, 401, 413]);
    expect(outcomes.accepted).toBeGreaterThan(5);
    expect(outcomes.stored).toBeGreaterThan(10);
  }, 180_000);

  test('with Temporal at a closed port: the same, plus 503 for what would have reached it', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const config = loadConfig({
      TEMPORAL_ADDRESS: address,
      TEMPORAL_SIGNAL_TIMEOUT_MS: '200',
      RBM_CLIENT_TOKEN: RBM_TOKEN,
      BM_CLIENT_TOKEN: BM_TOKEN,
      RBM_CLIENT_TOKENS: JSON.stringify({ [OWN_TOKEN_AGENT]: OWN_AGENT_TOKEN }),
      WEBHOOK_BODY_LIMIT_BYTES: String(LIMIT),
    });
    const client = createLazyClient(config.temporal);
    let calls: { settled(): Promise<void> } | undefined;
    try {
      const conversations = new ConversationsClient({
        client,
        taskQueue: 'nowhere',
        timeoutMs: 200,
        workflowIds: { revealPhoneNumbers: false, secret: 's' },
      });
      const store = new UnrecognizedPayloadStore({ client, taskQueue: 'nowhere', timeoutMs: 200 });
      calls = trackTemporalCalls(conversations, store);
      const deps: WebhookAppDeps = { config, conversations, logger: silentLogger, unrecognizedPayloads: store };
      const app = createApp(deps);
      const seen = new Set<number>();
      await fc.assert(
        fc.asyncProperty(attempt, async (a) => {
          const res = await send(app, a);
          seen.add(res.status);
          await expectContract(res, true, a);
        }),
        { numRuns: 120 },
      );
      expect(seen.has(503)).toBe(true);
    } finally {
      await calls?.settled();
      await client.connection.close();
    }
  }, 180_000);
});
