/** The Business Messages side of the channel gateway against the simulator over real HTTP. */
import { createChannelGateway } from '../../src/channels/gateway';
import { bmConversationKey } from '../../src/domain/conversation-key';
import { FailureType, RetryableFailureType } from '../../src/domain/errors';
import { silentLogger } from '../../src/logger';
import { failureOf, startTestPlatform, type TestPlatform } from '../helpers/simulator';

const CONVERSATION = 'conv-7f3a';
const KEY = bmConversationKey(CONVERSATION);

describe('Business Messages client against the simulator', () => {
  let platform: TestPlatform;
  beforeEach(async () => {
    platform = await startTestPlatform({ defaults: { deliverAfterMs: null } });
  });
  afterEach(async () => {
    await platform.stop();
  });

  test('creates a message with messageId, representative, fallback and suggestions', async () => {
    await platform.gateway().sendMessage({
      conversationKey: KEY,
      messageId: 'bm-1',
      representative: { type: 'HUMAN', displayName: 'Ana' },
      content: {
        text: 'How can I help?',
        fallbackText: 'How can I help? Reply 1 or 2',
        suggestions: [{ kind: 'reply', text: 'Opening hours', postbackData: 'hours' }],
      },
    });
    const [call] = platform.sim.calls({ conversation: KEY });
    expect(call).toMatchObject({ method: 'POST', path: `/v1/conversations/${CONVERSATION}/messages`, status: 200 });
    expect(call?.body).toEqual({
      messageId: 'bm-1',
      representative: { representativeType: 'HUMAN', displayName: 'Ana' },
      text: 'How can I help?',
      fallback: 'How can I help? Reply 1 or 2',
      suggestions: [{ reply: { text: 'Opening hours', postbackData: 'hours' } }],
    });
  });

  test('a reused messageId is answered 409 ALREADY_EXISTS by the platform and counts as sent', async () => {
    const gateway = platform.gateway();
    const args = {
      conversationKey: KEY,
      messageId: 'bm-dup',
      representative: { type: 'BOT' as const },
      content: { text: 'hi' },
    };
    await gateway.sendMessage(args);
    await expect(gateway.sendMessage(args)).resolves.toEqual({ sentAt: expect.any(String) });
    expect(platform.sim.calls({ api: 'bm' }).map((c) => [c.status, c.duplicate ?? false])).toEqual([
      [200, false],
      [409, true],
    ]);
    expect(platform.sim.messages()).toHaveLength(1);
  });

  test('READ receipt is a PATCH of .../receipt; events carry eventId and the representative', async () => {
    const gateway = platform.gateway();
    await gateway.sendReadReceipt({ conversationKey: KEY, messageId: 'user-1', eventId: 'unused-for-bm' });
    await gateway.sendTyping({
      conversationKey: KEY,
      eventId: 'ty-1',
      typing: 'start',
      representative: { type: 'BOT' },
    });
    await gateway.sendTyping({
      conversationKey: KEY,
      eventId: 'ty-2',
      typing: 'stop',
      representative: { type: 'BOT' },
    });
    await gateway.sendRepresentativeEvent({
      conversationKey: KEY,
      eventId: 'rep-1',
      event: 'joined',
      representative: { type: 'HUMAN', displayName: 'Ana' },
    });
    await gateway.sendRepresentativeEvent({
      conversationKey: KEY,
      eventId: 'rep-1',
      event: 'joined',
      representative: { type: 'HUMAN', displayName: 'Ana' },
    });
    await gateway.sendRepresentativeEvent({
      conversationKey: KEY,
      eventId: 'rep-2',
      event: 'left',
      representative: { type: 'HUMAN', displayName: 'Ana' },
    });

    const calls = platform.sim.calls({ api: 'bm' });
    expect(calls.map((c) => [c.method, c.path, c.query.eventId ?? null, c.status])).toEqual([
      ['PATCH', `/v1/conversations/${CONVERSATION}/messages/user-1/receipt`, null, 200],
      ['POST', `/v1/conversations/${CONVERSATION}/events`, 'ty-1', 200],
      ['POST', `/v1/conversations/${CONVERSATION}/events`, 'ty-2', 200],
      ['POST', `/v1/conversations/${CONVERSATION}/events`, 'rep-1', 200],
      ['POST', `/v1/conversations/${CONVERSATION}/events`, 'rep-1', 409],
      ['POST', `/v1/conversations/${CONVERSATION}/events`, 'rep-2', 200],
    ]);
    expect(calls[0]?.body).toEqual({ receiptType: 'READ' });
    expect(calls.slice(1).map((c) => (c.body as { eventType: string }).eventType)).toEqual([
      'TYPING_STARTED',
      'TYPING_STOPPED',
      'REPRESENTATIVE_JOINED',
      'REPRESENTATIVE_JOINED',
      'REPRESENTATIVE_LEFT',
    ]);
    expect(calls[3]?.body).toMatchObject({ representative: { representativeType: 'HUMAN', displayName: 'Ana' } });
  });

  test('an unknown conversation (403) is ConversationNotFound; 5xx is retryable; revoke is not available', async () => {
    platform.sim.configureConversation(CONVERSATION, { reachable: false });
    const gateway = platform.gateway();
    const failure = await failureOf(() =>
      gateway.sendMessage({
        conversationKey: KEY,
        messageId: 'x',
        representative: { type: 'BOT' },
        content: { text: 'hi' },
      }),
    );
    expect(failure.type).toBe(FailureType.ConversationNotFound);
    expect(failure.nonRetryable).toBe(true);

    platform.sim.configureConversation(CONVERSATION, { reachable: true });
    platform.sim.addFault({ api: 'bm', status: 500, times: 1 });
    const transient = await failureOf(() =>
      gateway.sendReadReceipt({ conversationKey: KEY, messageId: 'u', eventId: 'e' }),
    );
    expect(transient.type).toBe(RetryableFailureType.Unavailable);

    const before = platform.sim.calls().length;
    await expect(gateway.revokeMessage({ conversationKey: KEY, messageId: 'x' })).resolves.toBe('not_revoked');
    expect(platform.sim.calls()).toHaveLength(before);
  });

  test('a channel without credentials fails NotConfigured', async () => {
    const gateway = createChannelGateway({ logger: silentLogger });
    const failure = await failureOf(() =>
      gateway.sendMessage({
        conversationKey: KEY,
        messageId: 'x',
        representative: { type: 'BOT' },
        content: { text: 'hi' },
      }),
    );
    expect(failure.type).toBe(FailureType.NotConfigured);
    expect(failure.nonRetryable).toBe(true);
  });
});
