import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { type Channel } from '../domain/conversation-key';
import { unrecognizedPayloadWorkflow } from '../workflows';
import {
  type UnrecognizedPayload,
  type UnrecognizedPayloadDelivery,
  type UnrecognizedPayloadReplay,
  type UnrecognizedPayloadStatus,
  type UnrecognizedPayloadView,
  unrecognizedPayloadDeliveredSignal,
  unrecognizedPayloadDismissedSignal,
  unrecognizedPayloadQuery,
  unrecognizedPayloadReplayedSignal,
} from '../workflows/definitions';
import { TemporalUnavailableError } from './errors';

/** What the store needs: the client, the worker's task queue and the 503 bound. */
export interface UnrecognizedPayloadStoreOptions {
  client: Client;
  /** Task queue of the worker that runs unrecognizedPayloadWorkflow (the conversations' queue). */
  taskQueue: string;
  /** Bound on every Temporal call; past it the caller answers 503. */
  timeoutMs: number;
}

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

  /** Keeps the payload (starting its workflow on first delivery) and counts the delivery; resolves once Temporal accepted both. */
  async keep(payload: UnrecognizedPayload, delivery: UnrecognizedPayloadDelivery): Promise<void> {
    const memo = { channel: payload.channel, kind: payload.kind, reason: payload.reason, receivedAt: payload.receivedAt, bytes: Buffer.byteLength(payload.bodyBase64, 'base64'), status: 'pending' };
    await this.bounded('signalWithStart', () =>
      this.options.client.workflow.signalWithStart(unrecognizedPayloadWorkflow, {
        workflowId: this.workflowId(payload.id),
        taskQueue: this.options.taskQueue,
        args: [payload],
        signal: unrecognizedPayloadDeliveredSignal,
        signalArgs: [delivery],
        memo,
      }),
    );
  }

  /** Newest first; `pending` (default) lists what still waits for an operator. */
  async list(options: { status?: 'pending' | 'all'; limit?: number } = {}): Promise<UnrecognizedPayloadSummary[]> {
    const limit = Math.min(Math.max(options.limit ?? 100, 1), 1000);
    const clauses = [`WorkflowType = 'unrecognizedPayloadWorkflow'`, `TaskQueue = '${this.options.taskQueue.replace(/['\\]/g, '')}'`];
    if ((options.status ?? 'pending') === 'pending') clauses.push(`ExecutionStatus = 'Running'`);
    return this.bounded('list', async () => {
      const out: UnrecognizedPayloadSummary[] = [];
      for await (const info of this.options.client.workflow.list({ query: clauses.join(' AND '), pageSize: Math.min(limit, 100) })) {
        const memo = info.memo ?? {};
        const memoStatus = typeof memo.status === 'string' ? (memo.status as UnrecognizedPayloadStatus) : 'pending';
        out.push({
          id: info.workflowId.slice(WORKFLOW_ID_PREFIX.length),
          channel: memo.channel === 'bm' ? 'bm' : 'rbm',
          kind: String(memo.kind ?? 'unknown'),
          reason: String(memo.reason ?? ''),
          receivedAt: String(memo.receivedAt ?? info.startTime.toISOString()),
          bytes: typeof memo.bytes === 'number' ? memo.bytes : 0,
          status: info.status.name === 'RUNNING' ? 'pending' : memoStatus,
          ...(info.closeTime ? { closedAt: info.closeTime.toISOString() } : {}),
        });
        if (out.length >= limit) break;
      }
      return out;
    });
  }

  /** The stored payload with its body, or undefined when no such id was ever stored (or it aged out of retention). */
  async get(id: string): Promise<UnrecognizedPayloadView | undefined> {
    try {
      return await this.bounded('query', () => this.options.client.workflow.getHandle(this.workflowId(id)).query(unrecognizedPayloadQuery));
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  /** Records an operator's replay; a resolved one closes the entry. */
  async recordReplay(id: string, replay: UnrecognizedPayloadReplay): Promise<void> {
    await this.bounded('signal', () => this.options.client.workflow.getHandle(this.workflowId(id)).signal(unrecognizedPayloadReplayedSignal, replay));
  }

  /** Closes the entry without replaying it. */
  async dismiss(id: string, at: string, note?: string): Promise<void> {
    await this.bounded('signal', () => this.options.client.workflow.getHandle(this.workflowId(id)).signal(unrecognizedPayloadDismissedSignal, { at, ...(note ? { note } : {}) }));
  }

  private async bounded<T>(operation: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await this.options.client.withDeadline(Date.now() + this.options.timeoutMs, fn);
    } catch (err) {
      if (isUnavailable(err)) throw new TemporalUnavailableError(`Temporal did not accept ${operation} within ${this.options.timeoutMs} ms`, err);
      throw err;
    }
  }
}

/** gRPC UNAVAILABLE (14), DEADLINE_EXCEEDED (4) or a connection failure, anywhere in the cause chain. */
function isUnavailable(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (code === 14 || code === 4) return true;
    if (/UNAVAILABLE|DEADLINE_EXCEEDED|connect/i.test(e.message) && (e.name === 'ServiceError' || e.name === 'Error')) return true;
  }
  return false;
}
