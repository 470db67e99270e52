/**
 * Simulated phones: delivery and read receipts after configured delays, users who never read or
 * never receive, offline phones, TTL expiry with revoke success or failure. Delays are a few ms
 * and every assertion waits for the webhook itself, never for a fixed time.
 */
import { bmConversationKey, rbmConversationKey } from '../../src/domain/conversation-key';
import { bmBody, rbmData, startReceiver, startTestPlatform, type TestPlatform } from '../helpers/simulator';

const AGENT = 'phones@rbm.goog';
const PHONE = '+4915112345678';
const KEY = rbmConversationKey(AGENT, PHONE);
const BOT = { type: 'BOT' as const };

describe('simulated phones', () => {
  let platform: TestPlatform;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const event = (eventType: string, messageId: string) =>
    receiver.next(
      (r) => r.path === '/webhooks/rbm' && rbmData(r).eventType === eventType && rbmData(r).messageId === messageId,
    );

  beforeEach(async () => {
    receiver = await startReceiver();
    platform = await startTestPlatform({
      webhookBaseUrl: receiver.url,
      defaults: { deliverAfterMs: 20, readAfterMs: 40 },
    });
  });
  afterEach(async () => {
    await platform.stop();
    await receiver.close();
  });

  const send = (messageId: string, extra: { ttl?: string; expireTime?: string } = {}) =>
    platform
      .gateway()
      .sendMessage({ conversationKey: KEY, messageId, representative: BOT, content: { text: 'hello' }, ...extra });

  test('DELIVERED after x ms, then READ after y ms, as RBM user events for our messageId', async () => {
    const started = Date.now();
    await send('life-1');
    const delivered = rbmData(await event('DELIVERED', 'life-1'));
    const read = rbmData(await event('READ', 'life-1'));
    expect(Date.now() - started).toBeGreaterThanOrEqual(60);
    expect(delivered).toEqual({
      senderPhoneNumber: PHONE,
      eventType: 'DELIVERED',
      eventId: expect.any(String),
      messageId: 'life-1',
      sendTime: expect.any(String),
      agentId: AGENT,
    });
    expect(read.eventId).not.toBe(delivered.eventId);
    expect(platform.sim.messages()[0]).toMatchObject({
      status: 'read',
      deliveredAt: expect.any(String),
      readAt: expect.any(String),
    });
  });

  test('a user with READ receipts off is delivered but never reads', async () => {
    platform.sim.configurePhone(PHONE, { readAfterMs: null });
    // A control phone reading later than the default delay: once its READ is in, a READ from the
    // first phone (had it been scheduled with any delay up to that) would have arrived too.
    const control = '+4915100000001';
    platform.sim.configurePhone(control, { readAfterMs: 80 });
    await send('noread-1');
    await platform.gateway().sendMessage({
      conversationKey: rbmConversationKey(AGENT, control),
      messageId: 'control-1',
      representative: BOT,
      content: { text: 'hello' },
    });
    await event('DELIVERED', 'noread-1');
    await event('READ', 'control-1');
    expect(
      receiver.received
        .map(rbmData)
        .filter((d) => d.eventType === 'READ')
        .map((d) => d.messageId),
    ).toEqual(['control-1']);
    expect(platform.sim.messages({ phone: PHONE }).map((m) => m.status)).toEqual(['delivered']);
  });

  test('never delivered + ttl: TTL_EXPIRATION_REVOKED as a server event, then revoke answers 404', async () => {
    platform.sim.configurePhone(PHONE, { deliverAfterMs: null, ttlOutcome: 'revoked' });
    await send('ttl-1', { ttl: '0.05s' });
    const expired = rbmData(await receiver.next((r) => rbmData(r).eventType === 'TTL_EXPIRATION_REVOKED'));
    expect(expired).toEqual({
      phoneNumber: PHONE,
      agentId: AGENT,
      messageId: 'ttl-1',
      eventType: 'TTL_EXPIRATION_REVOKED',
      eventId: expect.any(String),
      sendTime: expect.any(String),
    });
    expect(platform.sim.messages()[0]?.status).toBe('expired');
    await expect(platform.gateway().revokeMessage({ conversationKey: KEY, messageId: 'ttl-1' })).resolves.toBe(
      'not_revoked',
    );
  });

  test('TTL_EXPIRATION_REVOKE_FAILED leaves the message deliverable; a manual revoke still works', async () => {
    platform.sim.configurePhone(PHONE, { deliverAfterMs: null, ttlOutcome: 'revoke_failed' });
    await send('ttl-2', { expireTime: new Date(Date.now() + 50).toISOString() });
    await receiver.next(
      (r) => rbmData(r).eventType === 'TTL_EXPIRATION_REVOKE_FAILED' && rbmData(r).messageId === 'ttl-2',
    );
    expect(platform.sim.messages()[0]?.status).toBe('pending');
    await expect(platform.gateway().revokeMessage({ conversationKey: KEY, messageId: 'ttl-2' })).resolves.toBe(
      'revoked',
    );
  });

  test('an offline phone accepts messages and delivers when it comes back online', async () => {
    platform.sim.configurePhone(PHONE, { online: false });
    await send('off-1');
    expect(platform.sim.messages()[0]?.status).toBe('pending');
    const res = await fetch(`${platform.url}/sim/phones/${encodeURIComponent(PHONE)}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ online: true }),
    });
    expect(res.status).toBe(200);
    await event('DELIVERED', 'off-1');
  });

  test('Business Messages receipts arrive as a receipts payload for our message', async () => {
    await platform.gateway().sendMessage({
      conversationKey: bmConversationKey('conv-r'),
      messageId: 'bm-life-1',
      representative: BOT,
      content: { text: 'hi' },
    });
    const read = await receiver.next((r) => r.path === '/webhooks/bm' && JSON.stringify(bmBody(r)).includes('"READ"'));
    expect(bmBody(read)).toMatchObject({
      conversationId: 'conv-r',
      receipts: { receipts: [{ message: 'conversations/conv-r/messages/bm-life-1', receiptType: 'READ' }] },
    });
    const kinds = receiver.received.map(
      (r) => (bmBody(r).receipts as { receipts: { receiptType: string }[] }).receipts[0]?.receiptType,
    );
    expect(kinds).toEqual(['DELIVERED', 'READ']);
  });

  test('manual deliver / read over the control API for a phone that never delivers by itself', async () => {
    platform.sim.configurePhone(PHONE, { deliverAfterMs: null, readAfterMs: null });
    await send('manual-1');
    expect((await fetch(`${platform.url}/sim/messages/manual-1/read`, { method: 'POST' })).status).toBe(409);
    expect((await fetch(`${platform.url}/sim/messages/manual-1/deliver`, { method: 'POST' })).status).toBe(200);
    await event('DELIVERED', 'manual-1');
    expect((await fetch(`${platform.url}/sim/messages/manual-1/read`, { method: 'POST' })).status).toBe(200);
    await event('READ', 'manual-1');
  });
});
