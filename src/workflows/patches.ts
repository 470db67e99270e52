/**
 * Every `patched()` id of the conversation workflow, in one place. Running conversations live for
 * weeks, so a change to the order of the commands a workflow emits (activities, timers, search
 * attribute upserts, continue-as-new) goes behind one of these ids: runs that started before it
 * replay the old branch; new runs record the marker and take the new one.
 *
 * The ids are evaluated once, at the top of the workflow (its first activation), and the answers
 * are kept for the whole run. A run is either old or new from start to end, and each
 * continue-as-new starts a new run that takes the new branches. Never remove an id while a run
 * that started before it may still be open (the replay test keeps histories of such runs).
 */
import { patched } from '@temporalio/workflow';

/**
 * The conversation workflow correctness change (issue 11). One id for the whole change: each
 * `patched()` call also upserts the TemporalChangeVersion search attribute (two history events per
 * id and run), so one id per release of workflow changes rather than one per item. Runs that took it:
 * - never read visibility for a previous run's memory (a failed lookup failed the new run, a lagging
 *   one lost its dedupe window): on idle a conversation continues as new into a dormant run that
 *   carries it (`noPreviousRunLookup`, `dormantOnIdle`);
 * - the main loop with one idle deadline, a wait for in-flight work that yields (not a spin that
 *   aborts the worker), the drain of events arriving meanwhile (not lost with the run), assignment
 *   / handoff / live-agent request carried along (a reopened conversation stays in the same hands);
 * - automation's reply beside the READ receipt, not behind it (`replyBesideReceipt`);
 * - an assignment changes after its join/leave event was sent, search attributes at once
 *   (`assignAfterEvent`);
 * - the agent's typing keep-alive ends after `typingMaxDuration` (a desk that never says
 *   typing=false kept it going for ever); user typing fades after ~20 s;
 * - dedupe windows by kind (message and receipt ids by time, so typing and status events cannot
 *   evict them before a redelivery);
 * - readWithin's SMS after DELIVERED only for users who have sent READ before (users can turn READ
 *   receipts off);
 * - Business Messages locale from the device's language when it differs from resolvedLocale's.
 */
const ISSUE_11_PATCH = 'issue-11-workflow-correctness';

/**
 * Found by the workflow fuzzer after issue 11 (test/fuzz/findings/): continue-as-new also waits
 * for work that runs outside handlers and outbound lifecycles, so no activity is left running
 * behind a closed run (its result would be lost; the time-skipping test server even stops its
 * clock for good):
 * - the agent's typing keep-alive: an indicator activity, once started, runs to its end (stopping
 *   cancels only the wait between two), continue-as-new waits for it, and a keep-alive still
 *   running is carried into the next run;
 * - an expired handoff SLA: its holding message and desk escalation count as work in flight, and
 *   the escalation, once started, is not abandoned when a human joins meanwhile.
 */
const IN_FLIGHT_BEFORE_CONTINUE_AS_NEW_PATCH = 'in-flight-before-continue-as-new';

/**
 * Found by the workflow fuzzer: continue-as-new decided on "nothing in flight" in the same
 * activation in which an outbound lifecycle's timer fired, before that lifecycle reached the
 * revoke it was about to start (the revoke was scheduled and abandoned with the run, then sent
 * again by the next). The decision now waits two condition passes and checks again.
 */
const CONTINUE_WHEN_SETTLED_PATCH = 'continue-as-new-when-settled';

/** The changes a run takes (all true for runs started on this code, false when replaying a run started before the patch). */
export interface PatchFlags {
  noPreviousRunLookup: boolean;
  dormantOnIdle: boolean;
  replyBesideReceipt: boolean;
  assignAfterEvent: boolean;
  typingMaxDuration: boolean;
  readWithinNeedsReadReceipts: boolean;
  bmDeviceLanguage: boolean;
  /** IN_FLIGHT_BEFORE_CONTINUE_AS_NEW_PATCH. */
  settledBeforeContinueAsNew: boolean;
  /** CONTINUE_WHEN_SETTLED_PATCH. */
  continueWhenSettled: boolean;
}

/** Evaluates the patch ids once; call at the very top of the workflow function. */
export function evaluatePatches(): PatchFlags {
  const issue11 = patched(ISSUE_11_PATCH);
  const settled = patched(IN_FLIGHT_BEFORE_CONTINUE_AS_NEW_PATCH);
  const whenSettled = patched(CONTINUE_WHEN_SETTLED_PATCH);
  return {
    noPreviousRunLookup: issue11,
    dormantOnIdle: issue11,
    replyBesideReceipt: issue11,
    assignAfterEvent: issue11,
    typingMaxDuration: issue11,
    readWithinNeedsReadReceipts: issue11,
    bmDeviceLanguage: issue11,
    settledBeforeContinueAsNew: settled,
    continueWhenSettled: whenSettled,
  };
}
