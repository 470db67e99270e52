/**
 * The Temporal client side of Switchboard (src/temporal-client/): what the API does to
 * conversations in Temporal. It starts and signals them (one delivery per webhook request), sends
 * operator messages by update-with-start, and queries, lists, reads the transcript of and erases
 * them. The tree reads webhook (src/api) → channel parser (src/channels) → Temporal client (here)
 * → workflow (src/workflows) → activity (src/activities) → channel client (src/channels).
 */
import {
  type Client,
  WithStartWorkflowOperation,
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
} from '@temporalio/client';
import { type SearchAttributePair, type UpdateDefinition } from '@temporalio/common';

import { describeUnavailable, isTemporalUnavailable, TemporalUnavailableError } from '../api/errors';
import { type Config } from '../config';
import { type ConversationKey } from '../domain/conversation-key';
import { type InboundEvent } from '../domain/inbound';
import { routingVersionOf } from '../routing/load';
import { startingLocale } from '../routing/starting-locale';
import { type RoutingConfig } from '../routing/types';
import { workflowIdFor, type WorkflowIdOptions } from '../temporal/workflow-ids';
import { conversationWorkflow } from '../workflows';
import {
  type ConversationInput,
  conversationStateQuery,
  type ConversationView,
  lastInboundHour,
  searchAttributes,
  userTypingAsOf,
} from '../workflows/definitions';
import { inboundEventsSignal } from '../workflows/definitions';
import { outboundMessagesQuery, sendMessageUpdate } from '../workflows/definitions';
import {
  type OutboundMessagesView,
  type OutboundSendInput,
  type OutboundSendResult,
} from '../workflows/outbound/types';
import { eraseWorkflowRuns, type ErasureResult } from './erasure';
import { readTranscript, type TranscriptEntry } from './transcript';
import { TypingCoalescer } from './typing-coalescer';

export interface ConversationsClientOptions {
  client: Client;
  taskQueue: string;
  /** Bound on every Temporal call made while a webhook waits. */
  timeoutMs: number;
  workflowIds: WorkflowIdOptions;
  /** What every new conversation run starts with (routing file, settings). */
  startInput?: Omit<ConversationInput, 'key' | 'carried'>;
  /** Bound on an outbound send (update-with-start waits for the send activity); default max(timeoutMs, 30 s). */
  updateTimeoutMs?: number;
  /** The routing file of `startInput.routingVersion`: a new conversation's locale is given with its start (startingLocale). */
  routing?: RoutingConfig;
  /** Repeated user typing events dropped before they are signalled (default: a TypingCoalescer on the wall clock). */
  typing?: TypingCoalescer;
}

/** The gateway's options as configured (env + routing file) around a client: what server.ts runs with. */
export function conversationsClientOptionsFromConfig(config: Config, client: Client): ConversationsClientOptions {
  return {
    client,
    taskQueue: config.temporal.taskQueue,
    timeoutMs: config.temporal.signalTimeoutMs,
    workflowIds: { revealPhoneNumbers: config.env.WORKFLOW_ID_REVEAL_PHONE, secret: config.env.WORKFLOW_ID_SECRET },
    // The version, not the file: the worker holds the file (src/temporal/routing-store.ts).
    startInput: config.routing ? { routingVersion: routingVersionOf(config.routing) } : {},
    ...(config.routing ? { routing: config.routing } : {}),
  };
}

/** One row of the conversation list (from Temporal visibility). */
export interface ConversationSummary {
  workflowId: string;
  runId: string;
  status: string;
  channel?: string;
  conversationStatus?: string;
  locale?: string;
  place?: string;
  queue?: string;
  lastInboundAt?: string;
  startTime: string;
  closeTime?: string;
  displayName?: string;
}

export interface ConversationFilter {
  channel?: string;
  status?: string;
  locale?: string;
  place?: string;
  queue?: string;
  limit: number;
}

/** Memo key of the Business Messages agent a conversation is bound to (its first delivery's verifying credential). */
export const OWNER_MEMO = 'switchboardOwner';

/** A delivery signed by one agent's credential for a conversation bound to another: refused, nothing signalled. */
export class ConversationOwnerMismatchError extends Error {
  constructor(
    readonly key: ConversationKey,
    readonly owner: string,
  ) {
    super('the conversation belongs to another agent');
    this.name = 'ConversationOwnerMismatchError';
  }
}

/** Options of ConversationsClient.deliver. */
export interface DeliverOptions {
  /**
   * Who signed the delivery (the Business Messages agent whose token verified it). A conversation
   * is bound to the owner of the delivery that started it (memo OWNER_MEMO); a delivery of another
   * owner is refused with ConversationOwnerMismatchError. Conversations started before binding
   * existed (no memo) take any owner, as before.
   */
  owner?: string;
}

/** The API's only door into Temporal: one shared client, every call bounded in time. */
export class ConversationsClient {
  private readonly typing: TypingCoalescer;

  constructor(private readonly options: ConversationsClientOptions) {
    this.typing = options.typing ?? new TypingCoalescer();
  }

  workflowId(key: ConversationKey): string {
    return workflowIdFor(key, this.options.workflowIds);
  }

  /** Signals (starting it if needed) the conversation's workflow with one request's events; resolves once Temporal accepted them. */
  async deliver(key: ConversationKey, events: InboundEvent[], options: DeliverOptions = {}): Promise<void> {
    // Keyed by the signer too: another agent's "typing" is never coalesced with this one's, so its refusal stands.
    const delivery = this.typing.begin(`${options.owner ?? ''}|${this.workflowId(key)}`, events);
    // Only a repeated "typing" that changes nothing: acknowledged, nothing to signal.
    if (delivery.events.length === 0) return;
    await this.deliverNow(key, delivery.events, options);
    delivery.accepted();
  }

  private async deliverNow(key: ConversationKey, events: InboundEvent[], options: DeliverOptions): Promise<void> {
    const delivery = this.deliveryOptions(key, events);
    const { workflowId, args, typedSearchAttributes, signalArgs } = delivery;
    const { owner } = options;
    const signalWithStart = (memo?: Record<string, unknown>) =>
      this.bounded('signalWithStart', () =>
        this.options.client.workflow.signalWithStart(conversationWorkflow, { ...delivery, ...(memo ? { memo } : {}) }),
      );
    if (owner === undefined) {
      await signalWithStart();
      return;
    }
    for (let attempt = 0; ; attempt++) {
      const bound = await this.ownerOf(workflowId);
      if (bound !== undefined && bound !== null && bound !== owner)
        throw new ConversationOwnerMismatchError(key, owner);
      if (bound !== undefined) {
        // Bound to this owner, or started before binding existed: a closed run's successor is bound to this owner.
        await signalWithStart({ [OWNER_MEMO]: owner });
        return;
      }
      // Never started: start it bound to this owner first, so a racing delivery of another owner finds the binding.
      try {
        await this.bounded('start', () =>
          this.options.client.workflow.start(conversationWorkflow, {
            workflowId,
            taskQueue: this.options.taskQueue,
            args,
            typedSearchAttributes,
            memo: { [OWNER_MEMO]: owner },
            workflowIdConflictPolicy: 'FAIL',
          }),
        );
      } catch (err) {
        if (err instanceof WorkflowExecutionAlreadyStartedError && attempt < 2) continue;
        throw err;
      }
      await this.bounded('signal', () =>
        this.options.client.workflow.getHandle(workflowId).signal(inboundEventsSignal, ...signalArgs),
      );
      return;
    }
  }

  /**
   * Resolves when a delivery signed by `owner` may go into the conversation (bound to that owner,
   * started before binding existed, or never started); ConversationOwnerMismatchError otherwise.
   * Lets a caller check before it acts on the delivery outside Temporal; `deliver` checks again.
   */
  async assertOwner(key: ConversationKey, owner: string): Promise<void> {
    const bound = await this.ownerOf(this.workflowId(key));
    if (bound !== undefined && bound !== null && bound !== owner) throw new ConversationOwnerMismatchError(key, owner);
  }

  /** The owner the conversation's latest run is bound to; null for a run started without one, undefined when it never ran. */
  private async ownerOf(workflowId: string): Promise<string | null | undefined> {
    try {
      const description = await this.bounded('describe', () =>
        this.options.client.workflow.getHandle(workflowId).describe(),
      );
      const owner = (await description.memo)?.[OWNER_MEMO];
      return typeof owner === 'string' ? owner : null;
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  /**
   * The signal-with-start of one delivery: the start input, the initial search attributes, and the
   * events stamped with the routing version (so a new routing file reaches running conversations).
   */
  deliveryOptions(key: ConversationKey, events: InboundEvent[]) {
    const routingVersion = this.options.startInput?.routingVersion;
    return {
      workflowId: this.workflowId(key),
      taskQueue: this.options.taskQueue,
      args: [this.startInput(key)] as [ConversationInput],
      typedSearchAttributes: this.initialSearchAttributes(key, events),
      signal: inboundEventsSignal,
      signalArgs: [routingVersion === undefined ? events : events.map((event) => ({ ...event, routingVersion }))] as [
        InboundEvent[],
      ],
    };
  }

  /**
   * The search attributes a new run starts with: channel and status are known before its first
   * task, and so is the hour of the events that start it; given here they cost no upsert (an
   * action each on Temporal Cloud; the start itself is billed either way). The workflow upserts
   * only what differs (search-attribute-sync.ts): e.g. the locale, given here as routing will
   * decide it, is upserted only when routing decides another.
   */
  initialSearchAttributes(key: ConversationKey, events: InboundEvent[] = []): SearchAttributePair[] {
    const pairs: SearchAttributePair[] = [
      { key: searchAttributes.channel, value: key.startsWith('bm:') ? 'bm' : 'rbm' },
      { key: searchAttributes.status, value: 'automation' },
    ];
    // The workflow records the receivedAt of the last event it accepts (in batch order).
    const last = events.at(-1)?.receivedAt;
    if (last !== undefined && !Number.isNaN(Date.parse(last)))
      pairs.push({ key: searchAttributes.lastInboundAt, value: lastInboundHour(last) });
    // Only for a start by inbound events: an operator's first message routes nothing, so the run would never set it.
    const locale =
      events.length > 0 && this.options.routing ? startingLocale(key, events, this.options.routing) : undefined;
    if (locale !== undefined) pairs.push({ key: searchAttributes.locale, value: locale });
    return pairs;
  }

  /** The input a new run of this conversation starts with. */
  startInput(key: ConversationKey): ConversationInput {
    return { ...this.options.startInput, key };
  }

  /** Runs an update on the conversation's running workflow; WorkflowNotFoundError when there is none. */
  async update<Ret, Arg>(key: ConversationKey, definition: UpdateDefinition<Ret, [Arg]>, arg: Arg): Promise<Ret> {
    return this.bounded('update', () =>
      this.options.client.workflow.getHandle(this.workflowId(key)).executeUpdate(definition, { args: [arg] }),
    );
  }

  /** Conversations from Temporal visibility, newest first, filtered by Switchboard's search attributes. */
  async list(filter: ConversationFilter): Promise<ConversationSummary[]> {
    const clauses = [`WorkflowType = 'conversationWorkflow'`];
    const quote = (v: string) => `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
    if (filter.channel) clauses.push(`${searchAttributes.channel.name} = ${quote(filter.channel)}`);
    if (filter.status) clauses.push(`${searchAttributes.status.name} = ${quote(filter.status)}`);
    if (filter.locale) clauses.push(`${searchAttributes.locale.name} = ${quote(filter.locale)}`);
    if (filter.place) clauses.push(`${searchAttributes.place.name} = ${quote(filter.place)}`);
    if (filter.queue) clauses.push(`${searchAttributes.queue.name} = ${quote(filter.queue)}`);
    return this.bounded('list', async () => {
      const rows: ConversationSummary[] = [];
      for await (const execution of this.options.client.workflow.list({
        query: clauses.join(' AND '),
        pageSize: filter.limit,
      })) {
        const sa = execution.typedSearchAttributes;
        const lastInbound = sa.get(searchAttributes.lastInboundAt);
        rows.push({
          workflowId: execution.workflowId,
          runId: execution.runId,
          status: execution.status.name,
          channel: sa.get(searchAttributes.channel),
          conversationStatus: sa.get(searchAttributes.status),
          locale: sa.get(searchAttributes.locale),
          place: sa.get(searchAttributes.place),
          queue: sa.get(searchAttributes.queue),
          lastInboundAt: lastInbound?.toISOString(),
          startTime: execution.startTime.toISOString(),
          closeTime: execution.closeTime?.toISOString(),
          displayName: typeof execution.memo?.displayName === 'string' ? execution.memo.displayName : undefined,
        });
        if (rows.length >= filter.limit) break;
      }
      return rows;
    });
  }

  /** Every message of the conversation across all its runs, from Temporal's histories (see transcript.ts). */
  async transcript(key: ConversationKey): Promise<TranscriptEntry[]> {
    return this.bounded(
      'transcript',
      () => readTranscript(this.options.client, this.workflowId(key)),
      Math.max(this.options.timeoutMs, 30_000),
    );
  }

  /**
   * Erases the conversation from Temporal: its open run ended, every run deleted; resolves
   * once Temporal accepted every deletion (temporal-client/erasure.ts). Nothing to erase is no error.
   */
  async erase(key: ConversationKey): Promise<ErasureResult> {
    return this.bounded(
      'erase',
      () => eraseWorkflowRuns(this.options.client, this.workflowId(key)),
      Math.max(this.options.timeoutMs, 30_000),
    );
  }

  /** The conversation's state, or undefined when no workflow exists for the key. */
  async getState(key: ConversationKey): Promise<ConversationView | undefined> {
    try {
      const view = await this.bounded('query', () =>
        this.options.client.workflow.getHandle(this.workflowId(key)).query(conversationStateQuery),
      );
      // The workflow's clock stands still between its tasks: the typing fade is applied here.
      return { ...view, userTyping: userTypingAsOf(view.userTyping, Date.now()) };
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return undefined;
      throw err;
    }
  }

  /**
   * Sends an outbound message through the conversation's workflow, starting it if needed
   * (update-with-start, USE_EXISTING): resolves with the messageId and the status once the send
   * settled. `updateId` should derive from the caller's Idempotency-Key (sendMessageUpdateId) so a
   * retried request attaches to the same update; the key also rides in `input` for the workflow's
   * own map, which outlives continue-as-new. Bounded by `updateTimeoutMs` (the send may retry).
   *
   * Only RBM conversations may be opened this way (a business may write first). A Business
   * Messages conversation exists only once its user wrote, and is bound to the agent whose token
   * signed that delivery; one the operator opened would be bound to nobody, open to every agent.
   * So a `bm:` key with no workflow is WorkflowNotFoundError.
   */
  async sendMessage(key: ConversationKey, input: OutboundSendInput, updateId: string): Promise<OutboundSendResult> {
    const timeoutMs = this.options.updateTimeoutMs ?? Math.max(this.options.timeoutMs, 30_000);
    if (key.startsWith('bm:')) {
      return this.bounded(
        'executeUpdate',
        () =>
          this.options.client.workflow
            .getHandle(this.workflowId(key))
            .executeUpdate(sendMessageUpdate, { args: [input], updateId }),
        timeoutMs,
      );
    }
    const startWorkflowOperation = new WithStartWorkflowOperation(conversationWorkflow, {
      workflowId: this.workflowId(key),
      taskQueue: this.options.taskQueue,
      args: [this.startInput(key)],
      typedSearchAttributes: this.initialSearchAttributes(key),
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    return this.bounded(
      'executeUpdateWithStart',
      () =>
        this.options.client.workflow.executeUpdateWithStart(sendMessageUpdate, {
          args: [input],
          updateId,
          startWorkflowOperation,
        }),
      timeoutMs,
    );
  }

  /** The conversation's outbound messages and receipt metrics, or undefined when no workflow exists for the key. */
  async getOutboundMessages(key: ConversationKey): Promise<OutboundMessagesView | undefined> {
    try {
      return await this.bounded('query', () =>
        this.options.client.workflow.getHandle(this.workflowId(key)).query(outboundMessagesQuery),
      );
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

  private async bounded<T>(
    operation: string,
    fn: () => Promise<T>,
    timeoutMs: number = this.options.timeoutMs,
  ): Promise<T> {
    try {
      return await this.options.client.withDeadline(Date.now() + timeoutMs, fn);
    } catch (err) {
      if (isTemporalUnavailable(err))
        throw new TemporalUnavailableError(describeUnavailable(operation, timeoutMs, err), err);
      throw err;
    }
  }
}
