/**
 * The webhook status table of docs/architecture.md ("How a conversation works") is what the code
 * answers: each row is read from docs/architecture.md, requests of the kinds it names are posted
 * (createApp on the shared dev server with a worker; a closed port for Temporal being
 * unreachable), and each answer must have the row's status and the shape of its body (keys, and
 * the literal values it spells out).
 * The table's statuses are also exactly the ones the OpenAPI document gives the webhooks.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { type Client } from '@temporalio/client';
import { type TestWorkflowEnvironment } from '@temporalio/testing';

import { projectRoot } from '../../dev/binaries';
import { createApp } from '../../src/api/app';
import { computeSignature } from '../../src/channels/signature';
import { loadConfig } from '../../src/config';
import { silentLogger } from '../../src/logger';
import { createLazyClient } from '../../src/temporal/connections';
import { ConversationsClient } from '../../src/temporal-client/conversations';
import { UnrecognizedPayloadStore } from '../../src/temporal-client/unrecognized-payload-store';
import { freePort } from '../helpers/ports';
import { createDevServerEnv } from '../helpers/temporal';
import { randomPhone } from './fixtures';
import { BM_TOKEN, type Harness, RBM_TOKEN, startHarness, trackTemporalCalls } from './harness';

const BODY_LIMIT = 16_384;
const AGENT = 'readme@rbm.goog';

interface Row {
  request: string;
  status: number;
  retryAfter: boolean;
  body: string;
}

/** The rows of the table whose header is `| the request | status | body |`. */
function statusTableRows(): Row[] {
  const lines = readFileSync(path.join(projectRoot, 'docs', 'architecture.md'), 'utf8')
    .split('\n')
    .map((l) => l.trim());
  const header = lines.indexOf('| the request | status | body |');
  expect(header).toBeGreaterThan(0);
  const rows: Row[] = [];
  for (const line of lines.slice(header + 2)) {
    if (!line.startsWith('|')) break;
    const [request = '', status = '', body = ''] = line
      .slice(1, -1)
      .split(' | ')
      .map((c) => c.trim());
    rows.push({
      request,
      status: Number(/^\d{3}/.exec(status)?.[0]),
      retryAfter: status.includes('Retry-After'),
      body,
    });
  }
  return rows;
}

/** The row's JSON body template (`…` and `n` stand for any value), or undefined when it spells none. */
function template(row: Row): Record<string, unknown> | undefined {
  const literal = [...row.body.matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? '').find((t) => t.startsWith('{'));
  return literal === undefined
    ? undefined
    : (JSON.parse(literal.replace(/…|\bn\b/g, 'null')) as Record<string, unknown>);
}

/** Every key of the template is in the answer, with the same value where the template gives one; the answer adds at most requestId and, in errors, message and details. */
function matches(answer: unknown, shape: Record<string, unknown>, inError = false): boolean {
  if (typeof answer !== 'object' || answer === null) return false;
  const record = answer as Record<string, unknown>;
  for (const [key, value] of Object.entries(shape)) {
    if (!(key in record)) return false;
    if (
      typeof value === 'object' &&
      value !== null &&
      !matches(record[key], value as Record<string, unknown>, key === 'error')
    )
      return false;
    if (typeof value !== 'object' && value !== null && record[key] !== value) return false;
  }
  const allowed = new Set([...Object.keys(shape), 'requestId', ...(inError ? ['message', 'field'] : [])]);
  return Object.keys(record).every((k) => allowed.has(k));
}

let env: TestWorkflowEnvironment;
let h: Harness;
let down: { app: ReturnType<typeof createApp>; settled(): Promise<void>; close(): Promise<void> };
let refusing: ReturnType<typeof createApp>;

/** A Temporal client that refuses every workflow call the way a namespace without permission does. */
function refusingClient(): Client {
  const denied = () =>
    new Error('Failed to signalWithStart Workflow', {
      cause: Object.assign(new Error('7 PERMISSION_DENIED: Request unauthorized.'), { code: 7 }),
    });
  const workflow = new Proxy({}, { get: () => () => Promise.reject(denied()) });
  return { workflow, withDeadline: <R>(_deadline: number, fn: () => Promise<R>) => fn() } as unknown as Client;
}

beforeAll(async () => {
  env = await createDevServerEnv();
  h = await startHarness(env, {
    env: {
      WEBHOOK_BODY_LIMIT_BYTES: String(BODY_LIMIT),
      BM_CLIENT_TOKENS: JSON.stringify({ 'brands/x/agents/other': 'readme-other-agent-token' }),
    },
  });
  const config = loadConfig({
    TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
    TEMPORAL_SIGNAL_TIMEOUT_MS: '500',
    RBM_CLIENT_TOKEN: RBM_TOKEN,
  });
  const client = createLazyClient(config.temporal);
  const conversations = new ConversationsClient({
    client,
    taskQueue: 'readme-down',
    timeoutMs: 500,
    workflowIds: { revealPhoneNumbers: false, secret: 's' },
  });
  const store = new UnrecognizedPayloadStore({ client, taskQueue: 'readme-down', timeoutMs: 500 });
  const calls = trackTemporalCalls(conversations, store);
  down = {
    app: createApp({ config, conversations, logger: silentLogger, unrecognizedPayloads: store }),
    settled: () => calls.settled(),
    close: () => client.connection.close(),
  };
  const denying = refusingClient();
  refusing = createApp({
    config,
    conversations: new ConversationsClient({
      client: denying,
      taskQueue: 'readme-refusing',
      timeoutMs: 500,
      workflowIds: { revealPhoneNumbers: false, secret: 's' },
    }),
    logger: silentLogger,
    unrecognizedPayloads: new UnrecognizedPayloadStore({
      client: denying,
      taskQueue: 'readme-refusing',
      timeoutMs: 500,
    }),
  });
});
afterAll(async () => {
  await down?.settled();
  await down?.close().catch(() => undefined);
  await h?.stop();
  await env?.teardown();
});

type Request = { channel: 'rbm' | 'bm'; body: string; headers: Record<string, string>; app?: 'down' | 'refusing' };

const rbm = (data: string | Buffer, signature = computeSignature(RBM_TOKEN, data)): Request => ({
  channel: 'rbm',
  body: JSON.stringify({ message: { data: Buffer.from(data).toString('base64'), messageId: `ps-${randomUUID()}` } }),
  headers: { 'content-type': 'application/json', 'x-goog-signature': signature },
});
const bm = (body: string, token = BM_TOKEN): Request => ({
  channel: 'bm',
  body,
  headers: { 'content-type': 'application/json', 'x-goog-signature': computeSignature(token, body) },
});
const text = () =>
  JSON.stringify({ senderPhoneNumber: randomPhone(), agentId: AGENT, messageId: randomUUID(), text: 'hello' });

/** Requests of the kinds each row names, found by a phrase of its first cell. */
const REQUESTS: [phrase: string, make: () => Request[] | Promise<Request[]>][] = [
  [
    'accepted by the conversation workflows',
    () => [
      rbm(text()),
      bm(
        JSON.stringify({
          conversationId: randomUUID(),
          requestId: randomUUID(),
          message: { messageId: 'm', text: 'hola' },
        }),
      ),
    ],
  ],
  [
    'agent launch event',
    () => [
      rbm(
        JSON.stringify({
          eventId: randomUUID(),
          agentId: AGENT,
          oldLaunchState: 'LAUNCH_STATE_PENDING',
          newLaunchState: 'LAUNCH_STATE_LAUNCHED',
        }),
      ),
    ],
  ],
  [
    'unknown kind',
    async () => {
      // A conversation bound to another agent first (its own token), then the default token naming it.
      const conversationId = randomUUID();
      const owner = bm(
        JSON.stringify({
          agent: 'brands/x/agents/other',
          conversationId,
          requestId: randomUUID(),
          message: { messageId: 'm', text: 'mine' },
        }),
        'readme-other-agent-token',
      );
      expect((await h.post('/webhooks/bm', owner.body, owner.headers)).status).toBe(200);
      return [
        rbm(
          JSON.stringify({
            senderPhoneNumber: randomPhone(),
            agentId: AGENT,
            eventType: 'NEW_KIND',
            eventId: randomUUID(),
          }),
        ),
        rbm(
          JSON.stringify({
            senderPhoneNumber: randomPhone(),
            agentId: AGENT,
            messageId: randomUUID(),
            location: { latitude: 'north', longitude: 1 },
          }),
        ),
        rbm(`not json ${randomUUID()}`),
        rbm(
          `{"senderPhoneNumber":"+14155550100","agentId":"${AGENT}","messageId":"${randomUUID()}","text":${'['.repeat(5000)}${']'.repeat(5000)}}`,
        ),
        bm(
          JSON.stringify({ conversationId, requestId: randomUUID(), message: { messageId: 'm2', text: 'not yours' } }),
        ),
      ];
    },
  ],
  [
    'setup handshake',
    (): Request[] => [
      {
        channel: 'rbm',
        body: JSON.stringify({ clientToken: RBM_TOKEN, secret: 'readme-secret' }),
        headers: { 'content-type': 'application/json' },
      },
      {
        channel: 'bm',
        body: JSON.stringify({ clientToken: BM_TOKEN, secret: 'readme-secret' }),
        headers: { 'content-type': 'application/json', accept: 'application/json' },
      },
    ],
  ],
  [
    'X-Goog-Signature',
    () => {
      const data = text();
      const good = computeSignature(RBM_TOKEN, data);
      return [
        { ...rbm(data), headers: { 'content-type': 'application/json' } },
        rbm(data, `${good}xx`),
        rbm(data, good.replace(/=+$/, '')),
        rbm(data, computeSignature('another-token', data)),
        {
          channel: 'rbm',
          body: JSON.stringify({ message: { messageId: 'x' } }),
          headers: { 'x-goog-signature': good },
        },
      ];
    },
  ],
  [
    'WEBHOOK_BODY_LIMIT_BYTES',
    () => [
      rbm(
        JSON.stringify({
          senderPhoneNumber: randomPhone(),
          agentId: AGENT,
          messageId: randomUUID(),
          text: 'x'.repeat(BODY_LIMIT),
        }),
      ),
    ],
  ],
  [
    'would neither take its events nor keep the payload',
    () => [
      { ...rbm(text()), app: 'refusing' },
      {
        ...rbm(
          JSON.stringify({
            senderPhoneNumber: randomPhone(),
            agentId: AGENT,
            eventType: 'NEW_KIND',
            eventId: randomUUID(),
          }),
        ),
        app: 'refusing',
      },
    ],
  ],
  [
    'Temporal unreachable',
    () => [
      { ...rbm(text()), app: 'down' },
      {
        ...rbm(
          JSON.stringify({
            senderPhoneNumber: randomPhone(),
            agentId: AGENT,
            eventType: 'NEW_KIND',
            eventId: randomUUID(),
          }),
        ),
        app: 'down',
      },
    ],
  ],
];

test('every row of the docs/architecture.md table is documented in OpenAPI, and no status is missing from either', async () => {
  const statuses = [...new Set(statusTableRows().map((r) => r.status))].sort();
  const doc = (await (await h.app.request('/openapi.json')).json()) as {
    paths: Record<string, { post: { responses: Record<string, unknown> } }>;
  };
  for (const channel of ['rbm', 'bm'])
    expect(
      Object.keys(doc.paths[`/webhooks/${channel}`]?.post.responses ?? {})
        .map(Number)
        .sort(),
    ).toEqual(statuses);
  // Each row is exercised below: none is left without requests.
  expect(statusTableRows().map((r) => REQUESTS.filter(([phrase]) => r.request.includes(phrase)).length)).toEqual(
    statusTableRows().map(() => 1),
  );
});

test.each(statusTableRows().map((r) => [r.request.slice(0, 60), r] as const))(
  'docs/architecture.md row "%s…" is what the webhooks answer',
  async (_name, row) => {
    const [, make] = REQUESTS.find(([phrase]) => row.request.includes(phrase)) ?? [];
    if (!make) throw new Error(`no requests for the docs/architecture.md row ${row.request}`);
    const shape = template(row);
    for (const request of await make()) {
      const app = request.app === 'down' ? down.app : request.app === 'refusing' ? refusing : h.app;
      const res = await app.request(`/webhooks/${request.channel}`, {
        method: 'POST',
        body: request.body,
        headers: request.headers,
      });
      const raw = await res.text();
      const seen = { status: res.status, retryAfter: res.headers.get('retry-after') !== null, body: raw.slice(0, 300) };
      expect({ ...seen, body: undefined }).toEqual({ status: row.status, retryAfter: row.retryAfter, body: undefined });
      if (row.body.startsWith('the secret') && !(res.headers.get('content-type') ?? '').includes('json')) {
        expect(raw).toBe('readme-secret');
        continue;
      }
      if (!shape) throw new Error(`the docs/architecture.md row ${row.request} spells no body`);
      expect({ matches: matches(JSON.parse(raw), shape), body: seen.body }).toEqual({ matches: true, body: seen.body });
    }
  },
);
