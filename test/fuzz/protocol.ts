/** Messages between the fuzzer (parent) and its worker child process, over the IPC channel. */
import { type Outcome, type ScriptableActivity } from './steps';

/** One activity attempt as the scripted platform saw it. */
export interface CallRecord {
  activity: ScriptableActivity;
  conversationKey: string;
  attempt: number;
  /** Server time the attempt was scheduled (the activity's currentAttemptScheduledTimestampMs). */
  scheduledMs: number;
  outcome: Outcome;
  /** True when the call took effect at the platform (a user-visible message, receipt, SMS...). */
  effect: boolean;
  messageId?: string;
  eventId?: string;
  idempotencyKey?: string;
  detail?: string;
}

export type ParentToChild =
  | { t: 'script'; reqId: number; conversationKey: string; activity: ScriptableActivity; outcomes: Outcome[] }
  | { t: 'register'; reqId: number; workflowId: string; conversationKey: string }
  | { t: 'forget'; reqId: number; conversationKey: string };

export type ChildToParent =
  { t: 'ready' } | { t: 'ack'; reqId: number } | { t: 'call'; call: CallRecord } | { t: 'fatal'; message: string };

/** Real-time wait of a `slow` attempt beyond the proxies' start-to-close timeouts (src/workflows/activity-proxies.ts, outbound/lifecycle.ts). */
export const SLOW_ATTEMPT_MS: Record<ScriptableActivity, number> = {
  sendTyping: 11_000,
  sendMessage: 31_000,
  sendReadReceipt: 31_000,
  sendRepresentativeEvent: 31_000,
  revokeMessage: 31_000,
  sendSms: 31_000,
  notifyHandoff: 31_000,
  loadPreviousRun: 11_000,
};
