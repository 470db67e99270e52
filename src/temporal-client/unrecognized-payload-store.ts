import { gunzipSync, gzipSync } from 'node:zlib';

import { type Client, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from '@temporalio/client';

import { describeUnavailable, isTemporalUnavailable, TemporalUnavailableError } from '../api/errors';
import { type Channel } from '../domain/conversation-key';
import { unrecognizedPayloadWorkflow } from '../workflows';
import {
  type UnrecognizedPayload,
  unrecognizedPayloadChunkQuery,
  unrecognizedPayloadChunkSignal,
  unrecognizedPayloadDeliveredSignal,
  type UnrecognizedPayloadDelivery,
  unrecognizedPayloadDismissedSignal,
  unrecognizedPayloadQuery,
  type UnrecognizedPayloadReplay,
  unrecognizedPayloadReplayedSignal,
  type UnrecognizedPayloadStatus,
  type UnrecognizedPayloadView,
} from '../workflows/definitions';

/** What the store needs: the client, the worker's task queue and the 503 bound. */
export interface UnrecognizedPayloadStoreOptions {
  client: Client;
  /** Task queue of the worker that runs unrecognizedPayloadWorkflow (the conversations' queue). */
  taskQueue: string;
  /** Bound on every Temporal call; past it the caller answers 503. */
  timeoutMs: number;
  /** How long an entry waits for an operator before it expires (its workflow's execution timeout); default 30 days. */
  retentionMs?: number;
}

/** Default life of an entry: UNRECOGNIZED_PAYLOAD_RETENTION_DAYS's default. */
const DEFAULT_UNRECOGNIZED_RETENTION_MS = 30 * 24 * 3600 * 1000;

/** Bodies from this size on are kept gzip-compressed, so a large one still fits Temporal's 2 MB payload limit. */
const COMPRESS_FROM_BYTES = 256 * 1024;
/**
 * Base64 characters per Temporal payload of a kept body: what gzip cannot bring under this goes in
 * parts (the first in the start input, each other in a signal of its own), well inside Temporal's
 * 2 MB payload limit and its 4 MB gRPC message limit.
 */
const BODY_CHUNK_CHARS = 512 * 1024;

/** One line of the operator's list, read from Temporal visibility (memo), without touching the body. */
export interface UnrecognizedPayloadSummary {
  id: string;
  channel: Channel;
  kind: string;
  reason: string;
  receivedAt: string;
  bytes: number;
  status: UnrecognizedPayloadStatus;
  closedAt?: string;
}

const WORKFLOW_ID_PREFIX = 'unrecognized-payload-';
const ID = /^[0-9a-f]{32}$/;

/**
 * Durable home of correctly signed payloads of unknown kinds: one unrecognizedPayloadWorkflow per
 * payload on the conversations' task queue. Listing uses Temporal visibility, which is eventually
 * consistent: a payload stored a moment ago may take a moment to show in the list (never in `get`).
 */
export class UnrecognizedPayloadStore {
  constructor(private readonly options: UnrecognizedPayloadStoreOptions) {}

  /** True for strings shaped like a payload id (so route parameters never reach Temporal unchecked). */
  static isId(id: string): boolean {
    return ID.test(id);
  }

  /** The Temporal workflow id that holds payload `id`. */
  workflowId(id: string): string {
    return `${WORKFLOW_ID_PREFIX}${id}`;
  }

  /**
   * Keeps the payload (starting its workflow on first delivery) and counts the delivery; resolves
   * once Temporal accepted both. Every redelivery of one payload is the same entry: while it is
   * pending the delivery is counted on it, and once it was dismissed, replayed or expired the
   * closed entry stands (the id is never started a second time).
   */
  async keep(payload: UnrecognizedPayload, delivery: UnrecognizedPayloadDelivery): Promise<void> {
    const bytes = Buffer.byteLength(payload.bodyBase64, 'base64');
    const encoded =
      bytes >= COMPRESS_FROM_BYTES && payload.bodyEncoding === undefined
        ? {
            ...payload,
            bodyBase64: gzipSync(Buffer.from(payload.bodyBase64, 'base64')).toString('base64'),
            bodyEncoding: 'gzip' as const,
          }
        : payload;
    const parts: string[] = [];
    for (let at = 0; at < encoded.bodyBase64.length || at === 0; at += BODY_CHUNK_CHARS)
      parts.push(encoded.bodyBase64.slice(at, at + BODY_CHUNK_CHARS));
    const stored: UnrecognizedPayload =
      parts.length > 1 ? { ...encoded, bodyBase64: parts[0] ?? '', bodyChunks: parts.length } : encoded;
    const memo = {
      channel: payload.channel,
      kind: payload.kind,
      reason: payload.reason,
      receivedAt: payload.receivedAt,
      bytes,
      status: 'pending',
    };
    try {
      await this.bounded('signalWithStart', () =>
        this.options.client.workflow.signalWithStart(unrecognizedPayloadWorkflow, {
          workflowId: this.workflowId(payload.id),
          taskQueue: this.options.taskQueue,
          args: [stored],
          signal: unrecognizedPayloadDeliveredSignal,
          signalArgs: [delivery],
          memo,
          workflowIdReusePolicy: 'REJECT_DUPLICATE',
          workflowExecutionTimeout: this.options.retentionMs ?? DEFAULT_UNRECOGNIZED_RETENTION_MS,
        }),
      );
    } catch (err) {
      // Closed already (dismissed, replayed or expired): the payload is kept as it was.
      if (err instanceof WorkflowExecutionAlreadyStartedError) return;
      throw err;
    }
    // The other parts; a redelivery sends them again, which completes an entry an earlier attempt left short.
    const handle = this.options.client.workflow.getHandle(this.workflowId(payload.id));
    for (let index = 1; index < parts.length; index++) {
      try {
        await this.bounded('signal', () =>
          handle.signal(unrecognizedPayloadChunkSignal, { index, data: parts[index] ?? '' }),
        );
      } catch (err) {
        // Closed meanwhile: it was complete enough for an operator to close it.
        if (err instanceof WorkflowNotFoundError) return;
        throw err;
      }
    }
  }

  /**
   * Dismisses every pending entry that matches (newest first, at most `limit`); `more` when others
   * may still match. Visibility is eventually consistent: an entry stored a moment ago may be missed.
   */
  async dismissMatching(
    filter: { channel?: Channel; kind?: string; receivedBefore?: string; limit: number },
    at: string,
    note?: string,
  ): Promise<{ ids: string[]; more: boolean }> {
    const pending = await this.list({ status: 'pending', limit: 1000 });
    const matching = pending.filter(
      (p) =>
        (filter.channel === undefined || p.channel === filter.channel) &&
        (filter.kind === undefined || p.kind === filter.kind) &&
        (filter.receivedBefore === undefined || p.receivedAt < filter.receivedBefore),
    );
    const chosen = matching.slice(0, filter.limit);
    const ids: string[] = [];
    for (const entry of chosen) {
      try {
        await this.dismiss(entry.id, at, note);
        ids.push(entry.id);
      } catch (err) {
        // Closed meanwhile (expired, replayed, dismissed by another call): nothing left to dismiss.
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
    }
    return { ids, more: matching.length > chosen.length || pending.length >= 1000 };
  }

  /** Newest first; `pending` (default) lists what still waits for an operator. */
  async list(options: { status?: 'pending' | 'all'; limit?: number } = {}): Promise<UnrecognizedPayloadSummary[]> {
    const limit = Math.min(Math.max(options.limit ?? 100, 1), 1000);
    const clauses = [
      `WorkflowType = 'unrecognizedPayloadWorkflow'`,
      `TaskQueue = '${this.options.taskQueue.replace(/['\\]/g, '')}'`,
    ];
    if ((options.status ?? 'pending') === 'pending') clauses.push(`ExecutionStatus = 'Running'`);
    return this.bounded('list', async () => {
      const out: UnrecognizedPayloadSummary[] = [];
      for await (const info of this.options.client.workflow.list({
        query: clauses.join(' AND '),
        pageSize: Math.min(limit, 100),
      })) {
        const memo = info.memo ?? {};
        const memoStatus = typeof memo.status === 'string' ? (memo.status as UnrecognizedPayloadStatus) : 'pending';
        out.push({
          id: info.workflowId.slice(WORKFLOW_ID_PREFIX.length),
          channel: memo.channel === 'bm' ? 'bm' : 'rbm',
          kind: String(memo.kind ?? 'unknown'),
          reason: String(memo.reason ?? ''),
          receivedAt: String(memo.receivedAt ?? info.startTime.toISOString()),
          bytes: typeof memo.bytes === 'number' ? memo.bytes : 0,
          status:
            info.status.name === 'RUNNING' ? 'pending' : info.status.name === 'TIMED_OUT' ? 'expired' : memoStatus,
          ...(info.closeTime ? { closedAt: info.closeTime.toISOString() } : {}),
        });
        if (out.length >= limit) break;
      }
      return out;
    });
  }

  /**
   * The stored payload with its exact body, or undefined when no such id was ever stored (or it
   * aged out of retention). A body kept in parts of which one never arrived (Google gave up before
   * an attempt completed it) comes back empty with `bodyIncomplete`.
   */
  async get(id: string): Promise<(UnrecognizedPayloadView & { bodyIncomplete?: true }) | undefined> {
    let view: UnrecognizedPayloadView;
    const handle = this.options.client.workflow.getHandle(this.workflowId(id));
    const parts: string[] = [];
    try {
      view = await this.bounded('query', () => handle.query(unrecognizedPayloadQuery));
      // An expired entry's workflow timed out while still waiting: its own state says pending.
      if (
        view.status === 'pending' &&
        (await this.bounded('describe', () => handle.describe())).status.name === 'TIMED_OUT'
      )
        view = { ...view, status: 'expired' };
      parts.push(view.bodyBase64);
      for (let index = 1; index < (view.bodyChunks ?? 1); index++) {
        const part = await this.bounded('query', () => handle.query(unrecognizedPayloadChunkQuery, index));
        if (part === null) {
          const { bodyChunks: _chunks, bodyEncoding: _encoding, ...rest } = view;
          return { ...rest, bodyBase64: '', bodyIncomplete: true };
        }
        parts.push(part);
      }
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
    const { bodyChunks: _chunks, bodyEncoding, ...rest } = view;
    const encoded = parts.join('');
    return {
      ...rest,
      bodyBase64: bodyEncoding === 'gzip' ? gunzipSync(Buffer.from(encoded, 'base64')).toString('base64') : encoded,
    };
  }

  /** Records an operator's replay; a resolved one closes the entry. */
  async recordReplay(id: string, replay: UnrecognizedPayloadReplay): Promise<void> {
    await this.bounded('signal', () =>
      this.options.client.workflow.getHandle(this.workflowId(id)).signal(unrecognizedPayloadReplayedSignal, replay),
    );
  }

  /** Closes the entry without replaying it. */
  async dismiss(id: string, at: string, note?: string): Promise<void> {
    await this.bounded('signal', () =>
      this.options.client.workflow
        .getHandle(this.workflowId(id))
        .signal(unrecognizedPayloadDismissedSignal, { at, ...(note ? { note } : {}) }),
    );
  }

  private async bounded<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await this.options.client.withDeadline(Date.now() + this.options.timeoutMs, fn);
    } catch (err) {
      if (isTemporalUnavailable(err))
        throw new TemporalUnavailableError(describeUnavailable(operation, this.options.timeoutMs, err), err);
      throw err;
    }
  }
}
