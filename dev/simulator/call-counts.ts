/**
 * Exact counts of the simulator's calls, kept by id whatever a run's size: the call log
 * (dev/simulator/calls.ts) keeps only the newest 10 000 records, so a long run's accounting cannot
 * be read from it. Every record the log takes is also counted here (served by GET /sim/counts);
 * the chaos run checks its guarantees against these counts. Memory grows with the number of
 * distinct ids (one small entry per message, receipt and webhook event), not with retries.
 */
import { type CallRecord } from './calls';

/** Attempts of one id and how many of them were accepted (status 200) or took effect. */
export interface IdAttempts {
  attempts: number;
  accepted: number;
}

/** Switchboard's calls of one kind to the platform (agent messages, READ receipts). */
export interface OperationCounts {
  calls: number;
  /** Answered with an injected error status. */
  faulted: number;
  /** The id had been used before (the platform deduped it). */
  duplicate: number;
  /** Per id (messageId of an agent message; the user's messageId of a READ receipt): the distinct request ids that took effect, with their count. */
  tookEffect: Record<string, Record<string, number>>;
}

/** What GET /sim/counts answers. */
export interface CallCounts {
  /** Switchboard's calls to the RBM API, and the injected faults by description. */
  rbm: { calls: number; faults: Record<string, number> };
  agentMessages: OperationCounts;
  readReceipts: OperationCounts;
  /** The platform's RBM webhooks (the phones' receipts, the users' messages the simulator posts): attempts by status, and per event id. */
  rbmWebhooks: {
    attempts: number;
    statuses: Record<string, number>;
    byId: Record<string, IdAttempts & { phone?: string; event?: true }>;
  };
}

/** An empty set of counts. */
export function emptyCallCounts(): CallCounts {
  const operation = (): OperationCounts => ({ calls: 0, faulted: 0, duplicate: 0, tookEffect: {} });
  return {
    rbm: { calls: 0, faults: {} },
    agentMessages: operation(),
    readReceipts: operation(),
    rbmWebhooks: { attempts: 0, statuses: {}, byId: {} },
  };
}

/** A call that reached the platform's handler: no fault, or a fault applied after processing, or latency only. */
export function tookEffect(call: CallRecord): boolean {
  return (
    call.status !== null && (!call.fault || call.fault.includes('after processing') || !call.fault.includes('status'))
  );
}

/** The id a webhook's body carries: the event id of an event, else the message id. */
export function webhookEventId(call: CallRecord): string | undefined {
  const b = call.body as { messageId?: string; eventId?: string; eventType?: string } | undefined;
  return b?.eventType ? b.eventId : b?.messageId;
}

function bump(map: Record<string, number>, key: string): void {
  map[key] = (map[key] ?? 0) + 1;
}

function countOperation(
  op: OperationCounts,
  call: CallRecord,
  id: string | undefined,
  requestId: string | undefined,
): void {
  op.calls++;
  if (call.fault?.includes('status')) op.faulted++;
  if (call.duplicate) op.duplicate++;
  if (id && requestId && tookEffect(call)) bump((op.tookEffect[id] ??= {}), requestId);
}

/** Adds one finished call record to the counts (the simulator's log calls it for every record). */
export function countCall(counts: CallCounts, call: CallRecord): void {
  if (call.api !== 'rbm') return;
  if (call.direction === 'inbound') {
    counts.rbm.calls++;
    if (call.fault) bump(counts.rbm.faults, call.fault.replace(/^fault-\d+, /, ''));
    if (call.method === 'POST' && call.path.endsWith('/agentMessages'))
      countOperation(counts.agentMessages, call, call.query.messageId, call.query.messageId);
    const event = call.path.endsWith('/agentEvents')
      ? (call.body as { eventType?: string; messageId?: string } | undefined)
      : undefined;
    if (event?.eventType === 'READ') countOperation(counts.readReceipts, call, event.messageId, call.query.eventId);
    return;
  }
  const webhooks = counts.rbmWebhooks;
  webhooks.attempts++;
  bump(webhooks.statuses, String(call.status ?? 'none'));
  const id = webhookEventId(call);
  if (!id) return;
  const isEvent = Boolean((call.body as { eventType?: string } | undefined)?.eventType);
  const entry = (webhooks.byId[id] ??= {
    attempts: 0,
    accepted: 0,
    ...(call.phone ? { phone: call.phone } : {}),
    ...(isEvent ? { event: true as const } : {}),
  });
  entry.attempts++;
  if (call.status === 200) entry.accepted++;
}

/** The counts of a list of records (tests build evidence this way; the simulator counts as it goes). */
export function countCalls(calls: readonly CallRecord[]): CallCounts {
  const counts = emptyCallCounts();
  for (const call of calls) countCall(counts, call);
  return counts;
}
