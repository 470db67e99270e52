/**
 * Receipt metrics of a conversation's outbound messages: kept as counters in workflow state (the
 * query shows them, continue-as-new carries them) and emitted once, at the moment they happen,
 * through an emitter — in the workflow that is Temporal's workflow `metricMeter`, which the worker
 * runtime exports (e.g. to Prometheus). The SDK drops meter calls during replay, so a replayed
 * history never counts twice.
 */
import { metricMeter } from '@temporalio/workflow';

import { type Channel } from '../../domain/conversation-key';
import { type ExpiryReason, type OutboundMetricsState, type OutboundMetricsView } from './types';

/** Names of the metrics emitted through the workflow meter (tags: channel, agent, plus the ones noted). */
export const OUTBOUND_METRIC_NAMES = {
  sent: 'switchboard_outbound_sent',
  /** tag `reason`: the failure type (NotRcsReachable, ...). */
  sendFailed: 'switchboard_outbound_send_failed',
  delivered: 'switchboard_outbound_delivered',
  read: 'switchboard_outbound_read',
  /** tag `reason`: ExpiryReason. */
  expired: 'switchboard_outbound_expired',
  /** tag `source`: `ttl` (Google revoked on TTL) or `explicit` (our revoke call). */
  revoked: 'switchboard_outbound_revoked',
  /** tag `source`: `ttl_event` (TTL_EXPIRATION_REVOKE_FAILED) or `explicit` (our revoke was not confirmed). */
  revokeFailed: 'switchboard_outbound_revoke_failed',
  /** tag `outcome`: sent | failed; tag `reason`: why the SMS went out. */
  fallbackSms: 'switchboard_outbound_fallback_sms',
  deliveredAfterFallback: 'switchboard_outbound_delivered_after_fallback',
  unmatchedEvents: 'switchboard_outbound_unmatched_events',
  /** Histogram, ms from send to DELIVERED. */
  timeToDeliver: 'switchboard_outbound_time_to_deliver',
  /** Histogram, ms from send to READ. */
  timeToRead: 'switchboard_outbound_time_to_read',
} as const;

type CounterName = Exclude<keyof typeof OUTBOUND_METRIC_NAMES, 'timeToDeliver' | 'timeToRead'>;

/** Where metric events go; the state counters are kept regardless. */
export interface MetricsEmitter {
  count(name: CounterName, tags?: Record<string, string>): void;
  duration(name: 'timeToDeliver' | 'timeToRead', ms: number): void;
}

/** Emits nothing: for pure unit tests and code running outside a workflow. */
const noopEmitter: MetricsEmitter = { count: () => undefined, duration: () => undefined };

/** Emits through Temporal's workflow metric meter, tagged with channel and agent. Call in workflow context only. */
export function workflowMetricsEmitter(channel: Channel, agent: string): MetricsEmitter {
  const meter = metricMeter.withTags({ channel, agent });
  const counters = new Map<CounterName, ReturnType<typeof meter.createCounter>>();
  const histograms = {
    timeToDeliver: meter.createHistogram(
      OUTBOUND_METRIC_NAMES.timeToDeliver,
      'int',
      'ms',
      'Time from send to DELIVERED of outbound messages',
    ),
    timeToRead: meter.createHistogram(
      OUTBOUND_METRIC_NAMES.timeToRead,
      'int',
      'ms',
      'Time from send to READ of outbound messages',
    ),
  };
  return {
    count(name, tags) {
      let counter = counters.get(name);
      if (counter === undefined) {
        counter = meter.createCounter(OUTBOUND_METRIC_NAMES[name], undefined, `Outbound messages: ${name}`);
        counters.set(name, counter);
      }
      counter.add(1, tags);
    },
    duration(name, ms) {
      histograms[name].record(Math.max(0, Math.round(ms)));
    },
  };
}

/** A fresh set of counters for one conversation. */
export function emptyMetrics(channel: Channel, agent: string): OutboundMetricsState {
  return {
    channel,
    agent,
    accepted: 0,
    sent: 0,
    sendFailed: 0,
    notRcsReachable: 0,
    delivered: 0,
    read: 0,
    expired: 0,
    ttlRevoked: 0,
    ttlRevokeFailed: 0,
    revoked: 0,
    revokeNotConfirmed: 0,
    fallbackSms: 0,
    fallbackSmsFailed: 0,
    deliveredAfterFallback: 0,
    unmatchedEvents: 0,
    timeToDeliverMs: { count: 0, sum: 0, max: 0 },
    timeToReadMs: { count: 0, sum: 0, max: 0 },
  };
}

/**
 * The counters plus the emitter. Every method is called exactly once per message and fact (the
 * record functions guard that), so the counts are per message, never per webhook redelivery.
 */
export class OutboundMetrics {
  constructor(
    readonly state: OutboundMetricsState,
    private readonly emit: MetricsEmitter = noopEmitter,
  ) {}

  accepted(): void {
    this.state.accepted++;
  }

  sent(): void {
    this.state.sent++;
    this.emit.count('sent');
  }

  sendFailed(reason: string): void {
    this.state.sendFailed++;
    if (reason === 'NotRcsReachable') this.state.notRcsReachable++;
    this.emit.count('sendFailed', { reason });
  }

  delivered(ms: number, afterFallback: boolean): void {
    this.state.delivered++;
    addDuration(this.state.timeToDeliverMs, ms);
    this.emit.count('delivered');
    this.emit.duration('timeToDeliver', ms);
    if (afterFallback) {
      this.state.deliveredAfterFallback++;
      this.emit.count('deliveredAfterFallback');
    }
  }

  read(ms: number): void {
    this.state.read++;
    addDuration(this.state.timeToReadMs, ms);
    this.emit.count('read');
    this.emit.duration('timeToRead', ms);
  }

  expired(reason: ExpiryReason): void {
    this.state.expired++;
    this.emit.count('expired', { reason });
  }

  ttlEvent(revoked: boolean): void {
    if (revoked) {
      this.state.ttlRevoked++;
      this.emit.count('revoked', { source: 'ttl' });
    } else {
      this.state.ttlRevokeFailed++;
      this.emit.count('revokeFailed', { source: 'ttl_event' });
    }
  }

  explicitRevoke(confirmed: boolean): void {
    if (confirmed) {
      this.state.revoked++;
      this.emit.count('revoked', { source: 'explicit' });
    } else {
      this.state.revokeNotConfirmed++;
      this.emit.count('revokeFailed', { source: 'explicit' });
    }
  }

  fallbackSms(outcome: 'sent' | 'failed', reason: string): void {
    if (outcome === 'sent') this.state.fallbackSms++;
    else this.state.fallbackSmsFailed++;
    this.emit.count('fallbackSms', { outcome, reason });
  }

  unmatched(): void {
    this.state.unmatchedEvents++;
    this.emit.count('unmatchedEvents');
  }

  view(): OutboundMetricsView {
    const s = this.state;
    return {
      ...s,
      timeToDeliverMs: { ...s.timeToDeliverMs },
      timeToReadMs: { ...s.timeToReadMs },
      deliveryRate: s.sent > 0 ? s.delivered / s.sent : null,
      readRate: s.delivered > 0 ? s.read / s.delivered : null,
      revokeFailed: s.revokeNotConfirmed + s.ttlRevokeFailed,
      avgTimeToDeliverMs: s.timeToDeliverMs.count > 0 ? s.timeToDeliverMs.sum / s.timeToDeliverMs.count : null,
      avgTimeToReadMs: s.timeToReadMs.count > 0 ? s.timeToReadMs.sum / s.timeToReadMs.count : null,
    };
  }
}

function addDuration(agg: { count: number; sum: number; max: number }, ms: number): void {
  const value = Math.max(0, ms);
  agg.count++;
  agg.sum += value;
  agg.max = Math.max(agg.max, value);
}
