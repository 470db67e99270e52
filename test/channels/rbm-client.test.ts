/**
 * The RBM side of the channel gateway against the simulator over real HTTP: request shapes,
 * idempotent retries, and how each kind of failure is classified.
 */
import { createChannelGateway } from '../../src/channels/gateway';
import { rbmBaseUrl, RbmClient } from '../../src/channels/rbm/client';
import { rbmConversationKey } from '../../src/domain/conversation-key';
import { FailureType, RetryableFailureType } from '../../src/domain/errors';
import { silentLogger } from '../../src/logger';
import { failureOf, startTestPlatform, type TestPlatform } from '../helpers/simulator';

const AGENT = 'rbm-test@rbm.goog';
const PHONE = '+447700900123';
const KEY = rbmConversationKey(AGENT, PHONE);
const BOT = { type: 'BOT' as const };

describe('RBM client against the simulator', () => {
  let platform: TestPlatform;
  beforeEach(async () => {
    // Phones never deliver unless a test says so: messages stay revocable and no webhooks fly.
    platform = await startTestPlatform({ defaults: { deliverAfterMs: null } });
  });
  afterEach(async () => {
    await platform.stop();
  });

  test('sends an agent message with messageId and agentId, content, suggestions, ttl and traffic type', async () => {
    const gateway = platform.gateway();
    const { sentAt } = await gateway.sendMessage({
      conversationKey: KEY,
      messageId: 'msg-1',
      representative: BOT,
      ttl: '3600s',
      messageTrafficType: 'TRANSACTION',
      content: {
        text: 'Your parcel is on its way',
        suggestions: [
          { kind: 'reply', text: 'Thanks', postbackData: 'thanks' },
          { kind: 'action', text: 'Track', postbackData: 'track', openUrl: 'https://example.com/track' },
          { kind: 'action', text: 'Call us', postbackData: 'call', dialPhoneNumber: '+442071234567' },
        ],
      },
    });
    expect(Date.parse(sentAt)).not.toBeNaN();

    const [call] = platform.sim.calls({ api: 'rbm' });
    expect(call).toMatchObject({
      method: 'POST',
      path: `/v1/phones/${PHONE}/agentMessages`,
      query: { messageId: 'msg-1', agentId: AGENT },
      status: 200,
      phone: PHONE,
      conversation: KEY,
    });
    expect(call?.body).toEqual({
      contentMessage: {
        text: 'Your parcel is on its way',
        suggestions: [
          { reply: { text: 'Thanks', postbackData: 'thanks' } },
          { action: { text: 'Track', postbackData: 'track', openUrlAction: { url: 'https://example.com/track' } } },
          { action: { text: 'Call us', postbackData: 'call', dialAction: { phoneNumber: '+442071234567' } } },
        ],
      },
      ttl: '3600s',
      messageTrafficType: 'TRANSACTION',
    });
    const [message] = platform.sim.messages();
    expect(message).toMatchObject({ messageId: 'msg-1', status: 'pending' });
    expect(Date.parse(message?.expireAt ?? '') - Date.now()).toBeGreaterThan(3500_000);
  });

  test('rich cards pass through; expireTime is sent as given', async () => {
    const richCard = {
      standaloneCard: { cardOrientation: 'VERTICAL', cardContent: { title: 'Hello', description: 'World' } },
    };
    const expireTime = new Date(Date.now() + 60_000).toISOString();
    await platform.gateway().sendMessage({
      conversationKey: KEY,
      messageId: 'card-1',
      representative: BOT,
      expireTime,
      content: { richCard },
    });
    expect(platform.sim.calls({ api: 'rbm' })[0]?.body).toEqual({ contentMessage: { richCard }, expireTime });
  });

  test('a 503 then 200: the retry with the same messageId succeeds and the platform holds one message', async () => {
    platform.sim.addFault({ api: 'rbm', pathContains: 'agentMessages', status: 503, times: 1 });
    const gateway = platform.gateway();
    const args = { conversationKey: KEY, messageId: 'retry-1', representative: BOT, content: { text: 'hello' } };

    const failure = await failureOf(() => gateway.sendMessage(args));
    expect(failure.type).toBe(RetryableFailureType.Unavailable);
    expect(failure.nonRetryable).toBe(false);
    // What Temporal's activity retry does: the same call again.
    await gateway.sendMessage(args);

    const sends = platform.sim.calls({ api: 'rbm' });
    expect(sends.map((c) => [c.query.messageId, c.status])).toEqual([
      ['retry-1', 503],
      ['retry-1', 200],
    ]);
    expect(platform.sim.messages({ phone: PHONE })).toHaveLength(1);
  });

  test('an answer lost after the platform took the message: the retry is ignored as a duplicate', async () => {
    platform.sim.addFault({ api: 'rbm', status: 502, afterProcessing: true, times: 1 });
    const gateway = platform.gateway();
    const args = { conversationKey: KEY, messageId: 'lost-1', representative: BOT, content: { text: 'hello' } };
    expect((await failureOf(() => gateway.sendMessage(args))).type).toBe(RetryableFailureType.Unavailable);
    await gateway.sendMessage(args);

    const sends = platform.sim.calls({ api: 'rbm' });
    expect(sends.map((c) => [c.status, c.duplicate ?? false])).toEqual([
      [502, false],
      [200, true],
    ]);
    expect(platform.sim.messages()).toHaveLength(1);
  });

  test('a user without RCS (404) is NotRcsReachable and not retryable', async () => {
    platform.sim.configurePhone(PHONE, { rcs: false });
    const gateway = platform.gateway();
    const failure = await failureOf(() =>
      gateway.sendMessage({ conversationKey: KEY, messageId: 'm-404', representative: BOT, content: { text: 'hi' } }),
    );
    expect(failure.type).toBe(FailureType.NotRcsReachable);
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).not.toContain(PHONE);

    const eventFailure = await failureOf(() =>
      gateway.sendReadReceipt({ conversationKey: KEY, messageId: 'u-1', eventId: 'read-u-1' }),
    );
    expect(eventFailure.type).toBe(FailureType.NotRcsReachable);
    const capability = await failureOf(() =>
      platform.rbm().getCapabilities({ agentId: AGENT, msisdn: PHONE, requestId: 'cap-1' }),
    );
    expect(capability.type).toBe(FailureType.NotRcsReachable);
  });

  test('an injected 404 on one phone only leaves other phones alone', async () => {
    platform.sim.addFault({ phone: PHONE, status: 404 });
    const gateway = platform.gateway();
    const other = rbmConversationKey(AGENT, '+447700900999');
    await gateway.sendMessage({
      conversationKey: other,
      messageId: 'ok-1',
      representative: BOT,
      content: { text: 'hi' },
    });
    const failure = await failureOf(() =>
      gateway.sendMessage({ conversationKey: KEY, messageId: 'nf-1', representative: BOT, content: { text: 'hi' } }),
    );
    expect(failure.type).toBe(FailureType.NotRcsReachable);
  });

  test('429 carries Retry-After as nextRetryDelay, so Temporal waits at least that long', async () => {
    platform.sim.addFault({ api: 'rbm', status: 429, retryAfterSeconds: 7, times: 1 });
    const failure = await failureOf(() =>
      platform
        .gateway()
        .sendMessage({ conversationKey: KEY, messageId: 'rl-1', representative: BOT, content: { text: 'hi' } }),
    );
    expect(failure.type).toBe(RetryableFailureType.RateLimited);
    expect(failure.nonRetryable).toBe(false);
    expect(failure.nextRetryDelay).toBeGreaterThanOrEqual(7000);
  });

  test('no answer within the timeout is retryable; 400 is a permanent InvalidRequest', async () => {
    platform.sim.addFault({ api: 'rbm', timeout: true, times: 1 });
    const gateway = platform.gateway({ timeoutMs: 300 });
    const args = { conversationKey: KEY, messageId: 'slow-1', representative: BOT, content: { text: 'hi' } };
    const failure = await failureOf(() => gateway.sendMessage(args));
    expect(failure.type).toBe(RetryableFailureType.Unavailable);
    expect(failure.message).toContain('timed out after 300 ms');
    await gateway.sendMessage(args);
    // The held call is recorded without an answer once the client gave up.
    const held = await platform.sim.waitForCall((c) => c.api === 'rbm' && c.status === null);
    expect(held.query.messageId).toBe('slow-1');

    const tooLong = await failureOf(() =>
      gateway.sendMessage({
        conversationKey: KEY,
        messageId: 'long-1',
        representative: BOT,
        content: { text: 'x'.repeat(3073) },
      }),
    );
    expect(tooLong.type).toBe(FailureType.InvalidRequest);
    expect(tooLong.nonRetryable).toBe(true);
  });

  test('bad input fails before any call: both ttl and expireTime, an action without a target', async () => {
    const gateway = platform.gateway();
    const both = await failureOf(() =>
      gateway.sendMessage({
        conversationKey: KEY,
        messageId: 'b-1',
        representative: BOT,
        ttl: '10s',
        expireTime: new Date().toISOString(),
        content: { text: 'x' },
      }),
    );
    expect(both.type).toBe(FailureType.InvalidRequest);
    const action = await failureOf(() =>
      gateway.sendMessage({
        conversationKey: KEY,
        messageId: 'b-2',
        representative: BOT,
        content: { text: 'x', suggestions: [{ kind: 'action', text: 'Go', postbackData: 'go' }] },
      }),
    );
    expect(action.type).toBe(FailureType.InvalidRequest);
    expect(platform.sim.calls({ api: 'rbm' })).toHaveLength(0);
  });

  test('revoke: 200 before delivery is revoked, 404 after delivery is not_revoked', async () => {
    const gateway = platform.gateway();
    await gateway.sendMessage({ conversationKey: KEY, messageId: 'rv-1', representative: BOT, content: { text: 'a' } });
    await gateway.sendMessage({ conversationKey: KEY, messageId: 'rv-2', representative: BOT, content: { text: 'b' } });
    const delivered = await fetch(`${platform.url}/sim/messages/rv-2/deliver`, { method: 'POST' });
    expect(delivered.status).toBe(200);

    await expect(gateway.revokeMessage({ conversationKey: KEY, messageId: 'rv-1' })).resolves.toBe('revoked');
    await expect(gateway.revokeMessage({ conversationKey: KEY, messageId: 'rv-2' })).resolves.toBe('not_revoked');
    const deletes = platform.sim.calls({ api: 'rbm' }).filter((c) => c.method === 'DELETE');
    expect(deletes.map((c) => [c.path, c.query.agentId, c.status])).toEqual([
      [`/v1/phones/${PHONE}/agentMessages/rv-1`, AGENT, 200],
      [`/v1/phones/${PHONE}/agentMessages/rv-2`, AGENT, 404],
    ]);
    expect(platform.sim.messages().map((m) => m.status)).toEqual(['revoked', 'delivered']);
  });

  test('READ and IS_TYPING agent events carry eventId; typing stop and representative events are no-ops on RBM', async () => {
    const gateway = platform.gateway();
    await gateway.sendReadReceipt({ conversationKey: KEY, messageId: 'user-msg-1', eventId: 'read-user-msg-1' });
    await gateway.sendReadReceipt({ conversationKey: KEY, messageId: 'user-msg-1', eventId: 'read-user-msg-1' });
    await gateway.sendTyping({ conversationKey: KEY, eventId: 'typing-1', typing: 'start', representative: BOT });
    await gateway.sendTyping({ conversationKey: KEY, eventId: 'typing-2', typing: 'stop', representative: BOT });
    await gateway.sendRepresentativeEvent({
      conversationKey: KEY,
      eventId: 'rep-1',
      event: 'joined',
      representative: { type: 'HUMAN', displayName: 'Ana' },
    });

    const events = platform.sim.calls({ api: 'rbm' });
    expect(events.map((c) => [c.path, c.query.eventId, c.body, c.duplicate ?? false])).toEqual([
      [`/v1/phones/${PHONE}/agentEvents`, 'read-user-msg-1', { eventType: 'READ', messageId: 'user-msg-1' }, false],
      [`/v1/phones/${PHONE}/agentEvents`, 'read-user-msg-1', { eventType: 'READ', messageId: 'user-msg-1' }, true],
      [`/v1/phones/${PHONE}/agentEvents`, 'typing-1', { eventType: 'IS_TYPING' }, false],
    ]);
  });

  test('capability check returns the features; the regional base URL is derived from the region', async () => {
    platform.sim.configurePhone(PHONE, { features: ['REVOCATION', 'ACTION_DIAL'] });
    await expect(
      platform.rbm().getCapabilities({ agentId: AGENT, msisdn: PHONE, requestId: 'cap-2' }),
    ).resolves.toEqual({ features: ['REVOCATION', 'ACTION_DIAL'] });
    expect(platform.sim.calls({ api: 'rbm' })[0]?.query).toEqual({ requestId: 'cap-2', agentId: AGENT });
    expect(rbmBaseUrl('europe')).toBe('https://europe-rcsbusinessmessaging.googleapis.com');
    expect(rbmBaseUrl('global')).toBe('https://rcsbusinessmessaging.googleapis.com');
  });

  test('an unreachable platform is a retryable network failure', async () => {
    const url = platform.url;
    await platform.stop();
    const tokens = { getToken: async () => 'token', invalidate: () => undefined };
    const down = createChannelGateway({
      rbm: new RbmClient({ baseUrl: url, tokens, timeoutMs: 1000 }),
      logger: silentLogger,
    });
    const failure = await failureOf(() =>
      down.sendMessage({ conversationKey: KEY, messageId: 'down-1', representative: BOT, content: { text: 'x' } }),
    );
    expect(failure.type).toBe(RetryableFailureType.Unavailable);
    expect(failure.message).toContain('ECONNREFUSED');
    platform = await startTestPlatform();
  });
});
