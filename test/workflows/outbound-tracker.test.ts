/**
 * OutboundTracker's bookkeeping that needs no Temporal server: a reopened conversation absorbing
 * the previous run's snapshot (held receipts, idempotency keys, metrics). Only finished records
 * are involved, so no lifecycle (and no workflow context) is needed.
 */
import { emptyMetrics } from '../../src/workflows/outbound/metrics';
import { OutboundTracker } from '../../src/workflows/outbound/tracker';
import { type OutboundRecord, type OutboundSnapshot } from '../../src/workflows/outbound/types';
import { RBM_KEY, receipt, ttlExpired } from './outbound-helpers';

function finishedRecord(messageId: string): OutboundRecord {
  return {
    messageId,
    idempotencyKey: `key-${messageId}`,
    origin: 'operator',
    channel: 'rbm',
    agent: 'agent@rbm.goog',
    summary: 'hello',
    representative: { type: 'BOT' },
    policy: {
      revokeFailedGraceMs: 1,
      ttlEventGraceMs: 1,
      ifRevokeNotConfirmed: 'assume_delivered',
      timeSensitive: false,
    },
    status: 'SENT',
    timestamps: { PENDING: '2026-01-01T00:00:00.000Z', SENT: '2026-01-01T00:00:01.000Z' },
    acceptedAtMs: Date.parse('2026-01-01T00:00:00Z'),
    sentAtMs: Date.parse('2026-01-01T00:00:01Z'),
    deadlines: {},
    send: { state: 'sent', atMs: Date.parse('2026-01-01T00:00:01Z') },
    initialSettled: true,
    finished: true,
    version: 0,
    log: [],
  };
}

describe('OutboundTracker.absorbPrevious (reopened conversation)', () => {
  test('holds receipts until the previous run is absorbed, then applies them to its messages', () => {
    const tracker = new OutboundTracker(RBM_KEY, undefined, { waitForPrevious: true });
    tracker.onInboundEvent(receipt(RBM_KEY, 'old-1', 'DELIVERED'));
    tracker.onInboundEvent(ttlExpired(RBM_KEY, 'nobody', true));
    expect(tracker.view().messages).toEqual([]);
    expect(tracker.view().unmatched).toEqual([]);

    const metrics = { ...emptyMetrics('rbm', 'agent@rbm.goog'), accepted: 1, sent: 1 };
    const previous: OutboundSnapshot = {
      version: 1,
      conversationKey: RBM_KEY,
      messages: [finishedRecord('old-1')],
      idempotency: [{ key: 'key-old-1', messageId: 'old-1' }],
      unmatched: [],
      metrics,
    };
    tracker.absorbPrevious(previous);

    const view = tracker.view();
    expect(view.messages.map((m) => [m.messageId, m.status])).toEqual([['old-1', 'DELIVERED']]);
    expect(view.unmatched).toEqual([expect.objectContaining({ messageId: 'nobody', type: 'ttl_expired' })]);
    expect(view.metrics).toMatchObject({ accepted: 1, sent: 1, delivered: 1, unmatchedEvents: 1 });
    const snapshot = tracker.snapshot();
    expect(snapshot.idempotency).toEqual([{ key: 'key-old-1', messageId: 'old-1' }]);
    expect(snapshot.metrics).toMatchObject({ delivered: 1 });
  });

  test('without waitForPrevious nothing is held', () => {
    const tracker = new OutboundTracker(RBM_KEY);
    tracker.onInboundEvent(receipt(RBM_KEY, 'x', 'READ'));
    expect(tracker.view().unmatched).toEqual([expect.objectContaining({ messageId: 'x', detail: 'READ' })]);
    expect(tracker.busy).toBe(false);
    expect(tracker.hasPendingWork).toBe(false);
  });
});
