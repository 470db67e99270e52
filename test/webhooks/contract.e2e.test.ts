/**
 * Google's delivery contract (reference §2.8, §1.12): RBM counts only 200 as delivered and retries
 * anything else for 7 days, slowing every other agent of the partner meanwhile. So a request whose
 * signature verifies gets 200 once it is durable, whatever it holds; only an unverifiable request
 * (401), an oversized body (413) and Temporal not accepting in time (503) get anything else.
 * Shared dev server, createApp, a real worker.
 */
import { randomBytes, randomUUID } from 'node:crypto';

import { type TestWorkflowEnvironment } from '@temporalio/testing';

import { pollUntil } from '../../dev/poll';
import { computeSignature } from '../../src/channels/signature';
import { bmConversationKey, rbmConversationKey } from '../../src/domain/conversation-key';
import { type UnrecognizedPayloadView } from '../../src/workflows/definitions';
import { createDevServerEnv } from '../helpers/temporal';
import { randomPhone } from './fixtures';
import { API_TOKEN, BM_TOKEN, type Harness, RBM_TOKEN, startHarness } from './harness';

const AGENT = 'contract@rbm.goog';
/** Above Temporal's 2 MB payload limit, so a signed payload this large is refused by Temporal, not by the body limit. */
const BODY_LIMIT = 3 * 1024 * 1024;

let env: TestWorkflowEnvironment;
let h: Harness;

beforeAll(async () => {
  env = await createDevServerEnv();
  h = await startHarness(env, { env: { WEBHOOK_BODY_LIMIT_BYTES: String(BODY_LIMIT) } });
});
afterAll(async () => {
  await h?.stop();
  await env?.teardown();
});

const ops = (path: string, init: RequestInit = {}) =>
  h.app.request(`/v1/unrecognized-payloads${path}`, {
    ...init,
    headers: {
      authorization: `Bearer ${API_TOKEN}`,
      'content-type': 'application/json',
      ...(init.headers as Record<string, string> | undefined),
    },
  });
const view = async (id: string) => (await (await ops(`/${id}`)).json()) as UnrecognizedPayloadView;

/** An RBM request whose signature covers `data` (any bytes). */
function rbmSigned(data: Buffer, token = RBM_TOKEN) {
  return {
    body: JSON.stringify({
      message: { data: data.toString('base64'), messageId: `ps-${randomUUID()}` },
      subscription: 'projects/p/subscriptions/s',
    }),
    headers: { 'content-type': 'application/json', 'x-goog-signature': computeSignature(token, data) },
  };
}
/** A Business Messages request whose signature covers the raw body (any text). */
function bmSigned(body: string, token = BM_TOKEN) {
  return { body, headers: { 'content-type': 'application/json', 'x-goog-signature': computeSignature(token, body) } };
}

/** Posts, expects 200 `stored`, and checks the entry holds the exact raw bytes. */
async function expectStored(
  channel: 'rbm' | 'bm',
  request: { body: string; headers: Record<string, string> },
  kind: string | RegExp,
) {
  const res = await h.post(`/webhooks/${channel}`, request.body, request.headers);
  expect(res.status).toBe(200);
  const json = (await res.json()) as { status: string; id: string; kind: string; reason: string };
  expect(json.status).toBe('stored');
  expect(json.kind).toEqual(typeof kind === 'string' ? kind : expect.stringMatching(kind));
  const kept = await view(json.id);
  expect(kept.status).toBe('pending');
  expect(Buffer.from(kept.bodyBase64, 'base64').toString('utf8')).toBe(request.body);
  return json;
}

describe('a verified signature is Google: 200 once kept, whatever the content', () => {
  test('RBM schema violation (latitude not a number): kept with its raw bytes, the reason names the field, no conversation', async () => {
    const phone = randomPhone();
    const request = rbmSigned(
      Buffer.from(
        JSON.stringify({
          senderPhoneNumber: phone,
          agentId: AGENT,
          messageId: 'm',
          location: { latitude: 'north', longitude: 2.35 },
        }),
      ),
    );
    const stored = await expectStored('rbm', request, 'rbm.user_message');
    expect(stored.reason).toContain('message.data.location.latitude');
    expect(await h.workflowExists(rbmConversationKey(AGENT, phone))).toBe(false);
  });

  test('BM schema violation (receipt without receiptType): kept, no conversation', async () => {
    const conversationId = randomUUID();
    const stored = await expectStored(
      'bm',
      bmSigned(
        JSON.stringify({
          conversationId,
          receipts: { receipts: [{ message: `conversations/${conversationId}/messages/m` }] },
        }),
      ),
      'bm.receipts',
    );
    expect(stored.reason).toContain('receipts.receipts[0].receiptType');
    expect(await h.workflowExists(bmConversationKey(conversationId))).toBe(false);
  });

  test('RBM message.data that is not JSON, and a BM body that is not JSON: kept', async () => {
    await expectStored('rbm', rbmSigned(Buffer.from('not json at all')), 'rbm.malformed_json');
    await expectStored('bm', bmSigned(`{"conversationId":"${randomUUID()}","message":`), 'bm.malformed_json');
  });

  test('an RBM event with a conversation-less shape nobody documented: kept as rbm.unknown', async () => {
    await expectStored(
      'rbm',
      rbmSigned(Buffer.from(JSON.stringify({ agentId: AGENT, somethingNew: { a: 1 } }))),
      'rbm.unknown',
    );
  });

  test.each([
    [
      'RBM text nested 100 000 arrays deep',
      'rbm' as const,
      `{"senderPhoneNumber":"+14155550100","agentId":"${AGENT}","messageId":"m","text":${'['.repeat(100_000)}${']'.repeat(100_000)}}`,
    ],
    [
      'RBM unknown field nested 100 000 objects deep',
      'rbm' as const,
      `{"senderPhoneNumber":"+14155550100","agentId":"${AGENT}","messageId":"deep-${randomUUID()}","text":"hi","x":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}`,
    ],
    [
      'BM message nested 100 000 objects deep',
      'bm' as const,
      `{"conversationId":"${randomUUID()}","requestId":"r","message":${'{"text":'.repeat(100_000)}"x"${'}'.repeat(100_000)}}`,
    ],
    [
      'BM suggestionResponse with a deep unknown member (hashed for its dedupe key)',
      'bm' as const,
      `{"conversationId":"${randomUUID()}","suggestionResponse":{"postbackData":"p","x":${'['.repeat(100_000)}${']'.repeat(100_000)}}}`,
    ],
  ])('%s: 200, never a 500', async (_name, channel, json) => {
    const request = channel === 'rbm' ? rbmSigned(Buffer.from(json)) : bmSigned(json);
    const res = await h.post(`/webhooks/${channel}`, request.body, request.headers);
    expect(res.status).toBe(200);
    expect(['accepted', 'stored']).toContain(((await res.json()) as { status: string }).status);
  });

  test('a signed payload Temporal refuses as too large is parked with its exact bytes, not lost', async () => {
    const phone = randomPhone();
    const text = 'a long message '.repeat(145_000); // ~2.2 MB (2.9 MB as base64 in the envelope): under WEBHOOK_BODY_LIMIT_BYTES, over Temporal's 2 MB payload limit
    const request = rbmSigned(
      Buffer.from(JSON.stringify({ senderPhoneNumber: phone, agentId: AGENT, messageId: `big-${randomUUID()}`, text })),
    );
    expect(request.body.length).toBeLessThan(BODY_LIMIT);
    const stored = await expectStored('rbm', request, 'rbm.user_message.text');
    expect(stored.reason).toMatch(/^Temporal refused the events/);
  }, 60_000);

  test('one that stays too large for a Temporal payload even compressed (random text) is parked with its exact bytes too', async () => {
    const phone = randomPhone();
    const text = randomBytes(1_700_000).toString('base64'); // ~2.3 MB that gzip cannot shrink below Temporal's 2 MB payload limit
    const request = rbmSigned(
      Buffer.from(JSON.stringify({ senderPhoneNumber: phone, agentId: AGENT, messageId: `big-${randomUUID()}`, text })),
    );
    expect(request.body.length).toBeLessThan(BODY_LIMIT);
    const stored = await expectStored('rbm', request, 'rbm.user_message.text');
    expect(stored.reason).toMatch(/^Temporal refused the events/);
  }, 60_000);
});

describe('only an unverifiable signature is 401', () => {
  const phone = randomPhone();
  // A signature with a `+` and a `/`, so its base64url form differs from it (about 1 in 15 random signatures has neither).
  let data: Buffer;
  let good: string;
  do {
    data = Buffer.from(
      JSON.stringify({ senderPhoneNumber: phone, agentId: AGENT, messageId: `sig-${randomUUID()}`, text: 'hello' }),
    );
    good = computeSignature(RBM_TOKEN, data);
  } while (!good.includes('+') || !good.includes('/'));
  const body = JSON.stringify({ message: { data: data.toString('base64') } });

  test.each([
    ['trailing junk', `${good}xx`],
    // Spaces around a header value are not part of it (RFC 9110 §5.5); inside it they are, and base64 decoding would skip them.
    ['a space inside', `${good.slice(0, 40)} ${good.slice(41)}`],
    ['a space inside, no character lost', `${good.slice(0, 40)} ${good.slice(40, 87)}`],
    ['base64url', good.replace(/\+/g, '-').replace(/\//g, '_')],
    ['no padding', good.replace(/=+$/, '')],
  ])('%s: 401 malformed_signature', async (_name, header) => {
    const res = await h.post('/webhooks/rbm', body, { 'x-goog-signature': header });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: 'malformed_signature' } });
  });

  test('a second X-Goog-Signature header: 401, also when both copies are right', async () => {
    const headers = new Headers();
    headers.append('x-goog-signature', good);
    headers.append('x-goog-signature', good);
    const res = await h.app.request('/webhooks/rbm', { method: 'POST', body, headers });
    expect(res.status).toBe(401);
    expect(await h.workflowExists(rbmConversationKey(AGENT, phone))).toBe(false);
    // The same request with the one header is accepted.
    expect((await h.post('/webhooks/rbm', body, { 'x-goog-signature': good })).status).toBe(200);
  });
});

describe('unrecognized payloads: one entry per payload, dismissed in bulk', () => {
  test('bulk dismissal closes what matches and leaves the rest pending', async () => {
    const kind = `rbm.user_event.BULK_${randomUUID().slice(0, 8).toUpperCase()}`;
    const eventType = kind.slice('rbm.user_event.'.length);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await h.post(
        '/webhooks/rbm',
        ...(Object.values(
          rbmSigned(
            Buffer.from(
              JSON.stringify({
                senderPhoneNumber: randomPhone(),
                agentId: AGENT,
                eventType,
                eventId: `e-${i}-${randomUUID()}`,
              }),
            ),
          ),
        ) as [string, Record<string, string>]),
      );
      ids.push(((await res.json()) as { id: string }).id);
    }
    const other = (await (
      await h.post(
        '/webhooks/rbm',
        ...(Object.values(
          rbmSigned(
            Buffer.from(
              JSON.stringify({
                senderPhoneNumber: randomPhone(),
                agentId: AGENT,
                eventType: 'OTHER_KIND',
                eventId: randomUUID(),
              }),
            ),
          ),
        ) as [string, Record<string, string>]),
      )
    ).json()) as { id: string };
    await pollUntil({
      what: 'the list to show all three',
      read: async () => ((await (await ops('?limit=1000')).json()) as { items: { id: string }[] }).items,
      done: (items) => ids.every((id) => items.some((i) => i.id === id)),
      intervalMs: 100,
    });
    const res = await ops('/dismiss', { method: 'POST', body: JSON.stringify({ kind, channel: 'rbm' }) });
    expect(res.status).toBe(200);
    const result = (await res.json()) as { dismissed: number; ids: string[] };
    expect(result.dismissed).toBe(3);
    expect(result.ids.sort()).toEqual([...ids].sort());
    for (const id of ids)
      await pollUntil({
        what: 'dismissed',
        read: () => view(id),
        done: (v) => v.status === 'dismissed',
        intervalMs: 100,
      });
    expect((await view(other.id)).status).toBe('pending');
    expect((await ops('/dismiss', { method: 'POST', body: JSON.stringify({ kind: 7 }) })).status).toBe(400);
  });
});
