/**
 * The checks of a chaos run (bench/lib/chaos.ts): what is verified once the faults are over, from
 * the simulator's records and the workflows' state and histories. Every inbound event processed
 * exactly once, no agent message and no READ receipt sent twice as distinct ids (retried requests
 * of the same id are counted apart: the platform dedupes those), every webhook accepted, every
 * conversation in its expected final state, and the scheduled faults all happened.
 */
import { temporal } from '@temporalio/proto';

import { type CallCounts, webhookEventId } from '../../dev/simulator/call-counts';
import { type CallRecord } from '../../dev/simulator/calls';
import { type SimMessage } from '../../dev/simulator/phones';
import { type ConversationView } from '../../src/workflows/definitions';
import { signalledDedupeKeys } from './actions';
import { exchangeDone } from './drain';
import { type BenchConversation, type UserEvent } from './traffic';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;
const T = temporal.api.enums.v1.EventType;

/** Everything the run counted. `violations` is empty when nothing was lost or duplicated and every conversation ended as expected. */
export interface ChaosReport {
  durationMs: number;
  /** The Temporal server the run used, and how many workers and APIs ran. */
  deployment: { temporal: string; workers: number; apis: number; userWebhooksByApi?: Record<string, number> };
  conversations: number;
  questions: number;
  faults: {
    /** `heldCallCutShort`: the platform saw the held call's connection close before its hold ran out (the kill ended the attempt, not the hold). */
    workerKills: {
      worker: string;
      activitiesInFlight: number | undefined;
      atQuestionsRead: number;
      heldCallCutShort: boolean;
    }[];
    /** `refusedWith`: the statuses of the webhooks refused while it was down (503 is the contract). */
    temporalRestart: { downMs: number; atQuestionsRead: number; refusedWith?: (number | null)[] } | undefined;
    /** PostgreSQL stopped and started under the running server (postgres runs only). */
    postgresRestart?: { downMs: number; atQuestionsRead: number; refusedWith?: (number | null)[] } | undefined;
    /** Simulator answers by injected fault kind (from its call records). */
    platformFaults: Record<string, number>;
    platformCalls: number;
    duplicatesPosted: { userWebhooks: number; receiptWebhooks: number };
    /** From the histories: activity attempts beyond the first, those after a timeout (a killed worker's attempt), workflow tasks that timed out or failed. */
    recovery: {
      activityRetries: number;
      activityRetriesAfterTimeout: number;
      workflowTasksTimedOut: number;
      workflowTasksFailed: number;
      /** The retried activities (first 20): type, attempt that completed, why the one before failed. */
      retried: { activity: string; attempt: number; previousFailure: string }[];
    };
  };
  webhooks: {
    userEvents: number;
    userAttempts: number;
    receiptEvents: number;
    receiptAttempts: number;
    /** Answers other than 200 on the way (503 while Temporal was down …), by status; `none`: no answer within the poster's attempt timeout. */
    non200: Record<string, number>;
    /** Webhooks never accepted after all retries. */
    undelivered: number;
  };
  inbound: {
    /** Distinct events (questions, typing, receipts) sent to Switchboard. */
    distinctEvents: number;
    /** How many signals carried them (redeliveries and retries included). */
    signalsCarryingThem: number;
    processedOnce: number;
    notProcessed: number;
    processedMoreThanOnce: number;
  };
  outbound: {
    agentMessages: {
      calls: number;
      faulted: number;
      retriedSameId: number;
      distinctIds: number;
      expected: number;
      extraDistinct: number;
      missing: number;
    };
    readReceipts: {
      calls: number;
      faulted: number;
      retriedSameId: number;
      distinctEventIds: number;
      expected: number;
      extraDistinct: number;
      missing: number;
    };
  };
  finalState: { conversationsAsExpected: number; notAsExpected: number };
  violations: string[];
}

/** What a chaos run leaves behind, keyed by conversation key: all checkChaos needs. */
export interface ChaosEvidence {
  /** Defaults to one worker and one API on a dev server. */
  deployment?: ChaosReport['deployment'];
  conversations: readonly BenchConversation[];
  /** Per conversation, the user events posted (typing and questions), in order. */
  events: readonly UserEvent[][];
  /** Each conversation's final state (conversation-state query). */
  views: ReadonlyMap<string, ConversationView>;
  /** Each conversation's workflow history, read after every signal in it was processed. */
  histories: ReadonlyMap<string, HistoryEvent[]>;
  /** The simulator's exact per-id counts (GET /sim/counts: Switchboard's calls to the platform, the phones' webhooks), whatever the run's size. */
  simCounts: CallCounts;
  /** Agent messages the platform accepted (one per distinct messageId). */
  simMessages: SimMessage[];
  /** Every attempt of the users' webhooks, and of the receipt redeliveries. */
  userCalls: CallRecord[];
  redeliveryCalls: CallRecord[];
  durationMs: number;
  kills: ChaosReport['faults']['workerKills'];
  restart: ChaosReport['faults']['temporalRestart'];
  /** Present (possibly undefined: it did not happen) on production runs. */
  postgresRestart?: ChaosReport['faults']['postgresRestart'];
  userDuplicates: number;
  receiptDuplicates: number;
}

/** The simulator's fault description → a short kind. */
function faultKind(fault: string): string {
  if (fault.includes('status 429')) return '429';
  if (fault.includes('status') && fault.includes('after processing')) return '5xx after the call took effect';
  if (fault.includes('status')) return '5xx';
  if (fault.includes('latency')) return 'slow (latency only)';
  return fault;
}

/** Records a violation; the report keeps the first 50. */
type Note = (problem: string) => void;

/** The phones' receipts, per phone: the distinct event ids the simulator posted (exact counts, not the capped log). */
function receiptEventIdsByPhone(counts: CallCounts): Map<string, string[]> {
  const receiptEventIds = new Map<string, string[]>();
  for (const [id, entry] of Object.entries(counts.rbmWebhooks.byId)) {
    if (!entry.phone || !entry.event) continue;
    receiptEventIds.set(entry.phone, [...(receiptEventIds.get(entry.phone) ?? []), id]);
  }
  return receiptEventIds;
}

/** Webhooks: every one eventually accepted, and answered only 200 or 503 on the way. */
function checkWebhooks(
  input: ChaosEvidence,
  receiptEventIds: ReadonlyMap<string, string[]>,
  note: Note,
): ChaosReport['webhooks'] {
  const { userCalls, redeliveryCalls, simCounts: counts } = input;
  const non200: Record<string, number> = {};
  for (const c of [...userCalls, ...redeliveryCalls])
    if (c.status !== 200) non200[String(c.status ?? 'none')] = (non200[String(c.status ?? 'none')] ?? 0) + 1;
  for (const [status, n] of Object.entries(counts.rbmWebhooks.statuses))
    if (status !== '200') non200[status] = (non200[status] ?? 0) + n;
  const undeliveredOf = (list: readonly CallRecord[], idOf: (c: CallRecord) => string | undefined) => {
    const ok = new Set<string>();
    const all = new Set<string>();
    for (const c of list) {
      const id = idOf(c);
      if (!id) continue;
      all.add(id);
      if (c.status === 200) ok.add(id);
    }
    return [...all].filter((id) => !ok.has(id));
  };
  // The webhook contract: 200 once durable, 503 (with Retry-After) while Temporal cannot take the events; nothing else for a signed request.
  for (const [status, n] of Object.entries(non200))
    if (status !== '503' && status !== 'none')
      note(
        `${n} webhook answers with status ${status}: a signed webhook is answered 200, or 503 while Temporal is unavailable`,
      );
  const receiptsNeverAccepted = Object.entries(counts.rbmWebhooks.byId)
    .filter(([, e]) => e.accepted === 0)
    .map(([id]) => id);
  const undelivered = [...undeliveredOf(userCalls, webhookEventId), ...receiptsNeverAccepted];
  for (const id of undelivered.slice(0, 5)) note(`webhook for ${id} was never accepted`);
  return {
    userEvents: input.events.flat().length,
    userAttempts: userCalls.length,
    receiptEvents: [...receiptEventIds.values()].reduce((n, l) => n + l.length, 0),
    receiptAttempts: counts.rbmWebhooks.attempts + redeliveryCalls.length,
    non200,
    undelivered: undelivered.length,
  };
}

/**
 * Inbound, per conversation: every distinct event (question, typing, receipt) processed exactly
 * once; and its final state: every question READ once, one reply per question, DELIVERED and READ
 * for each reply, back with automation.
 */
function checkConversations(
  input: ChaosEvidence,
  receiptEventIds: ReadonlyMap<string, string[]>,
  note: Note,
): { inbound: ChaosReport['inbound']; asExpected: number } {
  const { conversations, events, views, histories } = input;
  const inbound: ChaosReport['inbound'] = {
    distinctEvents: 0,
    signalsCarryingThem: 0,
    processedOnce: 0,
    notProcessed: 0,
    processedMoreThanOnce: 0,
  };
  let asExpected = 0;
  conversations.forEach((conversation, i) => {
    const view = views.get(conversation.key);
    const history = histories.get(conversation.key) ?? [];
    const signalled = signalledDedupeKeys(history);
    const questions = (events[i] ?? []).filter((e) => e.kind === 'text').map((e) => e.id);
    const typing = (events[i] ?? []).filter((e) => e.kind === 'typing').map((e) => e.id);
    const receipts = receiptEventIds.get(conversation.phone) ?? [];
    const problems: string[] = [];
    if (!view) {
      note(`${conversation.key}: no state could be read`);
      inbound.notProcessed += questions.length + typing.length + receipts.length;
      inbound.distinctEvents += questions.length + typing.length + receipts.length;
      return;
    }
    const count = (id: string, where: readonly string[]) => where.filter((x) => x === id).length;
    const eventKeys = view.events.map((e) => e.dedupeKey);
    const inboundHistory = view.history.filter((h) => h.direction === 'inbound').map((h) => h.messageId);
    for (const id of [...questions, ...typing, ...receipts]) {
      inbound.distinctEvents++;
      inbound.signalsCarryingThem += count(id, signalled);
      // Questions and receipts are listed in the state (deduped); typing only flips a flag, so its proof is the signal plus the dedupe all events share.
      const seen = typing.includes(id) ? Math.min(1, count(id, signalled)) : count(id, eventKeys);
      const inHistory = questions.includes(id) ? count(id, inboundHistory) : seen;
      if (seen === 0 || inHistory === 0) {
        inbound.notProcessed++;
        problems.push(`event ${id} not processed`);
      } else if (seen > 1 || inHistory > 1) {
        inbound.processedMoreThanOnce++;
        problems.push(`event ${id} processed ${Math.max(seen, inHistory)} times`);
      } else inbound.processedOnce++;
    }
    for (const q of questions)
      if (count(q, view.readReceiptsSent) !== 1)
        problems.push(`question ${q} marked READ ${count(q, view.readReceiptsSent)} times in state`);
    if (!exchangeDone(questions)(view)) problems.push('not every reply was DELIVERED and READ');
    const replies = view.history.filter((h) => h.direction === 'outbound');
    if (replies.length !== questions.length)
      problems.push(`${replies.length} replies in history for ${questions.length} questions`);
    if (view.status !== 'automation') problems.push(`status ${view.status}`);
    if (problems.length === 0) asExpected++;
    else note(`${conversation.key}: ${problems.join('; ')}`);
  });
  return { inbound, asExpected };
}

/** Outbound, from the platform's side: one agent message and one READ receipt (one distinct id each) per question. */
function checkOutbound(input: ChaosEvidence, note: Note): ChaosReport['outbound'] {
  const { conversations, events, simCounts: counts } = input;
  const sentMessages = input.simMessages;
  let extraMessages = 0;
  let missingMessages = 0;
  let unread = 0;
  conversations.forEach((conversation, i) => {
    const expected = (events[i] ?? []).filter((e) => e.kind === 'text').length;
    const mine = sentMessages.filter((m) => m.conversation === conversation.key);
    if (mine.length > expected) {
      extraMessages += mine.length - expected;
      note(`${conversation.key}: ${mine.length} distinct agent messages for ${expected} questions`);
    }
    if (mine.length < expected) missingMessages += expected - mine.length;
    unread += mine.filter((m) => m.status !== 'read').length;
  });
  if (unread > 0) note(`${unread} agent messages not read at the platform`);
  const readEventIds = new Map<string, Set<string>>(
    Object.entries(counts.readReceipts.tookEffect).map(([question, eventIds]) => [
      question,
      new Set(Object.keys(eventIds)),
    ]),
  );
  const allQuestions = questionsOf(events);
  const extraReads = allQuestions.reduce((n, q) => n + Math.max(0, (readEventIds.get(q)?.size ?? 0) - 1), 0);
  const missingReads = allQuestions.filter((q) => !readEventIds.has(q)).length;
  if (extraReads > 0) note(`${extraReads} READ receipts sent under a second distinct eventId`);
  if (missingReads > 0) note(`${missingReads} questions never marked READ at the platform`);
  if (missingMessages > 0) note(`${missingMessages} replies never reached the platform`);
  return {
    agentMessages: {
      calls: counts.agentMessages.calls,
      faulted: counts.agentMessages.faulted,
      retriedSameId: counts.agentMessages.duplicate,
      distinctIds: new Set(sentMessages.map((m) => m.messageId)).size,
      expected: allQuestions.length,
      extraDistinct: extraMessages,
      missing: missingMessages,
    },
    readReceipts: {
      calls: counts.readReceipts.calls,
      faulted: counts.readReceipts.faulted,
      retriedSameId: counts.readReceipts.duplicate,
      distinctEventIds: [...readEventIds.values()].reduce((n, s) => n + s.size, 0),
      expected: allQuestions.length,
      extraDistinct: extraReads,
      missing: missingReads,
    },
  };
}

/** Every question's id, all conversations. */
function questionsOf(events: readonly UserEvent[][]): string[] {
  return events
    .flat()
    .filter((e) => e.kind === 'text')
    .map((e) => e.id);
}

/** How the workflows recovered, from their histories: activity retries (after a timeout: a killed worker's attempt), workflow tasks timed out or failed. */
function recoveryOf(histories: ReadonlyMap<string, HistoryEvent[]>): ChaosReport['faults']['recovery'] {
  const recovery: ChaosReport['faults']['recovery'] = {
    activityRetries: 0,
    activityRetriesAfterTimeout: 0,
    workflowTasksTimedOut: 0,
    workflowTasksFailed: 0,
    retried: [],
  };
  for (const history of histories.values()) {
    const types = new Map<string, string>();
    const scheduledAt = new Map<string, number>();
    const seconds = (e: HistoryEvent) => Number(e.eventTime?.seconds ?? 0) + (e.eventTime?.nanos ?? 0) / 1e9;
    for (const e of history) {
      if (e.eventType === T.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) {
        types.set(String(e.eventId), e.activityTaskScheduledEventAttributes?.activityType?.name ?? '?');
        scheduledAt.set(String(e.eventId), seconds(e));
      }
      const started = e.activityTaskStartedEventAttributes;
      if (e.eventType === T.EVENT_TYPE_ACTIVITY_TASK_STARTED && (started?.attempt ?? 1) > 1) {
        recovery.activityRetries += (started?.attempt ?? 1) - 1;
        // The history keeps only the last failure; an attempt that started 29 s or more after the
        // activity was scheduled waited out the 30 s start-to-close timeout of a lost attempt
        // (fault retries back off 1, 2, 4 … s, far from it within a few attempts).
        const waited = seconds(e) - (scheduledAt.get(String(started?.scheduledEventId)) ?? seconds(e));
        if (started?.lastFailure?.timeoutFailureInfo || waited >= 29) recovery.activityRetriesAfterTimeout++;
        if (recovery.retried.length < 20) {
          const failure = started?.lastFailure;
          recovery.retried.push({
            activity: types.get(String(started?.scheduledEventId)) ?? '?',
            attempt: started?.attempt ?? 1,
            previousFailure: failure?.timeoutFailureInfo
              ? `timeout (${failure.message ?? ''})`
              : (failure?.message ?? '?').slice(0, 120),
          });
        }
      }
      if (e.eventType === T.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT) recovery.workflowTasksTimedOut++;
      if (e.eventType === T.EVENT_TYPE_WORKFLOW_TASK_FAILED) recovery.workflowTasksFailed++;
    }
  }
  return recovery;
}

/**
 * Checks a run's evidence against the guarantees and counts everything. Pure, so the checks
 * themselves are tested on evidence with a planted loss or duplicate (test/chaos/checks.test.ts).
 */
export function checkChaos(input: ChaosEvidence): ChaosReport {
  const { conversations, simCounts: counts } = input;
  const violations: string[] = [];
  const note: Note = (problem) => {
    if (violations.length < 50) violations.push(problem);
  };
  const receiptEventIds = receiptEventIdsByPhone(counts);
  const webhooks = checkWebhooks(input, receiptEventIds, note);
  const { inbound, asExpected } = checkConversations(input, receiptEventIds, note);
  const outbound = checkOutbound(input, note);
  const platformFaults: Record<string, number> = {};
  for (const [fault, n] of Object.entries(counts.rbm.faults))
    platformFaults[faultKind(fault)] = (platformFaults[faultKind(fault)] ?? 0) + n;
  // The faults themselves must have happened, or the run proved nothing.
  if (input.kills.length !== 2) note(`the worker was killed ${input.kills.length} times, not 2`);
  if (!input.restart) note('the Temporal server was not restarted');
  if ('postgresRestart' in input && !input.postgresRestart) note('PostgreSQL was not restarted');

  return {
    durationMs: input.durationMs,
    deployment: input.deployment ?? { temporal: 'dev server', workers: 1, apis: 1 },
    conversations: conversations.length,
    questions: questionsOf(input.events).length,
    faults: {
      workerKills: input.kills,
      temporalRestart: input.restart,
      ...('postgresRestart' in input ? { postgresRestart: input.postgresRestart } : {}),
      platformFaults,
      platformCalls: counts.rbm.calls,
      duplicatesPosted: { userWebhooks: input.userDuplicates, receiptWebhooks: input.receiptDuplicates },
      recovery: recoveryOf(input.histories),
    },
    webhooks,
    inbound,
    outbound,
    finalState: { conversationsAsExpected: asExpected, notAsExpected: conversations.length - asExpected },
    violations,
  };
}
