/**
 * The RBM user traffic of a run and the loops that offer it.
 *
 * Payloads come from the simulator's own builders (dev/simulator/payloads.ts) and go out through
 * its webhook sender (PlatformWebhooks, dev/simulator/webhooks.ts): Pub/Sub envelope, base64 data,
 * X-Goog-Signature over the decoded bytes, retry with backoff on anything but 200, every attempt
 * recorded. The simulator delivers one channel's webhooks in order through one queue (as RBM's
 * partner queue does), so one sender is one lane; a run opens C lanes to offer C concurrent
 * requests, each lane posting its conversations' events in order.
 *
 * Loops: closed (C lanes, each waits for its answer before the next request: the sustained
 * maximum at concurrency C) and open (requests at a fixed rate whatever the answers, latency
 * measured from the scheduled time so a stall is not hidden: the p99 at a given load).
 */
import { createHash } from 'node:crypto';

import { CallLog } from '../../dev/simulator/calls';
import { rbmUserEvent, rbmUserMessage } from '../../dev/simulator/payloads';
import { SeededRandom } from '../../dev/simulator/rng';
import { Timers } from '../../dev/simulator/timers';
import { PlatformWebhooks, type WebhookRetryPolicy } from '../../dev/simulator/webhooks';
import { type ConversationKey, rbmConversationKey } from '../../src/domain/conversation-key';
import { silentLogger } from '../../src/logger';

/** One simulated user and the conversation it has with the agent. */
export interface BenchConversation {
  index: number;
  phone: string;
  key: ConversationKey;
}

/**
 * `count` conversations with numbers of their own: block `block` (1–9) keeps the phases apart (and
 * `offset` the rounds of one phase), so each phase starts its own workflows. US numbers: the
 * example routing file answers them in English.
 */
export function benchConversations(agentId: string, block: number, count: number, offset = 0): BenchConversation[] {
  return Array.from({ length: count }, (_, i) => {
    const index = offset + i;
    const phone = `+1628${block}${String(index).padStart(6, '0')}`;
    return { index, phone, key: rbmConversationKey(agentId, phone) };
  });
}

/** A question the example routing file's FAQ answers ("hours"), so automation replies. */
export const USER_QUESTION = 'What are your opening hours?';

/** One user webhook: a typing event or a text message. */
export interface UserEvent {
  conversation: BenchConversation;
  kind: 'typing' | 'text';
  /** messageId (text) or eventId (typing): the workflow's dedupe key. */
  id: string;
  /** The decoded `message.data` Google would send. */
  data: Record<string, unknown>;
}

/**
 * Per conversation, in order: `exchanges` times (IS_TYPING, then the question). Ids come from a
 * seeded generator, so a run with the same seed posts the same ids.
 */
export function userEvents(
  agentId: string,
  conversations: readonly BenchConversation[],
  exchanges: number,
  seed: number,
): UserEvent[][] {
  const random = new SeededRandom(seed);
  return conversations.map((conversation) => {
    const events: UserEvent[] = [];
    for (let i = 0; i < exchanges; i++) {
      const eventId = `typing-${random.uuid()}`;
      events.push({
        conversation,
        kind: 'typing',
        id: eventId,
        data: rbmUserEvent(agentId, conversation.phone, 'IS_TYPING', eventId),
      });
      const messageId = `msg-${random.uuid()}`;
      events.push({
        conversation,
        kind: 'text',
        id: messageId,
        data: rbmUserMessage(agentId, conversation.phone, messageId, { kind: 'text', text: USER_QUESTION }),
      });
    }
    return events;
  });
}

/** What one request gave. Times are `performance.now()` milliseconds, plus the wall-clock start. */
export interface Sample {
  /** Wall clock (Date.now()) when the request started. */
  sentAtMs: number;
  startPerf: number;
  /** When the first answer (or the first attempt's failure) came back. */
  answeredPerf: number;
  /** First attempt's status (null: no answer). */
  status: number | null;
  /** The request was eventually accepted (after retries, for webhooks). */
  delivered: boolean;
  attempts: number;
}

/**
 * Posts signed RBM webhooks through the simulator's sender: one PlatformWebhooks (one in-order
 * queue) per lane, lanes handed out from a pool so the open loop can have many in flight.
 */
export class WebhookPoster {
  readonly calls = new CallLog(Number.MAX_SAFE_INTEGER);
  private readonly timers = new Timers();
  /** Idle lanes, per API replica. */
  private readonly free = new Map<string, PlatformWebhooks[]>();
  private created = 0;
  private posted = 0;
  /** Events posted per API base URL (replicas alternate). */
  readonly postsByApi = new Map<string, number>();

  constructor(
    /** `apiUrl`: one API, or several replicas (posts alternate between them). */
    private readonly options: {
      apiUrl: string | readonly string[];
      token: string;
      seed: number;
      retry?: Partial<WebhookRetryPolicy>;
    },
  ) {}

  private get apiUrls(): readonly string[] {
    return typeof this.options.apiUrl === 'string' ? [this.options.apiUrl] : this.options.apiUrl;
  }

  private lane(apiUrl: string): PlatformWebhooks {
    const existing = this.free.get(apiUrl)?.pop();
    if (existing) return existing;
    this.created++;
    return new PlatformWebhooks({
      calls: this.calls,
      timers: this.timers,
      random: new SeededRandom(this.options.seed * 1000 + this.created),
      logger: silentLogger,
      retry: { maxAttempts: 12, baseDelayMs: 250, maxDelayMs: 4000, attemptTimeoutMs: 10_000, ...this.options.retry },
      webhookBaseUrl: apiUrl,
      rbmToken: () => this.options.token,
      bmToken: () => this.options.token,
    });
  }

  /** Posts one event; resolves when it was accepted or dropped (the sample's latency is the first attempt's). */
  async post(event: Pick<UserEvent, 'conversation' | 'data'>, agentId: string): Promise<Sample> {
    const apiUrl = this.apiUrls[this.posted++ % this.apiUrls.length] as string;
    const lane = this.lane(apiUrl);
    this.postsByApi.set(apiUrl, (this.postsByApi.get(apiUrl) ?? 0) + 1);
    const sentAtMs = Date.now();
    const startPerf = performance.now();
    const queued = lane.rbm(agentId, event.data, {
      phone: event.conversation.phone,
      conversation: event.conversation.key,
    });
    const first = await queued.firstAttempt;
    const answeredPerf = performance.now();
    const done = await queued.done;
    this.free.set(apiUrl, [...(this.free.get(apiUrl) ?? []), lane]);
    return {
      sentAtMs,
      startPerf,
      answeredPerf,
      status: first.status,
      delivered: done.delivered,
      attempts: done.attempts,
    };
  }

  /** Cancels pending retries. */
  close(): void {
    this.timers.close();
  }
}

/** A loop's samples and its wall time. */
export interface LoopResult {
  samples: Sample[];
  /** First request sent → last answer received. */
  wallMs: number;
  startedAtMs: number;
  /** Open loop only: requests that could not start on time because `maxInFlight` were pending. */
  late?: number;
}

/**
 * Closed loop: `lanes.length` lanes, each sending its jobs one after the other (waiting for each
 * answer). The throughput it reaches is the sustained maximum at that concurrency.
 */
export async function closedLoop<J>(lanes: readonly J[][], send: (job: J) => Promise<Sample>): Promise<LoopResult> {
  const samples: Sample[] = [];
  const startedAtMs = Date.now();
  const t0 = performance.now();
  await Promise.all(
    lanes.map(async (jobs) => {
      for (const job of jobs) samples.push(await send(job));
    }),
  );
  return { samples, wallMs: performance.now() - t0, startedAtMs };
}

/**
 * Open loop: job i is due at start + i / rate, sent then whatever the earlier answers (up to
 * `maxInFlight` outstanding). Each sample's latency is counted from when it was due, not from when
 * it was sent, so a stall shows up in the percentiles instead of slowing the offered load.
 */
export async function openLoop<J>(
  jobs: readonly J[],
  ratePerSecond: number,
  send: (job: J) => Promise<Sample>,
  maxInFlight = 512,
): Promise<LoopResult> {
  const samples: Sample[] = [];
  const inFlight = new Set<Promise<void>>();
  const startedAtMs = Date.now();
  const t0 = performance.now();
  let late = 0;
  for (let i = 0; i < jobs.length; i++) {
    const due = t0 + (i * 1000) / ratePerSecond;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    while (inFlight.size >= maxInFlight) {
      late++;
      await Promise.race(inFlight);
    }
    const p = send(jobs[i] as J).then((s) => {
      // From the due time: the latency a caller arriving on schedule would have seen.
      samples.push({ ...s, startPerf: Math.min(s.startPerf, due) });
      inFlight.delete(p);
    });
    inFlight.add(p);
  }
  await Promise.all(inFlight);
  return { samples, wallMs: performance.now() - t0, startedAtMs, late };
}

/** Spreads conversations over `concurrency` lanes; each lane keeps each conversation's events in order. */
export function toLanes<J>(perConversation: readonly J[][], concurrency: number): J[][] {
  const lanes: J[][] = Array.from({ length: Math.min(concurrency, perConversation.length) }, () => []);
  perConversation.forEach((events, i) => lanes[i % lanes.length]?.push(...events));
  return lanes;
}

/** Interleaves conversations for the open loop: every conversation's events stay in order. */
export function interleave<J>(perConversation: readonly J[][]): J[] {
  return perConversation.flat();
}

/** A repeatable yes/no for an id (e.g. "post this webhook twice"), independent of the order events happen in. */
export function chosen(id: string, fraction: number, salt = ''): boolean {
  const h = createHash('sha256').update(`${salt}:${id}`).digest();
  return h.readUInt32BE(0) / 0x100000000 < fraction;
}
