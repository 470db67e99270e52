/**
 * Acceptance tests of outbound tracking (issue 6) on the time-skipping server: one test per
 * branch, with activities that only record their calls (and overrides to make Google answer
 * 404, revoke fail, ...). Time only moves through env.sleep(); every assertion about "nothing
 * more happens" waits for the message's lifecycle to report finished first.
 */
import { randomUUID } from 'node:crypto';

import { type WorkflowHandle } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';

import { pollUntil } from '../../dev/poll';
import { FailureType } from '../../src/domain/errors';
import { conversationWorkflow } from '../../src/workflows';
import {
  type ConversationInput,
  inboundEventsSignal,
  outboundMessagesQuery,
  sendMessageUpdate,
  sendMessageUpdateId,
} from '../../src/workflows/definitions';
import { type OutboundSendInput } from '../../src/workflows/outbound/types';
import { recordingActivities } from '../helpers/recording-activities';
import { timeSkippingServer } from '../helpers/time-skipping';
import { BM_KEY, eventually, finished, messageIn, RBM_KEY, RBM_NUMBER, receipt, ttlExpired } from './outbound-helpers';

const MIN = 60_000;
const DAY = 24 * 60 * MIN;

type Recording = ReturnType<typeof recordingActivities>;
type Handle = WorkflowHandle<typeof conversationWorkflow>;

describe('outbound messages on the time-skipping server', () => {
  // A server per test, as in issue-11.test.ts: on a shared one this file timed out in full runs
  // under load.
  const server = timeSkippingServer('test');

  /** A conversation that stays open for 60 simulated days, with its own worker and task queue. */
  async function conversation(
    rec: Recording,
    body: (handle: Handle) => Promise<void>,
    input: Partial<ConversationInput> = {},
    key = RBM_KEY,
  ): Promise<void> {
    const { worker, taskQueue } = await server.worker({ taskQueuePrefix: 'outbound', activities: rec.activities });
    await worker.runUntil(async () => {
      const handle = await server.env.client.workflow.start(conversationWorkflow, {
        workflowId: `conv-outbound-${randomUUID()}`,
        taskQueue,
        args: [{ key, settings: { idleTimeout: '60 days' }, ...input }],
      });
      await body(handle);
    });
  }

  function send(handle: Handle, input: Omit<OutboundSendInput, 'conversationKey'> & { conversationKey?: string }) {
    const full: OutboundSendInput = { conversationKey: RBM_KEY, ...input };
    return handle.executeUpdate(sendMessageUpdate, {
      args: [full],
      updateId: full.idempotencyKey !== undefined ? sendMessageUpdateId(full.idempotencyKey) : randomUUID(),
    });
  }

  const notRcsReachable = async (): Promise<never> => {
    throw ApplicationFailure.nonRetryable('phone is not RCS-capable (404)', FailureType.NotRcsReachable);
  };

  test('send answers 404 (NotRcsReachable) → SMS at once, to the conversation number, keyed by the messageId', async () => {
    const rec = recordingActivities({ channels: { sendMessage: notRcsReachable } });
    await conversation(rec, async (handle) => {
      const result = await send(handle, {
        content: { text: 'Your code is 1234' },
        policy: { fallbackSms: { text: 'Code 1234' } },
      });
      // The update answers after the immediate fallback: the caller sees the outcome.
      expect(result.status).toBe('FALLBACK_SENT');
      const done = await finished(handle, result.messageId);
      expect(done.send).toMatchObject({ state: 'failed', failureType: FailureType.NotRcsReachable });
      expect(done.timestamps.FAILED).toBeDefined();
      expect(rec.callsTo('sendSms')).toEqual([
        { to: RBM_NUMBER, body: 'Code 1234', idempotencyKey: `sms-${result.messageId}`, conversationKey: RBM_KEY },
      ]);
      expect(rec.callsTo('revokeMessage')).toEqual([]);
      const view = await handle.query(outboundMessagesQuery);
      expect(view.metrics).toMatchObject({ sendFailed: 1, notRcsReachable: 1, fallbackSms: 1, sent: 0 });
    });
  });

  test('TTL_EXPIRATION_REVOKED → exactly one SMS, even when a second TTL event follows', async () => {
    const rec = recordingActivities();
    await conversation(rec, async (handle) => {
      const { messageId, status } = await send(handle, {
        content: { text: 'Hello' },
        policy: { ttl: '3600s', fallbackSms: { text: 'Hello by SMS' } },
      });
      expect(status).toBe('SENT');
      expect(rec.callsTo('sendMessage')).toEqual([expect.objectContaining({ messageId, ttl: '3600s' })]);
      await server.env.sleep('1 hour');
      await handle.signal(inboundEventsSignal, [ttlExpired(RBM_KEY, messageId, true)]);
      await handle.signal(inboundEventsSignal, [ttlExpired(RBM_KEY, messageId, true)]);
      const done = await finished(handle, messageId);
      expect(done.status).toBe('FALLBACK_SENT');
      expect(done.revoke).toMatchObject({ state: 'revoked', source: 'ttl' });
      expect(done.timestamps).toEqual(
        expect.objectContaining({
          SENT: expect.any(String),
          EXPIRED: expect.any(String),
          REVOKED: expect.any(String),
          FALLBACK_SENT: expect.any(String),
        }),
      );
      // Let the (redundant) second event and any timer play out before counting.
      await eventually(
        handle,
        (v) => messageIn(v, messageId).log.some((l) => l.event === 'ttl_event_ignored'),
        'the second TTL event to be seen',
      );
      await server.env.sleep('1 day');
      expect(rec.callsTo('sendSms')).toHaveLength(1);
      expect(rec.callsTo('revokeMessage')).toEqual([]);
    });
  });

  test('TTL_EXPIRATION_REVOKE_FAILED then DELIVERED within the grace → no revoke, no SMS', async () => {
    const rec = recordingActivities();
    await conversation(rec, async (handle) => {
      const { messageId } = await send(handle, {
        content: { text: 'Hello' },
        policy: { ttl: '600s', revokeFailedGraceMs: 30 * MIN, fallbackSms: { text: 'sms' } },
      });
      await server.env.sleep('10 minutes');
      await handle.signal(inboundEventsSignal, [ttlExpired(RBM_KEY, messageId, false)]);
      await eventually(handle, (v) => messageIn(v, messageId).status === 'EXPIRED', 'EXPIRED after REVOKE_FAILED');
      await server.env.sleep('20 minutes');
      await handle.signal(inboundEventsSignal, [receipt(RBM_KEY, messageId, 'DELIVERED')]);
      const done = await finished(handle, messageId);
      expect(done.status).toBe('DELIVERED');
      await server.env.sleep('2 hours');
      expect(rec.callsTo('revokeMessage')).toEqual([]);
      expect(rec.callsTo('sendSms')).toEqual([]);
      expect((await handle.query(outboundMessagesQuery)).metrics).toMatchObject({
        ttlRevokeFailed: 1,
        delivered: 1,
        expired: 1,
        fallbackSms: 0,
      });
    });
  });

  test('TTL_EXPIRATION_REVOKE_FAILED then silence → revoke after the grace, then SMS', async () => {
    const revokedAt: number[] = [];
    const rec = recordingActivities({
      channels: { revokeMessage: async () => (revokedAt.push(await server.env.currentTimeMs()), 'revoked' as const) },
    });
    await conversation(rec, async (handle) => {
      const { messageId } = await send(handle, {
        content: { text: 'Hello' },
        policy: { ttl: '600s', revokeFailedGraceMs: 30 * MIN, fallbackSms: { text: 'sms' } },
      });
      await server.env.sleep('10 minutes');
      await handle.signal(inboundEventsSignal, [ttlExpired(RBM_KEY, messageId, false)]);
      await eventually(handle, (v) => messageIn(v, messageId).deadlines.graceUntil !== undefined, 'the grace to start');
      const graceUntil = messageIn(await handle.query(outboundMessagesQuery), messageId).deadlines.graceUntil!;
      await server.env.sleep('31 minutes');
      const done = await finished(handle, messageId);
      expect(done.status).toBe('FALLBACK_SENT');
      expect(done.revoke).toMatchObject({ state: 'revoked', source: 'explicit' });
      expect(revokedAt).toHaveLength(1);
      expect(revokedAt[0]).toBeGreaterThanOrEqual(graceUntil);
      expect(rec.callsTo('sendSms')).toEqual([expect.objectContaining({ idempotencyKey: `sms-${messageId}` })]);
    });
  });

  test('revoke answers not_revoked → recorded; no SMS by default, SMS when the message says send_sms', async () => {
    const revoked: string[] = [];
    const rec = recordingActivities({
      channels: { revokeMessage: async ({ messageId }) => (revoked.push(messageId), 'not_revoked' as const) },
    });
    await conversation(rec, async (handle) => {
      const assume = await send(handle, {
        content: { text: 'a' },
        policy: { ttl: '600s', revokeFailedGraceMs: 5 * MIN, fallbackSms: { text: 'a by sms' } },
      });
      const insist = await send(handle, {
        content: { text: 'b' },
        policy: {
          ttl: '600s',
          revokeFailedGraceMs: 5 * MIN,
          fallbackSms: { text: 'b by sms' },
          ifRevokeNotConfirmed: 'send_sms',
        },
      });
      await server.env.sleep('10 minutes');
      await handle.signal(inboundEventsSignal, [
        ttlExpired(RBM_KEY, assume.messageId, false),
        ttlExpired(RBM_KEY, insist.messageId, false),
      ]);
      await server.env.sleep('6 minutes');
      const a = await finished(handle, assume.messageId);
      const b = await finished(handle, insist.messageId);
      expect(a.status).toBe('EXPIRED');
      expect(a.revoke).toMatchObject({ state: 'not_revoked', source: 'explicit' });
      expect(b.status).toBe('FALLBACK_SENT');
      expect(revoked.sort()).toEqual([assume.messageId, insist.messageId].sort());
      expect(rec.callsTo('sendSms')).toEqual([
        expect.objectContaining({ body: 'b by sms', idempotencyKey: `sms-${insist.messageId}` }),
      ]);
      expect((await handle.query(outboundMessagesQuery)).metrics).toMatchObject({
        ttlRevokeFailed: 2,
        revokeNotConfirmed: 2,
        revokeFailed: 4,
        fallbackSms: 1,
      });
    });
  });

  test('deliverWithin passes without DELIVERED → revoke, then SMS', async () => {
    const rec = recordingActivities();
    await conversation(rec, async (handle) => {
      const { messageId } = await send(handle, {
        content: { text: 'Hello' },
        policy: { deliverWithinMs: 15 * MIN, fallbackSms: { text: 'sms', to: '+14155550199' } },
      });
      await server.env.sleep('14 minutes');
      expect(messageIn(await handle.query(outboundMessagesQuery), messageId).status).toBe('SENT');
      expect(rec.callsTo('revokeMessage')).toEqual([]);
      await server.env.sleep('2 minutes');
      const done = await finished(handle, messageId);
      expect(done).toMatchObject({
        status: 'FALLBACK_SENT',
        expiry: { reason: 'deliver_within' },
        revoke: { state: 'revoked' },
      });
      expect(rec.callsTo('revokeMessage')).toEqual([{ conversationKey: RBM_KEY, messageId }]);
      expect(rec.callsTo('sendSms')).toEqual([expect.objectContaining({ to: '+14155550199' })]);
    });
  });

  test('DELIVERED before deliverWithin cancels the fallback', async () => {
    const rec = recordingActivities();
    await conversation(rec, async (handle) => {
      const { messageId } = await send(handle, {
        content: { text: 'Hello' },
        policy: { deliverWithinMs: 15 * MIN, fallbackSms: { text: 'sms' } },
      });
      await server.env.sleep('5 minutes');
      await handle.signal(inboundEventsSignal, [receipt(RBM_KEY, messageId, 'DELIVERED')]);
      const done = await finished(handle, messageId);
      expect(done.status).toBe('DELIVERED');
      await server.env.sleep('1 hour');
      expect(rec.callsTo('revokeMessage')).toEqual([]);
      expect(rec.callsTo('sendSms')).toEqual([]);
      const metrics = (await handle.query(outboundMessagesQuery)).metrics;
      expect(metrics).toMatchObject({ sent: 1, delivered: 1, deliveryRate: 1 });
      expect(metrics.avgTimeToDeliverMs).toBeGreaterThanOrEqual(5 * MIN);
    });
  });

  test('tie-break: DELIVERED and the deliverWithin timer in ONE workflow task → DELIVERED wins (no revoke, no SMS)', async () => {
    const rec = recordingActivities();
    // No workflow cache: each task is a fresh replay on whichever worker polls, so no sticky queue outlives worker A.
    const workflowId = `conv-outbound-tie-${randomUUID()}`;
    const { worker: workerA, taskQueue } = await server.worker({
      taskQueuePrefix: 'outbound-tie',
      activities: rec.activities,
      maxCachedWorkflows: 0,
    });
    const handle = server.env.client.workflow.getHandle<typeof conversationWorkflow>(workflowId);
    const { messageId } = await workerA.runUntil(async () => {
      await server.env.client.workflow.start(conversationWorkflow, {
        workflowId,
        taskQueue,
        args: [{ key: RBM_KEY, settings: { idleTimeout: '60 days' } }],
      });
      return send(handle, {
        content: { text: 'Hello' },
        policy: { deliverWithinMs: 10 * MIN, fallbackSms: { text: 'sms' } },
      });
    });
    // No worker polls now: the timer firing and the receipt both wait for the same next workflow task.
    await server.env.sleep('10 minutes');
    await handle.signal(inboundEventsSignal, [receipt(RBM_KEY, messageId, 'DELIVERED')]);

    const history = await handle.fetchHistory();
    const events = history.events ?? [];
    const lastCompleted = events.map((e) => e.workflowTaskCompletedEventAttributes != null).lastIndexOf(true);
    const pending = events.slice(lastCompleted + 1);
    expect(pending.some((e) => e.timerFiredEventAttributes != null)).toBe(true);
    expect(pending.some((e) => e.workflowExecutionSignaledEventAttributes != null)).toBe(true);
    expect(pending.some((e) => e.workflowTaskStartedEventAttributes != null)).toBe(false);

    const { worker: workerB } = await server.worker({ taskQueue, activities: rec.activities, maxCachedWorkflows: 0 });
    await workerB.runUntil(async () => {
      const done = await finished(handle, messageId);
      expect(done.status).toBe('DELIVERED');
      expect(done.expiry).toBeUndefined();
      expect(done.log.map((l) => l.event)).toEqual(['accepted', 'sent', 'delivered', 'finished']);
    });
    expect(rec.callsTo('revokeMessage')).toEqual([]);
    expect(rec.callsTo('sendSms')).toEqual([]);
  });

  test('a 15-day TTL in seconds: nothing for 15 simulated days, then TTL_EXPIRATION_REVOKED → one SMS', async () => {
    const rec = recordingActivities();
    const wallStart = Date.now();
    await conversation(rec, async (handle) => {
      const { messageId } = await send(handle, {
        content: { text: 'Your parcel is waiting' },
        policy: { ttl: '1296000s', fallbackSms: { text: 'Parcel waiting' } },
      });
      const sent = messageIn(await handle.query(outboundMessagesQuery), messageId);
      expect(sent.deadlines.expiresAt! - sent.sentAtMs!).toBe(15 * DAY);
      await server.env.sleep('14 days');
      const day14 = messageIn(await handle.query(outboundMessagesQuery), messageId);
      expect(day14.status).toBe('SENT');
      expect(rec.callsTo('sendSms')).toEqual([]);
      await server.env.sleep('1 day');
      await handle.signal(inboundEventsSignal, [ttlExpired(RBM_KEY, messageId, true)]);
      const done = await finished(handle, messageId);
      expect(done.status).toBe('FALLBACK_SENT');
      expect(Date.parse(done.timestamps.FALLBACK_SENT!) - done.sentAtMs!).toBeGreaterThanOrEqual(15 * DAY);
    });
    expect(rec.callsTo('sendSms')).toHaveLength(1);
    expect(rec.callsTo('revokeMessage')).toEqual([]);
    expect(Date.now() - wallStart).toBeLessThan(30_000);
  });

  test('a 15-day TTL whose server event never comes: after the event grace → revoke, then SMS', async () => {
    const rec = recordingActivities();
    await conversation(rec, async (handle) => {
      const { messageId } = await send(handle, {
        content: { text: 'x' },
        policy: { ttl: '1296000s', ttlEventGraceMs: 30 * MIN, fallbackSms: { text: 'x by sms' } },
      });
      await server.env.sleep('15 days');
      await server.env.sleep('20 minutes');
      expect(rec.callsTo('revokeMessage')).toEqual([]);
      await server.env.sleep('11 minutes');
      const done = await finished(handle, messageId);
      expect(done).toMatchObject({
        status: 'FALLBACK_SENT',
        expiry: { reason: 'ttl_event_missing' },
        revoke: { state: 'revoked', source: 'explicit' },
      });
      expect(rec.callsTo('sendSms')).toHaveLength(1);
    });
  });

  test('timeSensitive → SMS alongside RCS at once; a later DELIVERED and deadline never send a second SMS', async () => {
    const rec = recordingActivities();
    await conversation(rec, async (handle) => {
      const result = await send(handle, {
        content: { text: 'OTP 987654' },
        policy: { timeSensitive: true, deliverWithinMs: 5 * MIN, fallbackSms: { text: 'OTP 987654' } },
      });
      expect(rec.callsTo('sendMessage')).toHaveLength(1);
      expect(rec.callsTo('sendSms')).toEqual([
        expect.objectContaining({ to: RBM_NUMBER, idempotencyKey: `sms-${result.messageId}` }),
      ]);
      expect(result.message?.sms).toMatchObject({ state: 'sent', reason: 'time_sensitive' });
      await server.env.sleep('10 minutes');
      const done = await finished(handle, result.messageId);
      // The deadline still revokes the stale RCS copy, but the SMS already went out: never a second one.
      expect(done.revoke).toMatchObject({ state: 'revoked' });
      await handle.signal(inboundEventsSignal, [receipt(RBM_KEY, result.messageId, 'DELIVERED')]);
      await eventually(handle, (v) => messageIn(v, result.messageId).status === 'DELIVERED', 'late DELIVERED');
      expect(rec.callsTo('sendSms')).toHaveLength(1);
      expect((await handle.query(outboundMessagesQuery)).metrics).toMatchObject({
        fallbackSms: 1,
        deliveredAfterFallback: 1,
      });
    });
  });

  test('Business Messages: deliverWithin drives it, no revoke; SMS only where a number is given', async () => {
    const rec = recordingActivities();
    await conversation(
      rec,
      async (handle) => {
        const withNumber = await send(handle, {
          conversationKey: BM_KEY,
          content: { text: 'a' },
          policy: { deliverWithinMs: 10 * MIN, fallbackSms: { text: 'a by sms', to: '+14155550123' } },
        });
        const without = await send(handle, {
          conversationKey: BM_KEY,
          content: { text: 'b' },
          policy: { deliverWithinMs: 10 * MIN },
        });
        await server.env.sleep('11 minutes');
        const a = await finished(handle, withNumber.messageId);
        const b = await finished(handle, without.messageId);
        expect(a).toMatchObject({ status: 'FALLBACK_SENT', revoke: { state: 'skipped' } });
        expect(b).toMatchObject({ status: 'EXPIRED', sms: { state: 'skipped' } });
        // A BM request asking for SMS without a number is refused by the update validator.
        await expect(
          send(handle, { conversationKey: BM_KEY, content: { text: 'c' }, policy: { fallbackSms: { text: 'c' } } }),
        ).rejects.toMatchObject({
          cause: { type: 'InvalidOutboundMessage', message: expect.stringMatching(/^delivery\.fallbackSms\.to:/) },
        });
      },
      {},
      BM_KEY,
    );
    expect(rec.callsTo('revokeMessage')).toEqual([]);
    expect(rec.callsTo('sendSms')).toEqual([expect.objectContaining({ to: '+14155550123', body: 'a by sms' })]);
  });

  test('receipts from one multi-receipt payload; READ before DELIVERED implies DELIVERED; unknown ids recorded, not fatal', async () => {
    const rec = recordingActivities();
    await conversation(rec, async (handle) => {
      const one = await send(handle, { content: { text: 'one' } });
      const two = await send(handle, {
        content: { text: 'two' },
        representative: { type: 'HUMAN', displayName: 'Alice' },
      });
      await server.env.sleep('3 minutes');
      await handle.signal(inboundEventsSignal, [
        receipt(RBM_KEY, one.messageId, 'DELIVERED'),
        receipt(RBM_KEY, two.messageId, 'READ'),
        receipt(RBM_KEY, 'not-ours', 'DELIVERED'),
      ]);
      const view = await eventually(handle, (v) => v.unmatched.length === 1, 'the unknown receipt to be recorded');
      expect(messageIn(view, one.messageId).status).toBe('DELIVERED');
      const read = messageIn(view, two.messageId);
      expect(read.status).toBe('READ');
      expect(read.timestamps.DELIVERED).toBe(read.timestamps.READ);
      expect(view.unmatched).toEqual([
        expect.objectContaining({ messageId: 'not-ours', type: 'receipt', detail: 'DELIVERED' }),
      ]);
      expect(view.metrics).toMatchObject({
        channel: 'rbm',
        agent: 'agent@rbm.goog',
        sent: 2,
        delivered: 2,
        read: 1,
        deliveryRate: 1,
        readRate: 0.5,
        unmatchedEvents: 1,
      });
      expect(rec.callsTo('sendMessage')).toEqual([
        expect.objectContaining({ messageId: one.messageId, representative: { type: 'BOT' } }),
        expect.objectContaining({ messageId: two.messageId, representative: { type: 'HUMAN', displayName: 'Alice' } }),
      ]);
    });
  });

  test('the same idempotency key under a different update id is the same message: one send', async () => {
    const rec = recordingActivities();
    await conversation(rec, async (handle) => {
      const input: OutboundSendInput = {
        conversationKey: RBM_KEY,
        content: { text: 'once' },
        idempotencyKey: 'order-42',
      };
      const first = await handle.executeUpdate(sendMessageUpdate, { args: [input], updateId: 'u-1' });
      const second = await handle.executeUpdate(sendMessageUpdate, { args: [input], updateId: 'u-2' });
      expect(second).toMatchObject({ messageId: first.messageId, duplicate: true });
      expect(first.duplicate).toBe(false);
      expect(rec.callsTo('sendMessage')).toHaveLength(1);
    });
  });

  test('continue-as-new: a pending deliverWithin timer resumes with its remaining time; idempotency keys survive', async () => {
    const rec = recordingActivities();
    await conversation(
      rec,
      async (handle) => {
        const first = await send(handle, {
          content: { text: 'Hello' },
          idempotencyKey: 'can-1',
          policy: { deliverWithinMs: 30 * MIN, fallbackSms: { text: 'sms' } },
        });
        const deliverBy = messageIn(await handle.query(outboundMessagesQuery), first.messageId).deadlines.deliverBy!;
        const { runId } = await handle.describe();
        // Grow the history past the threshold with harmless events until the workflow continues as new.
        let noise = 0;
        await pollUntil({
          what: 'continue-as-new',
          read: async () => {
            await handle.signal(inboundEventsSignal, [receipt(RBM_KEY, `noise-${noise++}`, 'DELIVERED')]);
            return (await handle.describe()).runId !== runId;
            // A signal, a workflow task and a describe per round: on a loaded two-core machine that is seconds each.
          },
          done: Boolean,
          timeoutMs: 90_000,
        });
        const carried = messageIn(await handle.query(outboundMessagesQuery), first.messageId);
        expect(carried).toMatchObject({ status: 'SENT', finished: false, deadlines: { deliverBy } });
        // Same key in the new run: update ids are gone, the workflow's own map answers.
        const retry = await send(handle, { content: { text: 'Hello' }, idempotencyKey: 'can-1' });
        expect(retry).toMatchObject({ messageId: first.messageId, duplicate: true });
        await server.env.sleep('31 minutes');
        const done = await finished(handle, first.messageId);
        expect(done.status).toBe('FALLBACK_SENT');
      },
      { settings: { idleTimeout: '60 days', continueAsNewAfterEvents: 40 } },
    );
    expect(rec.callsTo('sendMessage')).toHaveLength(1);
    expect(rec.callsTo('sendSms')).toHaveLength(1);
  });
});
