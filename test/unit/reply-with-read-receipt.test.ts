/**
 * The activity that sends automation's answer with its question's READ receipt (issue 14): the
 * receipt first, the reply whatever became of the receipt, and the result says which it was.
 */
import { ApplicationFailure } from '@temporalio/common';

import {
  type ActivityDeps,
  createActivities,
  READ_IN_REPLY_WAIT_MS,
  type ReplyWithReadReceiptArgs,
} from '../../src/activities';
import { FailureType } from '../../src/domain/errors';

const KEY = 'rbm:agent@rbm.goog:+14155550100';
const args: ReplyWithReadReceiptArgs = {
  conversationKey: KEY,
  messageId: 'out-1',
  content: { text: 'We are open 9 to 5.' },
  representative: { type: 'BOT' },
  readReceipt: { conversationKey: KEY, messageId: 'user-1', eventId: 'read-user-1' },
};

function activitiesWith(channels: Partial<ActivityDeps['channels']>, calls: string[]) {
  const deps: ActivityDeps = {
    channels: {
      sendMessage: async (a) => (calls.push(`send ${a.messageId}`), { sentAt: '2026-12-03T12:00:00.000Z' }),
      sendReadReceipt: async (a) => void calls.push(`read ${a.messageId} ${a.eventId}`),
      sendTyping: async () => undefined,
      sendRepresentativeEvent: async () => undefined,
      revokeMessage: async () => 'revoked' as const,
      ...channels,
    },
    sms: { sendSms: async () => ({ providerMessageId: 'SM1' }) },
    handoff: { notify: async () => undefined },
  };
  return createActivities(deps);
}

describe('replyWithReadReceipt', () => {
  afterEach(() => jest.useRealTimers());

  test('sends the READ receipt, then the reply', async () => {
    const calls: string[] = [];
    const result = await activitiesWith({}, calls).replyWithReadReceipt(args);
    expect(calls).toEqual(['read user-1 read-user-1', 'send out-1']);
    expect(result).toEqual({ sentAt: '2026-12-03T12:00:00.000Z', readReceipt: 'sent' });
  });

  test('a receipt refused for good does not stop the reply; the result says it was not sent', async () => {
    const calls: string[] = [];
    const activities = activitiesWith(
      {
        sendReadReceipt: async () => {
          throw ApplicationFailure.nonRetryable('not RCS reachable', FailureType.NotRcsReachable);
        },
      },
      calls,
    );
    expect(await activities.replyWithReadReceipt(args)).toEqual({
      sentAt: expect.any(String),
      readReceipt: 'not_sent',
    });
    expect(calls).toEqual(['send out-1']);
  });

  test('a receipt that hangs holds the reply up for READ_IN_REPLY_WAIT_MS at most', async () => {
    jest.useFakeTimers();
    const calls: string[] = [];
    const activities = activitiesWith({ sendReadReceipt: () => new Promise<void>(() => undefined) }, calls);
    const pending = activities.replyWithReadReceipt(args);
    await jest.advanceTimersByTimeAsync(READ_IN_REPLY_WAIT_MS - 1);
    expect(calls).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(await pending).toEqual({ sentAt: expect.any(String), readReceipt: 'not_sent' });
    expect(calls).toEqual(['send out-1']);
  });

  test('a failed reply fails the activity (Temporal retries it or the lifecycle records it)', async () => {
    const activities = activitiesWith(
      {
        sendMessage: async () => {
          throw ApplicationFailure.nonRetryable('not RCS reachable', FailureType.NotRcsReachable);
        },
      },
      [],
    );
    await expect(activities.replyWithReadReceipt(args)).rejects.toMatchObject({
      type: FailureType.NotRcsReachable,
      nonRetryable: true,
    });
  });
});
