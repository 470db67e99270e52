/**
 * The simulator's control API (/sim/…) as the benchmark and the chaos run use it: recorded calls,
 * platform messages, faults. Everything goes over HTTP, since the simulator runs as its own process
 * (as under `npm start`).
 */
import { type CallCounts } from '../../dev/simulator/call-counts';
import { type CallRecord } from '../../dev/simulator/calls';
import { type FaultRuleInput } from '../../dev/simulator/faults';
import { type SimMessage } from '../../dev/simulator/phones';

/** A thin client of one simulator. */
export class SimClient {
  constructor(readonly baseUrl: string) {}

  private async json<T>(path: string, init?: RequestInit): Promise<T> {
    const res = await fetch(`${this.baseUrl}${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', ...init?.headers },
    });
    const text = await res.text();
    if (!res.ok)
      throw new Error(`simulator ${init?.method ?? 'GET'} ${path} answered ${res.status}: ${text.slice(0, 300)}`);
    return JSON.parse(text) as T;
  }

  /** Recorded calls with an id above `after` (the log keeps the newest 10 000), optionally only one direction. */
  async calls(after = 0, direction?: 'inbound' | 'webhook'): Promise<CallRecord[]> {
    return (
      await this.json<{ calls: CallRecord[] }>(`/sim/calls?after=${after}${direction ? `&direction=${direction}` : ''}`)
    ).calls;
  }

  /** Exact per-id counts of every call so far (not capped like the log). */
  async counts(): Promise<CallCounts> {
    return this.json<CallCounts>('/sim/counts');
  }

  async clearCalls(): Promise<void> {
    await this.json('/sim/calls', { method: 'DELETE' });
  }

  /** Agent messages the platform accepted (one entry per messageId, whatever the retries). */
  async messages(): Promise<SimMessage[]> {
    return (await this.json<{ messages: SimMessage[] }>('/sim/messages')).messages;
  }

  /** Adds a fault rule (tried after the ones already there); returns its id. */
  async addFault(rule: FaultRuleInput): Promise<string> {
    return (await this.json<{ id: string }>('/sim/faults', { method: 'POST', body: JSON.stringify(rule) })).id;
  }

  /** The live fault rules (a rule with `times` disappears once spent). */
  async faults(): Promise<{ id: string; hits: number }[]> {
    return (await this.json<{ faults: { id: string; hits: number }[] }>('/sim/faults')).faults;
  }

  async clearFaults(): Promise<void> {
    await this.json('/sim/faults', { method: 'DELETE' });
  }

  /** Default phone behaviour, e.g. `{ deliverAfterMs: null }`: phones that never deliver on their own. */
  async setDefaults(patch: Record<string, unknown>): Promise<void> {
    await this.json('/sim/defaults', { method: 'PUT', body: JSON.stringify(patch) });
  }

  /** Per-phone behaviour, e.g. `{ deliverAfterMs: null }` for a phone that never delivers. */
  async configurePhone(msisdn: string, patch: Record<string, unknown>): Promise<void> {
    await this.json(`/sim/phones/${encodeURIComponent(msisdn)}`, { method: 'PUT', body: JSON.stringify(patch) });
  }
}

/**
 * Accumulates the simulator's call log while a run goes on. The log assigns ids when a call
 * starts but publishes the record when it ends, so a slow call can appear behind faster, later
 * ones: each poll re-reads a margin below the highest id seen and dedupes by id.
 */
export class CallCollector {
  private readonly byId = new Map<number, CallRecord>();
  private maxId = 0;

  constructor(
    private readonly sim: SimClient,
    private readonly margin = 1000,
    private readonly direction?: 'inbound' | 'webhook',
  ) {}

  async poll(): Promise<CallRecord[]> {
    const fresh = await this.sim.calls(Math.max(0, this.maxId - this.margin), this.direction);
    for (const call of fresh) {
      this.byId.set(call.id, call);
      if (call.id > this.maxId) this.maxId = call.id;
    }
    return this.all();
  }

  all(): CallRecord[] {
    return [...this.byId.values()].sort((a, b) => a.id - b.id);
  }
}

/** An RBM call Switchboard made to the platform (agentMessages / agentEvents), as recorded. */
export function isRbmInbound(call: CallRecord): boolean {
  return call.direction === 'inbound' && call.api === 'rbm';
}

/** The body of an agentEvents call: eventType and, for READ, the user's messageId. */
export function agentEventOf(
  call: CallRecord,
): { eventType?: string; messageId?: string; eventId?: string } | undefined {
  if (!isRbmInbound(call) || !call.path.endsWith('/agentEvents')) return undefined;
  const body = (call.body ?? {}) as { eventType?: string; messageId?: string };
  return { ...body, eventId: call.query.eventId };
}

/** The messageId of an agentMessages create call. */
export function agentMessageIdOf(call: CallRecord): string | undefined {
  if (!isRbmInbound(call) || call.method !== 'POST' || !call.path.endsWith('/agentMessages')) return undefined;
  return call.query.messageId;
}
