/**
 * Repeated user typing events are coalesced before they cost a signal each (issue 14); every
 * change of value and every other event still reaches the workflow.
 */
import { type Client } from '@temporalio/client';

import { type InboundEvent } from '../../src/domain/inbound';
import { ConversationsClient } from '../../src/temporal-client/conversations';
import { TYPING_REFRESH_MS, TypingCoalescer } from '../../src/temporal-client/typing-coalescer';

const KEY = 'rbm:agent@rbm.goog:+14155550100';
let n = 0;
const typing = (isTyping: boolean): InboundEvent => ({
  type: 'typing',
  channel: 'rbm',
  conversationKey: KEY,
  dedupeKey: `t-${++n}`,
  isTyping,
  receivedAt: '2026-12-03T12:00:00.000Z',
});
const message = (): InboundEvent => ({
  type: 'message',
  channel: 'rbm',
  conversationKey: KEY,
  dedupeKey: `m-${++n}`,
  messageId: `m-${n}`,
  content: { kind: 'text', text: 'hi' },
  receivedAt: '2026-12-03T12:00:00.000Z',
});

describe('TypingCoalescer', () => {
  const signalled = (coalescer: TypingCoalescer, conversation: string, events: InboundEvent[], accept = true) => {
    const delivery = coalescer.begin(conversation, events);
    if (accept) delivery.accepted();
    return delivery.events;
  };

  test('a "typing" within the refresh period of an accepted one is dropped; after it, or after any other event, it goes through', () => {
    let now = 0;
    const coalescer = new TypingCoalescer(() => now);
    expect(signalled(coalescer, 'c', [typing(true)])).toHaveLength(1);
    now = TYPING_REFRESH_MS - 1;
    expect(signalled(coalescer, 'c', [typing(true)])).toEqual([]);
    expect(signalled(coalescer, 'other', [typing(true)])).toHaveLength(1);
    now = TYPING_REFRESH_MS;
    expect(signalled(coalescer, 'c', [typing(true)])).toHaveLength(1);
    // A message clears typing in the workflow: the next "typing" is news.
    const batch = [message(), typing(true)];
    expect(signalled(coalescer, 'c', batch)).toEqual(batch);
    expect(signalled(coalescer, 'c', [typing(true)])).toHaveLength(1);
    expect(signalled(coalescer, 'c', [typing(false)])).toHaveLength(1);
    expect(signalled(coalescer, 'c', [typing(true)])).toHaveLength(1);
  });

  test('only an accepted signal coalesces: a duplicate of one still in flight, or of one that failed, is signalled', () => {
    const coalescer = new TypingCoalescer(() => 0);
    const inFlight = coalescer.begin('c', [typing(true)]);
    expect(signalled(coalescer, 'c', [typing(true)], false)).toHaveLength(1);
    expect(inFlight.events).toHaveLength(1);
    // Never accepted (Temporal refused it): the redelivery goes through.
    expect(signalled(coalescer, 'c', [typing(true)])).toHaveLength(1);
  });

  test('a "typing" accepted after a message began is not trusted: the message may come last in the workflow', () => {
    const coalescer = new TypingCoalescer(() => 0);
    const typingFirst = coalescer.begin('c', [typing(true)]);
    coalescer.begin('c', [message()]).accepted();
    typingFirst.accepted();
    expect(signalled(coalescer, 'c', [typing(true)])).toHaveLength(1);
  });
});

describe('ConversationsClient.deliver', () => {
  function gatewayWithSignals(now: () => number) {
    const signalled: InboundEvent[][] = [];
    const client = {
      withDeadline: <T>(_deadline: number, fn: () => Promise<T>) => fn(),
      workflow: {
        signalWithStart: async (_workflow: unknown, options: { signalArgs: [InboundEvent[]] }) => {
          signalled.push(options.signalArgs[0]);
          return {};
        },
      },
    } as unknown as Client;
    const gateway = new ConversationsClient({
      client,
      taskQueue: 'q',
      timeoutMs: 1_000,
      workflowIds: { revealPhoneNumbers: false, secret: 'test' },
      typing: new TypingCoalescer(now),
    });
    return { gateway, signalled };
  }

  test('signals a repeated "typing" once per refresh period, and a message always', async () => {
    let now = 0;
    const { gateway, signalled } = gatewayWithSignals(() => now);
    await gateway.deliver(KEY, [typing(true)]);
    await gateway.deliver(KEY, [typing(true)]);
    now = 5_000;
    await gateway.deliver(KEY, [typing(true)]);
    await gateway.deliver(KEY, [message()]);
    await gateway.deliver(KEY, [typing(true)]);
    expect(signalled.map((batch) => batch.map((e) => e.type))).toEqual([['typing'], ['message'], ['typing']]);
  });

  test('another signer\'s "typing" is not coalesced with the conversation\'s own', async () => {
    const { gateway, signalled } = gatewayWithSignals(() => 0);
    const bmTyping = { ...typing(true), channel: 'bm', conversationKey: 'bm:conv-1' } as InboundEvent;
    // Conversations started before owner binding take any owner: both deliveries reach the signal.
    (gateway as unknown as { ownerOf(id: string): Promise<string | null | undefined> }).ownerOf = async () => null;
    await gateway.deliver('bm:conv-1', [bmTyping], { owner: 'agent-a' });
    await gateway.deliver('bm:conv-1', [bmTyping], { owner: 'agent-b' });
    await gateway.deliver('bm:conv-1', [bmTyping], { owner: 'agent-a' });
    expect(signalled).toHaveLength(2);
  });
});
