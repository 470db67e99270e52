/**
 * POST /webhooks/{rbm,bm} end to end on the shared dev server: createApp, a real client, a Worker
 * running the bundled workflows. Every acceptance point of the inbound-webhooks issue that needs
 * Temporal up is here; Temporal down is temporal-down.test.ts, arbitrary input property.test.ts.
 */
import { randomUUID } from 'node:crypto';

import { type TestWorkflowEnvironment } from '@temporalio/testing';
import { Hono } from 'hono';
import { requestId } from 'hono/request-id';

import { pollUntil } from '../../dev/poll';
import { createWebhooksApp } from '../../src/api/webhooks';
import { openBmDelivery } from '../../src/channels/bm/inbound';
import { type InboundReader, isObject } from '../../src/channels/inbound-payload';
import { computeSignature } from '../../src/channels/signature';
import { bmConversationKey, type ConversationKey, rbmConversationKey } from '../../src/domain/conversation-key';
import { type InboundEvent } from '../../src/domain/inbound';
import { createLogger } from '../../src/logger';
import { type ConversationView, type UnrecognizedPayloadView } from '../../src/workflows/definitions';
import { signedBmRequest, signedRbmRequest } from '../helpers/signing';
import { createDevServerEnv } from '../helpers/temporal';
import { EXPECTED, loadSeedFixtures, personalize, randomPhone, signedRequest } from './fixtures';
import {
  API_TOKEN,
  BM_TOKEN,
  type Harness,
  OWN_AGENT_TOKEN,
  OWN_TOKEN_AGENT,
  RBM_TOKEN,
  startHarness,
} from './harness';

const BODY_LIMIT = 16_384;
const AGENT = 'switchboard-demo@rbm.goog';
const BM_AGENT = 'brands/b-1/agents/a-1';

let env: TestWorkflowEnvironment;
let h: Harness;
const logLines: string[] = [];

beforeAll(async () => {
  env = await createDevServerEnv();
  h = await startHarness(env, {
    env: { WEBHOOK_BODY_LIMIT_BYTES: String(BODY_LIMIT) },
    logger: createLogger('debug', {}, (line) => logLines.push(line)),
  });
});
afterAll(async () => {
  await h?.stop();
  await env?.teardown();
});

const ops = (path: string, init: RequestInit = {}) =>
  h.app.request(`/v1/unrecognized-payloads${path}`, {
    ...init,
    headers: { authorization: `Bearer ${API_TOKEN}`, ...(init.headers as Record<string, string> | undefined) },
  });

/** Whether the conversation's state shows the event: typing flips a flag, everything else is listed in `events`. */
function shows(state: ConversationView, expected: Partial<InboundEvent>): boolean {
  if (expected.type === 'typing') return state.userTyping.isTyping === expected.isTyping;
  return state.events.some((e) => e.dedupeKey === expected.dedupeKey);
}

function rbmText(phone: string, messageId = `msg-${randomUUID()}`, text = 'Hello from a phone') {
  return { senderPhoneNumber: phone, agentId: AGENT, messageId, text, sendTime: new Date().toISOString() };
}

describe('every seed payload, in its documented shape', () => {
  test.each(loadSeedFixtures().map((f) => [f.name, f] as const))(
    '%s is accepted and appears as the right events in the conversation',
    async (name, fixture) => {
      const { payload, key } = personalize(fixture);
      const { body, headers } = signedRequest(
        fixture.channel,
        fixture.channel === 'rbm' ? RBM_TOKEN : BM_TOKEN,
        payload,
      );
      const expected = EXPECTED[name]?.(key) ?? [];
      expect(expected.length).toBeGreaterThan(0);

      const res = await h.post(`/webhooks/${fixture.channel}`, body, headers);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ status: 'accepted', events: expected.length });

      const state = await h.stateWhen(key, (s) => expected.every((e) => shows(s, e)));
      for (const e of expected) {
        if (e.type === 'typing') continue;
        expect(state.events.find((x) => x.dedupeKey === e.dedupeKey)).toMatchObject(e);
      }
    },
  );
});

describe('one request, one signal; redeliveries, one event', () => {
  test('a receipts payload with three receipts becomes one signal carrying three events', async () => {
    const conversationId = randomUUID();
    const key = bmConversationKey(conversationId);
    const receipts = ['m-1', 'm-2', 'm-3'].map((m, i) => ({
      message: `conversations/${conversationId}/messages/${m}`,
      receiptType: i === 2 ? 'DELIVERED' : 'READ',
    }));
    const { body, headers } = signedBmRequest(BM_TOKEN, {
      agent: BM_AGENT,
      conversationId,
      customAgentId: 'c',
      sendTime: new Date().toISOString(),
      receipts: { receipts, createTime: new Date().toISOString() },
    });

    const res = await h.post('/webhooks/bm', body, headers);
    expect(res.status).toBe(200);
    await h.stateWhen(key, (s) => s.events.filter((e) => e.type === 'receipt').length === 3);

    const history = await h.client.workflow.getHandle(h.conversations.workflowId(key)).fetchHistory();
    const signals = (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes);
    expect(signals).toHaveLength(1);
    const attributes = signals[0]?.workflowExecutionSignaledEventAttributes;
    expect(attributes?.signalName).toBe('inboundEvents');
    const data = attributes?.input?.payloads?.[0]?.data;
    const events = JSON.parse(Buffer.from(data ?? new Uint8Array()).toString('utf8')) as InboundEvent[];
    expect(events.map((e) => (e.type === 'receipt' ? `${e.messageId}:${e.receipt}` : e.type))).toEqual([
      'm-1:READ',
      'm-2:READ',
      'm-3:DELIVERED',
    ]);
  });

  test.each([
    ['an RBM user message', 'rbm' as const],
    ['a Business Messages receipts payload', 'bm' as const],
  ])('the same delivery of %s posted three times yields its events once', async (_name, channel) => {
    let key: ConversationKey;
    let request: { body: string; headers: Record<string, string> };
    let next: { body: string; headers: Record<string, string> };
    let dedupeKeys: string[];
    if (channel === 'rbm') {
      const phone = randomPhone();
      key = rbmConversationKey(AGENT, phone);
      const messageId = `dup-${randomUUID()}`;
      request = signedRbmRequest(RBM_TOKEN, rbmText(phone, messageId));
      next = signedRbmRequest(RBM_TOKEN, rbmText(phone, `after-${messageId}`));
      dedupeKeys = [messageId];
    } else {
      const conversationId = randomUUID();
      key = bmConversationKey(conversationId);
      const receipts = ['x', 'y'].map((m) => ({
        message: `conversations/${conversationId}/messages/${m}`,
        receiptType: 'DELIVERED',
      }));
      request = signedBmRequest(BM_TOKEN, { conversationId, requestId: `req-${randomUUID()}`, receipts: { receipts } });
      next = signedBmRequest(BM_TOKEN, {
        conversationId,
        requestId: `req-after-${randomUUID()}`,
        message: { messageId: 'after', text: 'after' },
      });
      dedupeKeys = receipts.map((r) => `${JSON.parse(request.body).requestId}:${r.message}:DELIVERED`);
    }
    for (let i = 0; i < 3; i++)
      expect((await h.post(`/webhooks/${channel}`, request.body, request.headers)).status).toBe(200);
    // Signals are applied in order: once a later delivery shows, the three copies were all handled.
    expect((await h.post(`/webhooks/${channel}`, next.body, next.headers)).status).toBe(200);
    const state = await h.stateWhen(key, (s) =>
      s.events.some((e) => e.type === 'message' && e.messageId.startsWith('after')),
    );
    for (const dedupeKey of dedupeKeys) expect(state.events.filter((e) => e.dedupeKey === dedupeKey)).toHaveLength(1);
    expect(state.events).toHaveLength(dedupeKeys.length + 1);
  });
});

describe('RBM: only the signed bytes classify and dedupe', () => {
  test('one signed data under three unsigned envelopes (other Pub/Sub ids, attributes claiming an agent launch event) is one user message, once', async () => {
    const phone = randomPhone();
    const key = rbmConversationKey(AGENT, phone);
    // No messageId in the data: its dedupe key can only come from the signed bytes or the envelope.
    const text = `no id ${randomUUID()}`;
    const data = Buffer.from(
      JSON.stringify({ senderPhoneNumber: phone, agentId: AGENT, text, sendTime: new Date().toISOString() }),
    );
    const headers = { 'content-type': 'application/json', 'x-goog-signature': computeSignature(RBM_TOKEN, data) };
    const envelopes = [
      { messageId: `ps-${randomUUID()}` },
      {
        messageId: `ps-${randomUUID()}`,
        attributes: { type: 'agent_launch_event', event_type: 'LAUNCHED', product: 'RBM' },
      },
      { message_id: `ps-${randomUUID()}`, publishTime: new Date().toISOString() },
    ];
    for (const envelope of envelopes) {
      const res = await h.post(
        '/webhooks/rbm',
        JSON.stringify({
          message: { data: data.toString('base64'), ...envelope },
          subscription: 'projects/p/subscriptions/s',
        }),
        headers,
      );
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: 'accepted', events: 1, requestId: expect.any(String) });
    }
    const after = signedRbmRequest(RBM_TOKEN, rbmText(phone, `after-${randomUUID()}`));
    expect((await h.post('/webhooks/rbm', after.body, after.headers)).status).toBe(200);
    const state = await h.stateWhen(key, (s) =>
      s.events.some((e) => e.type === 'message' && e.messageId.startsWith('after')),
    );
    const copies = state.events.filter(
      (e) => e.type === 'message' && e.content.kind === 'text' && e.content.text === text,
    );
    expect(copies).toHaveLength(1);
  });
});

describe('unsigned or oversized input: 401 or 413, a JSON body naming the problem, and nothing in Temporal', () => {
  type Case = {
    name: string;
    channel: 'rbm' | 'bm';
    status: number;
    code: string;
    field?: string;
    build: () => { key: ConversationKey; body: RequestInit['body']; headers: Record<string, string> };
  };
  const rbmCase =
    (
      payload: (phone: string) => Record<string, unknown>,
      sign: (data: Buffer, body: string) => Record<string, string>,
      tamper?: (body: string) => string,
    ) =>
    () => {
      const phone = randomPhone();
      const p = payload(phone);
      const data = Buffer.from(JSON.stringify(p));
      const body = JSON.stringify({
        message: { data: data.toString('base64'), messageId: `ps-${randomUUID()}` },
        subscription: 'projects/p/subscriptions/s',
      });
      return {
        key: rbmConversationKey(String(p.agentId), phone),
        body: tamper ? tamper(body) : body,
        headers: { 'content-type': 'application/json', ...sign(data, body) },
      };
    };
  const bmCase =
    (
      payload: (conversationId: string) => Record<string, unknown>,
      sign: (body: string) => Record<string, string>,
      tamper?: (body: string) => string,
    ) =>
    () => {
      const conversationId = randomUUID();
      const body = JSON.stringify(payload(conversationId));
      return {
        key: bmConversationKey(conversationId),
        body: tamper ? tamper(body) : body,
        headers: { 'content-type': 'application/json', ...sign(body) },
      };
    };
  const sig = (token: string, bytes: Buffer | string) => ({ 'x-goog-signature': computeSignature(token, bytes) });
  const bmMessage = (conversationId: string) => ({
    conversationId,
    requestId: randomUUID(),
    message: { messageId: 'u-1', text: 'hi' },
  });

  const cases: Case[] = [
    {
      name: 'RBM without X-Goog-Signature',
      channel: 'rbm',
      status: 401,
      code: 'missing_signature',
      build: rbmCase(
        (p) => rbmText(p),
        () => ({}),
      ),
    },
    {
      name: 'RBM signed with another token',
      channel: 'rbm',
      status: 401,
      code: 'invalid_signature',
      build: rbmCase(
        (p) => rbmText(p),
        (d) => sig('not-the-token', d),
      ),
    },
    {
      name: 'RBM signed over the raw body instead of the decoded data',
      channel: 'rbm',
      status: 401,
      code: 'invalid_signature',
      build: rbmCase(
        (p) => rbmText(p),
        (_d, b) => sig(RBM_TOKEN, b),
      ),
    },
    {
      name: 'RBM agent with its own token, signed with the default token',
      channel: 'rbm',
      status: 401,
      code: 'invalid_signature',
      build: rbmCase(
        (p) => ({ ...rbmText(p), agentId: OWN_TOKEN_AGENT }),
        (d) => sig(RBM_TOKEN, d),
      ),
    },
    {
      name: 'RBM data changed after signing',
      channel: 'rbm',
      status: 401,
      code: 'invalid_signature',
      build: rbmCase(
        (p) => rbmText(p, 'm-1', 'original'),
        (d) => sig(RBM_TOKEN, d),
        (b) => {
          const env = JSON.parse(b) as { message: { data: string } };
          env.message.data = Buffer.from(
            Buffer.from(env.message.data, 'base64').toString().replace('original', 'tampered'),
          ).toString('base64');
          return JSON.stringify(env);
        },
      ),
    },
    {
      name: 'RBM body over the limit',
      channel: 'rbm',
      status: 413,
      code: 'payload_too_large',
      build: rbmCase(
        (p) => rbmText(p, 'm', 'x'.repeat(BODY_LIMIT)),
        (d) => sig(RBM_TOKEN, d),
      ),
    },
    {
      name: 'BM without X-Goog-Signature',
      channel: 'bm',
      status: 401,
      code: 'missing_signature',
      build: bmCase(bmMessage, () => ({})),
    },
    {
      name: 'BM signed with another token',
      channel: 'bm',
      status: 401,
      code: 'invalid_signature',
      build: bmCase(bmMessage, (b) => sig('not-the-token', b)),
    },
    {
      name: 'BM body re-serialised after signing (one byte more)',
      channel: 'bm',
      status: 401,
      code: 'invalid_signature',
      build: bmCase(
        bmMessage,
        (b) => sig(BM_TOKEN, b),
        (b) => `${b} `,
      ),
    },
    {
      name: 'BM body over the limit',
      channel: 'bm',
      status: 413,
      code: 'payload_too_large',
      build: bmCase(
        (c) => ({ ...bmMessage(c), message: { messageId: 'u', text: 'y'.repeat(BODY_LIMIT) } }),
        (b) => sig(BM_TOKEN, b),
      ),
    },
  ];

  cases.push(
    {
      name: 'RBM malformed JSON (no signed bytes to verify)',
      channel: 'rbm',
      status: 401,
      code: 'unverifiable',
      build: rbmCase(
        (p) => rbmText(p),
        (d) => sig(RBM_TOKEN, d),
        (b) => b.slice(0, -2),
      ),
    },
    {
      name: 'RBM envelope without message.data',
      channel: 'rbm',
      status: 401,
      code: 'unverifiable',
      field: 'message.data',
      build: rbmCase(
        (p) => rbmText(p),
        (d) => sig(RBM_TOKEN, d),
        () => JSON.stringify({ message: { messageId: 'x' } }),
      ),
    },
    {
      name: 'BM malformed JSON signed with another token',
      channel: 'bm',
      status: 401,
      code: 'invalid_signature',
      build: bmCase(
        bmMessage,
        (b) => sig('not-the-token', b.slice(1)),
        (b) => b.slice(1),
      ),
    },
  );

  test.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const { key, body, headers } = c.build();
    const res = await h.post(`/webhooks/${c.channel}`, body, headers);
    expect(res.status).toBe(c.status);
    const json = (await res.json()) as { error: { code: string; message: string; field?: string; requestId?: string } };
    expect(json.error.code).toBe(c.code);
    expect(json.error.message.length).toBeGreaterThan(0);
    expect(json.error.requestId).toEqual(expect.any(String));
    if (c.field) expect(json.error.field).toBe(c.field);
    expect(await h.workflowExists(key)).toBe(false);
  });

  test('413 for a declared Content-Length over the limit, before the body is read', async () => {
    const key = bmConversationKey(randomUUID());
    const res = await h.post('/webhooks/bm', '{}', { 'content-length': String(BODY_LIMIT + 1) });
    expect(res.status).toBe(413);
    expect(await h.workflowExists(key)).toBe(false);
  });

  test('413 for a streamed body without Content-Length, cut off at the limit', async () => {
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += 4096;
        controller.enqueue(new Uint8Array(4096).fill(0x20));
        if (sent > BODY_LIMIT * 4) controller.close();
      },
    });
    const res = await h.app.request('/webhooks/rbm', { method: 'POST', body: stream, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
    expect(sent).toBeLessThan(BODY_LIMIT * 4);
  });
});

describe('client tokens and the setup handshake', () => {
  test('an agent with its own token: signed with it, the message is accepted', async () => {
    const phone = randomPhone();
    const key = rbmConversationKey(OWN_TOKEN_AGENT, phone);
    const { body, headers } = signedRbmRequest(OWN_AGENT_TOKEN, {
      ...rbmText(phone, 'own-1'),
      agentId: OWN_TOKEN_AGENT,
    });
    expect((await h.post('/webhooks/rbm', body, headers)).status).toBe(200);
    await h.stateWhen(key, (s) => s.events.some((e) => e.dedupeKey === 'own-1'));
  });

  test.each([
    ['rbm', RBM_TOKEN],
    ['rbm', OWN_AGENT_TOKEN],
    ['bm', BM_TOKEN],
  ])('%s handshake with a configured token echoes the secret as text/plain', async (channel, token) => {
    const res = await h.post(`/webhooks/${channel}`, JSON.stringify({ clientToken: token, secret: 'sEcReT-42' }), {
      'content-type': 'application/json',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await res.text()).toBe('sEcReT-42');
  });

  test('a handshake asking for JSON gets {"secret": …}', async () => {
    const res = await h.post('/webhooks/rbm', JSON.stringify({ clientToken: RBM_TOKEN, secret: 'sEcReT-43' }), {
      accept: 'application/json',
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ secret: 'sEcReT-43' });
  });

  test('a handshake with a token that is not configured for the channel is refused', async () => {
    const res = await h.post('/webhooks/rbm', JSON.stringify({ clientToken: BM_TOKEN, secret: 's' }));
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: 'invalid_client_token' } });
  });

  test.each([
    ['prefixed', 'text/plain', 'secret: s-1'],
    ['json-quoted', 'application/json', '{"secret":"\\"s-1\\""}'],
  ] as const)('the %s reply form can be configured', async (form, type, text) => {
    const app = new Hono().use(requestId()).route('/webhooks', createWebhooksApp(h.deps, { handshakeReply: form }));
    const res = await app.request('/webhooks/bm', {
      method: 'POST',
      body: JSON.stringify({ clientToken: BM_TOKEN, secret: 's-1' }),
    });
    expect(res.headers.get('content-type')).toMatch(new RegExp(`^${type}`));
    expect(await res.text()).toBe(text);
  });
});

describe('payloads of unknown kinds: 200, kept in Temporal, listed, replayed, dismissed', () => {
  function agentLaunchEvent() {
    const data = Buffer.from(
      JSON.stringify({
        eventId: `launch-${randomUUID()}`,
        agentId: AGENT,
        botDisplayName: 'Switchboard Demo',
        brandId: 'b-123',
        brandDisplayName: 'Demo Brand',
        regionId: '/v1/regions/fi-rcs',
        oldLaunchState: 'LAUNCH_STATE_PENDING',
        newLaunchState: 'LAUNCH_STATE_LAUNCHED',
        actingParty: 'CARRIER',
        comment: 'approved',
        sendTime: new Date().toISOString(),
      }),
    );
    const attributes = {
      business_id: 'x@rbm.goog',
      event_type: 'LAUNCHED',
      product: 'RBM',
      project_number: '1234567890',
      type: 'agent_launch_event',
    };
    const body = JSON.stringify({
      message: {
        attributes,
        data: data.toString('base64'),
        messageId: `ps-${randomUUID()}`,
        publishTime: new Date().toISOString(),
      },
      subscription: 'projects/p/subscriptions/s',
    });
    return {
      body,
      headers: { 'content-type': 'application/json', 'x-goog-signature': computeSignature(RBM_TOKEN, data) },
    };
  }
  const view = async (id: string) => (await (await ops(`/${id}`)).json()) as UnrecognizedPayloadView;

  test('an RBM agent launch event is a known kind: 200 accepted, logged with its states, nothing kept for an operator', async () => {
    const { body, headers } = agentLaunchEvent();
    const res = await h.app.request('/webhooks/rbm', {
      method: 'POST',
      body,
      headers: { ...headers, 'x-request-id': 'req-launch-1' },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      status: 'accepted',
      kind: 'rbm.agent_launch_event',
      events: 0,
      requestId: 'req-launch-1',
    });
    const line = logLines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.requestId === 'req-launch-1');
    expect(line).toMatchObject({
      msg: 'webhook accepted',
      kind: 'rbm.agent_launch_event',
      agentId: AGENT,
      oldLaunchState: 'LAUNCH_STATE_PENDING',
      newLaunchState: 'LAUNCH_STATE_LAUNCHED',
      regionId: '/v1/regions/fi-rcs',
    });
    expect(line?.unrecognizedId).toBeUndefined();
  });

  test('an RBM user event of a new type is kept, counted per delivery, listed, replayed without effect, then dismissed', async () => {
    const phone = randomPhone();
    const data = Buffer.from(
      JSON.stringify({
        senderPhoneNumber: phone,
        agentId: AGENT,
        eventType: 'REACTION',
        eventId: `ev-${randomUUID()}`,
        sendTime: new Date().toISOString(),
      }),
    );
    const body = JSON.stringify({
      message: { data: data.toString('base64'), messageId: `ps-${randomUUID()}` },
      subscription: 'projects/p/subscriptions/s',
    });
    const headers = { 'content-type': 'application/json', 'x-goog-signature': computeSignature(RBM_TOKEN, data) };
    const first = await h.post('/webhooks/rbm', body, headers);
    expect(first.status).toBe(200);
    const stored = (await first.json()) as { status: string; id: string; kind: string };
    expect(stored).toMatchObject({ status: 'stored', kind: 'rbm.user_event.REACTION' });

    // Google retries what it was not sure we got: same payload, same entry (even under another unsigned Pub/Sub id).
    const redelivered = body.replace(/"messageId":"ps-[^"]+"/, `"messageId":"ps-${randomUUID()}"`);
    const again = await h.post('/webhooks/rbm', redelivered, headers);
    expect(again.status).toBe(200);
    expect(((await again.json()) as { id: string }).id).toBe(stored.id);

    const kept = await pollUntil({
      what: 'two deliveries',
      read: () => view(stored.id),
      done: (v) => v.deliveries?.count === 2,
      intervalMs: 100,
    });
    expect(kept).toMatchObject({
      id: stored.id,
      channel: 'rbm',
      kind: 'rbm.user_event.REACTION',
      status: 'pending',
      headers: { 'x-goog-signature': headers['x-goog-signature'], 'content-type': 'application/json' },
    });
    expect(Buffer.from(kept.bodyBase64, 'base64').toString('utf8')).toBe(body);

    const listed = await pollUntil({
      what: 'the list to show it',
      read: async () =>
        ((await (await ops('')).json()) as { items: { id: string; kind: string; status: string }[] }).items,
      done: (items) => items.some((i) => i.id === stored.id),
      intervalMs: 100,
    });
    expect(listed.find((i) => i.id === stored.id)).toMatchObject({
      kind: 'rbm.user_event.REACTION',
      status: 'pending',
      channel: 'rbm',
    });

    const replay = await ops(`/${stored.id}/replay`, { method: 'POST' });
    expect(replay.status).toBe(200);
    expect(await replay.json()).toMatchObject({
      id: stored.id,
      resolved: false,
      webhook: { status: 200, body: { status: 'still_unrecognized' } },
    });
    await pollUntil({
      what: 'the replay to be recorded',
      read: () => view(stored.id),
      done: (v) => v.replays?.length === 1 && v.status === 'pending',
      intervalMs: 100,
    });

    expect((await ops(`/${stored.id}/dismiss`, { method: 'POST' })).status).toBe(200);
    await pollUntil({
      what: 'dismissed',
      read: () => view(stored.id),
      done: (v) => v.status === 'dismissed',
      intervalMs: 100,
    });
    expect((await ops(`/${stored.id}/replay`, { method: 'POST' })).status).toBe(409);
    await pollUntil({
      what: 'the closed entry in the full list',
      read: async () =>
        ((await (await ops('?status=all')).json()) as { items: { id: string; status: string }[] }).items,
      done: (items) => items.some((i) => i.id === stored.id && i.status === 'dismissed'),
      intervalMs: 100,
    });

    // A redelivery after the dismissal stays that one closed entry: no second pending entry.
    expect((await h.post('/webhooks/rbm', body, headers)).status).toBe(200);
    expect((await view(stored.id)).status).toBe('dismissed');
  });

  test('a Business Messages payload with no known member is kept (200 stored), and nothing reaches a conversation', async () => {
    const conversationId = randomUUID();
    const { body, headers } = signedBmRequest(BM_TOKEN, {
      conversationId,
      requestId: randomUUID(),
      agent: BM_AGENT,
      reaction: { emoji: '👍', message: `conversations/${conversationId}/messages/m` },
    });
    const res = await h.post('/webhooks/bm', body, headers);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'stored', kind: 'bm.unknown' });
    expect(await h.workflowExists(bmConversationKey(conversationId))).toBe(false);
  });

  test('replay after an upgrade: a payload an older build kept is accepted by this one and resolves the entry', async () => {
    // The "older build" does not know userStatus; this build's operator API replays what it kept.
    const older: InboundReader = (json, raw) => {
      const opened = openBmDelivery(json, raw);
      if (!opened.ok || !isObject(json) || json.userStatus === undefined) return opened;
      return {
        ok: true,
        payload: {
          ...opened.payload,
          interpret: () => ({ outcome: 'unrecognized', kind: 'bm.userStatus', reason: 'not known to the older build' }),
        },
      };
    };
    const olderApp = new Hono()
      .use(requestId())
      .route('/webhooks', createWebhooksApp(h.deps, { readers: { bm: older } }));
    const conversationId = randomUUID();
    const key = bmConversationKey(conversationId);
    const requestIdValue = randomUUID();
    const { body, headers } = signedBmRequest(BM_TOKEN, {
      conversationId,
      requestId: requestIdValue,
      agent: BM_AGENT,
      userStatus: { requestedLiveAgent: true, createTime: new Date().toISOString() },
    });

    const res = await olderApp.request('/webhooks/bm', { method: 'POST', body, headers });
    expect(res.status).toBe(200);
    const { id } = (await res.json()) as { id: string };
    expect(await h.workflowExists(key)).toBe(false);

    const replay = await ops(`/${id}/replay`, { method: 'POST' });
    expect(await replay.json()).toMatchObject({
      id,
      resolved: true,
      webhook: { status: 200, body: { status: 'accepted', events: 1 } },
    });
    const state = await h.stateWhen(key, (s) => s.events.some((e) => e.dedupeKey === requestIdValue));
    expect(state.events.find((e) => e.dedupeKey === requestIdValue)).toMatchObject({ type: 'live_agent_requested' });
    await pollUntil({
      what: 'the entry to close',
      read: () => view(id),
      done: (v) => v.status === 'replayed',
      intervalMs: 100,
    });
    const description = await pollUntil({
      what: 'the workflow to complete',
      read: () => h.client.workflow.getHandle(h.store.workflowId(id)).describe(),
      done: (d) => d.status.name === 'COMPLETED',
      intervalMs: 100,
    });
    expect(description.status.name).toBe('COMPLETED');
  });

  test('the operator API needs the bearer token and answers 404 for ids it never stored', async () => {
    // The /v1 bearer check is app.ts's; what matters here is that no payload leaks without it.
    const anonymous = await h.app.request('/v1/unrecognized-payloads');
    expect(anonymous.status).toBeGreaterThanOrEqual(400);
    expect(await anonymous.text()).not.toContain('items');
    expect((await ops('/0123456789abcdef0123456789abcdef')).status).toBe(404);
    expect((await ops('/not-an-id/replay', { method: 'POST' })).status).toBe(404);
  });
});

describe('logs', () => {
  test('carry the request id and a masked conversation key, never the phone number or the message text', async () => {
    const phone = randomPhone();
    const text = `secret text ${randomUUID()}`;
    const { body, headers } = signedRbmRequest(RBM_TOKEN, rbmText(phone, `log-${randomUUID()}`, text));
    const res = await h.app.request('/webhooks/rbm', {
      method: 'POST',
      body,
      headers: { ...headers, 'x-request-id': 'req-log-check-1' },
    });
    expect(res.status).toBe(200);
    const line = logLines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.requestId === 'req-log-check-1');
    expect(line).toMatchObject({
      msg: 'webhook accepted',
      status: 200,
      channel: 'rbm',
      kind: 'rbm.user_message.text',
      events: 1,
    });
    expect(JSON.stringify(line)).toContain(phone.slice(0, 3));
    const all = logLines.join('\n');
    expect(all).not.toContain(phone);
    expect(all).not.toContain(text);
  });
});
