/**
 * The fuzzer's stand-in for Google, the SMS provider and the agent desk, behind the real
 * createActivities(deps): each attempt's outcome comes from the sequence's `fault` steps (success
 * when nothing is scripted), and every attempt is reported with whether it took effect at the
 * platform, the way the real one dedupes: RBM/BM by messageId and eventId, the SMS gateway by
 * finding an earlier attempt's SMS on a retry (src/channels/sms/gateway.ts), never across activities.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';

import { type ActivityDeps, createActivities } from '../../src/activities';
import { FailureType } from '../../src/domain/errors';
import { type CallRecord, SLOW_ATTEMPT_MS } from './protocol';
import { type Outcome, type ScriptableActivity } from './steps';

const PERMANENT: Record<ScriptableActivity, string> = {
  sendMessage: FailureType.NotRcsReachable,
  sendReadReceipt: FailureType.NotRcsReachable,
  sendTyping: FailureType.NotRcsReachable,
  sendRepresentativeEvent: FailureType.ConversationNotFound,
  revokeMessage: FailureType.PermissionDenied,
  sendSms: FailureType.SmsRejected,
  notifyHandoff: FailureType.NotConfigured,
  loadPreviousRun: FailureType.PermissionDenied,
};

export interface ScriptedPlatformOptions {
  report(call: CallRecord): void;
  /** The real lookup of a completed previous run (the time-skipping server has no visibility queries). */
  previousRun(workflowId: string): Promise<unknown>;
}

export class ScriptedPlatform {
  private readonly scripts = new Map<string, Outcome[]>();
  private readonly keyOfWorkflow = new Map<string, string>();
  /** SMS idempotency keys whose SMS reached the provider. */
  private readonly smsSent = new Set<string>();

  constructor(private readonly options: ScriptedPlatformOptions) {}

  script(conversationKey: string, activity: ScriptableActivity, outcomes: Outcome[]): void {
    const id = `${conversationKey}|${activity}`;
    this.scripts.set(id, [...(this.scripts.get(id) ?? []), ...outcomes]);
  }

  register(workflowId: string, conversationKey: string): void {
    this.keyOfWorkflow.set(workflowId, conversationKey);
  }

  forget(conversationKey: string): void {
    for (const id of [...this.scripts.keys()]) if (id.startsWith(`${conversationKey}|`)) this.scripts.delete(id);
    for (const [wf, key] of [...this.keyOfWorkflow]) if (key === conversationKey) this.keyOfWorkflow.delete(wf);
  }

  activities() {
    const deps: ActivityDeps = {
      channels: {
        sendMessage: (args) =>
          this.attempt('sendMessage', args.conversationKey, { messageId: args.messageId }, () => ({
            sentAt: new Date().toISOString(),
          })),
        sendReadReceipt: (args) =>
          this.attempt(
            'sendReadReceipt',
            args.conversationKey,
            { messageId: args.messageId, eventId: args.eventId },
            () => undefined,
          ),
        sendTyping: (args) =>
          this.attempt(
            'sendTyping',
            args.conversationKey,
            { eventId: args.eventId, detail: args.typing },
            () => undefined,
          ),
        sendRepresentativeEvent: (args) =>
          this.attempt(
            'sendRepresentativeEvent',
            args.conversationKey,
            { eventId: args.eventId, detail: args.event },
            () => undefined,
          ),
        revokeMessage: (args) =>
          this.attempt('revokeMessage', args.conversationKey, { messageId: args.messageId }, () => 'revoked' as const),
      },
      sms: {
        sendSms: (args) =>
          this.attempt('sendSms', args.conversationKey, { idempotencyKey: args.idempotencyKey }, () => ({
            providerMessageId: `SM-${args.idempotencyKey}`,
          })),
      },
      handoff: {
        notify: (args) =>
          this.attempt(
            'notifyHandoff',
            args.conversationKey,
            { eventId: args.handoffId, detail: args.queue },
            () => undefined,
          ),
      },
      previousRuns: {
        previousRun: async (workflowId) => {
          const key = this.keyOfWorkflow.get(workflowId) ?? workflowId;
          let found: unknown;
          await this.attempt(
            'loadPreviousRun',
            key,
            {},
            async () => (found = await this.options.previousRun(workflowId)),
            () => (found = undefined),
          );
          return found;
        },
      },
    };
    return createActivities(deps);
  }

  private async attempt<T>(
    activity: ScriptableActivity,
    conversationKey: string,
    ids: Pick<CallRecord, 'messageId' | 'eventId' | 'idempotencyKey' | 'detail'>,
    succeed: () => T | Promise<T>,
    lag?: () => T,
  ): Promise<T> {
    const queue = this.scripts.get(`${conversationKey}|${activity}`);
    const outcome: Outcome = queue?.shift() ?? 'ok';
    const info = Context.current().info;
    const call: CallRecord = {
      activity,
      conversationKey,
      attempt: info.attempt,
      scheduledMs: info.currentAttemptScheduledTimestampMs,
      outcome,
      effect: false,
      ...ids,
    };
    switch (outcome) {
      case 'retryable':
        this.options.report(call);
        throw new Error(`scripted transient failure of ${activity}`);
      case 'nonRetryable':
        this.options.report(call);
        throw ApplicationFailure.nonRetryable(`scripted permanent failure of ${activity}`, PERMANENT[activity]);
      case 'lag':
        this.options.report(call);
        return lag ? lag() : succeed();
      case 'slow': {
        // The attempt outlives its timeout; what it did still reaches the platform (only the answer is lost).
        const sleep = () => new Promise((resolve) => setTimeout(resolve, SLOW_ATTEMPT_MS[activity]));
        if (activity !== 'sendSms') {
          await sleep();
          return this.succeed(call, succeed);
        }
        // The gateway starts a provider call only if it ends before the attempt's deadline
        // (src/channels/sms/gateway.ts): the SMS is at the provider before any retry starts.
        const result = await succeed();
        this.recordEffect(call);
        await sleep();
        this.options.report(call);
        return result;
      }
      case 'ok':
        return this.succeed(call, succeed);
    }
  }

  private async succeed<T>(call: CallRecord, succeed: () => T | Promise<T>): Promise<T> {
    const result = await succeed();
    this.recordEffect(call);
    this.options.report(call);
    return result;
  }

  private recordEffect(call: CallRecord): void {
    if (call.activity === 'sendSms' && call.idempotencyKey !== undefined) {
      // The gateway finds an earlier attempt's SMS on a retry; a first attempt always sends.
      call.effect = !(call.attempt > 1 && this.smsSent.has(call.idempotencyKey));
      this.smsSent.add(call.idempotencyKey);
    } else {
      call.effect = call.activity !== 'loadPreviousRun';
    }
  }
}
