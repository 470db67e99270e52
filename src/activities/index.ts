import {
  type ChannelGateway,
  type HandoffNotifier,
  type NotifyHandoffArgs,
  type RevokeArgs,
  type SendMessageArgs,
  type SendReadReceiptArgs,
  type SendRepresentativeEventArgs,
  type SendSmsArgs,
  type SendTypingArgs,
  type SmsGateway,
} from '../domain/ports';
import { type RoutingConfig } from '../routing';

/** Automation's answer to a user message, with that message's READ receipt (one activity, one billed action). */
export interface ReplyWithReadReceiptArgs extends SendMessageArgs {
  readReceipt: SendReadReceiptArgs;
}

/**
 * `readReceipt` 'sent' when the receipt went out in this attempt; 'not_sent' when it failed or
 * took longer than READ_IN_REPLY_WAIT_MS (the workflow then sends it on its own, same eventId).
 */
export interface ReplyWithReadReceiptResult {
  sentAt: string;
  readReceipt: 'sent' | 'not_sent';
}

/** How long the reply waits for its READ receipt before it goes out anyway: a reply never waits on a receipt for long. */
export const READ_IN_REPLY_WAIT_MS = 5_000;

/** Reads what a conversation's previous (completed) run handed over, so a reopened conversation keeps its memory. */
export interface PreviousRunLoader {
  previousRun(workflowId: string): Promise<unknown>;
}

/** A routing file and its version (routingVersionOf). */
export interface VersionedRouting {
  version: string;
  routing: RoutingConfig;
}

/** The worker's routing files by version (src/temporal/routing-store.ts). */
export interface RoutingSource {
  /** The file of `version`, else the newest the worker has; undefined when it has none. */
  forVersion(version: string): VersionedRouting | undefined;
}

/** What the activities need from the outside world; injected once by the worker. */
export interface ActivityDeps {
  channels: ChannelGateway;
  sms: SmsGateway;
  handoff: HandoffNotifier;
  /** Absent in tests that don't exercise reopening: then a reopened conversation starts fresh. */
  previousRuns?: PreviousRunLoader;
  /** Absent in tests that pass the routing file in the start input: then a version finds no file. */
  routing?: RoutingSource;
}

/**
 * Builds the activity implementations around their dependencies. Permanent failures surface as
 * non-retryable ApplicationFailures typed from FailureType (src/domain/errors.ts); anything else
 * is retried by Temporal.
 */
export function createActivities(deps: ActivityDeps) {
  return {
    sendMessage: (args: SendMessageArgs) => deps.channels.sendMessage(args),
    sendReadReceipt: (args: SendReadReceiptArgs) => deps.channels.sendReadReceipt(args),
    /**
     * The READ receipt, then the reply, as a person would (issue 14: one activity instead of two
     * for every question automation answers). A receipt that fails or hangs does not hold the
     * reply up; a retried attempt sends it again with the same eventId, which Google dedupes.
     */
    replyWithReadReceipt: async ({
      readReceipt,
      ...message
    }: ReplyWithReadReceiptArgs): Promise<ReplyWithReadReceiptResult> => {
      const read = await settledWithin(deps.channels.sendReadReceipt(readReceipt), READ_IN_REPLY_WAIT_MS);
      const { sentAt } = await deps.channels.sendMessage(message);
      return { sentAt, readReceipt: read ? 'sent' : 'not_sent' };
    },
    sendTyping: (args: SendTypingArgs) => deps.channels.sendTyping(args),
    sendRepresentativeEvent: (args: SendRepresentativeEventArgs) => deps.channels.sendRepresentativeEvent(args),
    revokeMessage: (args: RevokeArgs) => deps.channels.revokeMessage(args),
    sendSms: (args: SendSmsArgs) => deps.sms.sendSms(args),
    notifyHandoff: (args: NotifyHandoffArgs) => deps.handoff.notify(args),
    /** The result of the latest completed run of this workflow ID, if any (see conversationWorkflow). */
    loadPreviousRun: async (workflowId: string): Promise<unknown> =>
      deps.previousRuns ? deps.previousRuns.previousRun(workflowId) : undefined,
    /** The routing file of a conversation's version, from the worker's own (a local activity: the workflow holds no file of its own). */
    routingForVersion: async (version: string): Promise<VersionedRouting | undefined> =>
      deps.routing?.forVersion(version),
  };
}

export type Activities = ReturnType<typeof createActivities>;

/** True when `call` succeeded within `ms`; false when it failed or is still running (it may finish later). */
async function settledWithin(call: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([
      call.then(
        () => true as const,
        () => false as const,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
