import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { type ConversationKey } from '../domain/conversation-key';
import { type InboundEvent } from '../domain/inbound';
import { type WorkflowIdOptions, workflowIdFor } from '../temporal/workflow-ids';
import { conversationWorkflow } from '../workflows';
import { conversationStateQuery, type ConversationInput, type ConversationView } from '../workflows/definitions';
import { inboundEventsSignal } from '../workflows/definitions';
import { TemporalUnavailableError } from './errors';

export interface ConversationGatewayOptions {
  client: Client;
  taskQueue: string;
  /** Bound on every Temporal call made while a webhook waits. */
  timeoutMs: number;
  workflowIds: WorkflowIdOptions;
}

/** The API's only door into Temporal: one shared client, every call bounded in time. */
export class ConversationGateway {
  constructor(private readonly options: ConversationGatewayOptions) {}

  workflowId(key: ConversationKey): string {
    return workflowIdFor(key, this.options.workflowIds);
  }

  /** Signals (starting it if needed) the conversation's workflow with one request's events; resolves once Temporal accepted them. */
  async deliver(key: ConversationKey, events: InboundEvent[]): Promise<void> {
    const input: ConversationInput = { key };
    await this.bounded('signalWithStart', () =>
      this.options.client.workflow.signalWithStart(conversationWorkflow, {
        workflowId: this.workflowId(key),
        taskQueue: this.options.taskQueue,
        args: [input],
        signal: inboundEventsSignal,
        signalArgs: [events],
      }),
    );
  }

  /** The conversation's state, or undefined when no workflow exists for the key. */
  async getState(key: ConversationKey): Promise<ConversationView | undefined> {
    try {
      return await this.bounded('query', () => this.options.client.workflow.getHandle(this.workflowId(key)).query(conversationStateQuery));
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  /** True when Temporal answers a cheap call within the bound. */
  async isReachable(): Promise<boolean> {
    try {
      await this.bounded('getSystemInfo', () => this.options.client.workflowService.getSystemInfo({}));
      return true;
    } catch {
      return false;
    }
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

/** gRPC UNAVAILABLE (14), DEADLINE_EXCEEDED (4) or a connection failure. */
function isUnavailable(err: unknown): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (code === 14 || code === 4) return true;
    if (e.name === 'ServiceError' && /UNAVAILABLE|DEADLINE_EXCEEDED|connect/i.test(e.message)) return true;
  }
  return false;
}
