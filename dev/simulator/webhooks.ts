/**
 * Posts the platform's webhooks to Switchboard the way Google does: RBM in a Pub/Sub push
 * envelope signed over the decoded `message.data`, Business Messages as plain JSON signed over the
 * raw body, both with X-Goog-Signature = base64(HMAC-SHA512(client token, bytes)). Each channel
 * has one queue, delivered in order, and a post that is not answered 200 is retried with
 * exponential backoff (bounded here; Google keeps trying for 7 days) while it holds up the queue
 * behind it, as RBM's single partner queue does. Every attempt is recorded.
 */
import { createHmac } from 'node:crypto';

import { computeSignature } from '../../src/channels/signature';
import { maskPhone } from '../../src/domain/conversation-key';
import { type Logger } from '../../src/logger';
import { type CallLog, type CallRecord } from './calls';
import { withoutCode } from './middleware';
import { type SeededRandom } from './rng';
import { type Timers } from './timers';

export interface WebhookOutcome {
  /** Status of the last attempt; null when the receiver could not be reached. */
  status: number | null;
  attempts: number;
  delivered: boolean;
}

export interface QueuedWebhook {
  /** Settles after the first attempt (user actions report it). */
  firstAttempt: Promise<WebhookOutcome>;
  /** Settles when delivered or dropped. */
  done: Promise<WebhookOutcome>;
}

export interface WebhookRetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Per-attempt timeout; Google gives up on a slow webhook too. */
  attemptTimeoutMs: number;
}

interface Job {
  queue: 'rbm' | 'bm' | 'sms-status';
  url: string;
  body: string;
  headers: Record<string, string>;
  /** 2xx for Twilio callbacks; exactly 200 for Google, whose docs say any other answer is retried. */
  accept: (status: number) => boolean;
  record: Pick<CallRecord, 'api' | 'body' | 'phone' | 'conversation'>;
}

export interface PlatformWebhooksOptions {
  calls: CallLog;
  timers: Timers;
  random: SeededRandom;
  logger: Logger;
  retry: WebhookRetryPolicy;
  /** Switchboard's base URL; webhooks go to {base}/webhooks/rbm and {base}/webhooks/bm. Several (API replicas): each new webhook goes to the next one, its retries to the same. */
  webhookBaseUrl?: string | readonly string[];
  rbmToken: (agentId: string) => string;
  bmToken: (agent: string) => string;
}

export class PlatformWebhooks {
  private readonly tails = new Map<string, Promise<unknown>>();
  private nextBase = 0;

  constructor(private readonly options: PlatformWebhooksOptions) {}

  /** An RBM user message / user event / server event, in the Pub/Sub envelope. */
  rbm(agentId: string, data: Record<string, unknown>, meta: { phone: string; conversation: string }): QueuedWebhook {
    return this.rbmBytes(agentId, Buffer.from(JSON.stringify(data), 'utf8'), data, meta);
  }

  /**
   * Any bytes as an RBM `message.data`, signed like Google signs it: what the simulator does not
   * model (agent launch events, kinds a newer Google sends, data that is not JSON, oversized data).
   */
  rbmBytes(
    agentId: string,
    bytes: Buffer,
    recorded: unknown,
    meta: { phone?: string; conversation?: string },
  ): QueuedWebhook {
    const body = JSON.stringify({
      message: { data: bytes.toString('base64'), messageId: this.pubsubId(), publishTime: new Date().toISOString() },
      subscription: 'projects/switchboard-sim/subscriptions/rbm-webhook',
    });
    const headers = {
      'content-type': 'application/json',
      'x-goog-signature': computeSignature(this.options.rbmToken(agentId), bytes),
      'user-agent': 'switchboard-simulator',
    };
    return this.enqueue({
      queue: 'rbm',
      url: this.webhookUrl('rbm'),
      body,
      headers,
      accept: (s) => s === 200,
      record: { api: 'rbm', body: recorded, ...meta },
    });
  }

  /** A Business Messages UserMessage (message, receipts, userStatus, suggestionResponse …). */
  bm(agent: string, payload: Record<string, unknown>, meta: { conversation: string }): QueuedWebhook {
    // A sign-in's code is a credential: posted, not recorded.
    return this.bmText(agent, JSON.stringify(payload), withoutCode(payload), meta);
  }

  /** Any text as a Business Messages body, signed over its bytes like Google signs it. */
  bmText(agent: string, body: string, recorded: unknown, meta: { conversation?: string }): QueuedWebhook {
    const headers = {
      'content-type': 'application/json',
      'x-goog-signature': computeSignature(this.options.bmToken(agent), body),
      'user-agent': 'switchboard-simulator',
    };
    return this.enqueue({
      queue: 'bm',
      url: this.webhookUrl('bm'),
      body,
      headers,
      accept: (s) => s === 200,
      record: { api: 'bm', body: recorded, ...meta },
    });
  }

  /** A Twilio status callback, form-encoded and signed with X-Twilio-Signature. */
  smsStatus(url: string, fields: Record<string, string>, authToken: string, meta: { phone: string }): QueuedWebhook {
    const sorted = Object.keys(fields).sort();
    const signature = createHmac('sha1', authToken)
      .update(url + sorted.map((k) => k + fields[k]).join(''))
      .digest('base64');
    const headers = {
      'content-type': 'application/x-www-form-urlencoded',
      'x-twilio-signature': signature,
      'user-agent': 'switchboard-simulator',
    };
    return this.enqueue({
      queue: 'sms-status',
      url,
      body: new URLSearchParams(fields).toString(),
      headers,
      accept: (s) => s >= 200 && s < 300,
      record: { api: 'sms-status', body: fields, ...meta },
    });
  }

  private pubsubId(): string {
    return String(10_000_000_000_000 + Math.floor(this.options.random.next() * 89_999_999_999_999));
  }

  private webhookUrl(channel: 'rbm' | 'bm'): string {
    const configured = this.options.webhookBaseUrl;
    const bases = configured === undefined ? [] : typeof configured === 'string' ? [configured] : configured;
    const base = bases[this.nextBase++ % Math.max(1, bases.length)];
    return base ? `${base.replace(/\/+$/, '')}/webhooks/${channel}` : '';
  }

  private enqueue(job: Job): QueuedWebhook {
    let settleFirst!: (o: WebhookOutcome) => void;
    const firstAttempt = new Promise<WebhookOutcome>((r) => (settleFirst = r));
    const previous = this.tails.get(job.queue) ?? Promise.resolve();
    const done = previous
      .then(() => this.deliver(job, settleFirst))
      .catch((err: unknown): WebhookOutcome => {
        // Never let one broken job stall the queue behind it.
        this.options.logger.error('webhook delivery crashed', {
          queue: job.queue,
          error: err instanceof Error ? err.message : String(err),
        });
        const outcome = { status: null, attempts: 0, delivered: false };
        settleFirst(outcome);
        return outcome;
      });
    this.tails.set(job.queue, done);
    return { firstAttempt, done };
  }

  private async deliver(job: Job, settleFirst: (o: WebhookOutcome) => void): Promise<WebhookOutcome> {
    const { retry, calls, timers, logger } = this.options;
    let outcome: WebhookOutcome = { status: null, attempts: 0, delivered: false };
    for (let attempt = 1; attempt <= retry.maxAttempts && !timers.isClosed; attempt++) {
      const started = calls.start();
      let status: number | null = null;
      let error: string | undefined;
      if (!job.url) {
        error = 'no webhook URL configured (SIMULATOR_WEBHOOK_BASE_URL)';
      } else {
        try {
          const res = await fetch(job.url, {
            method: 'POST',
            headers: job.headers,
            body: job.body,
            signal: AbortSignal.timeout(retry.attemptTimeoutMs),
          });
          await res.arrayBuffer();
          status = res.status;
        } catch (err) {
          error = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
        }
      }
      const url = job.url ? new URL(job.url) : undefined;
      calls.add({
        id: started.id,
        time: started.time,
        direction: 'webhook',
        method: 'POST',
        path: url?.pathname ?? '',
        query: url ? Object.fromEntries(url.searchParams) : {},
        status,
        durationMs: Date.now() - started.startedAt,
        attempt,
        ...job.record,
        ...(error ? { error } : {}),
      });
      outcome = { status, attempts: attempt, delivered: status !== null && job.accept(status) };
      if (attempt === 1) settleFirst(outcome);
      if (outcome.delivered || !job.url) break;
      const delay = Math.min(retry.maxDelayMs, retry.baseDelayMs * 2 ** (attempt - 1));
      logger.warn('webhook not accepted, will retry', {
        queue: job.queue,
        status,
        error,
        attempt,
        retryInMs: delay,
        ...(job.record.phone ? { phone: maskPhone(job.record.phone) } : {}),
      });
      if (attempt < retry.maxAttempts) await timers.sleep(delay);
    }
    settleFirst(outcome);
    if (!outcome.delivered && job.url)
      logger.error('webhook dropped after the last attempt', { queue: job.queue, attempts: outcome.attempts });
    return outcome;
  }
}
