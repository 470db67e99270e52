/**
 * The pure core of outbound tracking (no Temporal server): the record rules and the "what next"
 * decision for every branch. The time-skipping tests in outbound.test.ts run the same branches
 * end to end with real timers and activities.
 */
import { parseDuration, parseGoogleDuration, validateOutboundRequest } from '../../src/domain/outbound';
import { emptyMetrics, OutboundMetrics } from '../../src/workflows/outbound/metrics';
import { nextStep } from '../../src/workflows/outbound/plan';
import {
  applyReceipt,
  applyTtlEvent,
  createRecord,
  markSendFailed,
  markSent,
  recordRevoke,
  recordSms,
  setStatus,
} from '../../src/workflows/outbound/record';
import { type OutboundRecord, type OutboundSendInput } from '../../src/workflows/outbound/types';

const RBM = 'rbm:agent@rbm.goog:+14155550100';
const BM = 'bm:conv-1';
const T0 = Date.parse('2026-01-01T00:00:00Z');
const MIN = 60_000;
const DEFAULTS = { revokeFailedGraceMs: 10 * MIN, ttlEventGraceMs: 10 * MIN };

function make(input: Partial<OutboundSendInput> = {}): { rec: OutboundRecord; metrics: OutboundMetrics } {
  const metrics = new OutboundMetrics(emptyMetrics('rbm', 'agent@rbm.goog'));
  const rec = createRecord({
    messageId: 'm1',
    input: { conversationKey: RBM, content: { text: 'hi' }, ...input },
    nowMs: T0,
    defaults: DEFAULTS,
  });
  return { rec, metrics };
}

describe('durations and validation', () => {
  test('parses Google and compact durations', () => {
    expect(parseGoogleDuration('86400s')).toBe(86_400_000);
    expect(parseGoogleDuration('3.5s')).toBe(3500);
    expect(parseGoogleDuration('10m')).toBeUndefined();
    expect(parseDuration('10m')).toBe(10 * MIN);
    expect(parseDuration('1d')).toBe(86_400_000);
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('soon')).toBeUndefined();
  });

  test('names the field: ttl over 15 days, ttl on BM, BM fallback without a number, time-sensitive without SMS', () => {
    expect(validateOutboundRequest('rbm', { content: { text: 'x' }, policy: { ttl: '1296001s' } }, T0)).toEqual([
      { path: 'delivery.ttl', message: expect.stringMatching(/15 days/) },
    ]);
    expect(validateOutboundRequest('rbm', { content: { text: 'x' }, policy: { ttl: '1296000s' } }, T0)).toEqual([]);
    expect(validateOutboundRequest('bm', { content: { text: 'x' }, policy: { ttl: '60s' } }, T0)[0]?.path).toBe(
      'delivery.ttl',
    );
    expect(
      validateOutboundRequest('bm', { content: { text: 'x' }, policy: { fallbackSms: { text: 'x' } } }, T0)[0]?.path,
    ).toBe('delivery.fallbackSms.to');
    expect(
      validateOutboundRequest('rbm', { content: { text: 'x' }, policy: { timeSensitive: true } }, T0)[0]?.path,
    ).toBe('delivery.fallbackSms');
    expect(
      validateOutboundRequest(
        'rbm',
        { content: { text: 'x' }, policy: { ttl: '60s', expireTime: new Date(T0 + MIN).toISOString() } },
        T0,
      )[0]?.path,
    ).toBe('delivery.expireTime');
    expect(validateOutboundRequest('rbm', { content: {} }, T0)[0]?.path).toBe('text');
  });
});

describe('record rules', () => {
  test('READ before DELIVERED implies DELIVERED; redeliveries count once', () => {
    const { rec, metrics } = make();
    markSent(rec, T0 + 1000, metrics);
    applyReceipt(rec, 'READ', T0 + 5000, metrics);
    applyReceipt(rec, 'DELIVERED', T0 + 6000, metrics);
    applyReceipt(rec, 'READ', T0 + 7000, metrics);
    expect(rec.status).toBe('READ');
    expect(rec.deliveredAtMs).toBe(T0 + 5000);
    expect(rec.timestamps.DELIVERED).toBe(rec.timestamps.READ);
    expect(metrics.view()).toMatchObject({
      sent: 1,
      delivered: 1,
      read: 1,
      deliveryRate: 1,
      readRate: 1,
      avgTimeToDeliverMs: 4000,
    });
  });

  test('a receipt before the send completed is not overwritten by SENT', () => {
    const { rec, metrics } = make();
    applyReceipt(rec, 'DELIVERED', T0 + 100, metrics);
    markSent(rec, T0 + 200, metrics);
    expect(rec.status).toBe('DELIVERED');
    expect(rec.timestamps.SENT).toBeDefined();
  });

  test('a late DELIVERED after the fallback shows DELIVERED and counts as delivered after fallback', () => {
    const { rec, metrics } = make({ policy: { fallbackSms: { text: 'sms' } } });
    markSent(rec, T0, metrics);
    recordRevoke(rec, 'revoked', T0 + MIN, metrics);
    recordSms(rec, { state: 'sent', reason: 'revoked', to: '+14155550100' }, T0 + MIN, metrics);
    expect(rec.status).toBe('FALLBACK_SENT');
    applyReceipt(rec, 'DELIVERED', T0 + 2 * MIN, metrics);
    expect(rec.status).toBe('DELIVERED');
    expect(metrics.state.deliveredAfterFallback).toBe(1);
  });

  test('status after DELIVERED only moves to READ', () => {
    const { rec, metrics } = make();
    markSent(rec, T0, metrics);
    applyReceipt(rec, 'DELIVERED', T0 + 1, metrics);
    setStatus(rec, 'EXPIRED', T0 + 2);
    expect(rec.status).toBe('DELIVERED');
    expect(rec.timestamps.EXPIRED).toBeDefined();
  });

  test('the SMS target defaults to the RBM number and is absent on BM without one', () => {
    expect(make({ policy: { fallbackSms: { text: 'sms' } } }).rec.policy.fallbackSms).toEqual({
      text: 'sms',
      to: '+14155550100',
    });
    const bm = createRecord({
      messageId: 'b',
      input: { conversationKey: BM, content: { text: 'x' }, policy: { fallbackSms: { text: 'sms' } } },
      nowMs: T0,
      defaults: DEFAULTS,
    });
    expect(bm.policy.fallbackSms).toBeUndefined();
    expect(bm.policy.fallbackUnavailable).toMatch(/no phone number/);
  });
});

describe('nextStep: one branch each', () => {
  test('send failed → SMS, then finish', () => {
    const { rec, metrics } = make({ policy: { fallbackSms: { text: 'sms' } } });
    markSendFailed(rec, T0, 'NotRcsReachable', '404', metrics);
    expect(nextStep(rec, T0)).toMatchObject({ kind: 'sms', reason: 'send_failed' });
    recordSms(rec, { state: 'sent', reason: 'send_failed', to: '+14155550100' }, T0, metrics);
    expect(nextStep(rec, T0)).toMatchObject({ kind: 'finish' });
    expect(metrics.state).toMatchObject({ sendFailed: 1, notRcsReachable: 1, fallbackSms: 1 });
  });

  test('TTL_EXPIRATION_REVOKED → SMS exactly once', () => {
    const { rec, metrics } = make({ policy: { ttl: '60s', fallbackSms: { text: 'sms' } } });
    markSent(rec, T0, metrics);
    applyTtlEvent(rec, true, T0 + MIN, metrics);
    expect(rec.status).toBe('REVOKED');
    expect(nextStep(rec, T0 + MIN)).toMatchObject({ kind: 'sms', reason: 'ttl_revoked' });
    recordSms(rec, { state: 'sent', reason: 'ttl_revoked', to: '+14155550100' }, T0 + MIN, metrics);
    applyTtlEvent(rec, true, T0 + 2 * MIN, metrics);
    expect(nextStep(rec, T0 + 2 * MIN)).toMatchObject({ kind: 'finish' });
    expect(metrics.state).toMatchObject({ ttlRevoked: 1, expired: 1, fallbackSms: 1 });
  });

  test('TTL_EXPIRATION_REVOKE_FAILED → wait the grace; DELIVERED in it → finish; silence → revoke', () => {
    const { rec, metrics } = make({
      policy: { ttl: '60s', fallbackSms: { text: 'sms' }, revokeFailedGraceMs: 5 * MIN },
    });
    markSent(rec, T0, metrics);
    applyTtlEvent(rec, false, T0 + MIN, metrics);
    expect(rec.status).toBe('EXPIRED');
    expect(nextStep(rec, T0 + MIN)).toEqual({ kind: 'wait', untilMs: T0 + 6 * MIN, reason: 'revoke_failed_grace' });
    expect(nextStep(rec, T0 + 6 * MIN)).toMatchObject({ kind: 'revoke', expiry: 'ttl_revoke_failed' });
    const delivered = make({ policy: { ttl: '60s', fallbackSms: { text: 'sms' } } });
    markSent(delivered.rec, T0, delivered.metrics);
    applyTtlEvent(delivered.rec, false, T0 + MIN, delivered.metrics);
    applyReceipt(delivered.rec, 'DELIVERED', T0 + 2 * MIN, delivered.metrics);
    expect(nextStep(delivered.rec, T0 + 20 * MIN)).toMatchObject({ kind: 'finish', reason: 'delivered' });
  });

  test('revoke not confirmed: assume delivered by default, SMS when the policy says so', () => {
    const a = make({ policy: { deliverWithinMs: MIN, fallbackSms: { text: 'sms' } } });
    markSent(a.rec, T0, a.metrics);
    expect(nextStep(a.rec, T0 + MIN)).toMatchObject({ kind: 'revoke', expiry: 'deliver_within' });
    recordRevoke(a.rec, 'not_revoked', T0 + MIN, a.metrics);
    expect(nextStep(a.rec, T0 + MIN)).toMatchObject({
      kind: 'finish',
      reason: expect.stringMatching(/assumed delivered/),
    });
    const b = make({
      policy: { deliverWithinMs: MIN, fallbackSms: { text: 'sms' }, ifRevokeNotConfirmed: 'send_sms' },
    });
    markSent(b.rec, T0, b.metrics);
    recordRevoke(b.rec, 'not_revoked', T0 + MIN, b.metrics);
    expect(nextStep(b.rec, T0 + MIN)).toMatchObject({ kind: 'sms', reason: 'revoke_not_confirmed' });
  });

  test('the TTL passing with no server event → revoke after the event grace', () => {
    const { rec, metrics } = make({ policy: { ttl: '1296000s', fallbackSms: { text: 'sms' } } });
    markSent(rec, T0, metrics);
    const due = T0 + 15 * 86_400_000 + 10 * MIN;
    expect(nextStep(rec, T0)).toEqual({ kind: 'wait', untilMs: due, reason: 'deadline' });
    expect(nextStep(rec, due)).toMatchObject({ kind: 'revoke', expiry: 'ttl_event_missing' });
  });

  test('readWithin: delivered but unread → SMS without revoke; READ → finish', () => {
    const { rec, metrics } = make({ policy: { readWithinMs: 10 * MIN, fallbackSms: { text: 'sms' } } });
    markSent(rec, T0, metrics);
    applyReceipt(rec, 'DELIVERED', T0 + MIN, metrics);
    expect(nextStep(rec, T0 + 2 * MIN)).toEqual({ kind: 'wait', untilMs: T0 + 10 * MIN, reason: 'read_within' });
    expect(nextStep(rec, T0 + 10 * MIN)).toMatchObject({ kind: 'sms', reason: 'read_within' });
    applyReceipt(rec, 'READ', T0 + 10 * MIN, metrics);
    expect(nextStep(rec, T0 + 10 * MIN)).toMatchObject({ kind: 'finish', reason: 'read' });
  });

  test('no deadline and no ttl → nothing to watch', () => {
    const { rec, metrics } = make();
    markSent(rec, T0, metrics);
    expect(nextStep(rec, T0)).toMatchObject({ kind: 'finish' });
  });

  test('an SMS caught in flight by a snapshot is resumed, not skipped', () => {
    const { rec, metrics } = make({ policy: { timeSensitive: true, fallbackSms: { text: 'sms' } } });
    markSent(rec, T0, metrics);
    rec.sms = { state: 'in_flight', reason: 'time_sensitive', atMs: T0, to: '+14155550100' };
    expect(nextStep(rec, T0)).toEqual({ kind: 'sms', reason: 'time_sensitive' });
  });
});
