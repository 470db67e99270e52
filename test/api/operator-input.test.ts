/**
 * The operator API refuses what it cannot serve, with a 4xx naming the problem, and never answers
 * 5xx for input: key lengths and parts validated as the webhooks validate them, bodies capped,
 * URLs https (tel:/geo: where Google allows), Idempotency-Key reuse with another body 422, the
 * bearer scheme in any case, list filters validated before they reach Temporal's visibility query.
 * Shared dev server, createApp, a real worker with recording activities.
 */
import { randomUUID } from 'node:crypto';

import { type TestWorkflowEnvironment } from '@temporalio/testing';

import { createDevServerEnv } from '../helpers/temporal';
import { randomPhone } from '../webhooks/fixtures';
import { API_TOKEN, type Harness, startHarness } from '../webhooks/harness';

let env: TestWorkflowEnvironment;
let h: Harness;

beforeAll(async () => {
  env = await createDevServerEnv();
  h = await startHarness(env);
});
afterAll(async () => {
  await h?.stop();
  await env?.teardown();
});

function request(
  method: string,
  path: string,
  init: { json?: unknown; body?: string; headers?: Record<string, string> } = {},
) {
  return Promise.resolve(
    h.app.request(path, {
      method,
      headers: { authorization: `Bearer ${API_TOKEN}`, 'content-type': 'application/json', ...init.headers },
      body: init.body ?? (init.json === undefined ? undefined : JSON.stringify(init.json)),
    }),
  );
}
const rbmKey = () => `rbm:agent@rbm.goog:${randomPhone()}`;
const messages = (key: string) => `/v1/conversations/${encodeURIComponent(key)}/messages`;

async function expectError(res: Response, status: number, code: string) {
  expect(res.status).toBe(status);
  const json = (await res.json()) as { error: { code: string; message: string } };
  expect(json.error.code).toBe(code);
  expect(json.error.message.length).toBeGreaterThan(0);
}

describe("conversation keys: the webhooks' rules, and never past Temporal's workflow ID limit", () => {
  test.each([
    ['1,001 characters', `bm:${'a'.repeat(998)}`],
    ['a 257-character conversationId', `bm:${'c'.repeat(257)}`],
    ['a BM conversationId with a space', 'bm:abc def'],
    ['a BM conversationId with a NUL', 'bm:abc\u0000def'],
    ['an RBM agent with a space', 'rbm:my agent@rbm.goog:+14155550100'],
    ['an RBM agent of 300 characters', `rbm:${'a'.repeat(300)}:+14155550100`],
    ['an RBM number that is not E.164', 'rbm:agent@rbm.goog:0612345678'],
    ['an RBM key without agent', 'rbm::+14155550100'],
    ['another channel', 'sms:+14155550100'],
  ])('%s: 400 invalid_conversation_key on every route', async (_name, key) => {
    const path = `/v1/conversations/${encodeURIComponent(key)}`;
    for (const [method, suffix, json] of [
      ['GET', '', undefined],
      ['GET', '/history', undefined],
      ['DELETE', '', undefined],
      ['POST', '/messages', { text: 'hi' }],
      ['GET', '/messages', undefined],
      ['POST', '/typing', { agentId: 'a', typing: true }],
    ] as const) {
      await expectError(
        await request(method, `${path}${suffix}`, json === undefined ? {} : { json }),
        400,
        'invalid_conversation_key',
      );
    }
  });
});

describe('bodies and URLs', () => {
  test('a 3 MB rich card is 413 before it reaches Temporal', async () => {
    const res = await request('POST', messages(rbmKey()), {
      json: { richCard: { standaloneCard: { cardContent: { description: 'x'.repeat(3 * 1024 * 1024) } } } },
    });
    await expectError(res, 413, 'payload_too_large');
  });

  test.each([
    [
      'an http openUrl',
      { text: 'hi', suggestions: [{ kind: 'action', text: 'Open', postbackData: 'p', openUrl: 'http://example.com' }] },
      'suggestions.0.openUrl',
    ],
    [
      'a javascript: openUrl',
      {
        text: 'hi',
        suggestions: [{ kind: 'action', text: 'Open', postbackData: 'p', openUrl: 'javascript:alert(1)' }],
      },
      'suggestions.0.openUrl',
    ],
    [
      'a rich card image over http',
      {
        richCard: {
          standaloneCard: { cardContent: { media: { contentInfo: { fileUrl: 'http://example.com/a.png' } } } },
        },
      },
      'richCard.standaloneCard.cardContent.media.contentInfo.fileUrl',
    ],
    [
      'a rich card action with a data: URL',
      {
        richCard: {
          standaloneCard: {
            cardContent: { suggestions: [{ action: { openUrlAction: { url: 'data:text/html,<b>x</b>' } } }] },
          },
        },
      },
      'richCard.standaloneCard.cardContent.suggestions.0.action.openUrlAction.url',
    ],
    ['a rich card nested 5 000 levels deep', `{"richCard":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}`, 'richCard'],
  ])('%s: 400 naming the field', async (_name, json, field) => {
    const res = await request('POST', messages(rbmKey()), typeof json === 'string' ? { body: json } : { json });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { field: string } }).error.field.startsWith(field)).toBe(true);
  });

  test('https, tel: and geo: links are accepted', async () => {
    const json = {
      text: 'hi',
      suggestions: [
        { kind: 'action', text: 'Web', postbackData: 'w', openUrl: 'https://example.com/x?y=1' },
        { kind: 'action', text: 'Call', postbackData: 'c', openUrl: 'tel:+14155550100' },
        { kind: 'action', text: 'Map', postbackData: 'm', openUrl: 'geo:37.422,-122.084' },
      ],
    };
    expect(
      (await request('POST', messages(rbmKey()), { json, headers: { 'idempotency-key': randomUUID() } })).status,
    ).toBe(201);
  });
});

describe('Idempotency-Key', () => {
  test('the same key with the same body is the same message; with another body 422 and nothing sent', async () => {
    const key = rbmKey();
    const idem = `idem-${randomUUID()}`;
    const first = await request('POST', messages(key), {
      json: { text: 'first' },
      headers: { 'idempotency-key': idem },
    });
    expect(first.status).toBe(201);
    const { messageId } = (await first.json()) as { messageId: string };
    const retry = await request('POST', messages(key), {
      json: { text: 'first' },
      headers: { 'idempotency-key': idem },
    });
    expect(retry.status).toBe(200);
    expect(await retry.json()).toMatchObject({ messageId, duplicate: true, message: { idempotencyKey: idem } });

    await expectError(
      await request('POST', messages(key), { json: { text: 'something else' }, headers: { 'idempotency-key': idem } }),
      422,
      'idempotency_key_reused',
    );
    const list = (await (await request('GET', messages(key))).json()) as { messages: { messageId: string }[] };
    expect(list.messages.map((m) => m.messageId)).toEqual([messageId]);
  });
});

describe('authentication', () => {
  test.each(['bearer', 'BEARER', 'Bearer'])('scheme %s is accepted', async (scheme) => {
    const res = await request('GET', '/v1/conversations?limit=1', {
      headers: { authorization: `${scheme} ${API_TOKEN}` },
    });
    expect(res.status).toBe(200);
  });

  test.each([
    ['no header', undefined],
    ['another scheme', `Basic ${API_TOKEN}`],
    ['a wrong token', 'Bearer not-the-token-at-all'],
    ['the token with junk after it', `Bearer ${API_TOKEN} x`],
  ])('%s: 401 with WWW-Authenticate', async (_name, authorization) => {
    const res = await Promise.resolve(
      h.app.request('/v1/conversations', { headers: authorization === undefined ? {} : { authorization } }),
    );
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
  });
});

describe('list filters', () => {
  test.each([
    ['place', 'abc\u0000def'],
    ['queue', 'support\u0000'],
    ['locale', 'fr\u0007'],
    ['place', 'p'.repeat(513)],
  ])('%s=%j: 400 at once, not a hung Temporal call', async (name, value) => {
    const started = performance.now();
    const res = await request('GET', `/v1/conversations?${name}=${encodeURIComponent(value)}`);
    expect(res.status).toBe(400);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  test('valid filters with quotes and backslashes reach Temporal and answer 200', async () => {
    const res = await request(
      'GET',
      `/v1/conversations?place=${encodeURIComponent("it's \\ here")}&queue=q&locale=fr-CA`,
    );
    expect(res.status).toBe(200);
  });
});
