/**
 * The fuzzer's flag table: which invariants are checked and what the generator draws, per profile
 * (`--profile`): `full` for the CLI's long runs, `ci` for the fixed-seed run inside `npm test`.
 */
import { type GeneratorOptions } from './steps';

export const CHECK_NAMES = [
  /** No run of the chain FAILED, TERMINATED, TIMED_OUT or CANCELED. */
  'runsHealthy',
  /** No WorkflowTaskFailed event in any run; at most 2 workflow-task timeouts per run (a loaded machine). */
  'noWorkflowTaskFailures',
  /** No run continued as new (or completed) with an activity it had scheduled still outstanding: its result would be lost. */
  'settledBeforeContinueAsNew',
  /** The worker child process did not die during the sequence. */
  'workerAlive',
  /** Every accepted user message has exactly one routing decision (redeliveries within 7 days included). */
  'routedExactlyOnce',
  /** Every update the workflow accepted completed (succeeded or failed) once the conversation settled. */
  'updatesComplete',
  /** Per operator Idempotency-Key, at most one message reached the channel. */
  'outboundAtMostOnce',
  /** At most one SMS reached the provider per outbound message. */
  'smsAtMostOnce',
  /** At most one READ receipt reached the channel per user message. */
  'readAtMostOnce',
  /** Every message automation handled got its READ receipt, unless a READ attempt failed for good. */
  'automationReadSent',
  /** The state view stays small and every run continues as new near its threshold. */
  'boundedState',
  /** The latest run's search attributes (status, queue, channel) match its state. */
  'searchAttributesMatch',
] as const;
export type CheckName = (typeof CHECK_NAMES)[number];

export interface FuzzProfile {
  name: string;
  checks: Record<CheckName, boolean>;
  generator: GeneratorOptions;
  /** Server time the sequence gets after its last step before the invariants are checked. */
  settleMs: number;
  /** The conversations' idleTimeout (ms): short to exercise idle close and reopen. */
  idleTimeoutMs: number;
}

const ALL_CHECKS: Record<CheckName, boolean> = Object.fromEntries(CHECK_NAMES.map((c) => [c, true])) as Record<
  CheckName,
  boolean
>;

/** Everything the issue asks for: the CLI's default (`npm run fuzz:workflow`). */
export const FULL_PROFILE: FuzzProfile = {
  name: 'full',
  checks: ALL_CHECKS,
  settleMs: 60 * 60_000,
  idleTimeoutMs: 60 * 60_000,
  generator: {
    minSteps: 8,
    maxSteps: 36,
    weights: {
      msg: 22,
      redeliver: 8,
      receipt: 14,
      ttl: 3,
      typing: 6,
      liveAgent: 3,
      send: 10,
      assign: 7,
      read: 4,
      agentTyping: 4,
      fault: 12,
      skip: 10,
      idle: 3,
    },
    outcomes: { retryable: 6, nonRetryable: 3, slow: 0.15, lag: 2 },
    faultActivities: [
      'sendMessage',
      'sendMessage',
      'sendReadReceipt',
      'sendReadReceipt',
      'sendTyping',
      'sendRepresentativeEvent',
      'revokeMessage',
      'sendSms',
      'sendSms',
      'notifyHandoff',
      'loadPreviousRun',
    ],
    smallDedupeWindow: 0.15,
    noRouting: 0.1,
    continueAsNewThresholds: [30, 40, 60, 100],
  },
};

/**
 * What `npm test` runs (test/fuzz/workflow-fuzz.test.ts): FULL_PROFILE without activity attempts
 * slower than their timeout. The test server does not skip time while an activity runs, so each
 * such attempt costs its full timeout (31 s) in real time; the long runs of the CLI keep them.
 */
export const CI_PROFILE: FuzzProfile = {
  ...FULL_PROFILE,
  name: 'ci',
  generator: { ...FULL_PROFILE.generator, outcomes: { ...FULL_PROFILE.generator.outcomes, slow: 0 } },
};

export const PROFILES: Record<string, FuzzProfile> = { full: FULL_PROFILE, ci: CI_PROFILE };
