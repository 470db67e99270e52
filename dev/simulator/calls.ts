import { type CallCounts, countCall, emptyCallCounts } from './call-counts';

/**
 * Every call the simulator answered (RBM, Business Messages, Twilio, OAuth) and every webhook it
 * posted, in order. Served by GET /sim/calls; tests wait on it with `waitFor` instead of sleeping.
 */
export type CallApi = 'rbm' | 'bm' | 'twilio' | 'oauth' | 'desk';

export interface CallRecord {
  /** 1, 2, 3 … in the order calls started. */
  id: number;
  /** ISO time the call started. */
  time: string;
  /** `inbound`: a call Switchboard made to the platform (or to the stand-in human desk); `webhook`: a post the platform made to Switchboard (or a status callback). */
  direction: 'inbound' | 'webhook';
  api: CallApi | 'sms-status';
  method: string;
  /** Path only (inbound), or the full webhook URL's path. */
  path: string;
  query: Record<string, string>;
  /** Parsed JSON or form fields; for RBM webhooks the decoded `message.data`. Credentials are redacted. */
  body: unknown;
  /** Status answered (inbound) or received (webhook); null when there was no answer (held request, unreachable webhook). */
  status: number | null;
  durationMs: number;
  /** E.164 number the call concerns, when it concerns one. */
  phone?: string;
  /** Conversation key (`rbm:{agentId}:{msisdn}` / `bm:{conversationId}`), when known. */
  conversation?: string;
  /** Description of the injected fault, if one applied. */
  fault?: string;
  /** The id had been used before, so the call had no effect. */
  duplicate?: boolean;
  /** Webhooks: 1 for the first try, 2 for the first retry … */
  attempt?: number;
  error?: string;
}

export interface CallFilter {
  phone?: string;
  conversation?: string;
  api?: string;
  direction?: string;
  /** Only calls with an id greater than this. */
  after?: number;
}

/** `+` in a query string decodes to a space; put it back so `?phone=+1555…` works unencoded. */
export function normalizePhoneParam(value: string): string {
  const trimmed = value.trim();
  return /^\d/.test(trimmed) ? `+${trimmed}` : trimmed;
}

function normalizeConversationParam(value: string): string {
  const fixed = value.trim().replace(/ /g, '+');
  return fixed.startsWith('rbm:') || fixed.startsWith('bm:') ? fixed : `bm:${fixed}`;
}

export function matchesFilter(record: CallRecord, filter: CallFilter): boolean {
  if (filter.phone !== undefined && record.phone !== normalizePhoneParam(filter.phone)) return false;
  if (filter.conversation !== undefined && record.conversation !== normalizeConversationParam(filter.conversation))
    return false;
  if (filter.api !== undefined && record.api !== filter.api) return false;
  if (filter.direction !== undefined && record.direction !== filter.direction) return false;
  if (filter.after !== undefined && record.id <= filter.after) return false;
  return true;
}

type Waiter = { predicate: (r: CallRecord) => boolean; resolve: (r: CallRecord) => void };

export class CallLog {
  private readonly records: CallRecord[] = [];
  /** Oldest records are dropped beyond this, so a long `npm start` session stays bounded. */
  constructor(private readonly maxRecords = 10_000) {}

  private nextId = 1;
  private waiters: Waiter[] = [];
  /** Exact per-id counts of every record ever added (not capped like the records; dev/simulator/call-counts.ts). */
  private countsSoFar: CallCounts = emptyCallCounts();

  /** Reserves an id and start time; `finish` completes and publishes the record. */
  start(): { id: number; time: string; startedAt: number } {
    return { id: this.nextId++, time: new Date().toISOString(), startedAt: Date.now() };
  }

  add(record: CallRecord): CallRecord {
    this.records.push(record);
    countCall(this.countsSoFar, record);
    // Webhook records finish after later calls started: keep the list in id order.
    for (let i = this.records.length - 1; i > 0 && (this.records[i - 1]?.id ?? 0) > record.id; i--) {
      [this.records[i - 1], this.records[i]] = [record, this.records[i - 1] as CallRecord];
    }
    if (this.records.length > this.maxRecords) this.records.shift();
    for (const waiter of [...this.waiters]) {
      if (waiter.predicate(record)) {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        waiter.resolve(record);
      }
    }
    return record;
  }

  list(filter: CallFilter = {}): CallRecord[] {
    return this.records.filter((r) => matchesFilter(r, filter));
  }

  /**
   * Resolves with the first recorded call (already recorded or future) that matches; rejects after
   * `timeoutMs` so a test fails with a message instead of hanging.
   */
  waitFor(predicate: (r: CallRecord) => boolean, timeoutMs = 10_000): Promise<CallRecord> {
    const existing = this.records.find(predicate);
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no matching simulator call within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: Waiter = {
        predicate,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** The exact counts of every call since the last clear (GET /sim/counts). */
  counts(): CallCounts {
    return this.countsSoFar;
  }

  clear(): void {
    this.records.length = 0;
    this.countsSoFar = emptyCallCounts();
  }
}
